/*
 * The command front end (DESIGN §2): `ecsfs ls|cat|tee [options] PATH...`
 * runs one command over the tree without FUSE. Paths are parsed, resolved
 * and rendered by the same functions as the mount's, and written through
 * the same table entries, so a file kind added to the tables appears here
 * too. Wildcards are expanded over the tree's listings as the shell
 * expands them over a mount, and a pattern that matches nothing fails the
 * command before anything runs (bash's failglob). Errors are one line
 * each, `ecsfs: PATH: <strerror>`; the exit status is 1 when any path
 * failed.
 */
#define FUSE_USE_VERSION 312
#include "fs/cmd.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs/xmalloc.h"
#include "fs/errmap.h"
#include "fs/journal.h"
#include "fs/log.h"
#include "fs/tree.h"
#include "fs/wait.h"
#include "fs/write.h"

/* Largest write a control file takes, as on the mount. */
#define CMD_MAX_WRITE 4096

/* A list of strings (paths or names), each with a type for listings. */
struct strv {
	char	**v;
	int	 *type;		/* DT_DIR, DT_REG or DT_LNK */
	size_t	  n;
};

static void
strv_add(struct strv *s, const char *str, int type)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->type = xrealloc(s->type, (s->n + 1) * sizeof(*s->type));
	s->v[s->n] = xstrdup(str);
	s->type[s->n] = type;
	s->n++;
}

static void
strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s->type);
	memset(s, 0, sizeof(*s));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the strings bytewise, as ls(1) in the C locale (types are not kept). */
static void
strv_sort(struct strv *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
}

/* Prints `ecsfs: PATH: <strerror>` for a negative errno. */
static void
fail(const char *path, int rc)
{
	fprintf(stderr, "ecsfs: %s: %s\n", path[0] != '\0' ? path : ".", strerror(-rc));
}

/* The tree's path of an operand: no leading "/" or "./", "" for the root. */
static char *
tree_path(const char *arg)
{
	while (arg[0] == '/' || (arg[0] == '.' && (arg[1] == '/' || arg[1] == '\0')))
		arg += arg[0] == '/' ? 1 : (arg[1] == '\0' ? 1 : 2);
	return xstrdup(arg);
}

/* Parses and resolves a tree path ("" is the root); 0 or a negative errno. */
static int
node_get(struct fs_ctx *ctx, const char *path, struct fs_node *node)
{
	char *abs = xasprintf("/%s", path);
	int rc = fs_path_parse(ctx, abs, node);

	free(abs);
	if (rc == 0)
		rc = fs_node_resolve(node);
	return rc;
}

/* Takes one entry of a listing into a string vector (fs_list_fn). */
static void
add_listed(void *arg, const char *name, int type)
{
	strv_add(arg, name, type);
}

/* Lists a resolved directory node (without . and ..); 0 or a negative errno. */
static int
list_dir(struct fs_node *node, struct strv *out)
{
	return fs_node_list(node, add_listed, out);
}

/* Whether a path component holds a wildcard. */
static int
has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/*
 * Expands the components comps[i..n) below prefix into out, as the shell
 * does: a component with a wildcard matches the names its folder lists
 * (a leading dot only explicitly), the others are taken as they are; a
 * result of a wildcard must exist.
 */
static void
expand_from(struct fs_ctx *ctx, const char *prefix, char **comps, size_t i, size_t n,
    int magic, struct strv *out)
{
	struct fs_node node;
	struct strv names = { 0 };
	char *next;
	size_t j;

	if (i == n) {
		if (!magic) {
			strv_add(out, prefix, 0);
		} else if (node_get(ctx, prefix, &node) == 0) {
			strv_add(out, prefix, 0);
		}
		if (magic)
			fs_node_clear(&node);
		return;
	}
	if (!has_magic(comps[i])) {
		next = xasprintf("%s%s%s", prefix, prefix[0] ? "/" : "", comps[i]);
		expand_from(ctx, next, comps, i + 1, n, magic, out);
		free(next);
		return;
	}
	if (node_get(ctx, prefix, &node) == 0 && node.file == NULL &&
	    list_dir(&node, &names) == 0) {
		strv_sort(&names);
		for (j = 0; j < names.n; j++) {
			if (fnmatch(comps[i], names.v[j], FNM_PERIOD) != 0)
				continue;
			next = xasprintf("%s%s%s", prefix, prefix[0] ? "/" : "", names.v[j]);
			expand_from(ctx, next, comps, i + 1, n, 1, out);
			free(next);
		}
	}
	fs_node_clear(&node);
	strv_free(&names);
}

/* Expands one operand into out; a pattern that matches nothing is -ENOENT. */
static int
expand(struct fs_ctx *ctx, const char *arg, struct strv *out)
{
	char *path = tree_path(arg), *save = NULL, *p;
	char **comps = NULL;
	size_t n = 0, before = out->n;
	int rc = 0;

	for (p = strtok_r(path, "/", &save); p != NULL; p = strtok_r(NULL, "/", &save)) {
		comps = xrealloc(comps, (n + 1) * sizeof(*comps));
		comps[n++] = p;
	}
	expand_from(ctx, "", comps, 0, n, 0, out);
	if (out->n == before)
		rc = -ENOENT;
	free(comps);
	free(path);
	return rc;
}

/* ls: files first, then each folder's listing, as ls(1) prints them. */
static int
cmd_ls(struct fs_ctx *ctx, struct strv *paths)
{
	struct strv files = { 0 }, dirs = { 0 }, names;
	struct fs_node node;
	size_t i, j;
	int rc, status = 0, shown = 0;

	for (i = 0; i < paths->n; i++) {
		rc = node_get(ctx, paths->v[i], &node);
		if (rc != 0) {
			fail(paths->v[i], rc);
			status = 1;
		} else if (node.file != NULL) {
			strv_add(&files, paths->v[i], 0);
		} else {
			strv_add(&dirs, paths->v[i], 0);
		}
		fs_node_clear(&node);
	}
	strv_sort(&files);
	strv_sort(&dirs);
	for (i = 0; i < files.n; i++)
		printf("%s\n", files.v[i]);
	for (i = 0; i < dirs.n; i++) {
		memset(&names, 0, sizeof(names));
		if ((rc = node_get(ctx, dirs.v[i], &node)) == 0)
			rc = list_dir(&node, &names);
		fs_node_clear(&node);
		if (rc != 0) {
			fail(dirs.v[i], rc);
			status = 1;
			strv_free(&names);
			continue;
		}
		strv_sort(&names);
		if (paths->n > 1)
			printf("%s%s:\n", shown || files.n > 0 ? "\n" : "",
			    dirs.v[i][0] != '\0' ? dirs.v[i] : ".");
		for (j = 0; j < names.n; j++)
			if (names.v[j][0] != '.')
				printf("%s\n", names.v[j]);
		shown = 1;
		strv_free(&names);
	}
	strv_free(&files);
	strv_free(&dirs);
	return status;
}

/* Streams a wait file to stdout; its result is the wait's verdict. */
static int
cat_wait(struct fs_ctx *ctx, struct fs_node *node, int *poller)
{
	struct fs_waiter *w;
	struct buf chunk;
	size_t off = 0;
	int rc;

	if (!*poller) {
		fs_wait_start(ctx);
		*poller = 1;
	}
	if ((rc = fs_wait_open(node, &w)) != 0)
		return rc;
	buf_init(&chunk);
	do {
		chunk.len = 0;
		rc = fs_wait_next(w, &chunk, &off);
		if (chunk.len > 0) {
			fwrite(chunk.data, 1, chunk.len, stdout);
			fflush(stdout);
		}
	} while (rc == 1);
	buf_free(&chunk);
	fs_wait_close(w);
	return rc;
}

/* cat: each file's content, in order. */
static int
cmd_cat(struct fs_ctx *ctx, struct strv *paths, int *poller)
{
	struct fs_node node;
	struct buf out;
	size_t i;
	int rc, status = 0;

	for (i = 0; i < paths->n; i++) {
		buf_init(&out);
		rc = node_get(ctx, paths->v[i], &node);
		if (rc == 0 && node.file == NULL)
			rc = -EISDIR;
		if (rc == 0 && (node.file->flags & FS_F_STREAM)) {
			rc = cat_wait(ctx, &node, poller);
		} else if (rc == 0) {
			rc = fs_node_render(&node, &out);
			/* Every symlink of the tree points at a folder. */
			if (rc == 0 && (node.file->flags & FS_F_SYMLINK))
				rc = -EISDIR;
			if (rc == 0)
				fwrite(out.data, 1, out.len, stdout);
		}
		fflush(stdout);
		if (rc != 0) {
			fail(paths->v[i], rc);
			status = 1;
		}
		fs_node_clear(&node);
		buf_free(&out);
	}
	return status;
}

/* Reads all of stdin into b; 0 or a negative errno. */
static int
read_input(struct buf *b)
{
	char chunk[8192];
	ssize_t n;

	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf_add(b, chunk, (size_t)n);
	}
	return 0;
}

/* Writes data to one path as the mount's write(2) does; 0 or a negative errno. */
static int
write_one(struct fs_ctx *ctx, const char *path, const char *data, size_t len, int ro)
{
	struct fs_node node;
	int rc = node_get(ctx, path, &node);

	if (rc != 0)
		goto out;
	if (node.file == NULL) {
		rc = -EISDIR;
	} else if (node.file->write == NULL || (node.file->flags & FS_F_STREAM)) {
		rc = -EACCES;
	} else if (ro) {
		rc = -EROFS;
	} else if (len == 0) {
		rc = 0;		/* tee with no input writes nothing */
	} else if (len > CMD_MAX_WRITE) {
		fs_write_reject(&node, data, len, &node.err,
		    "a write of a control file takes at most 4096 bytes");
		rc = -EINVAL;
	} else if (node.file->write(&node, data, len, &node.err) != 0) {
		rc = -fs_errno(node.err.code);
	}
out:
	fs_node_clear(&node);
	return rc;
}

/* tee: stdin to stdout and to every path, one write each. */
static int
cmd_tee(struct fs_ctx *ctx, struct strv *paths, int ro)
{
	struct buf in;
	size_t i;
	int rc, status = 0;

	buf_init(&in);
	if ((rc = read_input(&in)) != 0) {
		fprintf(stderr, "ecsfs: standard input: %s\n", strerror(-rc));
		buf_free(&in);
		return 1;
	}
	if (in.len > 0)
		fwrite(in.data, 1, in.len, stdout);
	fflush(stdout);
	for (i = 0; i < paths->n; i++) {
		if ((rc = write_one(ctx, paths->v[i], in.data, in.len, ro)) != 0) {
			fail(paths->v[i], rc);
			status = 1;
		}
	}
	buf_free(&in);
	return status;
}

int
fs_cmd_verb(int argc, char *argv[])
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			i++;
		else if (strcmp(argv[i], "-o") == 0) {
			i++;
			continue;
		} else if (argv[i][0] == '-')
			continue;
		if (i >= argc)
			break;
		if (strcmp(argv[i], "ls") == 0 || strcmp(argv[i], "cat") == 0 ||
		    strcmp(argv[i], "tee") == 0)
			return i;
		return -1;
	}
	return -1;
}

static void
cmd_usage(const char *prog)
{
	printf("usage: %s [options] ls|cat|tee [options] [PATH...]\n\n"
	    "Runs one command on the tree without mounting it. PATH is relative to\n"
	    "the tree's root (none, or ., is the root) and may hold *, ? and [...].\n"
	    "ls and cat print what they print on a mount; tee copies its input to\n"
	    "standard output and writes it to every PATH as a write on the mount\n"
	    "does; cat of a wait file streams, and its exit status is the verdict.\n\n",
	    prog);
	fs_opts_help();
	printf("    -o ro                        read-only: every write fails with EROFS\n");
}

/* Whether the FUSE options left after ours ask for a read-only tree. */
static int
wants_ro(const struct fuse_args *args)
{
	char *copy, *p, *save = NULL;
	int i, ro = 0;

	for (i = 1; i < args->argc; i++) {
		const char *a = args->argv[i];

		if (strcmp(a, "-o") == 0 && i + 1 < args->argc)
			a = args->argv[++i];
		else if (strncmp(a, "-o", 2) == 0)
			a += 2;
		else
			continue;
		copy = xstrdup(a);
		for (p = strtok_r(copy, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save))
			if (strcmp(p, "ro") == 0)
				ro = 1;
		free(copy);
	}
	return ro;
}

int
fs_cmd_main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct strv ops = { 0 }, paths = { 0 };
	struct fs_ctx ctx;
	const char *verb = argv[fs_cmd_verb(argc, argv)];
	int i, verb_at = fs_cmd_verb(argc, argv), status = 1, ro, poller = 0, rc;
	int dashdash = 0, ready = 0;

	memset(&ctx, 0, sizeof(ctx));
	fs_opts_defaults(&ctx.opts);
	fuse_opt_add_arg(&args, argv[0]);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (i == verb_at)
			continue;
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			strv_add(&ops, a, 0);
		} else if (strcmp(a, "--") == 0) {
			dashdash = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cmd_usage(argv[0]);
			status = 0;
			goto out;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("ecsfs %s\n", ECSFS_VERSION);
			status = 0;
			goto out;
		} else if (strcmp(a, "-o") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "ecsfs: -o wants an argument\n");
				goto out;
			}
			fuse_opt_add_arg(&args, "-o");
			fuse_opt_add_arg(&args, argv[++i]);
		} else if (strncmp(a, "-o", 2) == 0) {
			fuse_opt_add_arg(&args, a);
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "-s") == 0) {
			continue;	/* a mount's options; nothing to do here */
		} else {
			fprintf(stderr, "ecsfs: unknown option '%s' (see %s %s --help)\n", a,
			    argv[0], verb);
			goto out;
		}
	}
	if (fs_opts_parse(&args, &ctx.opts) != 0)
		goto out;
	ro = wants_ro(&args);
	if (fs_ctx_setup(&ctx) != 0)
		goto out;
	ready = 1;
	fs_ctx_set(&ctx);
	/* The journal's log lines go to syslog; stderr is for errors. */
	fs_log_init(0, 0);
	if (ops.n == 0)
		strv_add(&ops, "", 0);
	/* Every pattern is expanded before anything runs. */
	for (i = 0; (size_t)i < ops.n; i++) {
		if ((rc = expand(&ctx, ops.v[i], &paths)) != 0) {
			fail(ops.v[i], rc);
			goto out;
		}
	}
	if (strcmp(verb, "ls") == 0)
		status = cmd_ls(&ctx, &paths);
	else if (strcmp(verb, "cat") == 0)
		status = cmd_cat(&ctx, &paths, &poller);
	else
		status = cmd_tee(&ctx, &paths, ro);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ecsfs: standard output: %s\n", strerror(errno));
		status = 1;
	}
out:
	if (poller)
		fs_wait_stop();
	if (ready)
		fs_ctx_teardown(&ctx);
	fs_opts_free(&ctx.opts);
	strv_free(&ops);
	strv_free(&paths);
	fuse_opt_free_args(&args);
	return status;
}
