/*
 * Kernel cache invalidation after a write, from a thread of its own:
 * fuse_invalidate_path() called inside a request handler can deadlock.
 */
#ifndef FS_INVAL_H
#define FS_INVAL_H

struct fuse;

/* Starts the thread; call from the init handler (after daemonizing). */
void fs_inval_start(struct fuse *fuse);
/* Queues path (copied) for invalidation. */
void fs_inval_queue(const char *path);
/* Stops the thread, dropping what is still queued. */
void fs_inval_stop(void);

#endif
