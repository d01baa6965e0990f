/*
 * The FUSE operations, on the low-level API. Each turns its inode into a
 * path (fs/ino.c), parses and resolves it into a node and lets the node
 * tables (fs/tree.c) say what it is; no operation knows a file by name.
 *
 * Opens cost nothing: open is answered ENOSYS, so the kernel opens every
 * file without asking (no-open), and reads come from its page cache. A
 * file's content is rendered at lookup into a snapshot on an inode of its
 * own (fs/ino.h): reads are served from that snapshot, its size is exact,
 * a reader that reads in chunks sees one version, and a new version is a
 * new inode, which the next lookup finds. Entries and attributes stay
 * valid ENTRY_TIMEOUT; a write, or a refresh, has the kernel drop the
 * entries it changed before it returns. A wait file blocks in getattr,
 * answered by the poller (fs/wait.c), not by a thread held here. A log
 * file grows: its inode holds a view (fs/logview.c) whose attributes are
 * asked for at every stat and every read past its end. Folders are
 * listed by fs/ops_dir.c. Every handler marks its request as the
 * thread's own (fs/req.h) while it works, so that a call it makes gives
 * up only when its caller is going away.
 */
#include "fs/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/statvfs.h>

#include "ecs/xmalloc.h"
#include "fs/errmap.h"
#include "fs/fs.h"
#include "fs/ino.h"
#include "fs/initfix.h"
#include "fs/inval.h"
#include "fs/log.h"
#include "fs/logview.h"
#include "fs/ops_int.h"
#include "fs/refuse.h"
#include "fs/reqstats.h"
#include "fs/req.h"
#include "fs/tree.h"
#include "fs/wait.h"
#include "fs/write.h"

/* Largest write a control file takes. */
#define FS_MAX_WRITE 4096
/* How long a write waits for the kernel to drop what it changed. */
#define INVAL_WAIT_MS 1000

void
fs_ops_cleanup(void)
{
	fs_logview_stop();
	fs_ops_dir_cleanup();
}

void
fs_ops_log_failure(const char *op, const char *path, const struct fs_node *node, int rc)
{
	if (rc == -ENOENT || node->err.code == ECS_OK)
		return;
	fs_log_warn("%s %s: %s: %s%s%s", op, path, ecs_strerror(node->err.code),
	    node->err.aws_code, node->err.aws_code[0] ? ": " : "", node->err.message);
}

char *
fs_ops_child_path(fuse_ino_t parent, const char *name)
{
	char *dir = fs_ino_path(parent), *path;

	if (dir == NULL)
		return NULL;
	path = xasprintf("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
	free(dir);
	return path;
}

int
fs_ops_node_open(const char *op, const char *path, struct fs_node *node)
{
	int rc = fs_path_parse(fs_ctx_get(), path, node);

	if (rc == 0)
		rc = fs_node_resolve(node);
	if (rc != 0)
		fs_ops_log_failure(op, path, node, rc);
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

void
fs_ops_fill_dir(struct fs_ctx *ctx, struct stat *st)
{
	fill_common(ctx, st);
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
}

/* The attributes of a file version: its node's kind and its snapshot. */
static void
snap_attr(struct fs_ctx *ctx, const struct fs_file *f, const struct fs_snap *snap,
    struct stat *st)
{
	fill_common(ctx, st);
	st->st_size = (off_t)snap->len;
	st->st_nlink = 1;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mode = (f->flags & FS_F_SYMLINK) ? S_IFLNK | 0777 : S_IFREG | f->mode;
	st->st_mtim = st->st_ctim = st->st_atim = snap->mtime;
}

/* Frees a waiter held by a private inode. */
static void
waiter_free(void *w)
{
	fs_wait_close(w);
}

/* The waiter of a wait file's inode, or NULL. */
static struct fs_waiter *
waiter_of(fuse_ino_t ino)
{
	return fs_ino_priv_as(ino, waiter_free);
}

/* The attributes of a log file's view. */
static void
view_attr(struct fs_ctx *ctx, struct fs_logview *v, struct stat *st)
{
	fill_common(ctx, st);
	fs_logview_attr(v, st);
}

/*
 * Looks a resolved node at path up for the kernel: a folder's inode, a
 * file's inode for its current content, a wait file's private inode.
 * Counts one lookup. Returns 0 or a negative errno.
 */
static int
node_entry(const char *path, struct fs_node *node, struct fuse_entry_param *e)
{
	struct fs_waiter *w;
	struct fs_logview *v;
	struct fs_snap *snap;
	struct buf content;
	int rc;

	e->attr_timeout = ATTR_TIMEOUT;
	e->entry_timeout = ENTRY_TIMEOUT;
	if (node->file == NULL) {
		fs_ops_fill_dir(node->ctx, &e->attr);
		e->ino = fs_ino_ref(path);
	} else if (node->file->flags & FS_F_STREAM) {
		if ((rc = fs_wait_open(node, &w)) != 0)
			return rc;
		fill_common(node->ctx, &e->attr);
		e->attr.st_mode = S_IFREG | node->file->mode;
		e->attr.st_nlink = 1;
		/* Every open looks it up again and gets a waiter of its own. */
		e->attr_timeout = 0.0;
		e->entry_timeout = 0.0;
		e->ino = fs_ino_new_private(path, w, waiter_free);
	} else if (node->file->flags & FS_F_GROWING) {
		if ((rc = fs_logview_lookup(path, node, &e->ino, &v)) != 0)
			return rc;
		view_attr(node->ctx, v, &e->attr);
		e->attr_timeout = 0.0;	/* it grows: every stat asks */
	} else {
		buf_init(&content);
		rc = fs_node_render(node, &content);
		if (rc != 0) {
			buf_free(&content);
			return rc;
		}
		e->ino = fs_ino_ref_file(path, content.data, content.len, &snap);
		buf_free(&content);
		snap_attr(node->ctx, node->file, snap, &e->attr);
		fs_snap_unref(snap);
		if (node->file->flags & FS_F_VOLATILE) {
			/* Every open looks it up again, and so reads it fresh. */
			e->attr_timeout = 0.0;
			e->entry_timeout = 0.0;
		}
	}
	e->attr.st_ino = e->ino;
	return 0;
}

int
fs_ops_path_entry(const char *op, const char *path, struct fuse_entry_param *e)
{
	struct fs_node node;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = fs_ops_node_open(op, path, &node)) == 0) {
		rc = node_entry(path, &node, e);
		if (rc != 0)
			fs_ops_log_failure(op, path, &node, rc);
	}
	fs_node_clear(&node);
	if (rc == -ENOENT) {
		/* A negative entry the kernel keeps for a while. */
		e->ino = 0;
		e->entry_timeout = NEGATIVE_TIMEOUT;
		return 0;
	}
	return rc;
}

/*
 * The attributes of inode ino at path: a file version's from its
 * snapshot, a folder's once it is known to exist still. Returns 0 or a
 * negative errno.
 */
static int
ino_attr(fuse_ino_t ino, const char *path, struct stat *st)
{
	struct fs_snap *snap = fs_ino_snap(ino);
	struct fs_logview *v = fs_logview_of(ino);
	struct fs_node node;
	int rc;

	if (v != NULL) {
		view_attr(fs_ctx_get(), v, st);
		return 0;
	}
	if (snap != NULL) {
		rc = fs_path_parse(fs_ctx_get(), path, &node);
		if (rc == 0 && node.file != NULL)
			snap_attr(node.ctx, node.file, snap, st);
		else
			rc = -ENOENT;
		fs_snap_unref(snap);
		return rc;
	}
	if ((rc = fs_ops_node_open("getattr", path, &node)) == 0) {
		if (node.file == NULL)
			fs_ops_fill_dir(node.ctx, st);
		else
			rc = -ENOENT;	/* a file inode always has a snapshot */
	}
	fs_node_clear(&node);
	return rc;
}

static void
ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs_ctx *ctx = userdata;

	/*
	 * A file inode's content never changes (a new version is a new
	 * inode), so the kernel need not check mtimes; and O_TRUNC must reach
	 * setattr, where a read-only file refuses it, since open does not
	 * reach us.
	 */
	conn->want &= ~(unsigned)(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_ATOMIC_O_TRUNC);
	/* Lookups and readdirs of one folder run in parallel (fs/initfix.c). */
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		fs_initfix_arm(fuse_session_fd(ctx->se));
	fs_ino_init();
	fs_inval_start(ctx->se);
	fs_wait_start(ctx);
	fs_logview_start(ctx);
}

static void
ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	char *path = fs_ops_child_path(parent, name);
	int rc = -ENOENT;
	COUNT(R_LOOKUP);

	fs_req_begin(req);
	if (path != NULL)
		rc = fs_ops_path_entry("lookup", path, &e);
	fs_req_end();
	if (rc != 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_entry(req, &e) != 0 && e.ino != 0)
		fs_ino_forget(e.ino, 1);	/* the kernel did not take it */
	free(path);
}

static void
ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_ino_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void
ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		fs_ino_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* Answers a getattr or setattr: the attributes of ino, or the error rc. */
static void
reply_attr(fuse_req_t req, fuse_ino_t ino, int rc, struct stat *st)
{
	if (rc != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	st->st_ino = ino;
	/* A log file grows: the kernel must ask again at every stat. */
	fuse_reply_attr(req, st, fs_logview_of(ino) != NULL ? 0.0 : ATTR_TIMEOUT);
}

/*
 * A log file's getattr: its view brought up to date, a reader's (with its
 * file: a read past the end) fetching the first time too.
 */
static void
view_getattr(fuse_req_t req, fuse_ino_t ino, struct fs_logview *v, int reader)
{
	struct stat st;
	int rc;

	fs_req_begin(req);
	rc = fs_logview_update(v, reader ? FS_LOGVIEW_LOAD : FS_LOGVIEW_REFRESH);
	fs_req_end();
	if (rc != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	view_attr(fs_ctx_get(), v, &st);
	st.st_ino = ino;
	fuse_reply_attr(req, &st, 0.0);
}

static void
ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_waiter *w = waiter_of(ino);
	struct fs_logview *v;
	char *path;
	struct stat st;
	int rc = -ENOENT;
	COUNT(R_GETATTR);

	if (w != NULL) {
		/* A reader's getattr (it has the file) is the wait's blocking call. */
		if (fi != NULL)
			fs_wait_getattr(w, req, ino, fuse_req_ctx(req)->pid);
		else
			fs_wait_stat(w, req, ino);
		return;
	}
	if ((v = fs_logview_of(ino)) != NULL) {
		view_getattr(req, ino, v, fi != NULL);
		return;
	}
	path = fs_ino_path(ino);
	fs_req_begin(req);
	if (path != NULL)
		rc = ino_attr(ino, path, &st);
	fs_req_end();
	reply_attr(req, ino, rc, &st);
	free(path);
}

/*
 * Only what `echo x > f` (truncate to 0) and `touch` do succeed, and
 * change nothing; modes and owners are ECS's, not ours.
 */
static void
ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	char *path = fs_ino_path(ino);
	struct fs_node node;
	struct stat st;
	int rc = -ENOENT;
	COUNT(R_OTHER);

	(void)fi;
	fs_req_begin(req);
	if (path == NULL)
		goto out;
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		rc = -EPERM;
		goto out;
	}
	if ((rc = fs_path_parse(fs_ctx_get(), path, &node)) != 0)
		goto out;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (node.file == NULL)
			rc = -EISDIR;
		else if (node.file->write == NULL)
			rc = -EACCES;
		else if (attr->st_size != 0)
			rc = -EINVAL;
	}
	fs_node_clear(&node);
	if (rc == 0 && waiter_of(ino) != NULL)
		rc = -EACCES;	/* a wait file */
	if (rc == 0)
		rc = ino_attr(ino, path, &st);
out:
	fs_req_end();
	reply_attr(req, ino, rc, &st);
	free(path);
}

static void
ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_snap *snap = fs_ino_snap(ino);

	if (snap == NULL) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fuse_reply_readlink(req, snap->data);
	fs_snap_unref(snap);
}

/* Open costs nothing: the kernel opens files without asking from now on. */
static void
ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	COUNT(R_OTHER);
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

/* A read of a file version's snapshot, of a wait's output, or of a log file's view. */
static void
ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_waiter *w = waiter_of(ino);
	struct fs_logview *v;
	struct fs_snap *snap;
	COUNT(R_READ);

	(void)fi;
	if (w != NULL) {
		fs_wait_read(w, req, size, off);
		return;
	}
	if ((v = fs_logview_of(ino)) != NULL) {
		fs_logview_read(v, req, size, off);
		return;
	}
	if ((snap = fs_ino_snap(ino)) == NULL) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (off < 0 || (size_t)off >= snap->len)
		size = 0;
	else if (size > snap->len - (size_t)off)
		size = snap->len - (size_t)off;
	fuse_reply_buf(req, size > 0 ? snap->data + off : NULL, size);
	fs_snap_unref(snap);
}

static void
ll_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	char *path = fs_ino_path(ino);
	struct fs_node node;
	int rc = -ENOENT;
	COUNT(R_WRITE);

	fs_req_begin(req);
	if (path == NULL)
		goto out;
	if ((rc = fs_path_parse(fs_ctx_get(), path, &node)) != 0)
		goto out;
	if (node.file == NULL || node.file->write == NULL || waiter_of(ino) != NULL) {
		rc = -EACCES;
		goto clear;
	}
	/*
	 * A write is one whole command: nothing at an offset, nothing huge.
	 * Appending (`echo 5 >> f`) is a command too; the kernel puts its
	 * offset at the end of the file.
	 */
	if (fi->flags & O_APPEND)
		off = 0;
	if (off != 0 || size > FS_MAX_WRITE) {
		fs_write_reject(&node, data, size, &node.err, off != 0 ?
		    "a write must start at offset 0 (one command per write)" :
		    "a write of a control file takes at most 4096 bytes");
		rc = -EINVAL;
		goto clear;
	}
	if ((rc = fs_node_resolve(&node)) != 0) {
		fs_ops_log_failure("write", path, &node, rc);
		goto clear;
	}
	if (node.file->write(&node, data, size, &node.err) != 0) {
		rc = -fs_errno(node.err.code);
		fs_ops_log_failure("write", path, &node, rc);
		goto clear;
	}
	rc = 0;
clear:
	fs_node_clear(&node);
out:
	fs_req_end();
	/*
	 * Whatever the outcome, the kernel's pages of the file may now hold
	 * what was written: the next lookup makes a new inode, and what the
	 * write changed is dropped from the kernel before it returns.
	 */
	fs_ino_retire(ino);
	if (path != NULL)
		fs_inval_queue(path);
	if (!fs_inval_flush(INVAL_WAIT_MS)) {
		fs_reqstats_late_inval();
		fs_log_warn("write %s: the kernel's copies were not dropped within %d ms; "
		    "a read right after may show the old state", path ? path : "?", INVAL_WAIT_MS);
	}
	free(path);
	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
	fs_inval_pages(ino);
}

static void
ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;

	(void)ino;
	memset(&st, 0, sizeof(st));
	st.f_bsize = 4096;
	st.f_frsize = 4096;
	st.f_namemax = 255;
	fuse_reply_statfs(req, &st);
}

const struct fuse_lowlevel_ops fs_ll_ops = {
	.init = ll_init,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mknod = fs_refuse_mknod,
	.mkdir = fs_refuse_mkdir,
	.unlink = fs_refuse_remove,
	.rmdir = fs_refuse_remove,
	.symlink = fs_refuse_symlink,
	.rename = fs_refuse_rename,
	.link = fs_refuse_link,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.opendir = fs_ops_opendir,
	.readdir = fs_ops_readdir,
	.readdirplus = fs_ops_readdirplus,
	.releasedir = fs_ops_releasedir,
	.statfs = ll_statfs,
	.create = fs_refuse_create,
};
