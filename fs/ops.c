/*
 * The FUSE operations. Each parses the path into a node, resolves it and
 * lets the node tables (fs/tree.c) say what it is; no operation knows a
 * file by name.
 *
 * Files are opened with direct_io: a read is served from the content
 * rendered at open(), so a reader that reads in several chunks sees one
 * version, while stat() reports the size of the current content.
 */
#define FUSE_USE_VERSION 312
#include "fs/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "ecs/xmalloc.h"
#include "fs/errmap.h"
#include "fs/fs.h"
#include "fs/log.h"
#include "fs/inval.h"
#include "fs/tree.h"
#include "fs/wait.h"
#include "fs/write.h"

/* Largest write a control file takes. */
#define FS_MAX_WRITE 4096

/* An open file: its content as rendered at open(), or a wait. */
struct fs_handle {
	struct buf		 content;	/* owned; read-only after open */
	struct fs_waiter	*waiter;	/* a wait file's, or NULL */
};

/* Logs a failure that is not a plain "does not exist". */
static void
log_failure(const char *op, const char *path, const struct fs_node *node, int rc)
{
	if (rc == -ENOENT || node->err.code == ECS_OK)
		return;
	fs_log_warn("%s %s: %s: %s%s%s", op, path, ecs_strerror(node->err.code),
	    node->err.aws_code, node->err.aws_code[0] ? ": " : "", node->err.message);
}

/* Parses and resolves path; returns 0 or a negative errno. */
static int
node_open(const char *op, const char *path, struct fs_node *node)
{
	int rc = fs_path_parse(fs_ctx_get(), path, node);

	if (rc == 0)
		rc = fs_node_resolve(node);
	if (rc != 0)
		log_failure(op, path, node, rc);
	return rc;
}

static void
fill_common(struct fs_ctx *ctx, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_uid = ctx->uid;
	st->st_gid = ctx->gid;
	st->st_atime = st->st_mtime = st->st_ctime = ctx->mount_time;
	st->st_blksize = 4096;
}

static int
op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fs_node node;
	struct buf content;
	int rc;

	(void)fi;
	if ((rc = node_open("getattr", path, &node)) != 0)
		goto out;
	fill_common(node.ctx, st);
	if (node.file == NULL) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		goto out;
	}
	buf_init(&content);
	rc = fs_node_render(&node, &content);
	st->st_size = (off_t)content.len;
	buf_free(&content);
	if (rc != 0) {
		log_failure("getattr", path, &node, rc);
		goto out;
	}
	st->st_nlink = 1;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mode = (node.file->flags & FS_F_SYMLINK) ? S_IFLNK | 0777 :
	    S_IFREG | node.file->mode;
out:
	fs_node_clear(&node);
	return rc;
}

/* Adds every string of a JSON array of names. */
static void
fill_names(void *buf, fuse_fill_dir_t filler, json_t *names)
{
	json_t *v;
	size_t i;

	json_array_foreach(names, i, v)
		filler(buf, json_string_value(v), NULL, 0, 0);
}

/* Adds a directory's fixed subfolders and its listed files. */
static void
fill_fixed(struct fs_node *node, void *buf, fuse_fill_dir_t filler)
{
	const struct fs_dir *d = &fs_dirs[node->dir];
	const struct fs_file *f;
	struct buf scratch;
	int i;

	for (i = 0; d->subdirs[i] != NULL; i++)
		filler(buf, d->subdirs[i], NULL, 0, 0);
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
		filler(buf, f->name, NULL, 0, 0);
	}
}

static int
op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fs_node node;
	json_t *names = NULL;
	int rc;

	(void)off;
	(void)fi;
	(void)flags;
	if ((rc = node_open("readdir", path, &node)) != 0)
		goto out;
	if (node.file != NULL) {
		rc = -ENOTDIR;
		goto out;
	}
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	switch (node.dir) {
	case FS_ROOT:
		filler(buf, FS_META_NAME, NULL, 0, 0);
		rc = ecs_store_list(node.ctx->store, ECS_KIND_CLUSTER, NULL, &names, &node.err);
		break;
	case FS_SERVICES:
	case FS_TASKS:
	case FS_INSTANCES:
		rc = ecs_store_list(node.ctx->store, fs_dirs[node.dir].obj_kind, node.cluster,
		    &names, &node.err);
		break;
	case FS_SERVICE_TASKS:
	case FS_INSTANCE_TASKS:
		rc = ecs_store_list_tasks_of(node.ctx->store, node.dir == FS_SERVICE_TASKS ?
		    ECS_KIND_SERVICE : ECS_KIND_INSTANCE, node.cluster, node.name, &names,
		    &node.err);
		break;
	default:
		fill_fixed(&node, buf, filler);
		break;
	}
	if (rc != 0) {
		rc = -fs_errno(node.err.code);
		log_failure("readdir", path, &node, rc);
		goto out;
	}
	fill_names(buf, filler, names);
out:
	json_decref(names);
	fs_node_clear(&node);
	return rc;
}

static int
op_open(const char *path, struct fuse_file_info *fi)
{
	struct fs_handle *h = NULL;
	struct fs_node node;
	int acc = fi->flags & O_ACCMODE, rc;

	if ((rc = node_open("open", path, &node)) != 0)
		goto out;
	if (node.file == NULL) {
		rc = -EISDIR;
		goto out;
	}
	if (acc != O_RDONLY && node.file->write == NULL) {
		rc = -EACCES;
		goto out;
	}
	h = xcalloc(1, sizeof(*h));
	buf_init(&h->content);
	if (node.file->flags & FS_F_STREAM) {
		if ((rc = fs_wait_open(&node, &h->waiter)) != 0) {
			log_failure("open", path, &node, rc);
			free(h);
			goto out;
		}
		fi->nonseekable = 1;
	} else if (acc != O_WRONLY && (rc = fs_node_render(&node, &h->content)) != 0) {
		log_failure("open", path, &node, rc);
		buf_free(&h->content);
		free(h);
		goto out;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	fi->keep_cache = 0;
out:
	fs_node_clear(&node);
	return rc;
}

static int
op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	(void)path;
	if (h->waiter != NULL)
		return fs_wait_read(h->waiter, buf, size);
	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= h->content.len)
		return 0;
	if (size > h->content.len - (size_t)off)
		size = h->content.len - (size_t)off;
	memcpy(buf, h->content.data + off, size);
	return (int)size;
}

static int
op_write(const char *path, const char *data, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fs_node node;
	int rc;

	if ((rc = fs_path_parse(fs_ctx_get(), path, &node)) != 0)
		return rc;
	if (node.file == NULL || node.file->write == NULL) {
		rc = -EACCES;
		goto out;
	}
	/*
	 * A write is one whole command: nothing at an offset, nothing huge.
	 * Appending (`echo 5 >> f`) is a command too; the kernel puts its
	 * offset at the end of the file.
	 */
	if (fi != NULL && (fi->flags & O_APPEND))
		off = 0;
	if (off != 0 || size > FS_MAX_WRITE) {
		fs_write_reject(&node, data, size, &node.err, off != 0 ?
		    "a write must start at offset 0 (one command per write)" :
		    "a write of a control file takes at most 4096 bytes");
		rc = -EINVAL;
		goto out;
	}
	if ((rc = fs_node_resolve(&node)) != 0) {
		log_failure("write", path, &node, rc);
		goto out;
	}
	if (node.file->write(&node, data, size, &node.err) != 0) {
		rc = -fs_errno(node.err.code);
		log_failure("write", path, &node, rc);
		goto out;
	}
	rc = (int)size;
out:
	fs_node_clear(&node);
	return rc;
}

/* Truncating a control file to 0 is what `echo x > f` does first: a no-op. */
static int
op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fs_node node;
	int rc;

	(void)fi;
	if ((rc = fs_path_parse(fs_ctx_get(), path, &node)) != 0)
		return rc;
	if (node.file == NULL)
		rc = -EISDIR;
	else if (node.file->write == NULL)
		rc = -EACCES;
	else if (size != 0)
		rc = -EINVAL;
	fs_node_clear(&node);
	return rc;
}

static int
op_release(const char *path, struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	(void)path;
	if (h != NULL) {
		if (h->waiter != NULL)
			fs_wait_close(h->waiter);
		buf_free(&h->content);
		free(h);
	}
	return 0;
}

static int
op_readlink(const char *path, char *buf, size_t size)
{
	struct fs_node node;
	struct buf target;
	int rc;

	if ((rc = node_open("readlink", path, &node)) != 0)
		goto out;
	if (node.file == NULL || !(node.file->flags & FS_F_SYMLINK)) {
		rc = -EINVAL;
		goto out;
	}
	buf_init(&target);
	if ((rc = fs_node_render(&node, &target)) == 0 && size > 0) {
		size_t n = target.len < size - 1 ? target.len : size - 1;

		memcpy(buf, target.data, n);
		buf[n] = '\0';
	}
	buf_free(&target);
out:
	fs_node_clear(&node);
	return rc;
}

static int
op_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_namemax = 255;
	return 0;
}

/* The tree's entries are ECS's: nothing is created, removed or renamed here. */
static int
op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EACCES;
}

static int
op_mkdir(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	return -EACCES;
}

static int
op_remove(const char *path)
{
	(void)path;
	return -EACCES;
}

static int
op_rename(const char *from, const char *to, unsigned int flags)
{
	(void)from;
	(void)to;
	(void)flags;
	return -EACCES;
}

static int
op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EPERM;
}

static int
op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)path;
	(void)uid;
	(void)gid;
	(void)fi;
	return -EPERM;
}

/* `touch` of an existing node succeeds and changes nothing. */
static int
op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct fs_node node;
	int rc;

	(void)tv;
	(void)fi;
	rc = node_open("utimens", path, &node);
	fs_node_clear(&node);
	return rc;
}

static void *
op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 1.0;
	cfg->use_ino = 0;
	fs_inval_start(fuse_get_context()->fuse);
	fs_wait_start(fuse_get_context()->private_data);
	return fuse_get_context()->private_data;
}

static void
op_destroy(void *private_data)
{
	(void)private_data;
	fs_wait_stop();
	fs_inval_stop();
}

const struct fuse_operations fs_operations = {
	.init = op_init,
	.destroy = op_destroy,
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.truncate = op_truncate,
	.release = op_release,
	.readlink = op_readlink,
	.statfs = op_statfs,
	.create = op_create,
	.mkdir = op_mkdir,
	.unlink = op_remove,
	.rmdir = op_remove,
	.rename = op_rename,
	.chmod = op_chmod,
	.chown = op_chown,
	.utimens = op_utimens,
};
