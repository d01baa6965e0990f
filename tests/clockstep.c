/*
 * A test shim, preloaded into the daemon: after ECSFS_CLOCKSTEP_AFTER_MS
 * milliseconds (counted from the first clock call), the wall clock
 * (CLOCK_REALTIME, time(), gettimeofday()) jumps by ECSFS_CLOCKSTEP_SECONDS,
 * as a clock set by hand or by NTP does. The monotonic clock is left alone.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static atomic_llong start_ms = -1;

/* The step in seconds now in force: 0 before it is due. */
static long long
step_now(void)
{
	const char *after = getenv("ECSFS_CLOCKSTEP_AFTER_MS");
	const char *secs = getenv("ECSFS_CLOCKSTEP_SECONDS");
	struct timespec mono;
	long long now, expected = -1;

	if (after == NULL || secs == NULL)
		return 0;
	real_clock_gettime(CLOCK_MONOTONIC, &mono);
	now = (long long)mono.tv_sec * 1000 + mono.tv_nsec / 1000000;
	atomic_compare_exchange_strong(&start_ms, &expected, now);
	return now - atomic_load(&start_ms) >= atoll(after) ? atoll(secs) : 0;
}

int
clock_gettime(clockid_t clk, struct timespec *ts)
{
	int rc;

	if (real_clock_gettime == NULL)
		real_clock_gettime = (int (*)(clockid_t, struct timespec *))
		    dlsym(RTLD_NEXT, "clock_gettime");
	rc = real_clock_gettime(clk, ts);
	if (rc == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE))
		ts->tv_sec += (time_t)step_now();
	return rc;
}

time_t
time(time_t *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

int
gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;

	(void)tz;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}
