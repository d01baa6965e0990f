/*
 * The inode table. The path is a node's identity, and each path the
 * kernel has looked up has an inode number until the kernel forgets it.
 * Folders have one inode per path. A file has one inode per version of
 * its content: the inode keeps that version (a snapshot), so a reader
 * that has the file open keeps reading the version it opened from the
 * kernel's page cache, and a change shows as a new inode at the next
 * lookup. A wait file gets a private inode at every lookup, holding its
 * waiter; a log file, one per view of its growing content. The root is FUSE_ROOT_ID ("/"). Thread-safe.
 */
#ifndef FS_INO_H
#define FS_INO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One version of a file's content; shared, reference-counted. */
struct fs_snap {
	unsigned	 refs;		/* protected by the table's lock */
	struct timespec	 mtime;		/* when this version was first seen */
	size_t		 len;
	char		 data[];
};

void fs_ino_init(void);
void fs_ino_free(void);
/* The inode of the folder at path ("/a/b"), created when new; counts one lookup. */
uint64_t fs_ino_ref(const char *path);
/*
 * The inode of the file at path with content data: the current one when
 * its content is the same, else a new one that becomes current. Counts
 * one lookup. *snap (optional) is a new reference to the inode's snapshot.
 */
uint64_t fs_ino_ref_file(const char *path, const char *data, size_t len,
    struct fs_snap **snap);
/*
 * A new private inode for path (never current, never found by path),
 * holding priv, which priv_free releases when the kernel forgets it.
 * Counts one lookup.
 */
uint64_t fs_ino_new_private(const char *path, void *priv, void (*priv_free)(void *));
/*
 * A growing file (fs/logview.c) has one inode per view of its content,
 * holding the view as its priv: current for its path like a file version,
 * so that later lookups find it, until it is retired.
 *
 * The priv of path's current inode when priv_free is what frees it:
 * counts one lookup and sets *ino; else NULL.
 */
void *fs_ino_ref_priv(const char *path, void (*priv_free)(void *), uint64_t *ino);
/* A new inode holding priv that becomes path's current one. Counts one lookup. */
uint64_t fs_ino_new_current(const char *path, void *priv, void (*priv_free)(void *));
/*
 * Takes ino out of its path's place: the next lookup of the path makes a
 * new inode. For a file just written, whose pages in the kernel may hold
 * what the writer wrote, and for a growing file's view that is full.
 */
void fs_ino_retire(uint64_t ino);
/* Drops n lookups of ino; the inode goes when none is left (never the root). */
void fs_ino_forget(uint64_t ino, uint64_t n);
/* A copy of ino's path (the caller frees it), or NULL for an unknown inode. */
char *fs_ino_path(uint64_t ino);
/* A new reference to a file inode's snapshot, or NULL. */
struct fs_snap *fs_ino_snap(uint64_t ino);
/* A private inode's priv, or NULL. Valid until the kernel forgets the inode. */
void *fs_ino_priv(uint64_t ino);
/* ino's priv when priv_free is what frees it (its kind), else NULL. */
void *fs_ino_priv_as(uint64_t ino, void (*priv_free)(void *));
/* The current inode of path when the kernel knows it, else 0. */
uint64_t fs_ino_find(const char *path);
/*
 * The paths of the current file inodes whose path starts with prefix, as a new
 * NULL-terminated array the caller frees (each string and the array).
 */
char **fs_ino_paths_under(const char *prefix);
/* How many inodes the kernel holds. */
size_t fs_ino_count(void);

void fs_snap_unref(struct fs_snap *s);

#endif
