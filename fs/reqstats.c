/* The counts of requests that reached the daemon, for .ecsfs/stats. */
#include "fs/reqstats.h"

#include <stdatomic.h>

#include "fs/ino.h"

/* Requests that reached the daemon, by kind: what the kernel did not answer itself. */
static const char *const req_names[R_COUNT] = {
	"lookup", "getattr", "read", "write", "readdir", "other"
};
static atomic_ulong req_counts[R_COUNT];
static atomic_ulong inval_timeouts;	/* writes whose invalidations ran late */

void
fs_reqstats_count(enum fs_req_kind k)
{
	atomic_fetch_add(&req_counts[k], 1);
}

void
fs_reqstats_late_inval(void)
{
	atomic_fetch_add(&inval_timeouts, 1);
}

void
fs_reqstats_render(struct buf *out)
{
	unsigned long total = 0, n;
	int k;

	for (k = 0; k < R_COUNT; k++)
		total += atomic_load(&req_counts[k]);
	buf_printf(out, "fuse_requests %lu\n", total);
	for (k = 0; k < R_COUNT; k++) {
		n = atomic_load(&req_counts[k]);
		buf_printf(out, "fuse_requests.%s %lu\n", req_names[k], n);
	}
	buf_printf(out, "inodes %zu\n", fs_ino_count());
	buf_printf(out, "inval_timeouts %lu\n", atomic_load(&inval_timeouts));
}
