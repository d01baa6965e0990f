/*
 * The operations that change the tree's shape, all refused: the tree's
 * entries are ECS's, so nothing is created, removed, linked or renamed.
 */
#ifndef FS_REFUSE_H
#define FS_REFUSE_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

void fs_refuse_create(fuse_req_t, fuse_ino_t, const char *, mode_t, struct fuse_file_info *);
void fs_refuse_mknod(fuse_req_t, fuse_ino_t, const char *, mode_t, dev_t);
void fs_refuse_mkdir(fuse_req_t, fuse_ino_t, const char *, mode_t);
void fs_refuse_remove(fuse_req_t, fuse_ino_t, const char *);
void fs_refuse_symlink(fuse_req_t, const char *, fuse_ino_t, const char *);
void fs_refuse_link(fuse_req_t, fuse_ino_t, fuse_ino_t, const char *);
void fs_refuse_rename(fuse_req_t, fuse_ino_t, const char *, fuse_ino_t, const char *,
    unsigned int);

#endif
