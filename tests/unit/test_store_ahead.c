/*
 * Unit tests of the store's read-ahead bookkeeping (ecs/store_ahead) and
 * worker pool (ecs/store_pool): when misses make a scan, which positions
 * are read ahead in either direction, how the window grows, and the pool's
 * bound on jobs in flight per category.
 */
#include "ecs/store_ahead.h"
#include "ecs/store_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "tests/unit/check.h"

#define B 10

static void
test_first_miss_is_not_a_scan(void)
{
	struct sahead *a = sahead_new(8);
	size_t from = 0, to = 0;
	int dir = 5;

	CHECK_INT(sahead_miss(a, "L", 400, B, 0, &dir, &from, &to), 0);
	CHECK_INT(dir, 0);
	/* The same name again (e.g. after an invalidation): still no scan. */
	CHECK_INT(sahead_miss(a, "L", 400, B, 0, &dir, &from, &to), 0);
	/* Another listing is followed apart. */
	CHECK_INT(sahead_miss(a, "M", 400, B, 10, &dir, &from, &to), 0);
	/* A use that no scan asked for reads nothing ahead. */
	CHECK_INT(sahead_used(a, "N", 400, B, 5, 1, &from, &to), 0);
	sahead_free(a);
}

static void
test_forward_scan_window(void)
{
	struct sahead *a = sahead_new(8);
	size_t from = 0, to = 0;
	int dir = 0;

	CHECK_INT(sahead_miss(a, "L", 400, B, 0, &dir, &from, &to), 0);
	CHECK_INT(sahead_miss(a, "L", 400, B, 10, &dir, &from, &to), 1);
	CHECK_INT(dir, 1);
	/* The reader's batch is 10..19: one batch ahead of it. */
	CHECK_INT(from, 20);
	CHECK_INT(to, 30);
	/* The first batch read ahead is reached: the window stays one batch. */
	CHECK_INT(sahead_used(a, "L", 400, B, 20, 1, &from, &to), 1);
	CHECK_INT(from, 30);
	CHECK_INT(to, 40);
	CHECK_INT(sahead_used(a, "L", 400, B, 25, 1, &from, &to), 0);
	/* The second too. */
	CHECK_INT(sahead_used(a, "L", 400, B, 30, 2, &from, &to), 1);
	CHECK_INT(from, 40);
	CHECK_INT(to, 50);
	/* The third: four batches ahead of the reader. */
	CHECK_INT(sahead_used(a, "L", 400, B, 40, 3, &from, &to), 1);
	CHECK_INT(from, 50);
	CHECK_INT(to, 90);
	/* Then eight, the bound. */
	CHECK_INT(sahead_used(a, "L", 400, B, 50, 4, &from, &to), 1);
	CHECK_INT(from, 90);
	CHECK_INT(to, 140);
	CHECK_INT(sahead_used(a, "L", 400, B, 60, 5, &from, &to), 1);
	CHECK_INT(from, 140);
	CHECK_INT(to, 150);
	/* Never past the end of the listing. */
	CHECK_INT(sahead_used(a, "L", 400, B, 395, 9, &from, &to), 1);
	CHECK_INT(to, 400);
	CHECK_INT(sahead_used(a, "L", 400, B, 399, 10, &from, &to), 0);
	sahead_free(a);
}

static void
test_backward_scan(void)
{
	struct sahead *a = sahead_new(8);
	size_t from = 0, to = 0;
	int dir = 0;

	/* A glob's stats come in reverse listing order. */
	CHECK_INT(sahead_miss(a, "L", 400, B, 399, &dir, &from, &to), 0);
	CHECK_INT(sahead_miss(a, "L", 400, B, 389, &dir, &from, &to), 1);
	CHECK_INT(dir, -1);
	/* The reader's batch is 380..389: the one before it is read ahead. */
	CHECK_INT(from, 370);
	CHECK_INT(to, 380);
	CHECK_INT(sahead_used(a, "L", 400, B, 379, 1, &from, &to), 1);
	CHECK_INT(from, 360);
	CHECK_INT(to, 370);
	/* Turning round is not the same scan. */
	CHECK_INT(sahead_miss(a, "L", 400, B, 395, &dir, &from, &to), 0);
	CHECK_INT(dir, 0);
	sahead_free(a);
}

static void
test_forget(void)
{
	struct sahead *a = sahead_new(8);
	size_t from = 0, to = 0;
	int dir = 0;

	sahead_miss(a, "Lsvc/a/", 400, B, 0, &dir, &from, &to);
	sahead_miss(a, "Lsvc/a/", 400, B, 10, &dir, &from, &to);
	sahead_forget(a, "");
	CHECK_INT(sahead_used(a, "Lsvc/a/", 400, B, 20, 1, &from, &to), 0);
	sahead_free(a);
}

/* -- the pool ---------------------------------------------------------- */

static atomic_int running[SPOOL_CATS], most[SPOOL_CATS], ran, cancelled;

struct pjob {
	unsigned	 cat;
	int		 ms;
};

static struct pjob jobs[64];

static void
pjob_run(void *arg)
{
	struct pjob *j = arg;
	struct timespec ts = { 0, (long)j->ms * 1000000L };
	int now = atomic_fetch_add(&running[j->cat], 1) + 1, m;

	while ((m = atomic_load(&most[j->cat])) < now &&
	    !atomic_compare_exchange_weak(&most[j->cat], &m, now))
		;
	nanosleep(&ts, NULL);
	atomic_fetch_sub(&running[j->cat], 1);
	atomic_fetch_add(&ran, 1);
}

static void
pjob_cancel(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cancelled, 1);
}

static void
test_pool_bounds_jobs_per_category(void)
{
	struct spool *p = spool_new(12, 3);
	struct timespec ts = { 0, 2000000 };
	int i;

	for (i = 0; i < 40; i++) {
		jobs[i].cat = (unsigned)(i % 2);
		jobs[i].ms = 5;
		spool_submit(p, jobs[i].cat, i % 3 == 0, pjob_run, pjob_cancel, &jobs[i]);
	}
	while (atomic_load(&ran) < 40)
		nanosleep(&ts, NULL);
	CHECK(atomic_load(&most[0]) <= 3);
	CHECK(atomic_load(&most[1]) <= 3);
	CHECK(atomic_load(&most[0]) >= 1);
	spool_free(p);
	CHECK_INT(atomic_load(&cancelled), 0);
}

static void
test_pool_free_cancels_queued_jobs(void)
{
	struct spool *p = spool_new(1, 1);
	int i;

	atomic_store(&ran, 0);
	for (i = 0; i < 10; i++) {
		jobs[i].cat = 2;
		jobs[i].ms = 20;
		spool_submit(p, 2, 0, pjob_run, pjob_cancel, &jobs[i]);
	}
	spool_free(p);
	/* Every job ran or was cancelled, exactly once. */
	CHECK_INT(atomic_load(&ran) + atomic_load(&cancelled), 10);
	CHECK(atomic_load(&cancelled) > 0);
}

int
main(void)
{
	test_first_miss_is_not_a_scan();
	test_forward_scan_window();
	test_backward_scan();
	test_forget();
	test_pool_bounds_jobs_per_category();
	test_pool_free_cancels_queued_jobs();
	return check_done();
}
