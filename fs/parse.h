/*
 * The control files' input parsers (fs/parse.c): pure functions of the
 * bytes written, with no I/O and no store access, so that they can be
 * unit-tested and fuzzed on their own.
 */
#ifndef FS_PARSE_H
#define FS_PARSE_H

#include <stddef.h>

/* ECS's limit on a task-definition family, and more than any task-definition ARN. */
#define FS_PARSE_FAMILY_MAX	255
#define FS_PARSE_TD_MAX		512

/* ECS's limit on a StopTask reason, in characters. */
#define FS_PARSE_STOP_REASON_MAX 255

/* Drops one trailing newline, as echo adds. */
size_t fs_parse_chomp(const char *data, size_t len);
/* 1 when data is valid UTF-8 with no control character but tab. */
int fs_parse_is_text(const char *data, size_t len);
/* "N", "+N", "-N" (one trailing newline allowed), 0..2147483647: 0 with *sign (-1, 0, +1) and *value, or -1. */
int fs_parse_count(const char *data, size_t len, int *sign, long long *value);
/* A StopTask reason: 1 to 255 characters (code points, not bytes) of text on one line: 0 with *reason_len (bytes, newline dropped), or -1. */
int fs_parse_stop_reason(const char *data, size_t len, size_t *reason_len);
/* "ACTIVE" or "DRAINING": the constant string, or NULL. */
const char *fs_parse_instance_status(const char *data, size_t len);
/* "0" or "1": 0 with *on, or -1. */
int fs_parse_flag(const char *data, size_t len, int *on);
/* "true" or "false" (one trailing newline allowed): 0 with *on, or -1. */
int fs_parse_bool(const char *data, size_t len, int *on);
/*
 * A task definition as UpdateService takes it: "family:revision", a family
 * (1 to 255 letters, digits, '-', '_'; revision 1..2147483647, no leading
 * zero) or arn:PARTITION:ecs:REGION:ACCOUNT(12 digits):task-definition/
 * family:revision. 0 with *name_len (bytes, the newline dropped), or -1.
 */
int fs_parse_task_definition(const char *data, size_t len, size_t *name_len);

#endif
