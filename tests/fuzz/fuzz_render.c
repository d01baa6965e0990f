/*
 * libFuzzer harness for the render path of every file kind that shows an
 * object (fs/tree.c fs_dirs[]): the input, parsed as JSON the way the
 * store parses a described object, becomes node->obj of each directory
 * kind that has one, and every renderer of that directory's file table
 * runs on it, as do the tasks/ symlinks. No store or network is needed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ecs/buf.h"
#include "fs/fs.h"
#include "fs/tree.h"
#include "tests/fuzz/fuzz_util.h"

/* Renders f of dir with obj as node->obj. */
static void
render(enum fs_dir_kind dir, const struct fs_file *f, json_t *obj)
{
	struct fs_node node;
	struct buf out;

	memset(&node, 0, sizeof(node));
	node.dir = dir;
	node.file = f;
	node.cluster = "production-cluster";
	node.name = "0123456789abcdef0123456789abcdef";
	node.link = "fedcba9876543210fedcba9876543210";
	node.obj = obj;
	ecs_error_clear(&node.err);
	buf_init(&out);
	if (f->render(&node, &out, &node.err) == 0 && out.data != NULL &&
	    strlen(out.data) > out.len) {
		fprintf(stderr, "%s: buffer length is wrong\n", f->name);
		abort();
	}
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fs_file *f;
	json_t *obj;
	int dir;

	/* As ecs/store_value.c loads a cached object. */
	if ((obj = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	for (dir = 0; dir < FS_DIR_COUNT; dir++) {
		if (fs_dirs[dir].obj_kind < 0 || fs_dirs[dir].files == NULL)
			continue;
		for (f = fs_dirs[dir].files; f->name != NULL; f++)
			if (f->render != NULL && !(f->flags & (FS_F_WRITEONLY | FS_F_STREAM)))
				render((enum fs_dir_kind)dir, f, obj);
	}
	render(FS_SERVICE_TASKS, &fs_task_link, obj);
	render(FS_INSTANCE_TASKS, &fs_task_link, obj);
	json_decref(obj);
	return 0;
}
