/*
 * The journal: one line per mutation attempted through the mount, kept in
 * memory for .ecsfs/journal (the latest FS_JOURNAL_MAX lines) and logged
 * (syslog, or stderr in the foreground). Never holds a secret.
 */
#ifndef FS_JOURNAL_H
#define FS_JOURNAL_H

#include "ecs/buf.h"
#include "ecs/err.h"

#define FS_JOURNAL_MAX 10000

/* What one mutation was. Strings are borrowed for the call. */
struct fs_journal_entry {
	const char	*op;		/* "UpdateService" */
	const char	*target;	/* "production-cluster/services/api" */
	const char	*field;		/* "desired_count" */
	const char	*old_value;	/* may be NULL */
	const char	*new_value;	/* may be NULL */
	const char	*result;	/* "ok", "dry-run", "invalid", or an AWS error code */
	const struct ecs_error *err;	/* request id and message; may be NULL */
};

void fs_journal_init(void);
/*
 * Appends every later line to the file at path too (-o journal=FILE):
 * created 0600, opened O_APPEND, one write(2) per line. Returns 0 or a
 * negative errno.
 */
int fs_journal_open(const char *path);
void fs_journal_free(void);
/* Records e with the calling process (uid, pid, command name) of the FUSE request. */
void fs_journal_add(const struct fs_journal_entry *e);
/* Appends every kept line to out. */
void fs_journal_render(struct buf *out);

#endif
