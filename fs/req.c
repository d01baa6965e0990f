/*
 * The request each thread serves (a thread-local pointer), the caller's
 * pending signals read from /proc, and the daemon's stopping flag.
 */
#include "fs/req.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/clock.h"

/* How often an interrupted caller's signals are read again. */
#define RECHECK_MS 50

static _Thread_local fuse_req_t cur_req;
static _Thread_local int cur_gone;		/* the caller was seen going away */
static _Thread_local uint64_t cur_checked;	/* when its signals were last read */
static atomic_int stopping;

void
fs_req_begin(fuse_req_t req)
{
	cur_req = req;
	cur_gone = 0;
	cur_checked = 0;
}

void
fs_req_end(void)
{
	cur_req = NULL;
}

void
fs_req_caller(struct fs_caller *out)
{
	const struct fuse_ctx *fc = cur_req != NULL ? fuse_req_ctx(cur_req) : NULL;

	memset(out, 0, sizeof(*out));
	if (fc != NULL) {
		out->uid = fc->uid;
		out->gid = fc->gid;
		out->pid = fc->pid;
	}
}

/* Parses the hex mask after "Name:" in a /proc status line. */
static uint64_t
mask_of(const char *line)
{
	const char *p = strchr(line, ':');

	return p != NULL ? strtoull(p + 1, NULL, 16) : 0;
}

/* Signals whose default action neither ends nor stops a process. */
static const uint64_t informational =
    (1ULL << (SIGCHLD - 1)) | (1ULL << (SIGWINCH - 1)) | (1ULL << (SIGURG - 1)) |
    (1ULL << (SIGCONT - 1));
/* Signals whose default action stops the process (not fatal). */
static const uint64_t stopping_sigs =
    (1ULL << (SIGSTOP - 1)) | (1ULL << (SIGTSTP - 1)) | (1ULL << (SIGTTIN - 1)) |
    (1ULL << (SIGTTOU - 1));

enum fs_pending
fs_signals_check(pid_t tid)
{
	uint64_t pnd = 0, shd = 0, blk = 0, ign = 0, cgt = 0, pending;
	char path[64], line[256];
	int zombie = 0;
	FILE *f;

	if (tid <= 0)
		return FS_PENDING_NONE;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return FS_PENDING_FATAL;	/* the caller is gone */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "SigPnd:", 7) == 0)
			pnd = mask_of(line);
		else if (strncmp(line, "ShdPnd:", 7) == 0)
			shd = mask_of(line);
		else if (strncmp(line, "SigBlk:", 7) == 0)
			blk = mask_of(line);
		else if (strncmp(line, "SigIgn:", 7) == 0)
			ign = mask_of(line);
		else if (strncmp(line, "SigCgt:", 7) == 0)
			cgt = mask_of(line);
		else if (strncmp(line, "State:", 6) == 0)
			zombie = strchr(line, 'Z') != NULL || strchr(line, 'X') != NULL;
	}
	fclose(f);
	if (zombie)
		return FS_PENDING_FATAL;
	pending = (pnd | shd) & ~blk;
	/* The kernel marks a fatal delivery with SIGKILL in every thread. */
	if (pending & (1ULL << (SIGKILL - 1)))
		return FS_PENDING_FATAL;
	if (pending & ~cgt & ~ign & ~informational & ~stopping_sigs)
		return FS_PENDING_FATAL;
	if (pending & ~informational & ~ign)
		return FS_PENDING_SIGNAL;
	return FS_PENDING_NONE;
}

int
fs_req_going_away(void)
{
	uint64_t now;

	if (atomic_load(&stopping))
		return 1;
	if (cur_req == NULL)
		return 0;
	if (cur_gone)
		return 1;
	if (!fuse_req_interrupted(cur_req))
		return 0;
	now = (uint64_t)ecs_now_ms();
	if (cur_checked != 0 && now - cur_checked < RECHECK_MS)
		return 0;
	cur_checked = now;
	cur_gone = fs_signals_check(fuse_req_ctx(cur_req)->pid) == FS_PENDING_FATAL;
	return cur_gone;
}

void
fs_req_shutdown(void)
{
	atomic_store(&stopping, 1);
}

int
fs_req_stopping(void)
{
	return atomic_load(&stopping);
}
