/*
 * Unit tests of the cache's interruptible wait: a reader whose caller goes
 * away leaves with CACHE_INTERRUPTED while the fetch goes on for the
 * others; cache_wait() on a claim handed to another thread; a claim
 * abandoned with nothing stored.
 */
#include "cache/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/unit/cache_util.h"

/* Whether this thread's caller went away: set by the thread itself. */
static _Thread_local int gone;
static atomic_int asked;

static int
t_interrupted(void)
{
	atomic_fetch_add(&asked, 1);
	return gone;
}

static struct cache *
wait_cache(long ttl)
{
	struct cache_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ttl_ms = ttl;
	cfg.negative_ttl_ms = ttl;
	cfg.stale_ttl_ms = 0;
	cfg.ref = t_ref;
	cfg.unref = t_unref;
	cfg.interrupted = t_interrupted;
	cfg.interrupt_check_ms = 5;
	return cache_new(&cfg);
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls until n readers have waited; 0 after ten seconds. */
static int
wait_for_waits(struct cache *c, unsigned long n)
{
	int i;

	for (i = 0; i < 10000; i++) {
		if (stats(c).waits >= n)
			return 1;
		pause_ms(1);
	}
	return 0;
}

struct reader {
	pthread_t	 th;
	struct cache	*c;
	const char	*key;
	atomic_int	 go_away;	/* set from outside: the caller is leaving */
	enum cache_state st;
	int		 id;
};

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	void *got = NULL;
	uint64_t claim = 0;
	int err = 0;

	gone = atomic_load(&r->go_away);
	r->st = cache_get(r->c, r->key, &got, &claim, &err);
	if (r->st == CACHE_HIT) {
		r->id = ((struct val *)got)->id;
		t_unref(got);
	}
	return NULL;
}

/* The waiter whose caller is gone leaves; the fetch ends for the others. */
static void
test_interrupted_reader_leaves_alone(void)
{
	struct cache *c = wait_cache(60000);
	struct reader leaver = { .key = "k" }, stayer = { .key = "k" };
	struct val *v;
	void *got;
	uint64_t claim = 0;
	int err;

	leaver.c = stayer.c = c;
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
	atomic_store(&leaver.go_away, 1);
	pthread_create(&stayer.th, NULL, reader_main, &stayer);
	CHECK(wait_for_waits(c, 1));
	pthread_create(&leaver.th, NULL, reader_main, &leaver);
	pthread_join(leaver.th, NULL);
	/* It left while the fetch was still in flight. */
	CHECK_INT(leaver.st, CACHE_INTERRUPTED);
	CHECK_INT(stats(c).interrupted, 1);
	v = val_new(7);
	cache_put(c, "k", v, claim);
	t_unref(v);
	pthread_join(stayer.th, NULL);
	CHECK_INT(stayer.st, CACHE_HIT);
	CHECK_INT(stayer.id, 7);
	/* The value is there for later readers. */
	CHECK_INT(cache_peek(c, "k", &got, &err), 1);
	CHECK_INT(((struct val *)got)->id, 7);
	t_unref(got);
	CHECK(atomic_load(&asked) > 0);
	cache_free(c);
}

/* A reader that is not going away is never released before the fetch ends. */
static void
test_wait_outlasts_checks(void)
{
	struct cache *c = wait_cache(60000);
	struct reader r = { .key = "k" };
	void *got;
	uint64_t claim = 0;
	int err, before;

	r.c = c;
	CHECK_INT(cache_get(c, "k", &got, &claim, &err), CACHE_MISS);
	pthread_create(&r.th, NULL, reader_main, &r);
	CHECK(wait_for_waits(c, 1));
	before = atomic_load(&asked);
	/* Several check intervals go by: the reader asks, and keeps waiting. */
	while (atomic_load(&asked) < before + 3)
		pause_ms(2);
	cache_fail(c, "k", claim, 42);
	pthread_join(r.th, NULL);
	CHECK_INT(r.st, CACHE_FAILED);
	CHECK_INT(stats(c).interrupted, 0);
	cache_free(c);
}

/* A claim handed to another thread is waited for with cache_wait. */
struct fetcher {
	pthread_t	 th;
	struct cache	*c;
	uint64_t	 claim;
	int		 mode;		/* 0 put, 1 negative, 2 abandon */
};

static void *
fetcher_main(void *arg)
{
	struct fetcher *f = arg;
	struct val *v;

	pause_ms(20);
	if (f->mode == 0) {
		v = val_new(9);
		cache_put(f->c, "h", v, f->claim);
		t_unref(v);
	} else if (f->mode == 1) {
		cache_put_negative(f->c, "h", f->claim);
	} else {
		cache_abandon(f->c, "h", f->claim);
	}
	return NULL;
}

static void
test_cache_wait_on_a_handed_claim(void)
{
	/* TTL 0: only "stored by the claim waited for" can answer. */
	struct cache *c = wait_cache(0);
	struct fetcher f = { 0 };
	void *got = NULL;
	uint64_t claim = 0, again = 0;
	int err = 0, mode;

	f.c = c;
	for (mode = 0; mode < 3; mode++) {
		CHECK_INT(cache_get(c, "h", &got, &claim, &err), CACHE_MISS);
		f.claim = claim;
		f.mode = mode;
		cache_hand(c, "h", claim);
		pthread_create(&f.th, NULL, fetcher_main, &f);
		switch (cache_wait(c, "h", claim, &got, &again, &err)) {
		case CACHE_HIT:
			CHECK_INT(mode, 0);
			CHECK_INT(((struct val *)got)->id, 9);
			t_unref(got);
			break;
		case CACHE_NEGATIVE:
			CHECK_INT(mode, 1);
			break;
		case CACHE_MISS:
			/* Abandoned: the waiter is the key's fetcher now. */
			CHECK_INT(mode, 2);
			CHECK(again > claim);
			cache_abandon(c, "h", again);
			break;
		default:
			CHECK(0);
		}
		pthread_join(f.th, NULL);
	}
	cache_free(c);
}

/* A claim that ended before cache_wait is asked still answers it. */
static void
test_cache_wait_after_the_fetch(void)
{
	struct cache *c = wait_cache(0);
	struct val *v = val_new(3);
	void *got = NULL;
	uint64_t claim = 0, again = 0;
	int err = 0;

	CHECK_INT(cache_get(c, "a", &got, &claim, &err), CACHE_MISS);
	cache_hand(c, "a", claim);
	cache_put(c, "a", v, claim);
	t_unref(v);
	CHECK_INT(cache_wait(c, "a", claim, &got, &again, &err), CACHE_HIT);
	CHECK_INT(((struct val *)got)->id, 3);
	t_unref(got);
	CHECK_INT(cache_get(c, "b", &got, &claim, &err), CACHE_MISS);
	cache_hand(c, "b", claim);
	cache_fail(c, "b", claim, 5);
	CHECK_INT(cache_wait(c, "b", claim, &got, &again, &err), CACHE_FAILED);
	CHECK_INT(err, 5);
	/* Nothing stays pinned: both keys can go. */
	cache_invalidate_prefix(c, "");
	CHECK_INT(stats(c).entries, 0);
	cache_free(c);
}

int
main(void)
{
	test_interrupted_reader_leaves_alone();
	test_wait_outlasts_checks();
	test_cache_wait_on_a_handed_claim();
	test_cache_wait_after_the_fetch();
	check_values_freed();
	return check_done();
}
