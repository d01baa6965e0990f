/*
 * The ECS store: listings and described objects of one region, kept in a
 * generic TTL cache (cache/) and fetched through the typed API (ecs/api).
 * Each object kind is one entry in kind_table: its cache key prefixes, its
 * batch size, how to describe a batch and where its name is in an object.
 *
 * Cache keys are "<type>/<cluster>/<name>": "Osvc/prod/api" (an object),
 * "Lsvc/prod/" (a listing), "Tsvc/prod/api" (the tasks of a service).
 * Clusters use "Ocl/<name>/" and "Lcl//". Names never contain '/', so
 * "<type>/<cluster>/" is the prefix of everything about one cluster.
 *
 * Threads. Every List and Describe made for a reader runs on the store's
 * own threads (ecs/store_pool): a reader that misses claims the key, hands
 * the claim to a job and waits for it on the cache, so that a reader who
 * goes away leaves the fetch running for the others (CACHE_INTERRUPTED).
 * Jobs never wait on the cache, so they cannot wait for a reader.
 * ecs_store_fetch/fetch_many (writes, pollers) call in the caller's thread.
 *
 * Read-ahead. A miss on an object of a listed collection describes it with
 * the uncached names that follow it in the listing (one batch). When the
 * misses of a listing look like a scan (ecs/store_ahead), the following
 * batches are described ahead, in parallel, each one a job of its own; the
 * pool bounds the calls in flight per throttling category, and the client
 * paces every call. An object that arrived by read-ahead is counted when a
 * reader first uses it (prefetched / prefetch_used).
 */
#include "ecs/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "ecs/api.h"
#include "ecs/client.h"
#include "ecs/clock.h"
#include "ecs/log.h"
#include "ecs/store_ahead.h"
#include "ecs/store_int.h"
#include "ecs/store_pool.h"
#include "ecs/store_value.h"
#include "ecs/xmalloc.h"

#define DEFAULT_INFLIGHT	8	/* calls in flight per throttling category */
#define MAX_ROUNDS		4	/* claims a reader hands over before giving up */

static int describe_clusters(struct ecs_client *, const char *, const char *const *,
    size_t, json_t **, json_t **, struct ecs_error *);

const struct kind_entry store_kinds[ECS_KIND_COUNT] = {
	[ECS_KIND_CLUSTER] = { "Ocl", "Lcl", "clusterName", 100, 0, describe_clusters },
	[ECS_KIND_SERVICE] = { "Osvc", "Lsvc", "serviceName", 10, 1, ecs_describe_services },
	[ECS_KIND_TASK] = { "Otask", "Ltask", "taskArn", 100, 2, ecs_describe_tasks },
	[ECS_KIND_INSTANCE] = { "Oci", "Lci", "containerInstanceArn", 100, 2,
	    ecs_describe_container_instances },
};

/* Every key type that belongs to one cluster, for ecs_store_refresh(). */
static const char *const cluster_types[] = {
	"Ocl", "Lsvc", "Ltask", STOPPED_TYPE, "Lci", "Osvc", "Otask", "Oci", "Tsvc",
	"Tci", "Paas", NULL
};

/* How long a failing endpoint is left alone before it is tried again. */
#define DOWN_RETRY_MS 2000

void
store_down_note(struct store_down *d, const struct ecs_error *err)
{
	switch (err->code) {
	case ECS_E_UNREACHABLE:
	case ECS_E_TIMEOUT:
	case ECS_E_SERVER:
		atomic_store(&d->code, err->code);
		atomic_store(&d->until, (uint64_t)ecs_now_ms() + DOWN_RETRY_MS);
		break;
	default:
		atomic_store(&d->until, 0);
		break;
	}
}

int
store_down_check(struct store_down *d, const char *what, struct ecs_error *err)
{
	if ((uint64_t)ecs_now_ms() >= atomic_load(&d->until))
		return 0;
	ecs_error_set(err, (enum ecs_code)atomic_load(&d->code),
	    "%s failing; not retried for %d ms", what, DOWN_RETRY_MS);
	return -1;
}

/* Records the outcome of an ECS call for the endpoint-down window. */
void
store_note_outcome(struct ecs_store *s, const struct ecs_error *err)
{
	store_down_note(&s->down, err);
}

/* 0 when an ECS call may be made now; else -1 with the remembered error. */
static int
endpoint_usable(struct ecs_store *s, struct ecs_error *err)
{
	return store_down_check(&s->down, "endpoint", err);
}

/* DescribeClusters has no cluster argument; adapt it to describe_fn. */
static int
describe_clusters(struct ecs_client *c, const char *cluster, const char *const *names,
    size_t n, json_t **objs, json_t **failures, struct ecs_error *err)
{
	(void)cluster;
	return ecs_describe_clusters(c, names, n, objs, failures, err);
}

struct ecs_store *
ecs_store_new(struct ecs_client *client, const struct ecs_store_config *cfg)
{
	struct ecs_store *s = xcalloc(1, sizeof(*s));
	unsigned inflight = cfg->max_inflight ? cfg->max_inflight : DEFAULT_INFLIGHT;
	struct cache_config cc = {
		.ttl_ms = cfg->ttl_ms,
		.negative_ttl_ms = cfg->negative_ttl_ms,
		.stale_ttl_ms = cfg->stale_ttl_ms,
		.max_entries = cfg->max_entries,
		.ref = sval_ref,
		.unref = sval_unref,
		.interrupted = cfg->interrupted,
	};

	s->client = client;
	s->interruptible = cfg->interrupted != NULL;
	s->cache = cache_new(&cc);
	s->parsed = sval_parsed_new();
	/* Three categories busy at once at most: cluster, service, resource reads. */
	s->pool = spool_new(3 * inflight, inflight);
	s->ahead = sahead_new(inflight);
	pthread_mutex_init(&s->hint_lock, NULL);
	pthread_mutex_init(&s->err_lock, NULL);
	return s;
}

void
ecs_store_free(struct ecs_store *s)
{
	if (s == NULL)
		return;
	/*
	 * Jobs settle their claims in the cache: stop them first. The
	 * client ends the calls in flight at once, so that the join is
	 * prompt; it is freed right after the store.
	 */
	ecs_client_shutdown(s->client);
	spool_free(s->pool);
	sahead_free(s->ahead);
	cache_free(s->cache);
	sval_parsed_free(s->parsed);
	pthread_mutex_destroy(&s->hint_lock);
	pthread_mutex_destroy(&s->err_lock);
	free(s->hint_cluster);
	json_decref(s->hint_names);
	free(s);
}

/* The cache key of type for cluster and name; the caller frees it. */
char *
store_key(const char *type, const char *cluster, const char *name)
{
	return xasprintf("%s/%s/%s", type, cluster ? cluster : "", name ? name : "");
}

/* The cache key of an object; clusters are keyed by their own name. */
char *
store_object_key(enum ecs_kind kind, const char *cluster, const char *name)
{
	return kind == ECS_KIND_CLUSTER ? store_key(store_kinds[kind].obj_type, name, NULL) :
	    store_key(store_kinds[kind].obj_type, cluster, name);
}

/* The cache key of a kind's listing; the caller frees it. */
static char *
listing_key(enum ecs_kind kind, const char *cluster)
{
	return store_key(store_kinds[kind].list_type,
	    kind == ECS_KIND_CLUSTER ? NULL : cluster, NULL);
}

/* The name of an object of kind, from its name field (an ARN for tasks and instances). */
const char *
store_object_name(enum ecs_kind kind, json_t *obj)
{
	const char *v = json_string_value(json_object_get(obj, store_kinds[kind].name_field));

	return v ? ecs_arn_name(v) : NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Turns an array of ARNs into a new sorted array of names. */
json_t *
store_names_from_arns(json_t *arns)
{
	size_t i, m = 0, n = json_array_size(arns);
	const char **v = xcalloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array();

	for (i = 0; i < n; i++) {
		const char *arn = json_string_value(json_array_get(arns, i));

		if (arn != NULL && *ecs_arn_name(arn) != '\0')
			v[m++] = ecs_arn_name(arn);
	}
	qsort(v, m, sizeof(*v), cmp_str);
	for (i = 0; i < m; i++)
		json_array_append_new(out, json_string(v[i]));
	free(v);
	return out;
}

/* The index of name in a sorted array of names, or where it would go. */
static size_t
names_search(json_t *names, const char *name, int *found)
{
	size_t lo = 0, hi = json_array_size(names);

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(json_string_value(json_array_get(names, mid)), name);

		if (r == 0) {
			*found = 1;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The listing under key as a new reference if one is cached (any age). */
static json_t *
peek_listing(struct ecs_store *s, const char *key, int *fresh)
{
	void *v;
	int f = 0;

	if (!cache_peek(s->cache, key, &v, &f))
		return NULL;
	if (fresh != NULL)
		*fresh = f;
	return sval_take(s->parsed, v);
}

int
store_serve_stale(struct ecs_store *s, const char *key, json_t **out, struct ecs_error *err)
{
	void *v;

	if (err->code == ECS_E_NOTFOUND || err->code == ECS_E_INTERRUPTED ||
	    !cache_get_stale(s->cache, key, &v))
		return -1;
	*out = sval_take(s->parsed, v);
	return 0;
}

/* Remembers names (borrowed) as the task hint of cluster. */
void
store_hint_set(struct ecs_store *s, const char *cluster, json_t *names)
{
	json_t *old;

	pthread_mutex_lock(&s->hint_lock);
	free(s->hint_cluster);
	s->hint_cluster = xstrdup(cluster);
	old = s->hint_names;
	s->hint_names = json_incref(names);
	pthread_mutex_unlock(&s->hint_lock);
	json_decref(old);
}

/* The task hint of cluster as a new reference, or NULL. */
static json_t *
hint_get(struct ecs_store *s, const char *cluster)
{
	json_t *names = NULL;

	pthread_mutex_lock(&s->hint_lock);
	if (s->hint_cluster != NULL && strcmp(s->hint_cluster, cluster) == 0)
		names = json_incref(s->hint_names);
	pthread_mutex_unlock(&s->hint_lock);
	return names;
}

/* -- waiting for jobs ------------------------------------------------------ */

/*
 * Answers a reader from the cache state st (of a cache_get or cache_wait
 * on key): 0 with *v for a value, 1 when it holds a claim (a miss), else
 * -1 with err (not found, failed after a stale serve was tried, or the
 * reader went away).
 */
static int
settle_state(struct ecs_store *s, enum cache_state st, const char *key, int error,
    void **v, json_t **out, struct ecs_error *err)
{
	switch (st) {
	case CACHE_HIT:
		return 0;
	case CACHE_NEGATIVE:
		ecs_error_set(err, ECS_E_NOTFOUND, "not found");
		return -1;
	case CACHE_FAILED:
		if (!sjob_last_error(s, key, error, err))
			ecs_error_set(err, (enum ecs_code)error, "%s",
			    ecs_strerror((enum ecs_code)error));
		return store_serve_stale(s, key, out, err) == 0 ? 2 : -1;
	case CACHE_INTERRUPTED:
		ecs_log_info("%s: %s: interrupted; the fetch goes on", __func__, key);
		ecs_error_set(err, ECS_E_INTERRUPTED, "interrupted");
		return -1;
	case CACHE_MISS:
	default:
		(void)v;
		return 1;
	}
}

/*
 * A listing through the cache: a miss is handed to a job, and the reader
 * waits for its result. One call for any number of concurrent readers;
 * stale on error.
 */
static int
store_listing(struct ecs_store *s, const char *key, enum ecs_kind kind,
    const char *cluster, const char *owner, enum ecs_kind owner_kind, json_t **out,
    struct ecs_error *err)
{
	enum cache_state st;
	uint64_t claim = 0;
	void *v = NULL;
	int error = 0, rc, round;

	ecs_error_clear(err);
	*out = NULL;
	st = cache_get(s->cache, key, &v, &claim, &error);
	for (round = 0;; round++) {
		rc = settle_state(s, st, key, error, &v, out, err);
		if (rc == 0) {
			*out = sval_take(s->parsed, v);
			return 0;
		}
		if (rc != 1)
			return rc == 2 ? 0 : -1;
		if (round == MAX_ROUNDS || endpoint_usable(s, err) != 0) {
			if (err->code == ECS_OK)
				ecs_error_set(err, ECS_E_BUSY, "%s: invalidated while fetched", key);
			cache_fail(s->cache, key, claim, err->code);
			return store_serve_stale(s, key, out, err);
		}
		cache_hand(s->cache, key, claim);
		sjob_list(s, key, claim, kind, cluster, owner, owner_kind);
		st = cache_wait(s->cache, key, claim, &v, &claim, &error);
	}
}

int
ecs_store_list(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    json_t **names, struct ecs_error *err)
{
	char *key = listing_key(kind, cluster);
	int rc = store_listing(s, key, kind, kind == ECS_KIND_CLUSTER ? NULL : cluster,
	    NULL, ECS_KIND_TASK, names, err);

	free(key);
	return rc;
}

int
ecs_store_list_tasks_of(struct ecs_store *s, enum ecs_kind owner_kind,
    const char *cluster, const char *owner, json_t **ids, struct ecs_error *err)
{
	char *key = store_key(owner_kind == ECS_KIND_SERVICE ? "Tsvc" : "Tci", cluster, owner);
	int rc = store_listing(s, key, ECS_KIND_TASK, cluster, owner, owner_kind, ids, err);

	free(key);
	return rc;
}

/* -- objects and read-ahead ------------------------------------------------ */

/*
 * Claims the uncached names at positions [from, to) of listing and
 * describes them ahead of the readers, one job per batch.
 */
static void
read_ahead(struct ecs_store *s, enum ecs_kind kind, const char *cluster, json_t *listing,
    size_t from, size_t to)
{
	const struct kind_entry *k = &store_kinds[kind];
	struct desc_job *j = NULL;
	uint64_t claim;
	size_t i;

	for (i = from; i < to && i < json_array_size(listing); i++) {
		const char *name = json_string_value(json_array_get(listing, i));
		char *key = store_object_key(kind, cluster, name);

		if (!cache_claim(s->cache, key, &claim)) {
			free(key);
			continue;
		}
		if (j == NULL) {
			j = sjob_desc_new(s, kind, cluster);
			j->ahead_id = atomic_fetch_add(&s->ahead_ids, 1) + 1;
		}
		sjob_desc_add(j, name, key, claim);
		if (j->n == k->batch) {
			sjob_desc_submit(j, 1);
			j = NULL;
		}
	}
	if (j != NULL)
		sjob_desc_submit(j, 1);
}

/* Counts the first use of an object read ahead, and keeps the window ahead. */
static void
note_use(struct ecs_store *s, enum ecs_kind kind, const char *cluster, const char *name,
    struct sval *v)
{
	unsigned id = sval_first_use(v);
	char *lkey;
	json_t *listing;
	size_t pos, from, to;
	int found;

	if (id == 0)
		return;
	atomic_fetch_add(&s->prefetch_used, 1);
	lkey = listing_key(kind, cluster);
	if ((listing = peek_listing(s, lkey, NULL)) != NULL) {
		pos = names_search(listing, name, &found);
		if (found && sahead_used(s->ahead, lkey, json_array_size(listing),
		    store_kinds[kind].batch, pos, id, &from, &to))
			read_ahead(s, kind, cluster, listing, from, to);
		json_decref(listing);
	}
	free(lkey);
}

/* Adds the claimable name at position at of listing to the reader's batch. */
static void
demand_add(struct ecs_store *s, struct desc_job *j, const char *cluster, json_t *listing,
    size_t at)
{
	const char *sib = json_string_value(json_array_get(listing, at));
	uint64_t claim;
	char *key;

	if (strcmp(sib, j->names[0]) == 0)
		return;
	key = store_object_key(j->kind, cluster, sib);
	if (cache_claim(s->cache, key, &claim))
		sjob_desc_add(j, sib, key, claim);
	else
		free(key);
}

/*
 * Makes the reader's own batch: its claim on the name at start, then the
 * uncached names that follow it in listing (dir 1), or precede it (dir
 * -1); dir 0 takes those that follow, then those before it.
 */
static void
demand_batch(struct ecs_store *s, struct desc_job *j, const char *cluster, json_t *listing,
    size_t start, int dir)
{
	size_t count = json_array_size(listing), i, max = store_kinds[j->kind].batch;

	if (dir >= 0)
		for (i = start; i < count && j->n < max; i++)
			demand_add(s, j, cluster, listing, i);
	if (dir <= 0)
		for (i = start < count ? start + 1 : count; i-- > 0 && j->n < max;)
			demand_add(s, j, cluster, listing, i);
}

/* Whether name is absent from a fresh listing of its kind (and, for tasks, of the stopped ones). */
static int
known_absent(struct ecs_store *s, enum ecs_kind kind, const char *cluster, const char *name)
{
	char *key = listing_key(kind, cluster);
	json_t *l;
	int fresh = 0, found = 1, known = 0;

	if ((l = peek_listing(s, key, &fresh)) != NULL && fresh) {
		names_search(l, name, &found);
		known = 1;
	}
	json_decref(l);
	free(key);
	if (!known || found || kind != ECS_KIND_TASK)
		return known && !found;
	key = store_key(STOPPED_TYPE, cluster, NULL);
	l = peek_listing(s, key, &fresh);
	free(key);
	found = 1;
	known = l != NULL && fresh;
	if (known)
		names_search(l, name, &found);
	json_decref(l);
	return known && !found;
}

/*
 * Handles the reader's claim on key (name, a miss): lists the collection
 * first when no listing is cached (then the reader looks again: returns 1),
 * else describes the reader's batch, reads ahead when the misses scan the
 * listing, and leaves the claim with a job (returns 0). -1 with err when
 * the name is known absent or the listing failed.
 */
static int
handle_miss(struct ecs_store *s, enum ecs_kind kind, const char *cluster, const char *name,
    const char *key, uint64_t claim, int listed, struct ecs_error *err)
{
	const struct kind_entry *k = &store_kinds[kind];
	char *lkey = listing_key(kind, cluster);
	json_t *listing, *names;
	struct desc_job *j;
	size_t pos, from = 0, to = 0;
	int found = 0, hinted = 0, dir = 0, ahead = 0;

	listing = peek_listing(s, lkey, NULL);
	if (listing == NULL && kind == ECS_KIND_TASK && (listing = hint_get(s, cluster)) != NULL)
		hinted = 1;
	if (listing == NULL && !listed) {
		/* List first, so that the batch can be filled with siblings. */
		cache_abandon(s->cache, key, claim);
		free(lkey);
		if (ecs_store_list(s, kind, cluster, &names, err) != 0)
			return -1;
		json_decref(names);
		if (known_absent(s, kind, cluster, name)) {
			ecs_error_set(err, ECS_E_NOTFOUND, "%s: not found", name);
			return -1;
		}
		return 1;
	}
	j = sjob_desc_new(s, kind, cluster);
	sjob_desc_add(j, name, xstrdup(key), claim);
	cache_hand(s->cache, key, claim);
	if (listing != NULL) {
		pos = names_search(listing, name, &found);
		if (found && !hinted)
			ahead = sahead_miss(s->ahead, lkey, json_array_size(listing), k->batch,
			    pos, &dir, &from, &to);
		demand_batch(s, j, cluster, listing, pos, dir);
		sjob_desc_submit(j, 0);
		if (ahead)
			read_ahead(s, kind, cluster, listing, from, to);
	} else {
		sjob_desc_submit(j, 0);
	}
	json_decref(listing);
	free(lkey);
	return 0;
}

int
ecs_store_get(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, json_t **obj, struct ecs_error *err)
{
	char *key = store_object_key(kind, cluster, name);
	enum cache_state st;
	uint64_t claim = 0;
	void *v = NULL;
	int error = 0, rc, listed = 0, round;

	ecs_error_clear(err);
	*obj = NULL;
	st = cache_get(s->cache, key, &v, &claim, &error);
	for (round = 0;; round++) {
		rc = settle_state(s, st, key, error, &v, obj, err);
		if (rc == 0) {
			note_use(s, kind, cluster, name, v);
			*obj = sval_take(s->parsed, v);
			break;
		}
		if (rc != 1) {
			if (rc == -1 && err->code == ECS_E_NOTFOUND)
				ecs_error_set(err, ECS_E_NOTFOUND, "%s: not found", name);
			rc = rc == 2 ? 0 : -1;
			break;
		}
		if (round == MAX_ROUNDS || endpoint_usable(s, err) != 0) {
			if (err->code == ECS_OK)
				ecs_error_set(err, ECS_E_BUSY, "%s: invalidated while fetched", name);
			cache_fail(s->cache, key, claim, err->code);
			rc = store_serve_stale(s, key, obj, err);
			break;
		}
		rc = handle_miss(s, kind, cluster, name, key, claim, listed, err);
		if (rc < 0)
			break;
		if (rc == 1) {
			listed = 1;
			st = cache_get(s->cache, key, &v, &claim, &error);
		} else {
			st = cache_wait(s->cache, key, claim, &v, &claim, &error);
		}
	}
	free(key);
	return rc;
}

int
ecs_store_exists(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, struct ecs_error *err)
{
	char *lkey = listing_key(kind, cluster);
	json_t *obj, *listing;
	void *v;
	int fresh = 0, found = 0;

	ecs_error_clear(err);
	/* Clusters are few: their listing answers with List calls only. */
	if (kind == ECS_KIND_CLUSTER) {
		free(lkey);
		if (ecs_store_list(s, kind, NULL, &obj, err) != 0)
			return -1;
		names_search(obj, name, &found);
		json_decref(obj);
		return found;
	}
	listing = peek_listing(s, lkey, &fresh);
	free(lkey);
	if (listing != NULL && fresh) {
		names_search(listing, name, &found);
		json_decref(listing);
		/* Stopped tasks are listed apart from the running ones. */
		if (found || known_absent(s, kind, cluster, name))
			return found;
	} else if (listing == NULL) {
		/* Nothing listed yet: list, so that the listing answers. */
		if (ecs_store_list(s, kind, cluster, &listing, err) != 0)
			return err->code == ECS_E_NOTFOUND ? (ecs_error_clear(err), 0) : -1;
		names_search(listing, name, &found);
		json_decref(listing);
		if (found || known_absent(s, kind, cluster, name))
			return found;
	} else {
		json_decref(listing);
		/* A stale listing: the object itself may be cached. */
		char *key = store_object_key(kind, cluster, name);

		if (cache_peek(s->cache, key, &v, &fresh)) {
			sval_unref(v);
			if (fresh) {
				free(key);
				return 1;
			}
		}
		free(key);
	}
	if (ecs_store_get(s, kind, cluster, name, &obj, err) == 0) {
		json_decref(obj);
		return 1;
	}
	if (err->code == ECS_E_NOTFOUND) {
		ecs_error_clear(err);
		return 0;
	}
	return -1;
}

int
ecs_store_fetch_many(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *const *names, size_t n, json_t **objs, struct ecs_error *err)
{
	json_t *failures = NULL, *o;
	uint64_t mark = cache_mark(s->cache);
	struct sval *v;
	size_t i;
	int rc;

	ecs_error_clear(err);
	rc = store_kinds[kind].describe(s->client, cluster, names, n, objs, &failures, err);
	store_note_outcome(s, err);
	json_decref(failures);
	if (rc != 0)
		return -1;
	/* A write that landed during the call is newer: keep it. */
	json_array_foreach(*objs, i, o) {
		const char *name = store_object_name(kind, o);
		char *key;

		if (name == NULL)
			continue;
		key = store_object_key(kind, cluster, name);
		v = sval_object(o);
		cache_set_since(s->cache, key, v, mark);
		sval_unref(v);
		free(key);
	}
	return 0;
}

int
ecs_store_fetch(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, json_t **obj, struct ecs_error *err)
{
	json_t *objs;

	*obj = NULL;
	if (ecs_store_fetch_many(s, kind, cluster, &name, 1, &objs, err) != 0)
		return -1;
	if (json_array_size(objs) == 0) {
		ecs_error_set(err, ECS_E_NOTFOUND, "%s: not found", name);
		json_decref(objs);
		return -1;
	}
	*obj = json_incref(json_array_get(objs, 0));
	json_decref(objs);
	return 0;
}

void
ecs_store_put(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, json_t *obj)
{
	char *key = store_object_key(kind, cluster, name);

	struct sval *v = sval_object(obj);

	cache_set(s->cache, key, v);
	sval_unref(v);
	free(key);
}

void
ecs_store_refresh(struct ecs_store *s, const char *cluster)
{
	size_t i;

	sahead_forget(s->ahead, "");
	if (cluster == NULL) {
		cache_invalidate_prefix(s->cache, "");
		return;
	}
	for (i = 0; cluster_types[i] != NULL; i++) {
		char *prefix = store_key(cluster_types[i], cluster, NULL);

		cache_invalidate_prefix(s->cache, prefix);
		free(prefix);
	}
	/* The region's one listing of scalable targets holds the cluster's. */
	ecs_store_targets_refresh(s);
}

void
ecs_store_stats(struct ecs_store *s, struct buf *out)
{
	struct cache_stats st;

	cache_get_stats(s->cache, &st);
	buf_printf(out, "cache_hits %lu\n", st.hits);
	buf_printf(out, "cache_negative_hits %lu\n", st.negative_hits);
	buf_printf(out, "cache_misses %lu\n", st.misses);
	buf_printf(out, "cache_waits %lu\n", st.waits);
	buf_printf(out, "cache_stale_serves %lu\n", st.stale_serves);
	buf_printf(out, "cache_evictions %lu\n", st.evictions);
	buf_printf(out, "cache_rejected_puts %lu\n", st.rejected_puts);
	buf_printf(out, "cache_entries %zu\n", st.entries);
	buf_printf(out, "cache_interrupted_waits %lu\n", st.interrupted);
	buf_printf(out, "store_interruptible %d\n", s->interruptible);
	buf_printf(out, "prefetched %lu\n", atomic_load(&s->prefetched));
	buf_printf(out, "prefetch_used %lu\n", atomic_load(&s->prefetch_used));
	buf_printf(out, "prefetch_calls %lu\n", atomic_load(&s->prefetch_calls));
	spool_stats(s->pool, out);
}
