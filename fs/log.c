/* Log lines to stderr (foreground) or syslog (background). */
#include "fs/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static int log_foreground = 1;	/* set once before any thread starts */
static int log_debug;		/* likewise */

void
fs_log_init(int foreground, int debug)
{
	log_foreground = foreground;
	log_debug = debug;
	if (!foreground)
		openlog("ecsfs", LOG_PID, LOG_DAEMON);
}

/* Writes one line at priority pri. */
static void
log_line(int pri, const char *level, const char *fmt, va_list ap)
{
	if (log_foreground) {
		flockfile(stderr);
		fprintf(stderr, "ecsfs: %s", level);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	} else {
		vsyslog(pri, fmt, ap);
	}
}

void
fs_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void
fs_log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void
fs_log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

void
fs_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug)
		return;
	va_start(ap, fmt);
	log_line(LOG_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}
