/*
 * The command front end: `ecsfs ls|cat|tee PATH...` over the same node
 * tables, store, validation, dry run and journal as the mount, for hosts
 * without FUSE (fs/cmd.c).
 */
#ifndef FS_CMD_H
#define FS_CMD_H

#include "fs/fs.h"

/* The index in argv of a command verb (ls, cat, tee), or -1 for a mount. */
int fs_cmd_verb(int argc, char *argv[]);
/* Runs the command of argv; returns the exit status. */
int fs_cmd_main(int argc, char *argv[]);

/*
 * fs/main.c: loads configuration and credentials (printing the error),
 * builds the client and store and opens the journal file. Returns 0 or -1.
 */
int fs_ctx_setup(struct fs_ctx *ctx);
/* Frees what fs_ctx_setup() made; the options stay. */
void fs_ctx_teardown(struct fs_ctx *ctx);

#endif
