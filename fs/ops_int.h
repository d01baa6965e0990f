/*
 * What fs/ops.c and fs/ops_dir.c share: the kernel's cache timeouts and
 * the steps from an inode to a resolved node and its entry. Not a public
 * header: fs/ops.h is.
 */
#ifndef FS_OPS_INT_H
#define FS_OPS_INT_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include "fs/fs.h"

/* How long the kernel keeps entries, attributes and negative entries. */
#define ENTRY_TIMEOUT 1.0
#define ATTR_TIMEOUT 1.0
#define NEGATIVE_TIMEOUT 1.0

/* Logs a failure that is not a plain "does not exist". */
void fs_ops_log_failure(const char *op, const char *path, const struct fs_node *node, int rc);
/* The path of ino's child name ("/a" + "b" = "/a/b"); the caller frees it, NULL for an unknown ino. */
char *fs_ops_child_path(fuse_ino_t parent, const char *name);
/* Parses and resolves path; returns 0 or a negative errno. */
int fs_ops_node_open(const char *op, const char *path, struct fs_node *node);
/* A folder's attributes. */
void fs_ops_fill_dir(struct fs_ctx *ctx, struct stat *st);
/* Looks path up for the kernel: an entry with a lookup counted, or a negative one. */
int fs_ops_path_entry(const char *op, const char *path, struct fuse_entry_param *e);

/* The folder operations (fs/ops_dir.c). */
void fs_ops_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi);
void fs_ops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi);
void fs_ops_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* Frees what open directories still hold once the session loop has ended. */
void fs_ops_dir_cleanup(void);

#endif
