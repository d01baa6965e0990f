/*
 * The FUSE operations of the mount, on libfuse's low-level API: inodes
 * map to parsed paths (fs/ino.h), replies may come from any thread.
 */
#ifndef FS_OPS_H
#define FS_OPS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops fs_ll_ops;

/* Frees what open directories still hold once the session loop has ended. */
void fs_ops_cleanup(void);

#endif
