/*
 * The jobs the store's threads run for readers: a listing (and, with a
 * cluster's tasks, its stopped tasks), or a Describe batch. Each job
 * settles in the cache every claim it was given: a value, a negative
 * entry, or a failure; a job cancelled at shutdown fails its claims.
 */
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "ecs/api.h"
#include "ecs/log.h"
#include "ecs/store_int.h"
#include "ecs/store_pool.h"
#include "ecs/store_value.h"
#include "ecs/xmalloc.h"

/* A listing to fetch for a claim: every object of a kind, or an owner's tasks. */
struct list_job {
	struct ecs_store	*s;
	char			*key;
	uint64_t		 claim;
	enum ecs_kind		 kind;
	char			*cluster;	/* NULL for clusters */
	char			*owner;		/* tasks of a service or instance */
	enum ecs_kind		 owner_kind;
};


/*
 * Gives the memory a big response left free back to the system. Each
 * store thread has its own malloc arena, whose free space would otherwise
 * stay resident: a few MB per thread after a 100-task batch.
 */
static void
trim_after(size_t objects)
{
#ifdef M_TRIM_THRESHOLD
	if (objects >= 50)
		malloc_trim(0);
#else
	(void)objects;
#endif
}

/* Remembers err as the last failure of key. */
static void
note_error(struct ecs_store *s, const char *key, const struct ecs_error *err)
{
	struct store_err *e;

	pthread_mutex_lock(&s->err_lock);
	e = &s->errs[s->err_next++ % STORE_ERRORS];
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->err = *err;
	pthread_mutex_unlock(&s->err_lock);
}

void
sjob_note_error(struct ecs_store *s, const char *key, const struct ecs_error *err)
{
	note_error(s, key, err);
}

int
sjob_last_error(struct ecs_store *s, const char *key, int code, struct ecs_error *err)
{
	unsigned i, n;
	int found = 0;

	pthread_mutex_lock(&s->err_lock);
	for (n = 0; n < STORE_ERRORS && !found; n++) {
		i = (s->err_next + STORE_ERRORS - 1 - n) % STORE_ERRORS;
		if (strcmp(s->errs[i].key, key) == 0 && (int)s->errs[i].err.code == code) {
			*err = s->errs[i].err;
			found = 1;
		}
	}
	pthread_mutex_unlock(&s->err_lock);
	return found;
}

static void
list_job_free(struct list_job *j)
{
	free(j->key);
	free(j->cluster);
	free(j->owner);
	free(j);
}

/*
 * Lists the stopped tasks of cluster (ListTasks only lists those meant to
 * run) under their own key, so that a task id absent from both listings is
 * known absent without a call. mark: taken before the task listing.
 */
static void
list_stopped(struct ecs_store *s, const char *cluster, uint64_t mark)
{
	struct ecs_task_filter f = { .desired_status = "STOPPED" };
	struct ecs_error err;
	json_t *arns = NULL, *names;
	struct sval *v;
	char *key;

	if (ecs_list_tasks(s->client, cluster, &f, &arns, &err) != 0) {
		ecs_log_info("%s: %s: %s", __func__, cluster, err.message);
		return;
	}
	names = store_names_from_arns(arns);
	key = store_key(STOPPED_TYPE, cluster, NULL);
	v = sval_listing(names);
	cache_set_since(s->cache, key, v, mark);
	sval_unref(v);
	free(key);
	json_decref(names);
	json_decref(arns);
}

/* Runs a listing job and settles its claim. */
static void
list_run(void *arg)
{
	struct list_job *j = arg;
	struct ecs_store *s = j->s;
	struct ecs_task_filter f = { 0 };
	struct ecs_error err;
	uint64_t mark = cache_mark(s->cache);
	json_t *arns = NULL, *names;
	struct sval *v;
	int rc;

	ecs_error_clear(&err);
	switch (j->kind) {
	case ECS_KIND_CLUSTER:
		rc = ecs_list_clusters(s->client, &arns, &err);
		break;
	case ECS_KIND_SERVICE:
		rc = ecs_list_services(s->client, j->cluster, &arns, &err);
		break;
	case ECS_KIND_INSTANCE:
		rc = ecs_list_container_instances(s->client, j->cluster, NULL, &arns, &err);
		break;
	case ECS_KIND_TASK:
	default:
		if (j->owner != NULL && j->owner_kind == ECS_KIND_SERVICE)
			f.service_name = j->owner;
		else if (j->owner != NULL)
			f.container_instance = j->owner;
		rc = ecs_list_tasks(s->client, j->cluster, &f, &arns, &err);
		break;
	}
	store_note_outcome(s, &err);
	if (rc != 0) {
		if (err.code == ECS_E_NOTFOUND)
			cache_put_negative(s->cache, j->key, j->claim);
		else {
			note_error(s, j->key, &err);
			cache_fail(s->cache, j->key, j->claim, err.code);
		}
		list_job_free(j);
		return;
	}
	names = store_names_from_arns(arns);
	json_decref(arns);
	if (j->owner != NULL)
		store_hint_set(s, j->cluster, names);
	else if (j->kind == ECS_KIND_TASK)
		list_stopped(s, j->cluster, mark);
	v = sval_listing(names);
	cache_put(s->cache, j->key, v, j->claim);
	sval_unref(v);
	trim_after(json_array_size(names));
	json_decref(names);
	list_job_free(j);
}

static void
list_cancel(void *arg)
{
	struct list_job *j = arg;

	cache_fail(j->s->cache, j->key, j->claim, ECS_E_INTERRUPTED);
	list_job_free(j);
}

static void
desc_job_free(struct desc_job *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		free(j->names[i]);
		free(j->keys[i]);
	}
	free(j->names);
	free(j->keys);
	free(j->claims);
	free(j->cluster);
	free(j);
}

struct desc_job *
sjob_desc_new(struct ecs_store *s, enum ecs_kind kind, const char *cluster)
{
	struct desc_job *j = xcalloc(1, sizeof(*j));
	size_t max = store_kinds[kind].batch;

	j->s = s;
	j->kind = kind;
	j->cluster = cluster ? xstrdup(cluster) : NULL;
	j->names = xcalloc(max, sizeof(*j->names));
	j->keys = xcalloc(max, sizeof(*j->keys));
	j->claims = xcalloc(max, sizeof(*j->claims));
	return j;
}

void
sjob_desc_add(struct desc_job *j, const char *name, char *key, uint64_t claim)
{
	j->names[j->n] = xstrdup(name);
	j->keys[j->n] = key;
	j->claims[j->n] = claim;
	j->n++;
}

/* Finds name among the batch's unsettled names; returns its index or j->n. */
static size_t
desc_job_find(const struct desc_job *j, const char *name, const unsigned char *done)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (!done[i] && strcmp(j->names[i], name) == 0)
			return i;
	return j->n;
}

/*
 * Describes the batch and settles every claim in it: a value, a negative
 * entry for a name neither returned nor reported, or a failure.
 */
static void
desc_run(void *arg)
{
	struct desc_job *j = arg;
	struct ecs_store *s = j->s;
	json_t *objs = NULL, *failures = NULL, *o;
	unsigned char done[100] = { 0 };
	struct ecs_error err;
	struct sval *v;
	size_t i, k, stored = 0;

	ecs_error_clear(&err);
	if (j->ahead_id != 0)
		atomic_fetch_add(&s->prefetch_calls, 1);
	if (store_kinds[j->kind].describe(s->client, j->cluster,
	    (const char *const *)j->names, j->n, &objs, &failures, &err) != 0) {
		store_note_outcome(s, &err);
		if (err.code != ECS_E_NOTFOUND)
			note_error(s, j->keys[0], &err);
		for (i = 0; i < j->n; i++) {
			if (err.code == ECS_E_NOTFOUND)
				cache_put_negative(s->cache, j->keys[i], j->claims[i]);
			else
				cache_fail(s->cache, j->keys[i], j->claims[i], err.code);
		}
		desc_job_free(j);
		return;
	}
	store_note_outcome(s, &err);
	json_array_foreach(objs, k, o) {
		const char *name = store_object_name(j->kind, o);

		if (name == NULL || (i = desc_job_find(j, name, done)) == j->n)
			continue;
		v = sval_object(o);
		if (j->ahead_id != 0) {
			sval_mark_ahead(v, j->ahead_id);
			stored++;
		}
		cache_put(s->cache, j->keys[i], v, j->claims[i]);
		sval_unref(v);
		done[i] = 1;
	}
	/* What was neither returned nor reported is taken as missing. */
	for (i = 0; i < j->n; i++)
		if (!done[i])
			cache_put_negative(s->cache, j->keys[i], j->claims[i]);
	atomic_fetch_add(&s->prefetched, stored);
	k = json_array_size(objs);
	json_decref(objs);
	json_decref(failures);
	desc_job_free(j);
	trim_after(k);
}

static void
desc_cancel(void *arg)
{
	struct desc_job *j = arg;
	size_t i;

	for (i = 0; i < j->n; i++)
		cache_fail(j->s->cache, j->keys[i], j->claims[i], ECS_E_INTERRUPTED);
	desc_job_free(j);
}

void
sjob_desc_submit(struct desc_job *j, int ahead)
{
	spool_submit(j->s->pool, store_kinds[j->kind].pool_cat, ahead, desc_run, desc_cancel, j);
}

void
sjob_list(struct ecs_store *s, const char *key, uint64_t claim, enum ecs_kind kind,
    const char *cluster, const char *owner, enum ecs_kind owner_kind)
{
	struct list_job *j = xcalloc(1, sizeof(*j));

	j->s = s;
	j->key = xstrdup(key);
	j->claim = claim;
	j->kind = kind;
	j->cluster = cluster ? xstrdup(cluster) : NULL;
	j->owner = owner ? xstrdup(owner) : NULL;
	j->owner_kind = owner_kind;
	spool_submit(s->pool, store_kinds[kind].pool_cat, 0, list_run, list_cancel, j);
}
