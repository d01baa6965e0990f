/*
 * Kernel cache invalidation, from a thread of its own: a notification
 * sent from inside the request handler it concerns can deadlock. After a
 * write, the handler queues the entries whose content changed and waits,
 * bounded, until the kernel has dropped them before it replies, so the
 * writer's next stat or read looks them up again and sees the new state.
 */
#ifndef FS_INVAL_H
#define FS_INVAL_H

struct fuse_session;

/* Starts the thread; call from the init handler (after daemonizing). */
void fs_inval_start(struct fuse_session *se);
/* Queues the entry of path ("/cluster/services/api/desired_count"), when the kernel knows its folder. */
void fs_inval_queue(const char *path);
/*
 * Queues the entry of every file the kernel holds whose path starts with
 * prefix ("/" for all). Folders keep theirs: their existence follows the
 * entry timeout, and a folder looked up again would make every reader
 * below it wait in the kernel for that one lookup.
 */
void fs_inval_prefix(const char *prefix);
/* Waits until what was queued before the call is done, at most ms milliseconds. */
void fs_inval_flush(long ms);
/* Stops the thread, dropping what is still queued. */
void fs_inval_stop(void);

#endif
