/*
 * libFuzzer harness for the path parser (fs_path_parse in fs/fs.h): the
 * input, up to its first NUL, is a path of the mount. A parsed node must
 * name a directory kind, and a file only from that directory's table (or
 * a tasks/ symlink, or a logs/ container's file), a named one with its name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/tree.h"
#include "tests/fuzz/fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs_node node;
	char *path;

	if ((path = malloc(size + 1)) == NULL)
		abort();
	memcpy(path, data, size);
	path[size] = '\0';
	memset(&node, 0xa5, sizeof(node));
	if (fs_path_parse(NULL, path, &node) == 0) {
		if ((unsigned)node.dir >= FS_DIR_COUNT ||
		    (node.file != NULL && node.file != &fs_task_link && node.file != &fs_log_file &&
		    node.file != fs_dir_file(node.dir, node.file->name)) ||
		    ((node.file == &fs_task_link || node.file == &fs_log_file) &&
		    (node.link == NULL || *node.link == '\0')) ||
		    (node.file == &fs_log_file && node.dir != FS_TASK_LOGS) ||
		    (node.cluster != NULL && *node.cluster == '\0') ||
		    (node.name != NULL && *node.name == '\0')) {
			fprintf(stderr, "inconsistent node for \"%s\"\n", path);
			abort();
		}
	}
	fs_node_clear(&node);
	free(path);
	return 0;
}
