/*
 * The request a thread serves, and what the caller behind it is doing.
 * The kernel sends FUSE an interrupt for any signal its caller catches,
 * bash's SIGCHLD included; an interrupt only stops work when the caller is
 * going away (a fatal signal is pending for it) or, for a blocked wait,
 * when a signal other than the informational ones is pending. What is
 * pending is read from /proc/TID/status, only once an interrupt came.
 */
#ifndef FS_REQ_H
#define FS_REQ_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/types.h>

/* Who made the request this thread serves. */
struct fs_caller {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;		/* the calling thread's id */
};

/* Marks req as the one this thread serves, until fs_req_end(). */
void fs_req_begin(fuse_req_t req);
void fs_req_end(void);
/* The caller of this thread's request; uid/pid 0 when there is none. */
void fs_req_caller(struct fs_caller *out);
/*
 * Whether the caller of this thread's request is going away: the request
 * was interrupted and a fatal signal is pending for the caller (or it is
 * gone), or the daemon is stopping. 0 outside a request. For the ECS
 * client and the store: their waits give up when it says so.
 */
int fs_req_going_away(void);

/* What an interrupted caller has pending, as fs_signals_check() reads it. */
enum fs_pending {
	FS_PENDING_NONE,	/* nothing, or only informational signals */
	FS_PENDING_SIGNAL,	/* a signal the caller catches, not informational */
	FS_PENDING_FATAL,	/* a signal that ends the caller, or the caller is gone */
};
/* Reads what is pending for thread tid: SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt. */
enum fs_pending fs_signals_check(pid_t tid);

/* The daemon is stopping: every later fs_req_going_away() says so. */
void fs_req_shutdown(void);
int fs_req_stopping(void);

#endif
