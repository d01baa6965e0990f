/*
 * The inode table: the path is a node's identity, and each path the
 * kernel has looked up gets an inode number until the kernel forgets it.
 * The root is FUSE_ROOT_ID ("/"). Thread-safe.
 */
#ifndef FS_INO_H
#define FS_INO_H

#include <stddef.h>
#include <stdint.h>

void fs_ino_init(void);
void fs_ino_free(void);
/* The inode of path ("/a/b"), created when new; counts one lookup. */
uint64_t fs_ino_ref(const char *path);
/* Drops n lookups of ino; the inode goes when none is left (never the root). */
void fs_ino_forget(uint64_t ino, uint64_t n);
/* A copy of ino's path (the caller frees it), or NULL for an unknown inode. */
char *fs_ino_path(uint64_t ino);
/* The inode of path when the kernel knows it, else 0. */
uint64_t fs_ino_find(const char *path);
/*
 * The inodes whose path starts with prefix, as a new array the caller
 * frees; *n is set to their count.
 */
uint64_t *fs_ino_under(const char *prefix, size_t *n);
/* How many inodes the kernel holds. */
size_t fs_ino_count(void);

#endif
