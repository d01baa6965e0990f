/*
 * The FUSE operations on folders: opendir lists the folder once into a
 * handle, readdir and readdirplus hand its entries out, releasedir frees
 * it. Listed folders need no lookup of their own: the listing says they
 * exist; files are looked up as a lookup would (readdirplus).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/xmalloc.h"
#include "fs/fs.h"
#include "fs/ino.h"
#include "fs/ops_int.h"
#include "fs/reqstats.h"
#include "fs/req.h"

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
fs_ops_dir_cleanup(void)
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

void
fs_ops_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char *path = fs_ino_path(ino);
	struct fs_handle *h = NULL;
	struct fs_node node;
	int rc = -ENOENT;
	COUNT(R_READDIR);

	fs_req_begin(req);
	if (path != NULL && (rc = fs_ops_node_open("opendir", path, &node)) == 0) {
		if (node.file != NULL) {
			rc = -ENOTDIR;
		} else {
			h = handle_new();
			pthread_mutex_lock(&h->lock);
			rc = list_dir(&node, h);
			pthread_mutex_unlock(&h->lock);
			if (rc != 0) {
				fs_ops_log_failure("readdir", path, &node, rc);
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
		fs_ops_fill_dir(fs_ctx_get(), &e->attr);
		e->ino = fs_ino_ref(path);
		e->attr.st_ino = e->ino;
		e->attr_timeout = ATTR_TIMEOUT;
		e->entry_timeout = ENTRY_TIMEOUT;
	} else {
		rc = fs_ops_path_entry("readdir", path, e);
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
	char *path = fs_ops_child_path(dir, name);
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

void
fs_ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

void
fs_ops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

void
fs_ops_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_free(handle_of(fi));
	fuse_reply_err(req, 0);
}

