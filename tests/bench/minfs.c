/*
 * minfs: the least a libfuse low-level filesystem can do to serve one
 * small file, the floor against which tests/bench_warm.py measures
 * ecsfs. The root holds one file, desired_count, reading "3\n". Once
 * warm, an open+read+close of it never reaches this process: open is
 * answered ENOSYS (the kernel then opens every file without asking, and
 * keeps its pages), flush ENOSYS (close stops asking too), reads come from
 * the page cache (no direct_io) and entries and attributes stay valid for
 * a day.
 *
 *     minfs [-d] [-o OPTIONS] MOUNTPOINT
 *
 * Runs in the foreground until unmounted (fusermount3 -u) or signalled.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <fuse_lowlevel.h>

#define FILE_INO	2
#define FILE_NAME	"desired_count"
#define TIMEOUT_S	86400.0

static const char file_data[] = "3\n";
static time_t start_time;	/* set once before the loop */

/* The attributes of inode ino into st; 0, or ENOENT. */
static int
minfs_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_atime = st->st_mtime = st->st_ctime = start_time;
	switch (ino) {
	case FUSE_ROOT_ID:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	case FILE_INO:
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = sizeof(file_data) - 1;
		return 0;
	default:
		return ENOENT;
	}
}

/* Offers the kernel zero-message opens and keeps its defaults otherwise. */
static void
minfs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT)
		conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
}

static void
minfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, FILE_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.attr_timeout = TIMEOUT_S;
	e.entry_timeout = TIMEOUT_S;
	minfs_stat(e.ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void
minfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int rc;

	(void)fi;
	if ((rc = minfs_stat(ino, &st)) != 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_attr(req, &st, TIMEOUT_S);
}

/* ENOSYS: the kernel stops sending opens (and their releases) at all. */
static void
minfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

/* ENOSYS: the kernel stops sending a flush on every close. */
static void
minfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

static void
minfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	size_t len = sizeof(file_data) - 1;

	(void)fi;
	if (ino != FILE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (off < 0 || (size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, file_data + off,
		    len - (size_t)off < size ? len - (size_t)off : size);
}

/* Appends one directory entry to buf[*len] (grown as needed). */
static void
dir_add(fuse_req_t req, char **buf, size_t *len, const char *name,
    fuse_ino_t ino)
{
	struct stat st;
	size_t old = *len;
	char *p;

	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	*len += fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	if ((p = realloc(*buf, *len)) == NULL)
		abort();
	*buf = p;
	fuse_add_direntry(req, *buf + old, *len - old, name, &st, (off_t)*len);
}

static void
minfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	char *buf = NULL;
	size_t len = 0;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	dir_add(req, &buf, &len, ".", FUSE_ROOT_ID);
	dir_add(req, &buf, &len, "..", FUSE_ROOT_ID);
	dir_add(req, &buf, &len, FILE_NAME, FILE_INO);
	if (off < 0 || (size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, buf + off,
		    len - (size_t)off < size ? len - (size_t)off : size);
	free(buf);
}

static const struct fuse_lowlevel_ops minfs_ops = {
	.init = minfs_init,
	.lookup = minfs_lookup,
	.getattr = minfs_getattr,
	.open = minfs_open,
	.flush = minfs_flush,
	.read = minfs_read,
	.readdir = minfs_readdir,
};

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_session *se = NULL;
	int rc = 1;

	memset(&opts, 0, sizeof(opts));
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto done;
	if (opts.show_help || opts.mountpoint == NULL) {
		fprintf(stderr, "usage: %s [-d] [-o OPTIONS] MOUNTPOINT\n",
		    argv[0]);
		goto done;
	}
	start_time = time(NULL);
	if ((se = fuse_session_new(&args, &minfs_ops, sizeof(minfs_ops),
	    NULL)) == NULL)
		goto done;
	if (fuse_set_signal_handlers(se) != 0)
		goto done;
	if (fuse_session_mount(se, opts.mountpoint) != 0) {
		fuse_remove_signal_handlers(se);
		goto done;
	}
	rc = fuse_session_loop(se) != 0;
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
done:
	if (se != NULL)
		fuse_session_destroy(se);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return rc;
}
