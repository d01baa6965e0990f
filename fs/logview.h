/*
 * Log files that grow as their stream does (fs/logview.c): each inode of
 * a log file holds a view, content that only grows, fed by the stream's
 * fetches (at most one GetLogEvents per cache_ttl per stream, on the
 * module's own threads).
 */
#ifndef FS_LOGVIEW_H
#define FS_LOGVIEW_H

#include <stdint.h>
#include <sys/stat.h>

#include "fs/fs.h"
#include "fs/req.h"

struct fs_logview;

/* What an access asks of a view (fs_logview_update). */
enum fs_logview_need {
	FS_LOGVIEW_PEEK,	/* a lookup: no call; waits a little for one in flight */
	FS_LOGVIEW_REFRESH,	/* a stat: a call when due, if the stream was read before */
	FS_LOGVIEW_LOAD,	/* a reader: a call when due, the first one included */
};

/* Starts the module (from the init handler). */
void fs_logview_start(struct fs_ctx *ctx);
/* Stops its threads; fetches still queued fail. Views may still be freed after. */
void fs_logview_stop(void);
/*
 * The inode of a resolved log file node at path for a lookup, counting
 * one: its current view when it is not full, else a new one, which
 * starts with the stream's latest events when they are held (else empty,
 * until it is read). Returns 0 with *ino and *v (valid until the kernel
 * forgets *ino), or a negative errno.
 */
int fs_logview_lookup(const char *path, struct fs_node *node, uint64_t *ino,
    struct fs_logview **v);
/* The view of inode ino, or NULL when ino is not a log file's. */
struct fs_logview *fs_logview_of(uint64_t ino);
/*
 * Brings v up to date as need says; waits for the fetch it asks for (or
 * finds in flight): a view with content at most a few seconds, then it is
 * served what it holds. Returns 0, or a negative errno when a first fetch
 * failed (EACCES, EIO, ...) or the caller is going away (EINTR).
 */
int fs_logview_update(struct fs_logview *v, enum fs_logview_need need);
/* Sets st's mode, size, blocks and times from v; the rest is the caller's. */
void fs_logview_attr(struct fs_logview *v, struct stat *st);
/* Answers a read of v at off: its content, EOF past it, EIO before what it still holds. */
void fs_logview_read(struct fs_logview *v, fuse_req_t req, size_t size, off_t off);
/* Frees a view (an inode's priv_free). */
void fs_logview_free(void *v);

#endif
