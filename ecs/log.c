/* The log hook of the modules below fs/. */
#include "ecs/log.h"

#include <stdarg.h>
#include <stdio.h>

static void (*log_fn)(enum ecs_log_level, const char *);	/* set before threads start */

void
ecs_log_set(void (*fn)(enum ecs_log_level level, const char *line))
{
	log_fn = fn;
}

/* Formats one line and hands it to the hook, or to stderr. */
static void
log_line(enum ecs_log_level level, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_fn != NULL)
		log_fn(level, line);
	else
		fprintf(stderr, "ecsfs: %s%s\n", level == ECS_LOG_WARN ? "warning: " : "", line);
}

void
ecs_log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(ECS_LOG_WARN, fmt, ap);
	va_end(ap);
}

void
ecs_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(ECS_LOG_INFO, fmt, ap);
	va_end(ap);
}
