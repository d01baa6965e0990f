/*
 * Application Auto Scaling in the store: the region's scalable targets of
 * ECS services' desired count, kept as one cached listing (a JSON object
 * from resource id to ScalableTarget, so that a glob over every service
 * costs one paged DescribeScalableTargets per cache_ttl), and the scaling
 * policies of each service. Both are fetched on the store's threads for
 * the readers that miss, as ECS listings are: one call for any number of
 * concurrent readers, a reader who goes away stops waiting while the call
 * goes on for the others, and a value up to stale_ttl old is served when
 * a fetch fails.
 *
 * A principal that may not describe scalable targets (AccessDenied) sees
 * no target at all, so that it still browses and scales: the listing is
 * cached empty and the log says so once, not at every call. A failing
 * endpoint is left alone for a while, as ECS's is, so that a service
 * folder listed meanwhile does not wait out another timeout.
 */
#include "ecs/store.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "ecs/api.h"
#include "ecs/log.h"
#include "ecs/store_int.h"
#include "ecs/store_pool.h"
#include "ecs/store_value.h"
#include "ecs/xmalloc.h"

/* Cache key types: the region's targets ("Laas//"), a service's policies. */
#define TARGETS_TYPE	"Laas"
#define POLICIES_TYPE	"Paas"
/* The pool's category for Application Auto Scaling reads (ECS uses 0..2). */
#define AAS_POOL_CAT	3
/* Claims a reader hands over before giving up, as for ECS listings. */
#define MAX_ROUNDS	4

/* One fetch for a claim: the targets listing (id NULL) or one id's policies. */
struct aas_job {
	struct ecs_store	*s;
	char			*key;
	uint64_t		 claim;
	char			*id;
};

static void
aas_job_free(struct aas_job *j)
{
	free(j->key);
	free(j->id);
	free(j);
}

/* A new object from resource id to target, of the desired-count targets in arr. */
static json_t *
targets_by_id(json_t *arr)
{
	json_t *out = json_object(), *t;
	const char *id, *dim;
	size_t i;

	json_array_foreach(arr, i, t) {
		id = json_string_value(json_object_get(t, "ResourceId"));
		dim = json_string_value(json_object_get(t, "ScalableDimension"));
		if (id != NULL && (dim == NULL || strcmp(dim, ECS_AAS_DIMENSION) == 0))
			json_object_set(out, id, t);
	}
	return out;
}

/* Runs a fetch and settles its claim. */
static void
aas_run(void *arg)
{
	struct aas_job *j = arg;
	struct ecs_store *s = j->s;
	struct ecs_error err;
	json_t *arr = NULL, *val;
	struct sval *v;
	int rc;

	ecs_error_clear(&err);
	if (j->id == NULL)
		rc = ecs_aas_describe_scalable_targets(s->client, NULL, 0, &arr, &err);
	else
		rc = ecs_aas_describe_scaling_policies(s->client, j->id, &arr, &err);
	store_down_note(&s->aas_down, &err);
	if (rc != 0 && j->id == NULL && err.code == ECS_E_ACCESS) {
		if (atomic_exchange(&s->aas_denied, 1) == 0)
			ecs_log_warn("%s: DescribeScalableTargets refused (%s): services show "
			    "no autoscaling/ folder and desired_count writes are not checked "
			    "against their scaling range", __func__, err.message);
		arr = json_array();
		rc = 0;
	} else if (rc == 0 && j->id == NULL && atomic_exchange(&s->aas_denied, 0) != 0) {
		ecs_log_info("%s: DescribeScalableTargets allowed again", __func__);
	}
	if (rc != 0) {
		sjob_note_error(s, j->key, &err);
		cache_fail(s->cache, j->key, j->claim, err.code);
		aas_job_free(j);
		return;
	}
	val = j->id == NULL ? targets_by_id(arr) : json_incref(arr);
	v = sval_listing(val);
	cache_put(s->cache, j->key, v, j->claim);
	sval_unref(v);
	json_decref(val);
	json_decref(arr);
	aas_job_free(j);
}

static void
aas_cancel(void *arg)
{
	struct aas_job *j = arg;

	cache_fail(j->s->cache, j->key, j->claim, ECS_E_INTERRUPTED);
	aas_job_free(j);
}

/* Serves key from a value up to stale_ttl old after a failure, and says so; 0 when served. */
static int
serve_stale(struct ecs_store *s, const char *key, json_t **out, struct ecs_error *err)
{
	if (store_serve_stale(s, key, out, err) != 0)
		return -1;
	ecs_log_info("%s: %s: %s; serving the value cached before", __func__, key,
	    err->message);
	return 0;
}

/*
 * The value under key through the cache: a miss is handed to a job that
 * fetches the targets listing (id NULL) or id's policies, and the reader
 * waits for it. Returns 0 with *out (a new reference) or -1 with err.
 */
static int
aas_get(struct ecs_store *s, const char *key, const char *id, json_t **out,
    struct ecs_error *err)
{
	enum cache_state st;
	struct aas_job *j;
	uint64_t claim = 0;
	void *v = NULL;
	int error = 0, round;

	ecs_error_clear(err);
	*out = NULL;
	st = cache_get(s->cache, key, &v, &claim, &error);
	for (round = 0;; round++) {
		switch (st) {
		case CACHE_HIT:
			*out = sval_take(s->parsed, v);
			return 0;
		case CACHE_NEGATIVE:
			/* Never stored for these keys; an empty answer if it were. */
			*out = id == NULL ? json_object() : json_array();
			return 0;
		case CACHE_FAILED:
			if (!sjob_last_error(s, key, error, err))
				ecs_error_set(err, (enum ecs_code)error, "%s",
				    ecs_strerror((enum ecs_code)error));
			return serve_stale(s, key, out, err);
		case CACHE_INTERRUPTED:
			ecs_error_set(err, ECS_E_INTERRUPTED, "interrupted");
			return -1;
		case CACHE_MISS:
		default:
			break;
		}
		if (store_down_check(&s->aas_down, "Application Auto Scaling endpoint", err) == 0 &&
		    round == MAX_ROUNDS)
			ecs_error_set(err, ECS_E_BUSY, "%s: invalidated while fetched", key);
		if (err->code != ECS_OK) {
			cache_fail(s->cache, key, claim, err->code);
			return serve_stale(s, key, out, err);
		}
		j = xcalloc(1, sizeof(*j));
		j->s = s;
		j->key = xstrdup(key);
		j->claim = claim;
		j->id = id != NULL ? xstrdup(id) : NULL;
		cache_hand(s->cache, key, claim);
		spool_submit(s->pool, AAS_POOL_CAT, 0, aas_run, aas_cancel, j);
		st = cache_wait(s->cache, key, claim, &v, &claim, &error);
	}
}

int
ecs_store_scalable_target(struct ecs_store *s, const char *cluster, const char *service,
    json_t **target, struct ecs_error *err)
{
	char *key = store_key(TARGETS_TYPE, NULL, NULL);
	char *id = ecs_aas_resource_id(cluster, service);
	json_t *all, *t;
	int rc = -1;

	*target = NULL;
	if (aas_get(s, key, NULL, &all, err) == 0) {
		t = json_object_get(all, id);
		*target = t != NULL ? json_incref(t) : NULL;
		rc = t != NULL;
		json_decref(all);
	}
	free(id);
	free(key);
	return rc;
}

void
ecs_store_targets_refresh(struct ecs_store *s)
{
	char *key = store_key(TARGETS_TYPE, NULL, NULL);

	cache_invalidate_prefix(s->cache, key);
	free(key);
}

int
ecs_store_scaling_policies(struct ecs_store *s, const char *cluster, const char *service,
    json_t **policies, struct ecs_error *err)
{
	char *key = store_key(POLICIES_TYPE, cluster, service);
	char *id = ecs_aas_resource_id(cluster, service);
	int rc = aas_get(s, key, id, policies, err);

	free(id);
	free(key);
	return rc;
}
