/*
 * Task definitions in the store's cache: one DescribeTaskDefinition per
 * revision for as long as the revision is used. A revision's content
 * never changes, so a cached one answers whatever its age: a reader who
 * finds it past the TTL stores it again, fresh, so that it is not swept as
 * dead after stale_ttl while it is still read. Only a refresh of
 * everything (or the cache's LRU bound) drops it.
 *
 * Cache keys are "Otd//<family:revision>" (the ARN's last element, which
 * holds no '/'), so that no cluster's refresh drops them. A miss is
 * fetched on the store's threads like the store's other entries: the
 * first reader claims the key and hands the claim to a job, later readers
 * wait for that job, and a reader who goes away leaves it running.
 */
#include "ecs/store.h"

#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "ecs/api.h"
#include "ecs/log.h"
#include "ecs/store_int.h"
#include "ecs/store_pool.h"
#include "ecs/store_value.h"
#include "ecs/xmalloc.h"

#define TD_TYPE		"Otd"
/* The pool category of task-definition reads (their own ECS throttling category). */
#define TD_POOL_CAT	3
/* Claims a reader hands over before giving up (a refresh in between each time). */
#define TD_ROUNDS	4

/* One DescribeTaskDefinition for a claim. */
struct td_job {
	struct ecs_store	*s;
	char			*key;
	char			*td;		/* as the reader named it */
	uint64_t		 claim;
};

static void
td_job_free(struct td_job *j)
{
	free(j->key);
	free(j->td);
	free(j);
}

/* Describes the revision and settles the claim: its object, or the failure. */
static void
td_run(void *arg)
{
	struct td_job *j = arg;
	struct ecs_store *s = j->s;
	struct ecs_error err;
	json_t *td = NULL;
	struct sval *v;

	ecs_error_clear(&err);
	if (ecs_describe_task_definition(s->client, j->td, &td, &err) != 0) {
		store_note_outcome(s, &err);
		sjob_note_error(s, j->key, &err);
		cache_fail(s->cache, j->key, j->claim, err.code);
		td_job_free(j);
		return;
	}
	store_note_outcome(s, &err);
	v = sval_object(td);
	cache_put(s->cache, j->key, v, j->claim);
	sval_unref(v);
	json_decref(td);
	td_job_free(j);
}

static void
td_cancel(void *arg)
{
	struct td_job *j = arg;

	cache_fail(j->s->cache, j->key, j->claim, ECS_E_INTERRUPTED);
	td_job_free(j);
}

/* The cache key of a task definition named by ARN or family:revision; the caller frees it. */
static char *
td_key(const char *arn)
{
	return store_key(TD_TYPE, NULL, ecs_arn_name(arn));
}

/*
 * A cached revision, whatever its age, as a new reference; one past the
 * TTL is stored again, fresh. NULL when none is cached.
 */
static json_t *
td_peek(struct ecs_store *s, const char *key)
{
	void *v;
	int fresh = 0;

	if (!cache_peek(s->cache, key, &v, &fresh))
		return NULL;
	if (!fresh)
		cache_set(s->cache, key, v);
	return sval_take(s->parsed, v);
}

int
ecs_store_task_definition(struct ecs_store *s, const char *arn, json_t **td,
    struct ecs_error *err)
{
	char *key = NULL;
	enum cache_state st;
	struct td_job *j;
	uint64_t claim = 0;
	void *v = NULL;
	int error = 0, round, rc = -1;

	ecs_error_clear(err);
	*td = NULL;
	if (arn == NULL || *ecs_arn_name(arn) == '\0') {
		ecs_error_set(err, ECS_E_INVALID, "no task definition named");
		goto out;
	}
	key = td_key(arn);
	if (strchr(ecs_arn_name(arn), ':') == NULL) {
		/* A bare family names its latest revision, which changes: not cached. */
		rc = ecs_describe_task_definition(s->client, arn, td, err);
		store_note_outcome(s, err);
		goto out;
	}
	if ((*td = td_peek(s, key)) != NULL) {
		rc = 0;
		goto out;
	}
	st = cache_get(s->cache, key, &v, &claim, &error);
	for (round = 0;; round++) {
		switch (st) {
		case CACHE_HIT:
			*td = sval_take(s->parsed, v);
			rc = 0;
			goto out;
		case CACHE_NEGATIVE:
			ecs_error_set(err, ECS_E_INVALID, "%s: no such task definition", arn);
			goto out;
		case CACHE_FAILED:
			if (!sjob_last_error(s, key, error, err))
				ecs_error_set(err, (enum ecs_code)error, "%s: %s", arn,
				    ecs_strerror((enum ecs_code)error));
			goto out;
		case CACHE_INTERRUPTED:
			ecs_log_info("%s: %s: interrupted; the fetch goes on", __func__, key);
			ecs_error_set(err, ECS_E_INTERRUPTED, "interrupted");
			goto out;
		case CACHE_MISS:
		default:
			break;
		}
		if (round == TD_ROUNDS) {
			ecs_error_set(err, ECS_E_BUSY, "%s: invalidated while fetched", arn);
			cache_fail(s->cache, key, claim, err->code);
			goto out;
		}
		j = xcalloc(1, sizeof(*j));
		j->s = s;
		j->key = xstrdup(key);
		j->td = xstrdup(arn);
		j->claim = claim;
		cache_hand(s->cache, key, claim);
		spool_submit(s->pool, TD_POOL_CAT, 0, td_run, td_cancel, j);
		st = cache_wait(s->cache, key, claim, &v, &claim, &error);
	}
out:
	free(key);
	return rc;
}
