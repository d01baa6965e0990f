/*
 * Container logs in the tree (tasks/T/logs/CONTAINER): which containers
 * of a task log with the awslogs driver to a stream whose name can be
 * known, and their CloudWatch Logs events as lines of text. The files
 * that follow a stream as it grows are fs/logview.h's.
 */
#ifndef FS_LOGS_H
#define FS_LOGS_H

#include <jansson.h>

#include "ecs/buf.h"
#include "ecs/err.h"
#include "fs/fs.h"

/* Where a container's events are. */
struct fs_log_loc {
	char	group[520];	/* awslogs-group (at most 512 characters) */
	char	stream[1024];	/* PREFIX/CONTAINER/TASK_ID */
};

/* The events a log file starts with: -o log_lines, 1000 when unset, at most 10000. */
long fs_logs_lines(const struct fs_ctx *ctx);
/*
 * The stream of container node->link of the task node->obj (loaded),
 * from the task's task definition: 1 with *loc (loc may be NULL); 0 when the container does
 * not log with awslogs to a stream we can name (no awslogs-stream-prefix,
 * another region) or does not exist; -1 with err when the task definition
 * could not be read.
 */
int fs_logs_locate(const struct fs_node *node, struct fs_log_loc *loc, struct ecs_error *err);
/*
 * Hands the awslogs containers of the task node->obj (loaded) to add, as
 * files, in the task definition's order. Returns 0 or -1 with err.
 */
int fs_logs_list(const struct fs_node *node, fs_list_fn add, void *arg, struct ecs_error *err);
/*
 * Appends one event ({timestamp, message}) as "TIME MESSAGE\n", TIME in
 * ISO 8601 UTC with milliseconds; a message's own final newline is not
 * doubled, newlines inside it are kept.
 */
void fs_logs_format(json_t *event, struct buf *out);
/* A log file's content for the commands: its latest events, one GetLogEvents. */
int fs_render_log(const struct fs_node *, struct buf *, struct ecs_error *);

#endif
