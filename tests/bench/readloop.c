/*
 * readloop: the cost of a warm open+read+close, as `cat FILE` pays it
 * without the exec. Each round opens PATH, reads it to the end and closes
 * it N times; the result is the median of the rounds' ns per iteration.
 * One iteration before the first round warms the caches.
 *
 *     readloop [-n N] [-r ROUNDS] PATH...
 *
 * Prints one line per path: "PATH NS_MEDIAN NS_MIN BYTES", BYTES being
 * what one iteration read. Exits 1 when a path cannot be read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS	101

/* Monotonic nanoseconds. */
static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One open, read to the end and close of path; bytes read, or -1. */
static long
once(const char *path)
{
	char buf[4096];
	ssize_t r;
	long total = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	if (close(fd) == -1 || r == -1)
		return -1;
	return total;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Measures path: rounds rounds of n iterations; 0, or -1 on a failed read. */
static int
measure(const char *path, long n, int rounds)
{
	long long per[MAX_ROUNDS], t0;
	long bytes, i;
	int k;

	if ((bytes = once(path)) == -1) {
		fprintf(stderr, "readloop: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (k = 0; k < rounds; k++) {
		t0 = now_ns();
		for (i = 0; i < n; i++)
			if (once(path) != bytes) {
				fprintf(stderr, "readloop: %s: %s\n", path,
				    errno != 0 ? strerror(errno) :
				    "size changed");
				return -1;
			}
		per[k] = (now_ns() - t0) / n;
	}
	qsort(per, (size_t)rounds, sizeof(per[0]), cmp_ll);
	printf("%s %lld %lld %ld\n", path, per[rounds / 2], per[0], bytes);
	fflush(stdout);
	return 0;
}

int
main(int argc, char *argv[])
{
	long n = 10000;
	int rounds = 7, ch, rc = 0;

	while ((ch = getopt(argc, argv, "n:r:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rounds = (int)strtol(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || n < 1 || rounds < 1 || rounds > MAX_ROUNDS)
		goto usage;
	for (; optind < argc; optind++)
		if (measure(argv[optind], n, rounds) != 0)
			rc = 1;
	return rc;
usage:
	fprintf(stderr, "usage: readloop [-n N] [-r ROUNDS(1-%d)] PATH...\n",
	    MAX_ROUNDS);
	return 2;
}
