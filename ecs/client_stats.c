/* The client's figures, under one lock. */
#include "ecs/client_stats.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/xmalloc.h"

#define NCODES			(ECS_E_INTERNAL + 1)

/* Requests sent for an operation that is not in ecs_ops[]. */
struct other_op {
	char		*name;
	uint64_t	 requests;
};

struct client_stats {
	pthread_mutex_t	 lock;
	size_t		 nops;			/* entries in ecs_ops[] */
	/* The rest is protected by lock. */
	uint64_t	 calls;
	uint64_t	 attempts;
	uint64_t	 retries;
	uint64_t	 throttles;
	uint64_t	*op_requests;		/* indexed like ecs_ops[] */
	struct other_op	*other;
	size_t		 nother;
	uint64_t	 errors[NCODES];
	uint64_t	 cat_requests[ECS_CAT_COUNT];
	uint64_t	 cat_throttles[ECS_CAT_COUNT];
	uint64_t	 cat_errors[ECS_CAT_COUNT];
};

/* The stats key of each code. */
static const char *const code_keys[NCODES] = {
	[ECS_OK] = "ok",
	[ECS_E_INVALID] = "invalid",
	[ECS_E_NOTFOUND] = "not_found",
	[ECS_E_NOTACTIVE] = "not_active",
	[ECS_E_ACCESS] = "access",
	[ECS_E_THROTTLED] = "throttled",
	[ECS_E_TIMEOUT] = "timeout",
	[ECS_E_UNREACHABLE] = "unreachable",
	[ECS_E_SERVER] = "server",
	[ECS_E_PROTOCOL] = "protocol",
	[ECS_E_AWS] = "aws",
	[ECS_E_CONFIG] = "config",
	[ECS_E_CREDS] = "creds",
	[ECS_E_BUSY] = "busy",
	[ECS_E_INTERRUPTED] = "interrupted",
	[ECS_E_INTERNAL] = "internal",
};

struct client_stats *
client_stats_new(void)
{
	struct client_stats *st = xcalloc(1, sizeof(*st));

	pthread_mutex_init(&st->lock, NULL);
	while (ecs_ops[st->nops].name != NULL)
		st->nops++;
	st->op_requests = xcalloc(st->nops, sizeof(*st->op_requests));
	return st;
}

void
client_stats_free(struct client_stats *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nother; i++)
		free(st->other[i].name);
	free(st->other);
	free(st->op_requests);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void
client_stats_request(struct client_stats *st, const char *op,
    const struct ecs_op *e, int retry, int throttled)
{
	enum ecs_category cat = e != NULL ? e->category : ECS_CAT_OTHER;
	size_t i;

	pthread_mutex_lock(&st->lock);
	st->attempts++;
	if (retry)
		st->retries++;
	if (throttled) {
		st->throttles++;
		st->cat_throttles[cat]++;
	}
	st->cat_requests[cat]++;
	if (e != NULL)
		st->op_requests[e - ecs_ops]++;
	else {
		for (i = 0; i < st->nother; i++)
			if (strcmp(st->other[i].name, op) == 0)
				break;
		if (i == st->nother) {
			st->other = xrealloc(st->other,
			    (st->nother + 1) * sizeof(*st->other));
			st->other[i].name = xstrdup(op);
			st->other[i].requests = 0;
			st->nother++;
		}
		st->other[i].requests++;
	}
	pthread_mutex_unlock(&st->lock);
}

void
client_stats_call(struct client_stats *st, const struct ecs_op *e,
    enum ecs_code code)
{
	enum ecs_category cat = e != NULL ? e->category : ECS_CAT_OTHER;

	pthread_mutex_lock(&st->lock);
	st->calls++;
	if (code != ECS_OK) {
		if ((unsigned)code < NCODES)
			st->errors[code]++;
		st->cat_errors[cat]++;
	}
	pthread_mutex_unlock(&st->lock);
}

void
client_stats_print(struct client_stats *st, struct buf *out)
{
	size_t i;
	int k;

	pthread_mutex_lock(&st->lock);
	buf_printf(out, "calls %llu\n", (unsigned long long)st->calls);
	buf_printf(out, "attempts %llu\n", (unsigned long long)st->attempts);
	buf_printf(out, "retries %llu\n", (unsigned long long)st->retries);
	buf_printf(out, "throttles %llu\n", (unsigned long long)st->throttles);
	for (i = 0; i < st->nops; i++)
		buf_printf(out, "api_calls.%s %llu\n", ecs_ops[i].name,
		    (unsigned long long)st->op_requests[i]);
	for (i = 0; i < st->nother; i++)
		buf_printf(out, "api_calls.%s %llu\n", st->other[i].name,
		    (unsigned long long)st->other[i].requests);
	for (k = ECS_OK + 1; k < NCODES; k++)
		buf_printf(out, "errors.%s %llu\n", code_keys[k],
		    (unsigned long long)st->errors[k]);
	for (k = 0; k < ECS_CAT_COUNT; k++) {
		const char *name = ecs_category_name((enum ecs_category)k);

		buf_printf(out, "category.%s.requests %llu\n", name,
		    (unsigned long long)st->cat_requests[k]);
		buf_printf(out, "category.%s.throttles %llu\n", name,
		    (unsigned long long)st->cat_throttles[k]);
		buf_printf(out, "category.%s.errors %llu\n", name,
		    (unsigned long long)st->cat_errors[k]);
	}
	pthread_mutex_unlock(&st->lock);
}
