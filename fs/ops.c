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
 * answered by the poller (fs/wait.c), not by a thread held here. Every
 * handler marks its request as the thread's own (fs/req.h) while it
 * works, so that a call it makes gives up only when its caller is going
 * away.
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
#include "fs/refuse.h"
#include "fs/reqstats.h"
#include "fs/req.h"
#include "fs/tree.h"
#include "fs/wait.h"
#include "fs/write.h"

/* Largest write a control file takes. */
#define FS_MAX_WRITE 4096
/* How long the kernel keeps entries, attributes and negative entries. */
#define ENTRY_TIMEOUT 1.0
#define ATTR_TIMEOUT 1.0
#define NEGATIVE_TIMEOUT 1.0
/* How long a write waits for the kernel to drop what it changed. */
#define INVAL_WAIT_MS 1000
/*
 * The inode number shown for a listed entry without attributes: readdir(3)
 * skips entries whose number is 0.
 */
#define UNKNOWN_INO 0xffffffffu

/*
 * An open directory: its entries as listed at opendir. The kernel orders
 * readdir before releasedir, through /dev/fuse; the lock says so to the
 * thread checker too.
 */
struct fs_handle {
	struct fs_handle	*prev, *next;	/* protected by handles_lock */
	pthread_mutex_t		 lock;		/* held while a readdir reads it */
	struct fs_dirent	*ents;		/* protected by lock */
	size_t			 nents;		/* protected by lock */
};

/* One entry of a directory listing. */
struct fs_dirent {
	char	*name;
	int	 type;		/* DT_DIR, DT_REG or DT_LNK */
};

static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fs_handle *handles;	/* protected by handles_lock */


static struct fs_handle *
handle_new(void)
{
	struct fs_handle *h = xcalloc(1, sizeof(*h));

	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_lock(&handles_lock);
	h->next = handles;
	if (handles != NULL)
		handles->prev = h;
	handles = h;
	pthread_mutex_unlock(&handles_lock);
	return h;
}

static void
handle_free(struct fs_handle *h)
{
	size_t i;

	if (h == NULL)
		return;
	pthread_mutex_lock(&handles_lock);
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		handles = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&handles_lock);
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nents; i++)
		free(h->ents[i].name);
	free(h->ents);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void
fs_ops_cleanup(void)
{
	while (handles != NULL)
		handle_free(handles);
}

/*
 * The handle of an open directory. The kernel hands its number back only
 * after opendir's reply; taking handles_lock (which handle_new released)
 * makes that order visible to the thread checker as well.
 */
static struct fs_handle *
handle_of(const struct fuse_file_info *fi)
{
	struct fs_handle *h;

	pthread_mutex_lock(&handles_lock);
	h = (struct fs_handle *)(uintptr_t)fi->fh;
	pthread_mutex_unlock(&handles_lock);
	return h;
}

/* Logs a failure that is not a plain "does not exist". */
static void
log_failure(const char *op, const char *path, const struct fs_node *node, int rc)
{
	if (rc == -ENOENT || node->err.code == ECS_OK)
		return;
	fs_log_warn("%s %s: %s: %s%s%s", op, path, ecs_strerror(node->err.code),
	    node->err.aws_code, node->err.aws_code[0] ? ": " : "", node->err.message);
}

/* The path of ino's child name ("/a" + "b" = "/a/b"); the caller frees it. */
static char *
child_path(fuse_ino_t parent, const char *name)
{
	char *dir = fs_ino_path(parent), *path;

	if (dir == NULL)
		return NULL;
	path = xasprintf("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
	free(dir);
	return path;
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

static void
fill_dir(struct fs_ctx *ctx, struct stat *st)
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

/*
 * Looks a resolved node at path up for the kernel: a folder's inode, a
 * file's inode for its current content, a wait file's private inode.
 * Counts one lookup. Returns 0 or a negative errno.
 */
static int
node_entry(const char *path, struct fs_node *node, struct fuse_entry_param *e)
{
	struct fs_waiter *w;
	struct fs_snap *snap;
	struct buf content;
	int rc;

	e->attr_timeout = ATTR_TIMEOUT;
	e->entry_timeout = ENTRY_TIMEOUT;
	if (node->file == NULL) {
		fill_dir(node->ctx, &e->attr);
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

/* Looks path up for the kernel: an entry with a lookup counted, or a negative one. */
static int
path_entry(const char *op, const char *path, struct fuse_entry_param *e)
{
	struct fs_node node;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = node_open(op, path, &node)) == 0) {
		rc = node_entry(path, &node, e);
		if (rc != 0)
			log_failure(op, path, &node, rc);
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
	struct fs_node node;
	int rc;

	if (snap != NULL) {
		rc = fs_path_parse(fs_ctx_get(), path, &node);
		if (rc == 0 && node.file != NULL)
			snap_attr(node.ctx, node.file, snap, st);
		else
			rc = -ENOENT;
		fs_snap_unref(snap);
		return rc;
	}
	if ((rc = node_open("getattr", path, &node)) == 0) {
		if (node.file == NULL)
			fill_dir(node.ctx, st);
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
}

static void
ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	char *path = child_path(parent, name);
	int rc = -ENOENT;
	COUNT(R_LOOKUP);

	fs_req_begin(req);
	if (path != NULL)
		rc = path_entry("lookup", path, &e);
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
	fuse_reply_attr(req, st, ATTR_TIMEOUT);
}

static void
ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_waiter *w = fs_ino_priv(ino);
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
	if (rc == 0 && fs_ino_priv(ino) != NULL)
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

/* A read of a file version's snapshot, or of a wait's output. */
static void
ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_waiter *w = fs_ino_priv(ino);
	struct fs_snap *snap;
	COUNT(R_READ);

	(void)fi;
	if (w != NULL) {
		fs_wait_read(w, req, size, off);
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
	if (node.file == NULL || node.file->write == NULL || fs_ino_priv(ino) != NULL) {
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
		log_failure("write", path, &node, rc);
		goto clear;
	}
	if (node.file->write(&node, data, size, &node.err) != 0) {
		rc = -fs_errno(node.err.code);
		log_failure("write", path, &node, rc);
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

/* Appends an entry to a listing. */
static void
add_ent(struct fs_handle *h, const char *name, int type)
{
	h->ents = xrealloc(h->ents, (h->nents + 1) * sizeof(*h->ents));
	h->ents[h->nents].name = xstrdup(name);
	h->ents[h->nents].type = type;
	h->nents++;
}

/* Takes one entry of a listing into a handle (fs_list_fn). */
static void
add_listed(void *arg, const char *name, int type)
{
	add_ent(arg, name, type);
}

/* Lists a resolved directory node into h; returns 0 or a negative errno. */
static int
list_dir(struct fs_node *node, struct fs_handle *h)
{
	add_ent(h, ".", DT_DIR);
	add_ent(h, "..", DT_DIR);
	return fs_node_list(node, add_listed, h);
}

static void
ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char *path = fs_ino_path(ino);
	struct fs_handle *h = NULL;
	struct fs_node node;
	int rc = -ENOENT;
	COUNT(R_READDIR);

	fs_req_begin(req);
	if (path != NULL && (rc = node_open("opendir", path, &node)) == 0) {
		if (node.file != NULL) {
			rc = -ENOTDIR;
		} else {
			h = handle_new();
			pthread_mutex_lock(&h->lock);
			rc = list_dir(&node, h);
			pthread_mutex_unlock(&h->lock);
			if (rc != 0) {
				log_failure("readdir", path, &node, rc);
				handle_free(h);
				h = NULL;
			}
		}
	}
	if (path != NULL)
		fs_node_clear(&node);
	fs_req_end();
	free(path);
	if (rc != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	if (fuse_reply_open(req, fi) != 0)
		handle_free(h);
}

/*
 * The entry of a listed name, for readdirplus. Folders of a listing need
 * no lookup of their own: the listing says they exist.
 */
static int
listed_entry(const char *dir, const struct fs_dirent *d, struct fuse_entry_param *e)
{
	char *path = xasprintf("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", d->name);
	int rc = 0;

	memset(e, 0, sizeof(*e));
	if (d->type == DT_DIR) {
		fill_dir(fs_ctx_get(), &e->attr);
		e->ino = fs_ino_ref(path);
		e->attr.st_ino = e->ino;
		e->attr_timeout = ATTR_TIMEOUT;
		e->entry_timeout = ENTRY_TIMEOUT;
	} else {
		rc = path_entry("readdir", path, e);
		if (rc == 0 && e->ino == 0)
			rc = -ENOENT;
	}
	free(path);
	return rc;
}

/* The inode number to list for name in folder ino: its own when the kernel holds it. */
static uint64_t
listed_ino(fuse_ino_t dir, const char *name)
{
	char *path = child_path(dir, name);
	uint64_t ino = path != NULL ? fs_ino_find(path) : 0;

	free(path);
	return ino != 0 ? ino : UNKNOWN_INO;
}

/* readdir and readdirplus: entries from the listing taken at opendir. */
static void
do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi, int plus)
{
	struct fs_handle *h = handle_of(fi);
	char *dir = plus ? fs_ino_path(ino) : NULL, *out = xmalloc(size);
	struct fuse_entry_param e;
	size_t used = 0, n;
	struct stat st;
	off_t i;

	pthread_mutex_lock(&h->lock);
	fs_req_begin(req);
	for (i = off; i >= 0 && (size_t)i < h->nents; i++) {
		const struct fs_dirent *d = &h->ents[i];
		int dot = strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0;

		if (plus) {
			if (dot || dir == NULL || listed_entry(dir, d, &e) != 0) {
				memset(&e, 0, sizeof(e));
				e.attr.st_mode = (mode_t)d->type << 12;
				e.attr.st_ino = UNKNOWN_INO;
			}
			n = fuse_add_direntry_plus(req, out + used, size - used, d->name, &e,
			    i + 1);
			if (n > size - used) {
				if (e.ino != 0)
					fs_ino_forget(e.ino, 1);
				break;
			}
		} else {
			memset(&st, 0, sizeof(st));
			st.st_mode = (mode_t)d->type << 12;
			st.st_ino = listed_ino(ino, d->name);
			n = fuse_add_direntry(req, out + used, size - used, d->name, &st, i + 1);
			if (n > size - used)
				break;
		}
		used += n;
	}
	pthread_mutex_unlock(&h->lock);
	fs_req_end();
	fuse_reply_buf(req, out, used);
	free(out);
	free(dir);
}

static void
ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void
ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void
ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_free(handle_of(fi));
	fuse_reply_err(req, 0);
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
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.statfs = ll_statfs,
	.create = fs_refuse_create,
};
