/*
 * Unit tests of ecs/pace.c: parsing of "BURST:REFILL", the burst then the
 * refill on a fake clock, the wait bound, the cut and cubic recovery of
 * the rate after ThrottlingException, one cut per round, the measured
 * send rate, stats lines, a simulated ECS bucket that a paced client never
 * trips (and one shared with another client, which the adaptive rate
 * settles under), and many threads on the real clock never exceeding the
 * bucket.
 */
#include "ecs/pace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/unit/check.h"

#define SEC	1000000ULL
#define MS	1000ULL

static _Atomic uint64_t fake_now;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return atomic_load(&fake_now);
}

/* When nonzero, a sleep stops after this many microseconds, as cut short. */
static _Atomic uint64_t fake_cut_after;

static int
fake_sleep(void *arg, uint64_t us)
{
	uint64_t cut = atomic_load(&fake_cut_after);

	(void)arg;
	if (cut != 0 && cut < us) {
		atomic_fetch_add(&fake_now, cut);
		return 1;
	}
	atomic_fetch_add(&fake_now, us);
	return 0;
}

/* A pacer on the fake clock with one paced category: service_read. */
static struct pace *
fake_pacer_slack(double burst, double refill, uint64_t slack_us)
{
	struct pace_config pc;

	memset(&pc, 0, sizeof(pc));
	pc.slack_us = slack_us;
	pc.rate[ECS_CAT_SERVICE_READ].burst = burst;
	pc.rate[ECS_CAT_SERVICE_READ].refill = refill;
	pc.now_us = fake_clock;
	pc.sleep_us = fake_sleep;
	atomic_store(&fake_now, 1000 * SEC);
	return pace_new(&pc);
}

static struct pace *
fake_pacer(double burst, double refill)
{
	return fake_pacer_slack(burst, refill, 0);
}

/* A fake-clock pacer that refuses after busy_after_us of throttling. */
static struct pace *
fake_pacer_busy(double burst, double refill, uint64_t busy_after_us)
{
	struct pace_config pc;

	memset(&pc, 0, sizeof(pc));
	pc.rate[ECS_CAT_SERVICE_READ].burst = burst;
	pc.rate[ECS_CAT_SERVICE_READ].refill = refill;
	pc.rate[ECS_CAT_SERVICE_MODIFY].burst = burst;
	pc.rate[ECS_CAT_SERVICE_MODIFY].refill = refill;
	pc.busy_after_us = busy_after_us;
	pc.now_us = fake_clock;
	pc.sleep_us = fake_sleep;
	atomic_store(&fake_now, 1000 * SEC);
	return pace_new(&pc);
}

static int
near(double got, double want, double tol)
{
	return got >= want - tol && got <= want + tol;
}

static void
test_parse(void)
{
	static const struct {
		const char	*text;
		int		 ok;
		double		 burst, refill;
	} cases[] = {
		{ "100:20", 1, 100, 20 },
		{ "1:0.5", 1, 1, 0.5 },
		{ "50:5", 1, 50, 5 },
		{ "1000000:1000000", 1, 1000000, 1000000 },
		{ "10:0.000001", 1, 10, 0.000001 },
		{ "007:2.50", 1, 7, 2.5 },
		{ "", 0, 0, 0 },
		{ "100", 0, 0, 0 },
		{ "100:", 0, 0, 0 },
		{ ":20", 0, 0, 0 },
		{ "0:20", 0, 0, 0 },
		{ "100:0", 0, 0, 0 },
		{ "100:0.0", 0, 0, 0 },
		{ "abc", 0, 0, 0 },
		{ "100:20:3", 0, 0, 0 },
		{ "1.5:20", 0, 0, 0 },
		{ "-1:20", 0, 0, 0 },
		{ "+1:20", 0, 0, 0 },
		{ "100:-2", 0, 0, 0 },
		{ "100: 20", 0, 0, 0 },
		{ " 100:20", 0, 0, 0 },
		{ "100:20 ", 0, 0, 0 },
		{ "1e3:20", 0, 0, 0 },
		{ "100:1e3", 0, 0, 0 },
		{ "100:nan", 0, 0, 0 },
		{ "100:inf", 0, 0, 0 },
		{ "1000001:20", 0, 0, 0 },
		{ "100:1000000.5", 0, 0, 0 },
		{ "100:20.", 0, 0, 0 },
		{ "100:.5", 0, 0, 0 },
		{ "100:0.0000001", 0, 0, 0 },
		{ "100,20", 0, 0, 0 },
		{ "99999999999999999999999:1", 0, 0, 0 },
	};
	struct pace_rate r;
	struct ecs_error err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memset(&r, 0, sizeof(r));
		ecs_error_clear(&err);
		rc = pace_parse_rate(ECS_CAT_SERVICE_READ, cases[i].text, &r, &err);
		if (cases[i].ok) {
			CHECK_INT(rc, 0);
			CHECK(near(r.burst, cases[i].burst, 1e-9));
			CHECK(near(r.refill, cases[i].refill, 1e-12));
			CHECK_INT(err.code, ECS_OK);
		} else {
			if (rc != -1)
				fprintf(stderr, "accepted: '%s'\n", cases[i].text);
			CHECK_INT(rc, -1);
			CHECK_INT(err.code, ECS_E_CONFIG);
			CHECK(strstr(err.message, "rate_service_read") != NULL);
			CHECK(strstr(err.message, "BURST:REFILL") != NULL);
			CHECK(strchr(err.message, '\n') == NULL);
		}
	}
	/* The message names the category and shows its own default. */
	pace_parse_rate(ECS_CAT_SERVICE_MODIFY, "x", &r, &err);
	CHECK(strstr(err.message, "bad rate_service_modify 'x'") != NULL);
	CHECK(strstr(err.message, "e.g. 50:5") != NULL);
	/* A long value is cut short in the message. */
	pace_parse_rate(ECS_CAT_CLUSTER_READ,
	    "0123456789012345678901234567890123456789012345678901234567890123456789",
	    &r, &err);
	CHECK(strstr(err.message, "...'") != NULL);
	CHECK(strlen(err.message) < 300);

	r = pace_default_rate(ECS_CAT_SERVICE_READ);
	CHECK(r.burst == 100 && r.refill == 20);
	r = pace_default_rate(ECS_CAT_CLUSTER_READ);
	CHECK(r.burst == 50 && r.refill == 20);
	r = pace_default_rate(ECS_CAT_SERVICE_MODIFY);
	CHECK(r.burst == 50 && r.refill == 5);
	r = pace_default_rate(ECS_CAT_RESOURCE_READ);
	CHECK(r.burst == 100 && r.refill == 20);
	r = pace_default_rate(ECS_CAT_RESOURCE_MODIFY);
	CHECK(r.burst == 100 && r.refill == 40);
	r = pace_default_rate(ECS_CAT_OTHER);
	CHECK(r.refill == 0);
}

/* The burst goes at once, then one token per 1/refill, in order. */
static void
test_burst_then_refill(void)
{
	struct pace *p = fake_pacer(5, 10);
	struct pace_ticket t;
	uint64_t start = atomic_load(&fake_now), wait;
	int i;

	for (i = 0; i < 5; i++) {
		CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait), 0);
		CHECK_INT(t.waited_us, 0);
		CHECK_INT(t.due_us, start);
	}
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 0, 1e-9));
	for (i = 1; i <= 20; i++) {
		CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait), 0);
		CHECK_INT(t.waited_us, 100 * MS);
		CHECK_INT(t.due_us, start + (uint64_t)i * 100 * MS);
	}
	/* (25 - 5) / 10 s: the floor, exactly. */
	CHECK_INT(atomic_load(&fake_now) - start, 2 * SEC);

	/* Idle for a while: the bucket fills up to the burst, no further. */
	atomic_fetch_add(&fake_now, 60 * SEC);
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 5, 1e-9));
	start = atomic_load(&fake_now);
	for (i = 0; i < 6; i++)
		pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, NULL);
	CHECK_INT(atomic_load(&fake_now) - start, 100 * MS);

	/* A category with no rate is not paced. */
	for (i = 0; i < 1000; i++) {
		CHECK_INT(pace_acquire(p, ECS_CAT_OTHER, 0, &t, &wait), 0);
		CHECK_INT(t.waited_us, 0);
	}
	CHECK_INT(pace_acquire(p, ECS_CAT_CLUSTER_READ, 0, &t, &wait), 0);
	pace_free(p);
}

/* Waiters queue behind each other; a token beyond the bound is not taken. */
static void
test_wait_bound(void)
{
	struct pace *p = fake_pacer(2, 4);
	struct pace_ticket t;
	uint64_t now, wait;
	int i;

	now = atomic_load(&fake_now);
	for (i = 0; i < 2; i++)
		CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, now, &t, &wait), 0);
	/* The next token is 250 ms away: a bound of 249 ms refuses it. */
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, now + 249 * MS, &t, &wait), -1);
	CHECK_INT(wait, 250 * MS);
	CHECK_INT(atomic_load(&fake_now), now);
	/* Nothing was taken by the refusal: the same token is still 250 ms away. */
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 0, 1e-9));
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, now + 250 * MS, &t, &wait), 0);
	CHECK_INT(t.waited_us, 250 * MS);
	pace_note_busy(p, ECS_CAT_SERVICE_READ);
	pace_free(p);
}

/* Reads the value of key from stats text; -1 when absent. */
static double
stat_of(const char *text, const char *key)
{
	const char *s = text;
	size_t len = strlen(key);

	while ((s = strstr(s, key)) != NULL) {
		if ((s == text || s[-1] == '\n') && s[len] == ' ')
			return atof(s + len + 1);
		s += len;
	}
	return -1;
}

/* Throttles cut the rate once per round, down to 0.5/s, then it recovers. */
static void
test_throttle_cut_and_recovery(void)
{
	struct pace *p = fake_pacer(10, 20);
	struct pace_ticket t1, t2, t3;
	double r, prev;
	uint64_t cut_at;
	struct buf b;
	int i;

	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 20, 1e-9));
	pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t1, NULL);
	pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t2, NULL);
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 8, 1e-9));
	/* A success teaches nothing. */
	pace_feedback(p, &t1, 0);
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 20, 1e-9));
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 8, 1e-9));

	atomic_fetch_add(&fake_now, 10 * MS);
	pace_feedback(p, &t1, 1);
	cut_at = atomic_load(&fake_now);
	/* ECS's bucket is empty: so is ours, and the rate is 0.7 of 20. */
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 0, 1e-9));
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 14, 1e-6));
	/* t2 was paced before the cut: its throttle empties, does not cut again. */
	pace_feedback(p, &t2, 1);
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 14, 1e-6));
	/* A request paced after the cut and throttled cuts again. */
	pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t3, NULL);
	CHECK_INT(t3.waited_us, 71429);		/* 1/14 s, rounded up */
	pace_feedback(p, &t3, 1);
	/* 0.7 of the rate at that moment, a little above 14 on the curve. */
	r = pace_rate_now(p, ECS_CAT_SERVICE_READ);
	CHECK(r > 14 * 0.7 - 1e-6 && r < 14.6 * 0.7);
	(void)cut_at;

	/* Cut after cut: never below 0.5/s. */
	for (i = 0; i < 30; i++) {
		pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t3, NULL);
		pace_feedback(p, &t3, 1);
	}
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 0.5, 1e-9));
	/* At 0.5/s the next token is 2 s away. */
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, atomic_load(&fake_now) + SEC,
	    &t3, NULL), -1);

	/* Without throttles the rate climbs back, never falling, to 20/s. */
	prev = pace_rate_now(p, ECS_CAT_SERVICE_READ);
	for (i = 0; i < 200; i++) {
		atomic_fetch_add(&fake_now, 100 * MS);
		r = pace_rate_now(p, ECS_CAT_SERVICE_READ);
		CHECK(r >= prev - 1e-9);
		prev = r;
	}
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 20, 1e-9));

	buf_init(&b);
	pace_stats(p, &b);
	CHECK(stat_of(b.data, "category.service_read.rate") == 20);
	CHECK(stat_of(b.data, "category.service_read.refill") == 20);
	CHECK(stat_of(b.data, "category.service_read.burst") == 10);
	CHECK(stat_of(b.data, "category.service_read.rate_cuts") >= 3);
	CHECK(stat_of(b.data, "category.service_read.tokens") == 10);
	CHECK(stat_of(b.data, "category.service_read.queued") == 0);
	CHECK(stat_of(b.data, "category.service_read.waits") > 30);
	CHECK(stat_of(b.data, "category.service_read.wait_ms") > 30 * 1000);
	CHECK(stat_of(b.data, "category.service_read.max_wait_ms") == 2000);
	CHECK(stat_of(b.data, "category.service_read.busy") == 0);
	/* Categories without a rate print nothing. */
	CHECK(strstr(b.data, "category.other.") == NULL);
	CHECK(strstr(b.data, "category.cluster_read.") == NULL);
	buf_free(&b);
	pace_free(p);
}

/* The cubic curve: 0.7 of the old rate at the cut, back at it after K s. */
static void
test_cubic_shape(void)
{
	struct pace *p = fake_pacer(100, 20);
	struct pace_ticket t;
	double k = 0;
	int i;

	/* A steady 20/s sender (the measured rate is 20), then a throttle. */
	for (i = 0; i < 200; i++)
		pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, NULL);
	for (i = 0; i < 100; i++)
		pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, NULL);
	pace_feedback(p, &t, 1);
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 14, 0.05));
	/* K = cbrt(20 * 0.3 / 0.4) s, when the curve is back at 20. */
	while (k * k * k < 15)
		k += 0.0001;
	atomic_fetch_add(&fake_now, (uint64_t)(k * 0.5 * 1e6));
	/* Half way: 20 - 0.4 (K/2)^3 = 20 - 0.4 * 15 / 8. */
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 20 - 0.4 * 15 / 8, 0.05));
	atomic_fetch_add(&fake_now, (uint64_t)(k * 0.5 * 1e6) + 10 * MS);
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 20, 0.01));
	pace_free(p);
}

/* A slow sender is cut to 0.7 of what it sent, not of the configured rate. */
static void
test_measured_rate(void)
{
	struct pace *p = fake_pacer(100, 20);
	struct pace_ticket t;
	int i;

	for (i = 0; i < 20; i++) {
		pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, NULL);
		atomic_fetch_add(&fake_now, 250 * MS);		/* 4/s */
	}
	pace_feedback(p, &t, 1);
	CHECK(near(pace_rate_now(p, ECS_CAT_SERVICE_READ), 4 * 0.7, 0.2));
	pace_free(p);
}

/* ECS's bucket, as tests/ecsim/faults.py keeps it. */
struct server {
	double		burst, refill, tokens;
	uint64_t	stamp;
};

static int
server_take(struct server *s, uint64_t now)
{
	s->tokens += (double)(now - s->stamp) / 1e6 * s->refill;
	if (s->tokens > s->burst)
		s->tokens = s->burst;
	s->stamp = now;
	if (s->tokens >= 1) {
		s->tokens -= 1;
		return 1;
	}
	return 0;
}

/* A small deterministic generator for latencies. */
static uint64_t
lcg(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

/*
 * A sequential client against ECS's bucket with the same numbers, each
 * request reaching ECS 0 to 40 ms after its token. Returns how many were
 * throttled; *elapsed is how long 1100 requests took.
 */
static int
simulate_matching(uint64_t slack_us, uint64_t *elapsed)
{
	struct pace *p = fake_pacer_slack(100, 20, slack_us);
	struct server s = { 100, 20, 100, 0 };
	struct pace_ticket t;
	uint64_t rng = 42, start;
	int i, throttled = 0;

	s.stamp = start = atomic_load(&fake_now);
	for (i = 0; i < 1100; i++) {
		pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, NULL);
		atomic_fetch_add(&fake_now, lcg(&rng) % (40 * MS));	/* to ECS */
		if (!server_take(&s, atomic_load(&fake_now)))
			throttled++;
		atomic_fetch_add(&fake_now, lcg(&rng) % (5 * MS));	/* back */
	}
	*elapsed = atomic_load(&fake_now) - start;
	pace_free(p);
	return throttled;
}

/* The slack keeps a paced client clear of ECS's bucket, at a cost of 0.1 s. */
static void
test_simulated_matching_bucket(void)
{
	uint64_t elapsed;

	CHECK_INT(simulate_matching(PACE_SLACK_US, &elapsed), 0);
	/* (1100 - 100) / 20 = 50 s, plus the slack and the last latencies. */
	CHECK(elapsed >= 50 * SEC);
	CHECK(elapsed < 50 * SEC + PACE_SLACK_US + 45 * MS);
	/* Without it, a request that is faster than the first one trips it. */
	CHECK(simulate_matching(0, &elapsed) > 0);
}

/*
 * Another client of the account sends 10/s, unpaced and never retrying,
 * into ECS's 20/s: the adaptive rate keeps our throttles rare, every
 * throttled request goes through on a later try, and together we never
 * get more than the bucket gives.
 */
static void
test_simulated_shared_bucket(void)
{
	struct pace *p = fake_pacer_slack(100, 20, PACE_SLACK_US);
	struct server s = { 100, 20, 100, 0 };
	struct pace_ticket t;
	uint64_t rng = 7, start, other, now;
	int done = 0, attempts = 0, throttled = 0, other_ok = 0, other_sent = 0;
	int pending = 0;

	s.stamp = start = atomic_load(&fake_now);
	other = start;
	while (atomic_load(&fake_now) - start < 120 * SEC) {
		pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, NULL);
		now = atomic_load(&fake_now) + 5 * MS + lcg(&rng) % (10 * MS);
		for (; other < now; other += 100 * MS) {
			other_sent++;
			other_ok += server_take(&s, other);
		}
		atomic_store(&fake_now, now);
		attempts++;
		if (server_take(&s, now)) {
			done++;
			pending = 0;
			pace_feedback(p, &t, 0);
		} else {
			throttled++;
			pending++;
			pace_feedback(p, &t, 1);
		}
		/* No request needs many tries. */
		CHECK(pending < 8);
	}
	CHECK(done + other_ok <= 100 + 20 * 120 + 1);
	/* ECS was kept busy ... */
	CHECK(done + other_ok > 20 * 120 * 0.9);
	/* ... and a throttle is the exception, not the rule. */
	CHECK(throttled < attempts / 20);
	fprintf(stderr, "shared bucket, 120 s: ours %d ok, %d throttled; "
	    "the other's %d ok of %d\n", done, throttled, other_ok, other_sent);
	pace_free(p);
}

/* Many threads on the real clock share one bucket and never exceed it. */
#define NTHREADS	8
#define PER_THREAD	40
#define T_BURST		10
#define T_REFILL	100.0

struct thread_arg {
	struct pace	*p;
	uint64_t	 due[PER_THREAD];
	uint64_t	 now[PER_THREAD];
};

static void *
thread_main(void *argp)
{
	struct thread_arg *a = argp;
	struct pace_ticket t;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		pace_acquire(a->p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, NULL);
		a->due[i] = t.due_us;
		a->now[i] = pace_now(a->p);
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_threads(void)
{
	struct pace_config pc;
	struct thread_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	uint64_t all[NTHREADS * PER_THREAD], start, late = 0;
	struct pace *p;
	size_t i, j, n = 0;
	int bad = 0;

	memset(&pc, 0, sizeof(pc));
	pc.rate[ECS_CAT_SERVICE_READ].burst = T_BURST;
	pc.rate[ECS_CAT_SERVICE_READ].refill = T_REFILL;
	p = pace_new(&pc);
	start = pace_now(p);
	for (i = 0; i < NTHREADS; i++) {
		args[i].p = p;
		pthread_create(&th[i], NULL, thread_main, &args[i]);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NTHREADS; i++)
		for (j = 0; j < PER_THREAD; j++) {
			all[n++] = args[i].due[j];
			/* Nobody went before its token was due. */
			if (args[i].now[j] < args[i].due[j])
				late++;
		}
	CHECK_INT(late, 0);
	qsort(all, n, sizeof(all[0]), cmp_u64);
	/* Token times conform to the bucket: k tokens need (k - burst) / refill. */
	for (i = 0; i < n; i++)
		for (j = i + T_BURST; j < n; j += 7)
			if ((double)(all[j] - all[i]) + 1 <
			    (double)(j - i + 1 - T_BURST) / T_REFILL * 1e6)
				bad++;
	CHECK_INT(bad, 0);
	CHECK(all[n - 1] - start >= (uint64_t)((n - T_BURST) / T_REFILL * 1e6) - 1000);
	pace_free(p);
}

/* A token with which nothing was sent goes back; so does a cut-short wait's. */
static void
test_refund(void)
{
	struct pace *p = fake_pacer(3, 10);
	struct pace_ticket t, t2;
	uint64_t now, wait;
	int i;

	for (i = 0; i < 3; i++)
		CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait),
		    PACE_OK);
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 0, 1e-9));
	pace_refund(p, &t);
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 1, 1e-9));
	/* The refunded token goes to the next request without a wait. */
	now = atomic_load(&fake_now);
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, now, &t, &wait), PACE_OK);
	CHECK_INT(t.waited_us, 0);

	/* A wait of 100 ms cut short after 30 ms: stopped, the token is back. */
	atomic_store(&fake_cut_after, 30 * MS);
	now = atomic_load(&fake_now);
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait),
	    PACE_STOPPED);
	atomic_store(&fake_cut_after, 0);
	CHECK_INT(atomic_load(&fake_now), now + 30 * MS);
	/* 0.3 tokens earned meanwhile, none spent: the next is 70 ms away. */
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 0.3, 1e-6));
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t2, &wait),
	    PACE_OK);
	CHECK_INT(t2.waited_us, 70 * MS);
	/* Never more than the burst. */
	atomic_fetch_add(&fake_now, 60 * SEC);
	pace_refund(p, &t2);
	CHECK(near(pace_tokens_now(p, ECS_CAT_SERVICE_READ), 3, 1e-9));
	/* An unpaced category has nothing to give back. */
	t.cat = ECS_CAT_OTHER;
	pace_refund(p, &t);
	pace_free(p);
}

/*
 * Throttled for busy_after without a success: requests are refused at
 * once, but for one probe per period of the current rate; a success
 * opens the category again. Other categories are not affected.
 */
static void
test_refusing(void)
{
	struct pace *p = fake_pacer_busy(10, 20, 10 * SEC);
	struct pace_ticket t;
	uint64_t start, wait, probe_at;
	double rate;
	int i, refused = 0, probes = 0;

	start = atomic_load(&fake_now);
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait),
	    PACE_OK);
	pace_feedback(p, &t, 1);
	/* Throttled, but not yet for 10 s: requests wait their turn. */
	while (atomic_load(&fake_now) < start + 10 * SEC - 100 * MS) {
		CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t,
		    &wait), PACE_OK);
		pace_feedback(p, &t, 1);
	}
	atomic_store(&fake_now, start + 10 * SEC);
	rate = pace_rate_now(p, ECS_CAT_SERVICE_READ);
	CHECK(near(rate, 0.5, 1e-9));
	/* The first request after 10 s is the probe; it may wait for its token. */
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait),
	    PACE_OK);
	probe_at = atomic_load(&fake_now) - t.waited_us;
	pace_feedback(p, &t, 1);
	/* The ones after it fail at once, saying for how long it has been so. */
	wait = 0;
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait),
	    PACE_REFUSING);
	CHECK(wait >= 10 * SEC);
	/* Over the next minute: one probe per 2 s (the rate is 0.5/s), every
	 * other request refused without sleeping. */
	while (atomic_load(&fake_now) < probe_at + 60 * SEC) {
		uint64_t before = atomic_load(&fake_now);
		int rc = pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait);

		if (rc == PACE_REFUSING) {
			refused++;
			CHECK_INT(atomic_load(&fake_now), before);
			atomic_fetch_add(&fake_now, 100 * MS);
		} else {
			CHECK_INT(rc, PACE_OK);
			probes++;
			pace_feedback(p, &t, 1);
		}
	}
	CHECK(probes >= 25 && probes <= 31);
	CHECK(refused > 400);
	/* Another category goes on as usual. */
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_MODIFY, UINT64_MAX, &t, &wait),
	    PACE_OK);
	/* A probe that gets through opens the category again. */
	atomic_fetch_add(&fake_now, 3 * SEC);
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait),
	    PACE_OK);
	pace_feedback(p, &t, 0);
	for (i = 0; i < 5; i++)
		CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t,
		    &wait), PACE_OK);
	/* A new throttle starts a new count: 10 s more before refusing. */
	pace_feedback(p, &t, 1);
	atomic_fetch_add(&fake_now, 9 * SEC);
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait),
	    PACE_OK);
	pace_free(p);

	/* busy_after 0: never refuses. */
	p = fake_pacer_busy(10, 20, 0);
	CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t, &wait),
	    PACE_OK);
	pace_feedback(p, &t, 1);
	atomic_fetch_add(&fake_now, 3600 * SEC);
	for (i = 0; i < 10; i++)
		CHECK_INT(pace_acquire(p, ECS_CAT_SERVICE_READ, UINT64_MAX, &t,
		    &wait), PACE_OK);
	pace_free(p);
}

int
main(void)
{
	test_refund();
	test_refusing();
	test_parse();
	test_burst_then_refill();
	test_wait_bound();
	test_throttle_cut_and_recovery();
	test_cubic_shape();
	test_measured_rate();
	test_simulated_matching_bucket();
	test_simulated_shared_bucket();
	test_threads();
	return check_done();
}
