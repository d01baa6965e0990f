/*
 * What the cache tests share: counted values whose unref may call back
 * into the cache (so that an unref made under the cache's lock hangs, and
 * a watchdog alarm fails the test), a clock the tests move by hand, and
 * small steps to fill a key and look at one.
 */
#ifndef TESTS_UNIT_CACHE_UTIL_H
#define TESTS_UNIT_CACHE_UTIL_H

#include "cache/cache.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static inline struct val *
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

static inline void
t_ref(void *p)
{
	struct val *v = p;

	if (v->magic != VAL_MAGIC || atomic_fetch_add(&v->refs, 1) <= 0)
		abort();
	n_ref++;
}

/* Drops one reference; calls into the cache first when asked to. */
static inline void
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

static inline uint64_t
fake_clock(void)
{
	return fake_now;
}

static inline int
last_freed(void)
{
	int n = n_freed_ids;

	return n > 0 && n <= FREED_LOG ? freed_ids[n - 1] : -1;
}

static inline struct cache *
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

static inline struct cache_stats
stats(struct cache *c)
{
	struct cache_stats st;

	cache_get_stats(c, &st);
	return st;
}

/* Fetches key through cache_get and stores a new value with id. */
static inline void
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
static inline int
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

/* Every reference taken was dropped and every value freed. */
static inline void
check_values_freed(void)
{
	CHECK_INT(n_unref, n_new + n_ref);
	CHECK_INT(n_freed, n_new);
	printf("values: %ld created, %ld refs, %ld unrefs\n", (long)n_new,
	    (long)n_ref, (long)n_unref);
}

#endif
