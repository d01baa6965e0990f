/*
 * A minimal table-friendly test harness for the C unit tests. Each CHECK
 * counts; check_done() prints "N passed, N failed" and returns the exit
 * status meson expects (0 ok, 1 failed, 77 skipped).
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed;
static int check_failed;

#define CHECK(cond) do {						\
	if (cond) {							\
		check_passed++;						\
	} else {							\
		check_failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); \
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) {		\
		check_passed++;						\
	} else {							\
		check_failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s\n  got:  [%s]\n  want: [%s]\n", \
		    __FILE__, __LINE__, #got, g_ ? g_ : "(null)",		\
		    w_ ? w_ : "(null)");				\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ == w_) {							\
		check_passed++;						\
	} else {							\
		check_failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s: got %lld, want %lld\n", \
		    __FILE__, __LINE__, #got, g_, w_);			\
	}								\
} while (0)

/*
 * Skips the whole test (exit 77) with a reason, except under CI=true,
 * where a missing prerequisite is a failure.
 */
static inline int
check_skip(const char *why)
{
	const char *ci = getenv("CI");

	if (ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr, "FAIL (CI=true, cannot skip): %s\n", why);
		return 1;
	}
	printf("SKIP: %s\n", why);
	return 77;
}

static inline int
check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif
