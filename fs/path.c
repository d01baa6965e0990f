/*
 * Path parsing: a path of the mount becomes a struct fs_node. The shape of
 * the tree is in fs_dirs (fs/tree.c); this file only walks it.
 */
#include "fs/fs.h"

#include <errno.h>
#include <string.h>

#include "fs/parse.h"
#include "fs/tree.h"

#define MAX_DEPTH 6

static struct fs_ctx *the_ctx;	/* set once before the session starts */

/* Splits path into at most MAX_DEPTH components stored in node->store. */
static int
split(struct fs_node *node, const char *path, char **comps)
{
	size_t len = strlen(path);
	char *p, *save = NULL;
	int n = 0;

	if (len >= sizeof(node->store))
		return -ENAMETOOLONG;
	memcpy(node->store, path, len + 1);
	for (p = strtok_r(node->store, "/", &save); p != NULL; p = strtok_r(NULL, "/", &save)) {
		if (n == MAX_DEPTH || strcmp(p, ".") == 0 || strcmp(p, "..") == 0 ||
		    !fs_parse_is_text(p, strlen(p)))
			return -ENOENT;
		comps[n++] = p;
	}
	return n;
}

/* The folder of objects kind under a cluster, and the kind of each object. */
static const struct {
	const char		*name;
	enum fs_dir_kind	 collection;
	enum fs_dir_kind	 object;
	enum fs_dir_kind	 tasks;		/* its tasks/ folder, or FS_DIR_COUNT */
} collections[] = {
	{ "services", FS_SERVICES, FS_SERVICE, FS_SERVICE_TASKS },
	{ "tasks", FS_TASKS, FS_TASK, FS_DIR_COUNT },
	{ "container_instances", FS_INSTANCES, FS_INSTANCE, FS_INSTANCE_TASKS },
};

/* Sets node->file to name's entry in dir, or fails. */
static int
file_in(struct fs_node *node, enum fs_dir_kind dir, const char *name)
{
	node->dir = dir;
	node->file = fs_dir_file(dir, name);
	return node->file ? 0 : -ENOENT;
}

int
fs_path_parse(struct fs_ctx *ctx, const char *path, struct fs_node *node)
{
	char *c[MAX_DEPTH];
	size_t i, j;
	int n;

	memset(node, 0, offsetof(struct fs_node, store));
	node->ctx = ctx;
	if ((n = split(node, path, c)) < 0)
		return n;
	node->dir = FS_ROOT;
	if (n == 0)
		return 0;
	if (strcmp(c[0], FS_META_NAME) == 0) {
		node->dir = FS_META;
		if (n == 1)
			return 0;
		return n == 2 ? file_in(node, FS_META, c[1]) : -ENOENT;
	}
	node->cluster = c[0];
	node->dir = FS_CLUSTER;
	if (n == 1)
		return 0;
	for (i = 0; i < sizeof(collections) / sizeof(collections[0]); i++)
		if (strcmp(c[1], collections[i].name) == 0)
			break;
	if (i == sizeof(collections) / sizeof(collections[0]))
		return n == 2 ? file_in(node, FS_CLUSTER, c[1]) : -ENOENT;
	node->dir = collections[i].collection;
	if (n == 2)
		return 0;
	node->name = c[2];
	node->dir = collections[i].object;
	if (n == 3)
		return 0;
	if (strcmp(c[3], "tasks") == 0 && collections[i].tasks != FS_DIR_COUNT) {
		node->dir = collections[i].tasks;
		if (n == 4)
			return 0;
		if (n > 5)
			return -ENOENT;
		node->link = c[4];
		node->file = &fs_task_link;
		return 0;
	}
	if (strcmp(c[3], "logs") == 0 && collections[i].object == FS_TASK) {
		node->dir = FS_TASK_LOGS;
		if (n == 4)
			return 0;
		if (n > 5)
			return -ENOENT;
		node->link = c[4];	/* the container */
		node->file = &fs_log_file;
		return 0;
	}
	for (j = 0; fs_subdirs[j].name != NULL; j++)
		if (fs_subdirs[j].parent == node->dir && strcmp(c[3], fs_subdirs[j].name) == 0) {
			node->dir = fs_subdirs[j].dir;
			return n == 4 ? 0 : n == 5 ? file_in(node, node->dir, c[4]) : -ENOENT;
		}
	return n == 4 ? file_in(node, collections[i].object, c[3]) : -ENOENT;
}

void
fs_node_clear(struct fs_node *node)
{
	json_decref(node->obj);
	node->obj = NULL;
}

void
fs_ctx_set(struct fs_ctx *ctx)
{
	the_ctx = ctx;
}

struct fs_ctx *
fs_ctx_get(void)
{
	return the_ctx;
}
