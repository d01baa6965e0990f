/*
 * Unit tests of cache/: expiry, negative entries, stale-if-error,
 * invalidation, the generation check, claim tokens, in-flight
 * de-duplication across threads, batch claims, the LRU bound, reference
 * counting and a timed stress run. Values are counted objects whose unref
 * may call back into the cache, so an unref made under the cache's lock
 * would hang the test (a watchdog alarm then fails it).
 */
#include "cache/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/check.h"

#define VAL_MAGIC	0x5ca1ab1e
#define FREED_LOG	256

struct val {
	atomic_int	refs;
	int		magic;
	int		id;
};

static atomic_long n_new, n_freed, n_ref, n_unref;
static _Atomic(struct cache *) reenter;	/* unref calls into it when set */
static atomic_int freed_ids[FREED_LOG];
static atomic_int n_freed_ids;
static _Atomic uint64_t fake_now = 1000;

static struct val *
val_new(int id)
{
	struct val *v = malloc(sizeof(*v));

	if (v == NULL)
		abort();
	atomic_init(&v->refs, 1);
	v->magic = VAL_MAGIC;
	v->id = id;
	n_new++;
	return v;
}

static void
t_ref(void *p)
{
	struct val *v = p;

	if (v->magic != VAL_MAGIC || atomic_fetch_add(&v->refs, 1) <= 0)
		abort();
	n_ref++;
}

/* Drops one reference; calls into the cache first when asked to. */
static void
t_unref(void *p)
{
	struct val *v = p;
	struct cache *c = reenter;
	struct cache_stats st;
	int old, i;

	if (c != NULL)
		cache_get_stats(c, &st);
	if (v->magic != VAL_MAGIC)
		abort();
	n_unref++;
	old = atomic_fetch_sub(&v->refs, 1);
	if (old <= 0)
		abort();
	if (old == 1) {
		i = atomic_fetch_add(&n_freed_ids, 1);
		if (i < FREED_LOG)
			freed_ids[i] = v->id;
		v->magic = 0;
		free(v);
		n_freed++;
	}
}

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static int
last_freed(void)
{
	int n = n_freed_ids;

	return n > 0 && n <= FREED_LOG ? freed_ids[n - 1] : -1;
}

static struct cache *
new_cache(long ttl, long neg, long stale, size_t max, int fake)
{
	struct cache_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ttl_ms = ttl;
	cfg.negative_ttl_ms = neg;
	cfg.stale_ttl_ms = stale;
	cfg.max_entries = max;
	cfg.ref = t_ref;
	cfg.unref = t_unref;
	cfg.now_ms = fake ? fake_clock : NULL;
	return cache_new(&cfg);
}

static struct cache_stats
stats(struct cache *c)
{
	struct cache_stats st;

	cache_get_stats(c, &st);
	return st;
}

/* Polls until n readers have waited; 0 after ten seconds. */
static int
wait_for_waits(struct cache *c, unsigned long n)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 10000; i++) {
		if (stats(c).waits >= n)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Fetches key through cache_get and stores a new value with id. */
static void
fill(struct cache *c, const char *key, int id)
{
	struct val *v = val_new(id);
	void *got;
	uint64_t claim = 0;
	int err;

	CHECK_INT(cache_get(c, key, &got, &claim, &err), CACHE_MISS);
	cache_put(c, key, v, claim);
	t_unref(v);
}

/* Whether key holds a value with id, without claiming anything. */
static int
holds(struct cache *c, const char *key, int id)
{
	void *got;
	int ok;

	if (!cache_get_stale(c, key, &got))
		return 0;
	ok = ((struct val *)got)->id == id;
	t_unref(got);
	return ok;
}

static const struct expiry_case {
	const char	*name;
	long		 ttl, neg, stale;
	int		 negative;	/* store a negative entry */
	uint64_t	 age;
	enum cache_state want;
	int		 want_stale;
} expiry_cases[] = {
	{ "value new", 100, 50, 300, 0, 0, CACHE_HIT, 1 },
	{ "value last fresh ms", 100, 50, 300, 0, 99, CACHE_HIT, 1 },
	{ "value at ttl", 100, 50, 300, 0, 100, CACHE_MISS, 1 },
	{ "value stale", 100, 50, 300, 0, 299, CACHE_MISS, 1 },
	{ "value past stale", 100, 50, 300, 0, 300, CACHE_MISS, 0 },
	{ "negative new", 100, 50, 300, 1, 0, CACHE_NEGATIVE, 0 },
	{ "negative last ms", 100, 50, 300, 1, 49, CACHE_NEGATIVE, 0 },
	{ "negative at ttl", 100, 50, 300, 1, 50, CACHE_MISS, 0 },
	{ "negative ttl longer", 100, 500, 300, 1, 400, CACHE_NEGATIVE, 0 },
	{ "short stale, fresh", 100, 50, 40, 0, 39, CACHE_HIT, 1 },
	{ "short stale, past it", 100, 50, 40, 0, 40, CACHE_HIT, 0 },
	{ "short stale, expired", 100, 50, 40, 0, 100, CACHE_MISS, 0 },
	{ "zero ttl", 0, 0, 0, 0, 0, CACHE_MISS, 0 },
};

/* Stores one value or negative, ages it, and checks both lookups. */
static void
test_expiry_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(expiry_cases) / sizeof(expiry_cases[0]); i++) {
		const struct expiry_case *t = &expiry_cases[i];
		struct cache *c = new_cache(t->ttl, t->neg, t->stale, 0, 1);
		struct val *v = val_new((int)i);
		enum cache_state st;
		void *got = NULL;
		uint64_t claim = 0;
		int err = 0, stale;

		fake_now = 1000;
		CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
		if (t->negative)
			cache_put_negative(c, "k", claim);
		else
			cache_put(c, "k", v, claim);
		fake_now += t->age;
		st = cache_get(c, "k", &got, &claim, &err);
		if (st != t->want)
			fprintf(stderr, "case \"%s\": state %d\n", t->name, st);
		CHECK_INT(st, t->want);
		if (st == CACHE_HIT) {
			CHECK(got == v);
			t_unref(got);
		}
		stale = cache_get_stale(c, "k", &got);
		if (stale != t->want_stale)
			fprintf(stderr, "case \"%s\": stale %d\n", t->name, stale);
		CHECK_INT(stale, t->want_stale);
		if (stale) {
			CHECK(got == v);
			t_unref(got);
		}
		if (st == CACHE_MISS)
			cache_fail(c, "k", claim, 5);
		t_unref(v);
		cache_free(c);
	}
}

/* A hit hands out a new reference; the cache holds exactly one. */
static void
test_hit_refs_and_stats(void)
{
	struct cache *c = new_cache(1000, 100, 2000, 0, 1);
	struct val *v = val_new(1);
	struct cache_stats st;
	void *got = NULL;
	uint64_t claim = 0;
	int err = 0;

	CHECK_INT(cache_get(c, "a", &got, &claim, &err), CACHE_MISS);
	CHECK(claim != 0);
	cache_put(c, "a", v, claim);
	CHECK_INT(atomic_load(&v->refs), 2);
	CHECK_INT(cache_get(c, "a", &got, &claim, &err), CACHE_HIT);
	CHECK(got == v);
	CHECK_INT(atomic_load(&v->refs), 3);
	t_unref(got);
	CHECK_INT(cache_get(c, "b", &got, &claim, &err), CACHE_MISS);
	cache_put_negative(c, "b", claim);
	CHECK_INT(cache_get(c, "b", &got, &claim, &err), CACHE_NEGATIVE);
	CHECK_INT(cache_get_stale(c, "b", &got), 0);
	st = stats(c);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.negative_hits, 1);
	CHECK_INT(st.misses, 2);
	CHECK_INT(st.entries, 2);
	CHECK_INT(st.waits, 0);
	/* A value replaced by a negative entry loses the cache's reference. */
	fake_now += 1000;
	CHECK_INT(cache_get(c, "a", &got, &claim, &err), CACHE_MISS);
	cache_put_negative(c, "a", claim);
	CHECK_INT(atomic_load(&v->refs), 1);
	CHECK_INT(cache_get(c, "a", &got, &claim, &err), CACHE_NEGATIVE);
	t_unref(v);
	cache_free(c);
}

/* Past its TTL a value is refetched but served on error up to stale_ttl. */
static void
test_stale_if_error(void)
{
	struct cache *c = new_cache(100, 50, 1000, 0, 1);
	struct val *v = val_new(7);
	void *got = NULL;
	uint64_t claim = 0;
	long freed;
	int err = 0;

	fake_now = 5000;
	fill(c, "svc", 0);
	cache_set(c, "svc", v);
	t_unref(v);
	fake_now += 500;
	CHECK_INT(cache_get(c, "svc", &got, &claim, &err), CACHE_MISS);
	/* While the refetch is in flight the old value is still there. */
	CHECK_INT(cache_get_stale(c, "svc", &got), 1);
	CHECK(got == v);
	t_unref(got);
	cache_fail(c, "svc", claim, 42);
	fake_now += 499;
	CHECK_INT(cache_get_stale(c, "svc", &got), 1);
	CHECK(got == v);
	t_unref(got);
	CHECK_INT(stats(c).stale_serves, 2);
	fake_now += 1;
	CHECK_INT(cache_get_stale(c, "svc", &got), 0);
	/* A refetch past the stale window lets the old value go. */
	freed = n_freed;
	CHECK_INT(cache_get(c, "svc", &got, &claim, &err), CACHE_MISS);
	CHECK_INT(n_freed, freed + 1);
	CHECK_INT(last_freed(), 7);
	cache_fail(c, "svc", claim, 42);
	CHECK_INT(stats(c).entries, 0);
	cache_free(c);
}

/* A peek hands out any stored value and changes nothing. */
static void
test_peek(void)
{
	struct cache *c = new_cache(100, 100, 200, 2, 1);
	struct cache_stats st;
	void *got;
	uint64_t claim;
	int fresh = -1, err;

	fake_now = 1000;
	fill(c, "a", 1);
	fill(c, "b", 2);
	CHECK_INT(cache_peek(c, "a", &got, &fresh), 1);
	CHECK_INT(((struct val *)got)->id, 1);
	CHECK_INT(fresh, 1);
	t_unref(got);
	CHECK_INT(cache_peek(c, "zz", &got, &fresh), 0);
	st = stats(c);
	CHECK_INT(st.hits + st.stale_serves + st.waits, 0);
	CHECK_INT(st.misses, 2);
	fill(c, "c", 3);		/* the peek did not touch "a" */
	CHECK_INT(last_freed(), 1);
	CHECK_INT(cache_peek(c, "a", &got, &fresh), 0);
	fake_now += 100;
	CHECK_INT(cache_peek(c, "b", &got, &fresh), 1);
	CHECK_INT(fresh, 0);
	t_unref(got);
	fake_now += 500;		/* past the stale window, still stored */
	CHECK_INT(cache_peek(c, "b", &got, &fresh), 1);
	CHECK_INT(fresh, 0);
	t_unref(got);
	CHECK_INT(cache_get(c, "n", &got, &claim, &err), CACHE_MISS);
	CHECK_INT(cache_peek(c, "n", &got, &fresh), 0);
	cache_put_negative(c, "n", claim);
	CHECK_INT(cache_peek(c, "n", &got, &fresh), 0);
	cache_free(c);
}

/* Invalidation by prefix drops exactly the matching entries. */
static void
test_invalidate_prefix(void)
{
	static const char *keys[] = {
		"svc/a/1", "svc/a/2", "svc/ab", "svc/b/1", "task/x",
	};
	struct cache *c = new_cache(1000, 1000, 1000, 0, 1);
	void *got;
	uint64_t claim;
	size_t i;
	int err;

	reenter = c;
	for (i = 0; i < 5; i++)
		fill(c, keys[i], (int)i);
	CHECK_INT(cache_get(c, "svc/a/none", &got, &claim, &err), CACHE_MISS);
	cache_put_negative(c, "svc/a/none", claim);
	CHECK_INT(stats(c).entries, 6);
	cache_invalidate_prefix(c, "svc/a/");
	CHECK_INT(stats(c).entries, 3);
	CHECK(!holds(c, "svc/a/1", 0));
	CHECK(!holds(c, "svc/a/2", 1));
	CHECK(holds(c, "svc/ab", 2));
	CHECK(holds(c, "svc/b/1", 3));
	CHECK(holds(c, "task/x", 4));
	CHECK_INT(cache_get(c, "svc/a/none", &got, &claim, &err), CACHE_MISS);
	cache_fail(c, "svc/a/none", claim, 1);
	cache_invalidate_prefix(c, "nothing");
	CHECK_INT(stats(c).entries, 3);
	cache_invalidate_prefix(c, "");
	CHECK_INT(stats(c).entries, 0);
	CHECK(!holds(c, "task/x", 4));
	reenter = NULL;
	cache_free(c);
}

/* A put whose claim predates an invalidation or a set of its key is dropped. */
static void
test_generation(void)
{
	struct cache *c = new_cache(1000, 1000, 5000, 0, 1);
	struct val *v = val_new(1), *s = val_new(2);
	void *got;
	uint64_t claim, claim2;
	int err;

	/* claim, invalidate, put: not stored, and the key is fetched again. */
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
	cache_invalidate_prefix(c, "k");
	cache_put(c, "k", v, claim);
	CHECK_INT(stats(c).rejected_puts, 1);
	CHECK_INT(atomic_load(&v->refs), 1);
	CHECK_INT(cache_get_stale(c, "k", &got), 0);
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
	cache_put(c, "k", v, claim);
	CHECK(holds(c, "k", 1));

	/* claim, set, put: the set value stays. */
	fake_now += 2000;
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
	cache_set(c, "k", s);
	CHECK_INT(atomic_load(&v->refs), 1);
	cache_put(c, "k", v, claim);
	CHECK_INT(stats(c).rejected_puts, 2);
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_HIT);
	CHECK(got == s);
	t_unref(got);

	/* Negative results are subject to the same check. */
	CHECK_INT(cache_get(c, "n", &got, &claim, &err), CACHE_MISS);
	cache_invalidate_prefix(c, "");
	cache_put_negative(c, "n", claim);
	CHECK_INT(stats(c).rejected_puts, 3);
	CHECK_INT(cache_get(c, "n", &got, &claim, &err), CACHE_MISS);
	cache_fail(c, "n", claim, 1);

	/* Other keys' invalidations and earlier ones do not reject. */
	cache_invalidate_prefix(c, "k");
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
	cache_invalidate_prefix(c, "kk");
	cache_set(c, "j", s);
	cache_put(c, "k", v, claim);
	CHECK_INT(stats(c).rejected_puts, 3);
	CHECK(holds(c, "k", 1));

	/* A batch claim is checked the same way. */
	CHECK_INT(cache_claim(c, "b1", &claim), 1);
	CHECK_INT(cache_claim(c, "b2", &claim2), 1);
	cache_invalidate_prefix(c, "b1");
	cache_put(c, "b1", v, claim);
	cache_put(c, "b2", s, claim2);
	CHECK(!holds(c, "b1", 1));
	CHECK(holds(c, "b2", 2));
	CHECK_INT(stats(c).rejected_puts, 4);
	t_unref(v);
	t_unref(s);
	cache_free(c);
}

/* A put or fail with a token that is not the key's claim is ignored. */
static void
test_claim_tokens(void)
{
	struct cache *c = new_cache(1000, 1000, 5000, 0, 1);
	struct val *v = val_new(1), *w = val_new(2);
	void *got;
	uint64_t claim, claim2, other;
	int err;

	cache_put(c, "none", v, 12345);
	cache_put_negative(c, "none", 12345);
	cache_fail(c, "none", 12345, 1);
	CHECK_INT(stats(c).entries, 0);
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
	cache_put(c, "k", w, 0);
	cache_put(c, "k", w, claim + 1000);
	cache_fail(c, "k", claim + 1000, 1);
	CHECK_INT(cache_claim(c, "k", &other), 0);
	cache_put(c, "k", v, claim);
	cache_put(c, "k", w, claim);		/* twice */
	cache_fail(c, "k", claim, 1);
	CHECK(holds(c, "k", 1));
	CHECK_INT(atomic_load(&w->refs), 1);

	/* An old fetch's token after its key was dropped and claimed again. */
	fake_now += 2000;
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
	cache_invalidate_prefix(c, "");
	cache_put(c, "k", w, claim);
	CHECK_INT(cache_get(c, "k", &got, &claim2, &err), CACHE_MISS);
	CHECK(claim2 != claim);
	cache_put(c, "k", w, claim);
	cache_fail(c, "k", claim, 1);
	CHECK_INT(cache_claim(c, "k", &other), 0);
	cache_put(c, "k", v, claim2);
	CHECK(holds(c, "k", 1));
	CHECK_INT(stats(c).rejected_puts, 1);
	t_unref(v);
	t_unref(w);
	cache_free(c);
}

struct reader {
	pthread_t	 th;
	struct cache	*c;
	const char	*key;
	pthread_barrier_t *bar;
	int		 put_id;	/* on a miss, store a new value with it */
	int		 fail_error;	/* else, with fail_after, fail with it */
	int		 nreaders;	/* on a miss, first wait for the others */
	int		 st;		/* a cache_state; -1 before the call */
	void		*got;
	int		 err;
};

/* One cache_get; a miss ends its claim as the reader was told. */
static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct val *v;
	uint64_t claim = 0;

	if (r->bar != NULL)
		pthread_barrier_wait(r->bar);
	r->st = cache_get(r->c, r->key, &r->got, &claim, &r->err);
	if (r->st != CACHE_MISS)
		return NULL;
	if (r->nreaders > 0 && !wait_for_waits(r->c, r->nreaders - 1))
		fprintf(stderr, "readers did not all wait\n");
	if (r->fail_error != 0) {
		cache_fail(r->c, r->key, claim, r->fail_error);
		return NULL;
	}
	v = val_new(r->put_id);
	cache_put(r->c, r->key, v, claim);
	t_unref(v);
	return NULL;
}

/* Starts n readers of key; they share a barrier when bar is set. */
static void
readers_start(struct reader *r, int n, struct cache *c, const char *key,
    pthread_barrier_t *bar, int put_id, int fail_error, int nreaders)
{
	int i;

	for (i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].c = c;
		r[i].key = key;
		r[i].bar = bar;
		r[i].put_id = put_id;
		r[i].fail_error = fail_error;
		r[i].nreaders = nreaders;
		r[i].st = -1;
		if (pthread_create(&r[i].th, NULL, reader_main, &r[i]) != 0)
			abort();
	}
}

/* Joins readers; counts their states and checks hit values' ids. */
static void
readers_join(struct reader *r, int n, int counts[4], int want_id)
{
	int i;

	memset(counts, 0, 4 * sizeof(int));
	for (i = 0; i < n; i++) {
		pthread_join(r[i].th, NULL);
		if (r[i].st < 0 || r[i].st > CACHE_FAILED)
			continue;
		counts[r[i].st]++;
		if (r[i].st == CACHE_HIT) {
			CHECK_INT(((struct val *)r[i].got)->id, want_id);
			t_unref(r[i].got);
		}
	}
}

/* 32 concurrent readers of a missing key: one fetch, 31 hits. */
static void
test_same_key_32_threads(void)
{
	struct cache *c = new_cache(60000, 1000, 60000, 0, 0);
	struct reader r[32];
	pthread_barrier_t bar;
	struct cache_stats st;
	int counts[4];

	reenter = c;
	pthread_barrier_init(&bar, NULL, 32);
	readers_start(r, 32, c, "hot", &bar, 99, 0, 32);
	readers_join(r, 32, counts, 99);
	CHECK_INT(counts[CACHE_MISS], 1);
	CHECK_INT(counts[CACHE_HIT], 31);
	st = stats(c);
	CHECK_INT(st.misses, 1);
	CHECK_INT(st.waits, 31);
	CHECK_INT(st.hits, 31);
	pthread_barrier_destroy(&bar);
	reenter = NULL;
	cache_free(c);
}

/* Readers of a fetch that fails get its error; stale values stay usable. */
static void
test_failed_fetch(void)
{
	struct cache *c = new_cache(100, 100, 10000, 0, 1);
	struct val *v = val_new(3);
	struct reader r[8];
	pthread_barrier_t bar;
	void *got;
	uint64_t claim;
	int counts[4], i, err;

	fake_now = 1000;
	cache_set(c, "svc", v);
	t_unref(v);
	fake_now += 200;
	pthread_barrier_init(&bar, NULL, 8);
	readers_start(r, 8, c, "svc", &bar, 0, 42, 8);
	readers_join(r, 8, counts, -1);
	CHECK_INT(counts[CACHE_MISS], 1);
	CHECK_INT(counts[CACHE_FAILED], 7);
	for (i = 0; i < 8; i++)
		if (r[i].st == CACHE_FAILED)
			CHECK_INT(r[i].err, 42);
	CHECK_INT(cache_get_stale(c, "svc", &got), 1);
	CHECK(got == v);
	t_unref(got);
	/* A later reader did not wait for that fetch: it fetches. */
	CHECK_INT(cache_get(c, "svc", &got, &claim, &err), CACHE_MISS);
	cache_fail(c, "svc", claim, 43);
	pthread_barrier_destroy(&bar);
	cache_free(c);
}

/* Readers of a fetch whose put is rejected look again. */
static void
test_rejected_put_waiters(void)
{
	struct cache *c = new_cache(60000, 1000, 60000, 0, 0);
	struct val *v1 = val_new(1), *v3 = val_new(3);
	struct reader r[8];
	void *got;
	uint64_t claim;
	int counts[4], err;

	/* Invalidated meanwhile: exactly one of them fetches again. */
	reenter = c;
	CHECK_INT(cache_get(c, "hot", &got, &claim, &err), CACHE_MISS);
	readers_start(r, 8, c, "hot", NULL, 2, 0, 0);
	CHECK(wait_for_waits(c, 8));
	cache_invalidate_prefix(c, "ho");
	cache_put(c, "hot", v1, claim);
	readers_join(r, 8, counts, 2);
	CHECK_INT(counts[CACHE_MISS], 1);
	CHECK_INT(counts[CACHE_HIT], 7);
	CHECK_INT(stats(c).rejected_puts, 1);

	/* Set meanwhile: they all take the set value at once. */
	cache_invalidate_prefix(c, "");
	CHECK_INT(cache_get(c, "hot", &got, &claim, &err), CACHE_MISS);
	readers_start(r, 8, c, "hot", NULL, 2, 0, 0);
	CHECK(wait_for_waits(c, 16));
	cache_set(c, "hot", v3);
	readers_join(r, 8, counts, 3);
	CHECK_INT(counts[CACHE_HIT], 8);
	cache_put(c, "hot", v1, claim);
	CHECK_INT(stats(c).rejected_puts, 2);
	CHECK(holds(c, "hot", 3));
	CHECK_INT(atomic_load(&v1->refs), 1);
	t_unref(v1);
	t_unref(v3);
	reenter = NULL;
	cache_free(c);
}

/*
 * Readers take the result of the fetch they waited for even when it is
 * never fresh: a zero TTL still makes one fetch for concurrent readers.
 */
static void
test_waiters_take_expired_result(void)
{
	struct cache *c = new_cache(0, 0, 0, 0, 1);
	struct val *v = val_new(60);
	struct reader r[6];
	void *got;
	uint64_t claim;
	int counts[4], err;

	CHECK_INT(cache_get(c, "slow", &got, &claim, &err), CACHE_MISS);
	readers_start(r, 6, c, "slow", NULL, 61, 0, 0);
	CHECK(wait_for_waits(c, 6));
	cache_put(c, "slow", v, claim);
	readers_join(r, 6, counts, 60);
	CHECK_INT(counts[CACHE_HIT], 6);
	CHECK_INT(stats(c).misses, 1);
	/* Later readers did not wait: they fetch again. */
	CHECK_INT(cache_get(c, "slow", &got, &claim, &err), CACHE_MISS);
	readers_start(r, 6, c, "slow", NULL, 61, 0, 0);
	CHECK(wait_for_waits(c, 12));
	cache_put_negative(c, "slow", claim);
	readers_join(r, 6, counts, -1);
	CHECK_INT(counts[CACHE_NEGATIVE], 6);
	CHECK_INT(cache_get(c, "slow", &got, &claim, &err), CACHE_MISS);
	cache_fail(c, "slow", claim, 1);
	CHECK_INT(stats(c).misses, 3);
	t_unref(v);
	cache_free(c);
}

/* A batch fetch claims siblings; their readers wait for the batch. */
static void
test_batch_claim(void)
{
	struct cache *c = new_cache(100, 100, 1000, 0, 1);
	struct val *va = val_new(10), *vb = val_new(11), *vc = val_new(12);
	struct val *vd = val_new(13);
	struct reader r[4];
	void *got;
	uint64_t ca, cb, cc, x;
	int counts[4], err;

	fake_now = 1000;
	cache_set(c, "svc/d", vd);
	fill(c, "svc/e", 14);
	CHECK_INT(cache_get(c, "svc/a", &got, &ca, &err), CACHE_MISS);
	CHECK_INT(cache_claim(c, "svc/b", &cb), 1);
	CHECK_INT(cache_claim(c, "svc/c", &cc), 1);
	CHECK_INT(cache_claim(c, "svc/a", &x), 0);	/* in flight */
	CHECK_INT(cache_claim(c, "svc/b", &x), 0);
	CHECK_INT(cache_claim(c, "svc/d", &x), 0);	/* fresh */
	CHECK(ca != cb && cb != cc && ca != cc);
	readers_start(r, 4, c, "svc/b", NULL, 0, 0, 0);
	CHECK(wait_for_waits(c, 4));
	cache_put(c, "svc/a", va, ca);
	cache_put(c, "svc/b", vb, cb);
	cache_put_negative(c, "svc/c", cc);
	readers_join(r, 4, counts, 11);
	CHECK_INT(counts[CACHE_HIT], 4);
	CHECK_INT(stats(c).misses, 2);
	CHECK_INT(cache_get(c, "svc/c", &got, &x, &err), CACHE_NEGATIVE);
	CHECK(holds(c, "svc/a", 10));
	/* Expired keys can be claimed again. */
	fake_now += 100;
	CHECK_INT(cache_claim(c, "svc/e", &x), 1);
	cache_fail(c, "svc/e", x, 1);
	CHECK(holds(c, "svc/e", 14));
	t_unref(va);
	t_unref(vb);
	t_unref(vc);
	t_unref(vd);
	cache_free(c);
}

/* The entry bound evicts least recently used, never in-flight entries. */
static void
test_lru(void)
{
	struct cache *c = new_cache(60000, 60000, 60000, 4, 1);
	struct val *v;
	void *got;
	uint64_t claim, f0, f1, x;
	char key[32];
	int i, err, ok = 1;

	reenter = c;
	fill(c, "k0", 0);
	fill(c, "k1", 1);
	fill(c, "k2", 2);
	fill(c, "k3", 3);
	CHECK_INT(stats(c).entries, 4);
	CHECK_INT(cache_get(c, "k0", &got, &claim, &err), CACHE_HIT);
	t_unref(got);
	fill(c, "k4", 4);
	CHECK_INT(last_freed(), 1);
	CHECK_INT(stats(c).entries, 4);
	CHECK_INT(stats(c).evictions, 1);
	v = val_new(20);
	cache_set(c, "k2", v);		/* a set touches k2 */
	t_unref(v);
	CHECK_INT(last_freed(), 2);	/* the value it replaced */
	fill(c, "k5", 5);
	CHECK_INT(last_freed(), 3);
	CHECK(holds(c, "k0", 0));	/* touches k0 */
	fill(c, "k6", 6);
	CHECK_INT(last_freed(), 4);
	CHECK(!holds(c, "k4", 4));
	CHECK(holds(c, "k0", 0));
	CHECK(holds(c, "k2", 20));
	CHECK(holds(c, "k5", 5));
	CHECK(holds(c, "k6", 6));
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "m%d", i);
		fill(c, key, 100 + i);
		if (stats(c).entries > 4)
			ok = 0;
	}
	CHECK(ok);
	CHECK_INT(stats(c).evictions, 3 + 200);
	reenter = NULL;
	cache_free(c);

	/* In-flight entries stay while the others turn over. */
	c = new_cache(60000, 60000, 60000, 3, 1);
	reenter = c;
	CHECK_INT(cache_get(c, "f0", &got, &f0, &err), CACHE_MISS);
	CHECK_INT(cache_claim(c, "f1", &f1), 1);
	for (i = 0, ok = 1; i < 50; i++) {
		snprintf(key, sizeof(key), "m%d", i);
		fill(c, key, 200 + i);
		if (stats(c).entries > 3)
			ok = 0;
	}
	CHECK(ok);
	CHECK_INT(cache_claim(c, "f0", &x), 0);
	CHECK_INT(cache_claim(c, "f1", &x), 0);
	v = val_new(30);
	cache_put(c, "f0", v, f0);
	cache_put(c, "f1", v, f1);
	t_unref(v);
	CHECK(holds(c, "f0", 30));
	CHECK(holds(c, "f1", 30));
	CHECK_INT(stats(c).entries, 3);
	/* So does an expired entry claimed again, though it was on the list. */
	fake_now += 60000;
	CHECK_INT(cache_claim(c, "f0", &f0), 1);
	for (i = 0, ok = 1; i < 10; i++) {
		snprintf(key, sizeof(key), "n%d", i);
		fill(c, key, 300 + i);
		if (stats(c).entries > 3)
			ok = 0;
	}
	CHECK(ok);
	CHECK_INT(cache_claim(c, "f0", &x), 0);
	cache_put_negative(c, "f0", f0);
	CHECK_INT(cache_get(c, "f0", &got, &x, &err), CACHE_NEGATIVE);
	reenter = NULL;
	cache_free(c);

	/* With every entry in flight, only optional batch claims are refused. */
	c = new_cache(60000, 60000, 60000, 2, 1);
	reenter = c;
	CHECK_INT(cache_get(c, "a", &got, &f0, &err), CACHE_MISS);
	CHECK_INT(cache_get(c, "b", &got, &f1, &err), CACHE_MISS);
	CHECK_INT(cache_claim(c, "c", &x), 0);
	CHECK_INT(cache_get(c, "c", &got, &x, &err), CACHE_MISS);
	CHECK_INT(stats(c).entries, 3);
	cache_fail(c, "c", x, 1);
	v = val_new(40);
	cache_put(c, "a", v, f0);
	cache_put(c, "b", v, f1);
	t_unref(v);
	CHECK_INT(stats(c).entries, 2);
	reenter = NULL;
	cache_free(c);
}

/* Without a bound, entries nobody may read any more go away. */
static void
test_sweep_dead(void)
{
	struct cache *c = new_cache(10, 10, 20, 0, 1);
	void *got;
	uint64_t claim;
	char key[32];
	int i, err;
	long freed;

	fake_now = 1000;
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		fill(c, key, 400 + i);
	}
	CHECK_INT(cache_get(c, "neg", &got, &claim, &err), CACHE_MISS);
	cache_put_negative(c, "neg", claim);
	fake_now += 19;		/* still within the stale window */
	fill(c, "new", 1);
	CHECK_INT(stats(c).entries, 102);	/* the cold end is not dead yet */
	freed = n_freed;
	fake_now += 1;
	for (i = 0; i < 30; i++) {
		snprintf(key, sizeof(key), "new%d", i);
		fill(c, key, 500 + i);
	}
	CHECK_INT(stats(c).entries, 31);
	CHECK_INT(n_freed, freed + 100);
	CHECK_INT(stats(c).evictions, 0);
	cache_free(c);
}

/* 100k entries: all found, a prefix of them dropped, the rest kept. */
static void
test_many_entries(void)
{
	struct cache *c = new_cache(60000, 60000, 60000, 0, 1);
	struct val *v = val_new(50);
	void *got;
	uint64_t claim;
	char key[32];
	int i, err, hits = 0;

	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "k/%d", i);
		cache_set(c, key, v);
	}
	CHECK_INT(stats(c).entries, 100000);
	CHECK_INT(atomic_load(&v->refs), 100001);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "k/%d", i);
		if (cache_get(c, key, &got, &claim, &err) == CACHE_HIT &&
		    got == v) {
			hits++;
			t_unref(got);
		}
	}
	CHECK_INT(hits, 100000);
	/* k/1, k/10-19, k/100-199, k/1000-1999, k/10000-19999. */
	cache_invalidate_prefix(c, "k/1");
	CHECK_INT(stats(c).entries, 100000 - 11111);
	CHECK_INT(atomic_load(&v->refs), 100001 - 11111);
	CHECK(!holds(c, "k/15000", 50));
	CHECK(holds(c, "k/25000", 50));
	cache_free(c);
	CHECK_INT(atomic_load(&v->refs), 1);
	t_unref(v);
}

struct stresser {
	pthread_t	 th;
	struct cache	*c;
	unsigned	 seed;
	long		 ops;
	int		 bad;
};

static atomic_int stress_stop;

/* Random operations on a small key space until told to stop. */
static void *
stress_main(void *arg)
{
	struct stresser *s = arg;
	struct val *v;
	void *got;
	uint64_t claim, claim2;
	char key[32], key2[32], prefix[32];
	int op, err, id = 0;
	enum cache_state st;

	while (!stress_stop) {
		op = rand_r(&s->seed) % 100;
		snprintf(key, sizeof(key), "s/%d/%d", rand_r(&s->seed) % 4,
		    rand_r(&s->seed) % 16);
		s->ops++;
		if (op < 55) {
			st = cache_get(s->c, key, &got, &claim, &err);
			if (st == CACHE_HIT) {
				if (((struct val *)got)->magic != VAL_MAGIC)
					s->bad++;
				t_unref(got);
			}
			if (st != CACHE_MISS)
				continue;
			/* Sometimes batch a sibling in. */
			snprintf(key2, sizeof(key2), "%.*s%d", 4, key,
			    rand_r(&s->seed) % 16);
			claim2 = 0;
			if (op < 15 && strcmp(key, key2) != 0 &&
			    !cache_claim(s->c, key2, &claim2))
				claim2 = 0;
			if (op % 3 == 0)
				usleep(50);
			if (op % 5 == 0)
				cache_fail(s->c, key, claim, 1);
			else if (op % 7 == 0)
				cache_put_negative(s->c, key, claim);
			else {
				v = val_new(id++);
				cache_put(s->c, key, v, claim);
				if (claim2 != 0)
					cache_put(s->c, key2, v, claim2);
				t_unref(v);
				claim2 = 0;
			}
			if (claim2 != 0)
				cache_fail(s->c, key2, claim2, 2);
		} else if (op < 70) {
			if (cache_get_stale(s->c, key, &got))
				t_unref(got);
		} else if (op < 80) {
			v = val_new(id++);
			cache_set(s->c, key, v);
			t_unref(v);
		} else if (op < 85) {
			snprintf(prefix, sizeof(prefix), "%.*s",
			    rand_r(&s->seed) % 7, key);
			cache_invalidate_prefix(s->c, prefix);
		} else if (op < 90) {
			/* A stray token must be ignored. */
			v = val_new(id++);
			cache_put(s->c, key, v, (uint64_t)rand_r(&s->seed));
			t_unref(v);
		} else if (op < 97) {
			if (cache_claim(s->c, key, &claim)) {
				v = val_new(id++);
				cache_put(s->c, key, v, claim);
				t_unref(v);
			}
		} else if (op < 98) {
			int fresh;

			if (cache_peek(s->c, key, &got, &fresh))
				t_unref(got);
		} else {
			struct cache_stats st2;

			cache_get_stats(s->c, &st2);
		}
	}
	return NULL;
}

/* Eight threads of random operations for ms milliseconds. */
static void
test_stress(size_t max, long ms)
{
	struct cache *c = new_cache(2, 1, 10, max, 0);
	struct stresser s[8];
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	struct cache_stats st;
	long ops = 0;
	int i, bad = 0;

	reenter = c;
	stress_stop = 0;
	for (i = 0; i < 8; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].c = c;
		s[i].seed = 1234u + (unsigned)i;
		if (pthread_create(&s[i].th, NULL, stress_main, &s[i]) != 0)
			abort();
	}
	nanosleep(&ts, NULL);
	stress_stop = 1;
	for (i = 0; i < 8; i++) {
		pthread_join(s[i].th, NULL);
		ops += s[i].ops;
		bad += s[i].bad;
	}
	st = stats(c);
	printf("stress (bound %zu): %ld ops, %lu hits, %lu misses, %lu waits, "
	    "%lu evictions, %lu rejected\n", max, ops, st.hits, st.misses,
	    st.waits, st.evictions, st.rejected_puts);
	CHECK(ops > 1000);
	CHECK_INT(bad, 0);
	if (max != 0)
		CHECK(st.entries <= max);
	CHECK(st.misses > 0 && st.hits > 0);
	reenter = NULL;
	cache_free(c);
}

int
main(void)
{
	/* A deadlock, or an unref made under the lock, ends here. */
	alarm(50);
	test_expiry_table();
	test_hit_refs_and_stats();
	test_stale_if_error();
	test_peek();
	test_invalidate_prefix();
	test_generation();
	test_claim_tokens();
	test_same_key_32_threads();
	test_failed_fetch();
	test_rejected_put_waiters();
	test_waiters_take_expired_result();
	test_batch_claim();
	test_lru();
	test_sweep_dead();
	test_many_entries();
	test_stress(24, 700);
	test_stress(0, 400);
	/* Every reference taken was dropped and every value freed. */
	CHECK_INT(n_unref, n_new + n_ref);
	CHECK_INT(n_freed, n_new);
	printf("values: %ld created, %ld refs, %ld unrefs\n", (long)n_new,
	    (long)n_ref, (long)n_unref);
	return check_done();
}
