/*
 * Resolving and rendering nodes: whether a parsed path exists, which
 * object it shows, and its content. The cheapest store call that answers
 * is used: a listing when one is cached, a describe only when a file's
 * content is needed.
 */
#include "fs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "fs/errmap.h"
#include "fs/log.h"
#include "fs/logs.h"
#include "fs/tree.h"

/* The negative errno for the node's last error. */
static int
node_errno(struct fs_node *node)
{
	return -fs_errno(node->err.code);
}

/* Loads the object of the node's directory into node->obj. */
static int
load_obj(struct fs_node *node)
{
	int kind = fs_dirs[node->dir].obj_kind;
	const char *name = kind == ECS_KIND_CLUSTER ? node->cluster : node->name;

	if (node->obj != NULL)
		return 0;
	if (ecs_store_get(node->ctx->store, kind, node->cluster, name, &node->obj,
	    &node->err) != 0)
		return node_errno(node);
	return 0;
}

/* 0 for found (1), -ENOENT for not (0), the node's errno for a failure (-1). */
static int
found_rc(struct fs_node *node, int found)
{
	switch (found) {
	case 1:
		return 0;
	case 0:
		return -ENOENT;
	default:
		return node_errno(node);
	}
}

/* 0 when name of kind exists, -ENOENT when not, another -errno on failure. */
static int
exists(struct fs_node *node, enum ecs_kind kind, const char *name)
{
	return found_rc(node, ecs_store_exists(node->ctx->store, kind, node->cluster, name,
	    &node->err));
}

/* Whether the file's content comes from the directory's object. */
static int
needs_obj(const struct fs_node *node, const struct fs_file *f)
{
	return fs_dirs[node->dir].obj_kind >= 0 && f->render != NULL &&
	    !(f->flags & (FS_F_WRITEONLY | FS_F_STREAM)) && f != &fs_task_link;
}

/* Checks that node->link is among the tasks of the node's service or instance. */
static int
link_exists(struct fs_node *node, enum ecs_kind owner)
{
	json_t *ids, *v;
	size_t i;
	int rc = -ENOENT;

	if (ecs_store_list_tasks_of(node->ctx->store, owner, node->cluster, node->name, &ids,
	    &node->err) != 0)
		return node_errno(node);
	json_array_foreach(ids, i, v)
		if (strcmp(json_string_value(v), node->link) == 0)
			rc = 0;
	json_decref(ids);
	return rc;
}

/*
 * Loads the service's scalable target as the autoscaling folder's object:
 * the folder exists only where the service has one.
 */
static int
load_target(struct fs_node *node)
{
	int rc;

	if ((rc = exists(node, ECS_KIND_SERVICE, node->name)) != 0)
		return rc;
	json_decref(node->obj);
	node->obj = NULL;
	return found_rc(node, ecs_store_scalable_target(node->ctx->store, node->cluster,
	    node->name, &node->obj, &node->err));
}

/* Checks that node->link is an awslogs container of the node's task: costs no Logs call. */
static int
log_exists(struct fs_node *node)
{
	int rc;

	if ((rc = load_obj(node)) != 0)
		return rc;
	return found_rc(node, fs_logs_locate(node, NULL, &node->err));
}

int
fs_node_resolve(struct fs_node *node)
{
	enum ecs_kind kind;

	ecs_error_clear(&node->err);
	switch (node->dir) {
	case FS_ROOT:
	case FS_META:
		return 0;
	case FS_SERVICES:
	case FS_TASKS:
	case FS_INSTANCES:
		return exists(node, ECS_KIND_CLUSTER, node->cluster);
	case FS_SERVICE_TASKS:
	case FS_INSTANCE_TASKS:
		kind = node->dir == FS_SERVICE_TASKS ? ECS_KIND_SERVICE : ECS_KIND_INSTANCE;
		if (node->link != NULL)
			return link_exists(node, kind);
		return exists(node, kind, node->name);
	case FS_CLUSTER:
	case FS_SERVICE:
	case FS_TASK:
	case FS_INSTANCE:
		kind = fs_dirs[node->dir].obj_kind;
		if (node->file != NULL && needs_obj(node, node->file))
			return load_obj(node);
		return exists(node, kind, kind == ECS_KIND_CLUSTER ? node->cluster : node->name);
	case FS_SERVICE_AUTOSCALING:
		return load_target(node);
	case FS_TASK_LOGS:
		if (node->file == NULL)
			return exists(node, ECS_KIND_TASK, node->name);
		return log_exists(node);
	case FS_DIR_COUNT:
		break;
	}
	return -ENOENT;
}

int
fs_node_render(struct fs_node *node, struct buf *out)
{
	const struct fs_file *f = node->file;
	int rc;

	if (f == NULL || f->render == NULL || (f->flags & (FS_F_WRITEONLY | FS_F_STREAM)))
		return 0;
	if (needs_obj(node, f) && (rc = load_obj(node)) != 0)
		return rc;
	if (f->render(node, out, &node->err) != 0)
		return node_errno(node);
	return 0;
}

/* Adds a directory's fixed subfolders and its listed files. */
static void
list_fixed(struct fs_node *node, fs_list_fn add, void *arg)
{
	const struct fs_dir *d = &fs_dirs[node->dir];
	const struct fs_file *f;
	struct buf scratch;
	int i;

	for (i = 0; d->subdirs[i] != NULL; i++)
		add(arg, d->subdirs[i], DT_DIR);
	for (f = d->files; f != NULL && f->name != NULL; f++) {
		if (f->flags & FS_F_UNLISTED)
			continue;
		if (f->flags & FS_F_SYMLINK) {
			/* A symlink is listed only where it points somewhere. */
			node->file = f;
			buf_init(&scratch);
			i = fs_node_render(node, &scratch);
			buf_free(&scratch);
			node->file = NULL;
			if (i != 0)
				continue;
		}
		add(arg, f->name, (f->flags & FS_F_SYMLINK) ? DT_LNK : DT_REG);
	}
}

/*
 * Adds the subfolders of fs_subdirs that the node's object has: those
 * that resolve. One that cannot be told is left out, and logged.
 */
static void
list_subdirs(struct fs_node *node, fs_list_fn add, void *arg)
{
	struct fs_node sub;
	size_t i;
	int rc;

	for (i = 0; fs_subdirs[i].name != NULL; i++) {
		if (fs_subdirs[i].parent != node->dir)
			continue;
		/* The strings stay in node's storage, which outlives sub. */
		sub = *node;
		sub.dir = fs_subdirs[i].dir;
		sub.file = NULL;
		sub.obj = NULL;
		if ((rc = fs_node_resolve(&sub)) == 0)
			add(arg, fs_subdirs[i].name, DT_DIR);
		else if (rc != -ENOENT)
			fs_log_info("%s: %s/%s: %s left out: %s", __func__, node->cluster,
			    node->name, fs_subdirs[i].name, sub.err.message);
		fs_node_clear(&sub);
	}
}

int
fs_node_list(struct fs_node *node, fs_list_fn add, void *arg)
{
	json_t *names = NULL, *v;
	int rc = 0, type = DT_DIR;
	size_t i;

	switch (node->dir) {
	case FS_ROOT:
		add(arg, FS_META_NAME, DT_DIR);
		rc = ecs_store_list(node->ctx->store, ECS_KIND_CLUSTER, NULL, &names, &node->err);
		break;
	case FS_SERVICES:
	case FS_TASKS:
	case FS_INSTANCES:
		rc = ecs_store_list(node->ctx->store, fs_dirs[node->dir].obj_kind, node->cluster,
		    &names, &node->err);
		break;
	case FS_SERVICE_TASKS:
	case FS_INSTANCE_TASKS:
		type = DT_LNK;
		rc = ecs_store_list_tasks_of(node->ctx->store, node->dir == FS_SERVICE_TASKS ?
		    ECS_KIND_SERVICE : ECS_KIND_INSTANCE, node->cluster, node->name, &names,
		    &node->err);
		break;
	case FS_TASK_LOGS:
		if ((rc = load_obj(node)) == 0 &&
		    fs_logs_list(node, add, arg, &node->err) != 0)
			rc = node_errno(node);
		return rc;
	default:
		list_fixed(node, add, arg);
		list_subdirs(node, add, arg);
		break;
	}
	if (rc != 0) {
		rc = -fs_errno(node->err.code);
	} else {
		json_array_foreach(names, i, v)
			if (json_string_value(v) != NULL)
				add(arg, json_string_value(v), type);
	}
	json_decref(names);
	return rc;
}
