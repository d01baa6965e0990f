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
 */
#include "ecs/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "ecs/api.h"
#include "ecs/clock.h"
#include "ecs/store_value.h"
#include "ecs/xmalloc.h"

typedef int (*describe_fn)(struct ecs_client *, const char *, const char *const *,
    size_t, json_t **, json_t **, struct ecs_error *);

struct kind_entry {
	const char	*obj_type;	/* cache key type of an object */
	const char	*list_type;	/* cache key type of the listing */
	const char	*name_field;	/* the member holding the name or ARN */
	size_t		 batch;		/* the Describe batch limit */
	describe_fn	 describe;
};

static int describe_clusters(struct ecs_client *, const char *, const char *const *,
    size_t, json_t **, json_t **, struct ecs_error *);

static const struct kind_entry kind_table[ECS_KIND_COUNT] = {
	[ECS_KIND_CLUSTER] = { "Ocl", "Lcl", "clusterName", 100, describe_clusters },
	[ECS_KIND_SERVICE] = { "Osvc", "Lsvc", "serviceName", 10, ecs_describe_services },
	[ECS_KIND_TASK] = { "Otask", "Ltask", "taskArn", 100, ecs_describe_tasks },
	[ECS_KIND_INSTANCE] = { "Oci", "Lci", "containerInstanceArn", 100,
	    ecs_describe_container_instances },
};

/* Every key type that belongs to one cluster, for ecs_store_refresh(). */
static const char *const cluster_types[] = {
	"Ocl", "Lsvc", "Ltask", "Lci", "Osvc", "Otask", "Oci", "Tsvc", "Tci", NULL
};

struct ecs_store {
	struct ecs_client	*client;	/* borrowed */
	struct cache		*cache;		/* thread-safe itself */
	struct sval_parsed	*parsed;	/* thread-safe itself */
	/*
	 * While the endpoint is failing (unreachable, timing out, 5xx), a
	 * miss is answered at once from a stale value or with the remembered
	 * error instead of waiting out another timeout: until down_until
	 * (monotonic ms), with down_code.
	 */
	_Atomic uint64_t	 down_until;
	_Atomic int		 down_code;
	/*
	 * The tasks of the service or instance listed last, sorted: siblings
	 * to batch with when the cluster's own task listing is not cached
	 * (reading tasks through services/S/tasks/ symlinks).
	 */
	pthread_mutex_t		 hint_lock;
	char			*hint_cluster;	/* protected by hint_lock */
	json_t			*hint_names;	/* protected by hint_lock */
};

/* How long a failing endpoint is left alone before it is tried again. */
#define DOWN_RETRY_MS 2000

/* Records the outcome of a call for the endpoint-down window. */
static void
note_outcome(struct ecs_store *s, const struct ecs_error *err)
{
	switch (err->code) {
	case ECS_E_UNREACHABLE:
	case ECS_E_TIMEOUT:
	case ECS_E_SERVER:
		atomic_store(&s->down_code, err->code);
		atomic_store(&s->down_until, (uint64_t)ecs_now_ms() + DOWN_RETRY_MS);
		break;
	default:
		atomic_store(&s->down_until, 0);
		break;
	}
}

/* 0 when a call may be made now; else -1 with the remembered error. */
static int
endpoint_usable(struct ecs_store *s, struct ecs_error *err)
{
	if ((uint64_t)ecs_now_ms() >= atomic_load(&s->down_until))
		return 0;
	ecs_error_set(err, (enum ecs_code)atomic_load(&s->down_code),
	    "endpoint failing; not retried for %d ms", DOWN_RETRY_MS);
	return -1;
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
	struct cache_config cc = {
		.ttl_ms = cfg->ttl_ms,
		.negative_ttl_ms = cfg->negative_ttl_ms,
		.stale_ttl_ms = cfg->stale_ttl_ms,
		.max_entries = cfg->max_entries,
		.ref = sval_ref,
		.unref = sval_unref,
	};

	s->client = client;
	s->cache = cache_new(&cc);
	s->parsed = sval_parsed_new();
	pthread_mutex_init(&s->hint_lock, NULL);
	return s;
}

void
ecs_store_free(struct ecs_store *s)
{
	if (s == NULL)
		return;
	cache_free(s->cache);
	sval_parsed_free(s->parsed);
	pthread_mutex_destroy(&s->hint_lock);
	free(s->hint_cluster);
	json_decref(s->hint_names);
	free(s);
}

/* The cache key of type for cluster and name; the caller frees it. */
static char *
store_key(const char *type, const char *cluster, const char *name)
{
	return xasprintf("%s/%s/%s", type, cluster ? cluster : "", name ? name : "");
}

/* The cache key of an object; clusters are keyed by their own name. */
static char *
object_key(enum ecs_kind kind, const char *cluster, const char *name)
{
	return kind == ECS_KIND_CLUSTER ? store_key(kind_table[kind].obj_type, name, NULL) :
	    store_key(kind_table[kind].obj_type, cluster, name);
}

/* The name of an object of kind, from its name field (an ARN for tasks and instances). */
static const char *
object_name(enum ecs_kind kind, json_t *obj)
{
	const char *v = json_string_value(json_object_get(obj, kind_table[kind].name_field));

	return v ? ecs_arn_name(v) : NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Turns an array of ARNs into a new sorted array of names. */
static json_t *
names_from_arns(json_t *arns)
{
	size_t i, m = 0, n = json_array_size(arns);
	const char **v = xcalloc(n, sizeof(*v));
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

/*
 * Serves key from a stale value after a failed fetch, if one is young
 * enough; else leaves err as it is. Returns 0 when served.
 */
static int
serve_stale(struct ecs_store *s, const char *key, json_t **out, struct ecs_error *err)
{
	void *v;

	if (err->code == ECS_E_NOTFOUND || !cache_get_stale(s->cache, key, &v))
		return -1;
	*out = sval_take(s->parsed, v);
	return 0;
}

/*
 * Fetches a listing-like value under key with fetch(), through the cache:
 * one call for any number of concurrent readers, stale on error.
 */
static int
store_cached(struct ecs_store *s, const char *key,
    int (*fetch)(struct ecs_store *, void *, json_t **, struct ecs_error *), void *arg,
    json_t **out, struct ecs_error *err)
{
	uint64_t claim;
	void *v;
	int error = 0, rc;
	json_t *val = NULL;

	ecs_error_clear(err);
	*out = NULL;
	switch (cache_get(s->cache, key, &v, &claim, &error)) {
	case CACHE_HIT:
		*out = sval_take(s->parsed, v);
		return 0;
	case CACHE_NEGATIVE:
		ecs_error_set(err, ECS_E_NOTFOUND, "not found");
		return -1;
	case CACHE_FAILED:
		ecs_error_set(err, (enum ecs_code)error, "%s", ecs_strerror((enum ecs_code)error));
		return serve_stale(s, key, out, err);
	case CACHE_MISS:
		break;
	}
	if (endpoint_usable(s, err) != 0) {
		cache_fail(s->cache, key, claim, err->code);
		return serve_stale(s, key, out, err);
	}
	rc = fetch(s, arg, &val, err);
	note_outcome(s, err);
	if (rc != 0) {
		if (err->code == ECS_E_NOTFOUND)
			cache_put_negative(s->cache, key, claim);
		else
			cache_fail(s->cache, key, claim, err->code);
		return serve_stale(s, key, out, err);
	}
	v = sval_listing(val);
	cache_put(s->cache, key, v, claim);
	sval_unref(v);
	*out = val;
	return 0;
}

/* Remembers names (borrowed) as the task hint of cluster. */
static void
hint_set(struct ecs_store *s, const char *cluster, json_t *names)
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

struct list_arg {
	enum ecs_kind	 kind;
	const char	*cluster;
	const char	*owner;		/* tasks of a service or instance */
	enum ecs_kind	 owner_kind;
};

/* Lists every object of a kind (or the tasks of an owner) as sorted names. */
static int
fetch_list(struct ecs_store *s, void *argp, json_t **out, struct ecs_error *err)
{
	struct list_arg *a = argp;
	struct ecs_task_filter f = { 0 };
	json_t *arns = NULL;
	int rc;

	switch (a->kind) {
	case ECS_KIND_CLUSTER:
		rc = ecs_list_clusters(s->client, &arns, err);
		break;
	case ECS_KIND_SERVICE:
		rc = ecs_list_services(s->client, a->cluster, &arns, err);
		break;
	case ECS_KIND_INSTANCE:
		rc = ecs_list_container_instances(s->client, a->cluster, NULL, &arns, err);
		break;
	case ECS_KIND_TASK:
	default:
		if (a->owner != NULL && a->owner_kind == ECS_KIND_SERVICE)
			f.service_name = a->owner;
		else if (a->owner != NULL)
			f.container_instance = a->owner;
		rc = ecs_list_tasks(s->client, a->cluster, &f, &arns, err);
		break;
	}
	if (rc != 0)
		return -1;
	*out = names_from_arns(arns);
	json_decref(arns);
	if (a->owner != NULL)
		hint_set(s, a->cluster, *out);
	return 0;
}

int
ecs_store_list(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    json_t **names, struct ecs_error *err)
{
	struct list_arg a = { .kind = kind, .cluster = cluster };
	char *key = store_key(kind_table[kind].list_type,
	    kind == ECS_KIND_CLUSTER ? NULL : cluster, NULL);
	int rc = store_cached(s, key, fetch_list, &a, names, err);

	free(key);
	return rc;
}

int
ecs_store_list_tasks_of(struct ecs_store *s, enum ecs_kind owner_kind,
    const char *cluster, const char *owner, json_t **ids, struct ecs_error *err)
{
	struct list_arg a = { .kind = ECS_KIND_TASK, .cluster = cluster,
	    .owner = owner, .owner_kind = owner_kind };
	char *key = store_key(owner_kind == ECS_KIND_SERVICE ? "Tsvc" : "Tci", cluster, owner);
	int rc = store_cached(s, key, fetch_list, &a, ids, err);

	free(key);
	return rc;
}

/* One Describe batch being assembled: names, their keys and claims. */
struct batch {
	size_t		 n;
	const char	**names;	/* borrowed from the caller or the listing */
	char		**keys;		/* owned */
	uint64_t	*claims;
	int		*done;
};

/* Adds the uncached siblings that follow name in the cached listing. */
static void
batch_add_siblings(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, json_t *listing, struct batch *b, size_t max)
{
	size_t count = json_array_size(listing), i, start;
	int found;

	start = names_search(listing, name, &found);
	for (i = 0; i < count && b->n < max; i++) {
		const char *sib = json_string_value(json_array_get(listing,
		    (start + i) % count));
		char *key;

		if (strcmp(sib, name) == 0)
			continue;
		key = object_key(kind, cluster, sib);
		if (cache_claim(s->cache, key, &b->claims[b->n])) {
			b->names[b->n] = sib;
			b->keys[b->n] = key;
			b->n++;
		} else {
			free(key);
		}
	}
}

/* Finds name in the batch; returns its index or b->n. */
static size_t
batch_find(const struct batch *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (!b->done[i] && strcmp(b->names[i], name) == 0)
			return i;
	return b->n;
}

/*
 * Describes the batch and settles every claim in it: a value, a negative
 * entry for a MISSING name, or a failure. Returns the first name's object
 * (a new reference) through out, or -1 with err.
 */
static int
batch_run(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    struct batch *b, json_t **out, struct ecs_error *err)
{
	json_t *objs = NULL, *failures = NULL, *o;
	struct sval *v;
	size_t i, j;
	int rc;

	rc = kind_table[kind].describe(s->client, cluster, b->names, b->n, &objs,
	    &failures, err);
	if (rc != 0) {
		for (i = 0; i < b->n; i++) {
			if (err->code == ECS_E_NOTFOUND)
				cache_put_negative(s->cache, b->keys[i], b->claims[i]);
			else
				cache_fail(s->cache, b->keys[i], b->claims[i], err->code);
		}
		return -1;
	}
	json_array_foreach(objs, j, o) {
		const char *name = object_name(kind, o);

		if (name == NULL || (i = batch_find(b, name)) == b->n)
			continue;
		if (i == 0)
			*out = json_incref(o);
		v = sval_object(o);
		cache_put(s->cache, b->keys[i], v, b->claims[i]);
		sval_unref(v);
		b->done[i] = 1;
	}
	/* What was neither returned nor reported is taken as missing. */
	for (i = 0; i < b->n; i++)
		if (!b->done[i])
			cache_put_negative(s->cache, b->keys[i], b->claims[i]);
	if (*out == NULL) {
		const char *reason = "MISSING";

		json_array_foreach(failures, j, o) {
			const char *arn = json_string_value(json_object_get(o, "arn"));

			if (arn != NULL && strcmp(ecs_arn_name(arn), b->names[0]) == 0 &&
			    json_string_value(json_object_get(o, "reason")) != NULL)
				reason = json_string_value(json_object_get(o, "reason"));
		}
		ecs_error_set(err, ECS_E_NOTFOUND, "%s: %s", b->names[0], reason);
		rc = -1;
	}
	json_decref(objs);
	json_decref(failures);
	return rc;
}

int
ecs_store_get(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, json_t **obj, struct ecs_error *err)
{
	const struct kind_entry *k = &kind_table[kind];
	size_t max = k->batch, i;
	struct batch b = { 0 };
	char *key, *lkey = NULL;
	json_t *listing = NULL;
	uint64_t claim;
	void *v;
	int error = 0, fresh, rc = -1;

	ecs_error_clear(err);
	*obj = NULL;
	key = object_key(kind, cluster, name);
	switch (cache_get(s->cache, key, &v, &claim, &error)) {
	case CACHE_HIT:
		*obj = sval_take(s->parsed, v);
		free(key);
		return 0;
	case CACHE_NEGATIVE:
		ecs_error_set(err, ECS_E_NOTFOUND, "%s: not found", name);
		free(key);
		return -1;
	case CACHE_FAILED:
		ecs_error_set(err, (enum ecs_code)error, "%s", ecs_strerror((enum ecs_code)error));
		rc = serve_stale(s, key, obj, err);
		free(key);
		return rc;
	case CACHE_MISS:
		break;
	}
	if (endpoint_usable(s, err) != 0) {
		cache_fail(s->cache, key, claim, err->code);
		rc = serve_stale(s, key, obj, err);
		free(key);
		return rc;
	}
	b.names = xcalloc(max, sizeof(*b.names));
	b.keys = xcalloc(max, sizeof(*b.keys));
	b.claims = xcalloc(max, sizeof(*b.claims));
	b.done = xcalloc(max, sizeof(*b.done));
	b.names[0] = name;
	b.keys[0] = key;
	b.claims[0] = claim;
	b.n = 1;
	lkey = store_key(k->list_type, kind == ECS_KIND_CLUSTER ? NULL : cluster, NULL);
	if (cache_peek(s->cache, lkey, &v, &fresh))
		listing = sval_take(s->parsed, v);
	else if (kind == ECS_KIND_TASK)
		listing = hint_get(s, cluster);
	if (listing != NULL)
		batch_add_siblings(s, kind, cluster, name, listing, &b, max);
	rc = batch_run(s, kind, cluster, &b, obj, err);
	note_outcome(s, err);
	if (rc != 0)
		rc = serve_stale(s, key, obj, err);
	for (i = 0; i < b.n; i++)
		free(b.keys[i]);
	free(b.names);
	free(b.keys);
	free(b.claims);
	free(b.done);
	json_decref(listing);
	free(lkey);
	return rc;
}

int
ecs_store_exists(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, struct ecs_error *err)
{
	const struct kind_entry *k = &kind_table[kind];
	char *lkey = store_key(k->list_type, kind == ECS_KIND_CLUSTER ? NULL : cluster, NULL);
	json_t *obj;
	void *v;
	int fresh, found = 0, known = 0;

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
	if (cache_peek(s->cache, lkey, &v, &fresh)) {
		obj = sval_take(s->parsed, v);
		if (fresh) {
			names_search(obj, name, &found);
			known = 1;
		}
		json_decref(obj);
	}
	free(lkey);
	/*
	 * ListTasks lists only tasks meant to run: a stopped task is not in the
	 * listing but can still be described for a while (its stopped_reason
	 * matters most then).
	 */
	if (known && (found || kind != ECS_KIND_TASK))
		return found;
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
	rc = kind_table[kind].describe(s->client, cluster, names, n, objs, &failures, err);
	note_outcome(s, err);
	json_decref(failures);
	if (rc != 0)
		return -1;
	/* A write that landed during the call is newer: keep it. */
	json_array_foreach(*objs, i, o) {
		const char *name = object_name(kind, o);
		char *key;

		if (name == NULL)
			continue;
		key = object_key(kind, cluster, name);
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
	char *key = object_key(kind, cluster, name);

	struct sval *v = sval_object(obj);

	cache_set(s->cache, key, v);
	sval_unref(v);
	free(key);
}

void
ecs_store_refresh(struct ecs_store *s, const char *cluster)
{
	size_t i;

	if (cluster == NULL) {
		cache_invalidate_prefix(s->cache, "");
		return;
	}
	for (i = 0; cluster_types[i] != NULL; i++) {
		char *prefix = store_key(cluster_types[i], cluster, NULL);

		cache_invalidate_prefix(s->cache, prefix);
		free(prefix);
	}
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
}
