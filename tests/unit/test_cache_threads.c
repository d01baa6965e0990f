/*
 * Unit tests of cache/ across threads: in-flight de-duplication of
 * concurrent readers, failed and rejected fetches seen by their waiters,
 * batch claims, and a timed stress run of random operations with and
 * without an entry bound.
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

#include "tests/unit/cache_util.h"

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
	test_same_key_32_threads();
	test_failed_fetch();
	test_rejected_put_waiters();
	test_waiters_take_expired_result();
	test_batch_claim();
	test_stress(24, 700);
	test_stress(0, 400);
	check_values_freed();
	return check_done();
}
