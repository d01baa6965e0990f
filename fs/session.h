/*
 * The end of a FUSE session: what libfuse 3.14 would leave behind.
 */
#ifndef FS_SESSION_H
#define FS_SESSION_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

/*
 * Frees the interrupts libfuse still holds for requests that had been
 * answered when their interrupt came (fs/session.c says why). Call once
 * the session is over and unmounted, just before fuse_session_destroy();
 * nothing is sent to the kernel. Returns how many there were, -1 when
 * they could not be reached.
 */
int fs_session_release_interrupts(struct fuse_session *se);

#endif
