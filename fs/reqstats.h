/*
 * Requests that reached the daemon, by kind: what the kernel did not
 * answer itself. Thread-safe.
 */
#ifndef FS_REQSTATS_H
#define FS_REQSTATS_H

#include "ecs/buf.h"

enum fs_req_kind { R_LOOKUP, R_GETATTR, R_READ, R_WRITE, R_READDIR, R_OTHER, R_COUNT };

void fs_reqstats_count(enum fs_req_kind k);
/* Appends "key value" lines: the requests by kind, inodes, late invalidations. */
void fs_reqstats_render(struct buf *out);
/* A write whose kernel invalidations did not finish in time. */
void fs_reqstats_late_inval(void);

#define COUNT(k) fs_reqstats_count(k)

#endif
