/*
 * The write functions of the control files: fs/write.c, task_definition
 * and rollback in fs/write_deploy.c, autoscaling/ in fs/write_aas.c.
 */
#ifndef FS_WRITE_H
#define FS_WRITE_H

#include "fs/fs.h"

int fs_write_desired_count(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_restart(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_stop(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_dry_run(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_instance_status(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_task_definition(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_rollback(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_min_capacity(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_max_capacity(const struct fs_node *, const char *, size_t, struct ecs_error *);
int fs_write_suspended(const struct fs_node *, const char *, size_t, struct ecs_error *);
/* Journals a write refused before parsing (at an offset, too large) and sets err. */
int fs_write_reject(const struct fs_node *, const char *, size_t, struct ecs_error *,
    const char *why);

#endif
