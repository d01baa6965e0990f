/*
 * Blocking wait files (fs/wait.c): a waiter per open file, polled by one
 * thread on -o wait_interval.
 */
#ifndef FS_WAIT_H
#define FS_WAIT_H

#include <stddef.h>

#include "fs/fs.h"

struct fs_waiter;

/* Starts and stops the poller; start from the init handler (after daemonizing). */
void fs_wait_start(struct fs_ctx *ctx);
void fs_wait_stop(void);
/*
 * Opens a wait on the node's service or container instance; for an
 * instance, fails with -EINVAL at once unless it is DRAINING. Returns 0
 * with *w (freed by fs_wait_close), or a negative errno.
 */
int fs_wait_open(struct fs_node *node, struct fs_waiter **w);
/* Blocks until there is output (returns its length), the end (0), a
 * failure (negative errno, once) or an interrupt (-EINTR). */
int fs_wait_read(struct fs_waiter *w, char *buf, size_t size);
void fs_wait_close(struct fs_waiter *w);
/* How many waits are open. */
size_t fs_wait_count(void);

#endif
