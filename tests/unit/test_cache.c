/*
 * Unit tests of cache/ on one thread: expiry, negative entries,
 * stale-if-error, peeks, invalidation, the generation check, claim tokens,
 * the LRU bound, the sweep of dead entries and 100k entries. The threaded
 * cases and the stress run are in test_cache_threads.c.
 */
#include "cache/cache.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "tests/unit/cache_util.h"

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
	test_lru();
	test_sweep_dead();
	test_many_entries();
	check_values_freed();
	return check_done();
}
