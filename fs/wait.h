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
 * A waiter on the node's service or container instance (a wait file's
 * lookup); for an instance, fails with -EINVAL at once unless it is
 * DRAINING. Returns 0 with *w (freed by fs_wait_close), or a negative
 * errno. It polls from the first fs_wait_getattr() on.
 */
int fs_wait_open(struct fs_node *node, struct fs_waiter **w);
/*
 * Answers req, a reader's getattr of the wait file (inode ino) from thread
 * caller: with the size of the output when it grew since the last answer,
 * the same size at the end, or the failure once all output is out — at
 * once when there is one, else from the poller when a poll brings it, or
 * EINTR when caller is interrupted by a signal it acts on. A second one
 * while one is kept: EBUSY.
 */
void fs_wait_getattr(struct fs_waiter *w, fuse_req_t req, fuse_ino_t ino, pid_t caller);
/* Answers a plain stat of the wait file at once, with the size the kernel is given. */
void fs_wait_stat(struct fs_waiter *w, fuse_req_t req, fuse_ino_t ino);
/* Answers a read of the output at off, at once. */
void fs_wait_read(struct fs_waiter *w, fuse_req_t req, size_t size, off_t off);
/*
 * For a reader without FUSE (the commands): blocks until the output grows
 * past *off or the wait ends, appends what is new to out and moves *off.
 * Returns 1 while the wait goes on, 0 once it ended in success, or the
 * negative errno of its failure once all output is out. The wait's clock
 * starts at the first call, as at a mount reader's first getattr.
 */
int fs_wait_next(struct fs_waiter *w, struct buf *out, size_t *off);
void fs_wait_close(struct fs_waiter *w);
/* How many waits are polling. */
size_t fs_wait_count(void);

#endif
