/* The write functions of the control files (fs/write.c). */
#ifndef FS_WRITE_H
#define FS_WRITE_H

#include "fs/fs.h"

int fs_write_desired_count(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_restart(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_stop(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_dry_run(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_instance_status(const struct fs_node *, const char *, size_t, struct ecs_error *);
/* Journals a write refused before parsing (at an offset, too large) and sets err. */
int fs_write_reject(const struct fs_node *, const char *, size_t, struct ecs_error *,
    const char *why);

#endif
