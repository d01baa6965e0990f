/*
 * Blocking wait files (fs/wait.c): a waiter per open file, polled by one
 * thread on -o wait_interval.
 */
#ifndef FS_WAIT_H
#define FS_WAIT_H

#include <stddef.h>

#include "fs/fs.h"
#include "fs/req.h"

struct fs_waiter;

/* Starts the poller; start from the init handler (after daemonizing). */
void fs_wait_start(struct fs_ctx *ctx);
/* Ends every wait with an error (answering kept reads) and stops the poller. */
void fs_wait_stop(void);
/*
 * Opens a wait on the node's service or container instance; for an
 * instance, fails with -EINVAL at once unless it is DRAINING. Returns 0
 * with *w (freed by fs_wait_close), or a negative errno.
 */
int fs_wait_open(struct fs_node *node, struct fs_waiter **w);
/*
 * Answers req, a read of at most size bytes by thread caller, with output,
 * the end (0 bytes) or a failure (once) — at once when there is one, else
 * from the poller when a poll brings it, or EINTR when caller is
 * interrupted by a signal it acts on. A second read while one is kept: EBUSY.
 */
void fs_wait_read(struct fs_waiter *w, fuse_req_t req, size_t size, pid_t caller);
void fs_wait_close(struct fs_waiter *w);
/* How many waits are open. */
size_t fs_wait_count(void);

#endif
