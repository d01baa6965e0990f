/*
 * Container logs in the tree: a task's logs/ folder lists the containers
 * of its task definition that log with the awslogs driver, and each
 * file's stream is PREFIX/CONTAINER/TASK_ID of the container's
 * awslogs-group, as the ECS agent names it. A container without
 * awslogs-stream-prefix has a stream named by the agent's own id, which
 * nothing in the task says: it has no file; nor has one whose
 * awslogs-region is not the mount's, since the mount's Logs endpoint
 * cannot read it. The task definition comes from the store's cache (one
 * DescribeTaskDefinition per revision), so listing and looking up cost no
 * Logs call.
 */
#include "fs/logs.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "ecs/api.h"
#include "fs/tree.h"

/* GetLogEvents' largest page. */
#define LOGS_MAX_LIMIT	10000
#define LOGS_DEFAULT	1000

long
fs_logs_lines(const struct fs_ctx *ctx)
{
	long n = ctx->opts.log_lines;

	if (n <= 0)
		return LOGS_DEFAULT;
	return n > LOGS_MAX_LIMIT ? LOGS_MAX_LIMIT : n;
}

/* An awslogs option of a container definition (borrowed), or NULL when empty. */
static const char *
log_option(json_t *cdef, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(json_object_get(cdef,
	    "logConfiguration"), "options"), key));

	return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * The stream of one container definition of task task_id: 1 with *loc
 * (when loc is not NULL) when it has one that this mount can read, else 0.
 */
static int
container_stream(const struct fs_ctx *ctx, json_t *cdef, const char *task_id,
    struct fs_log_loc *loc)
{
	const char *driver = json_string_value(json_object_get(json_object_get(cdef,
	    "logConfiguration"), "logDriver"));
	const char *name = json_string_value(json_object_get(cdef, "name"));
	const char *group = log_option(cdef, "awslogs-group");
	const char *prefix = log_option(cdef, "awslogs-stream-prefix");
	const char *region = log_option(cdef, "awslogs-region");
	struct fs_log_loc scratch;
	int n;

	if (driver == NULL || strcmp(driver, "awslogs") != 0 || name == NULL || group == NULL ||
	    prefix == NULL)
		return 0;
	/* A name that cannot be a file name has no file. */
	if (*name == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	if (region != NULL && ctx->cfg.region != NULL && strcmp(region, ctx->cfg.region) != 0)
		return 0;
	if (loc == NULL)
		loc = &scratch;
	n = snprintf(loc->group, sizeof(loc->group), "%s", group);
	if (n < 0 || (size_t)n >= sizeof(loc->group))
		return 0;
	n = snprintf(loc->stream, sizeof(loc->stream), "%s/%s/%s", prefix, name, task_id);
	return n >= 0 && (size_t)n < sizeof(loc->stream);
}

/* The task definition of the task node->obj, as a new reference; NULL with err. */
static json_t *
task_definition(const struct fs_node *node, struct ecs_error *err)
{
	const char *arn = json_string_value(json_object_get(node->obj, "taskDefinitionArn"));
	json_t *td;

	if (arn == NULL) {
		ecs_error_set(err, ECS_E_NOTFOUND, "%s: the task names no task definition",
		    node->name);
		return NULL;
	}
	if (ecs_store_task_definition(node->ctx->store, arn, &td, err) != 0)
		return NULL;
	return td;
}

/*
 * Whether err says the task definition is not there to read (ECS answers
 * a revision it no longer has with ClientException): then no container
 * has a stream to show. Clears err when so.
 */
static int
td_gone(struct ecs_error *err)
{
	if (err->code != ECS_E_NOTFOUND && err->code != ECS_E_INVALID)
		return 0;
	ecs_error_clear(err);
	return 1;
}

int
fs_logs_locate(const struct fs_node *node, struct fs_log_loc *loc, struct ecs_error *err)
{
	json_t *td, *cdef;
	size_t i;
	int found = 0;

	if ((td = task_definition(node, err)) == NULL)
		return td_gone(err) ? 0 : -1;
	json_array_foreach(json_object_get(td, "containerDefinitions"), i, cdef) {
		const char *name = json_string_value(json_object_get(cdef, "name"));

		if (name != NULL && node->link != NULL && strcmp(name, node->link) == 0) {
			found = container_stream(node->ctx, cdef, node->name, loc);
			break;
		}
	}
	json_decref(td);
	return found;
}

int
fs_logs_list(const struct fs_node *node, fs_list_fn add, void *arg, struct ecs_error *err)
{
	json_t *td, *cdef;
	size_t i;

	if ((td = task_definition(node, err)) == NULL)
		return td_gone(err) ? 0 : -1;
	json_array_foreach(json_object_get(td, "containerDefinitions"), i, cdef)
		if (container_stream(node->ctx, cdef, node->name, NULL))
			add(arg, json_string_value(json_object_get(cdef, "name")), DT_REG);
	json_decref(td);
	return 0;
}

void
fs_logs_format(json_t *event, struct buf *out)
{
	json_t *msg = json_object_get(event, "message");
	const char *text = json_string_value(msg);
	size_t len = json_string_length(msg);

	fs_format_date_ms(json_object_get(event, "timestamp"), out);
	buf_addc(out, ' ');
	if (text != NULL)
		buf_add(out, text, len);
	if (text == NULL || len == 0 || text[len - 1] != '\n')
		buf_addc(out, '\n');
}

int
fs_render_log(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	struct fs_log_loc loc;
	json_t *events, *ev;
	size_t i;

	switch (fs_logs_locate(n, &loc, err)) {
	case 1:
		break;
	case 0:
		ecs_error_set(err, ECS_E_NOTFOUND, "%s: no awslogs stream", n->link);
		return -1;
	default:
		return -1;
	}
	if (ecs_logs_get_events(n->ctx->client, loc.group, loc.stream, fs_logs_lines(n->ctx),
	    NULL, &events, NULL, err) != 0) {
		/* A stream the container has not written to yet is empty. */
		if (err->code != ECS_E_NOTFOUND)
			return -1;
		ecs_error_clear(err);
		return 0;
	}
	json_array_foreach(events, i, ev)
		fs_logs_format(ev, out);
	json_decref(events);
	return 0;
}
