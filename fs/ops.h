/*
 * The FUSE operations of the mount, on libfuse's low-level API: inodes
 * map to parsed paths (fs/ino.h), replies may come from any thread.
 */
#ifndef FS_OPS_H
#define FS_OPS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops fs_ll_ops;

struct buf;

/* Appends "key value" lines: the requests that reached the daemon, by kind. */
void fs_ops_stats(struct buf *out);
/* Frees what open directories still hold once the session loop has ended. */
void fs_ops_cleanup(void);

#endif
