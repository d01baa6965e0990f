/*
 * The mount's shared state and the node model: every path of the tree
 * parses into a struct fs_node naming its directory kind, its object and,
 * for a file, its entry in that directory's file table.
 */
#ifndef FS_FS_H
#define FS_FS_H

#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "ecs/buf.h"
#include "ecs/config.h"
#include "ecs/err.h"
#include "ecs/store.h"
#include "fs/opts.h"

struct ecs_client;
struct creds_provider;
struct fuse_session;

/* The state of one mount. Set up before the loop starts; then read-only
 * except where a field says otherwise. */
struct fs_ctx {
	struct fs_opts		 opts;
	struct ecs_config	 cfg;
	struct creds_provider	*creds;
	struct ecs_client	*client;
	struct ecs_store	*store;		/* thread-safe itself */
	uid_t			 uid;		/* owner of every node */
	gid_t			 gid;
	time_t			 mount_time;
	atomic_int		 dry_run;	/* written by .ecsfs/dry_run */
	int			 single_thread;	/* -s: one thread serves every request */
	struct fuse_session	*se;		/* the FUSE session, for notifications */
};

/* The directory kinds of the tree (DESIGN §1). */
enum fs_dir_kind {
	FS_ROOT,
	FS_META,		/* .ecsfs */
	FS_CLUSTER,
	FS_SERVICES,
	FS_SERVICE,
	FS_SERVICE_TASKS,
	FS_SERVICE_AUTOSCALING,	/* services/S/autoscaling: only with a scalable target */
	FS_TASKS,
	FS_TASK,
	FS_TASK_LOGS,		/* tasks/T/logs: one file per awslogs container */
	FS_INSTANCES,
	FS_INSTANCE,
	FS_INSTANCE_TASKS,
	FS_DIR_COUNT
};

struct fs_node;

/* File flags. */
#define FS_F_UNLISTED	0x1	/* not returned by readdir (blocking files) */
#define FS_F_SYMLINK	0x2	/* a symlink; render gives its target */
#define FS_F_WRITEONLY	0x4	/* a control file that reads as empty */
#define FS_F_STREAM	0x8	/* blocks and streams (wait): size 0, not seekable */
#define FS_F_VOLATILE	0x10	/* changes with every call (stats, journal): never cached */
#define FS_F_GROWING	0x20	/* grows as it is read (logs): an inode that follows it (fs/logview.c) */

/*
 * One virtual file kind: adding a file is one entry here and, when the
 * generic field renderer does not fit, one render function.
 */
struct fs_file {
	const char	*name;
	mode_t		 mode;		/* permission bits: 0444 or 0644 */
	int		 flags;
	const char	*field;		/* JSON member for the field renderers */
	/* Appends the content to out; returns 0 or -1 with err. */
	int		(*render)(const struct fs_node *, struct buf *out,
			    struct ecs_error *err);
	/* Applies a whole write; NULL for a read-only file. */
	int		(*write)(const struct fs_node *, const char *data, size_t len,
			    struct ecs_error *err);
};

/* A parsed path. Strings point into the node's own storage. */
struct fs_node {
	struct fs_ctx		*ctx;
	enum fs_dir_kind	 dir;		/* the directory the path is, or is in */
	const struct fs_file	*file;		/* NULL: the path is the directory */
	const char		*cluster;
	const char		*name;		/* service name, task id or instance id */
	const char		*link;		/* the task id in a tasks/ folder, the container in logs/ */
	json_t			*obj;		/* the directory's object, once loaded */
	struct ecs_error	 err;		/* what the last failed step said */
	char			 store[1024];	/* backing for the strings above */
};

/* Directory tables: fs/tree.c. */
struct fs_dir {
	const char		*subdirs[4];	/* fixed subfolders, NULL-terminated */
	const struct fs_file	*files;		/* NULL-name-terminated, or NULL */
	int			 obj_kind;	/* enum ecs_kind of the object, or -1 */
};
extern const struct fs_dir fs_dirs[FS_DIR_COUNT];

/* Parses path into node; returns 0 or -ENOENT when no node kind matches. */
int fs_path_parse(struct fs_ctx *ctx, const char *path, struct fs_node *node);
/* Releases what a node holds (its object). */
void fs_node_clear(struct fs_node *node);
/*
 * Makes sure the node exists, loading its directory's object when it has
 * one and the node needs it. Returns 0 or a negative errno.
 */
int fs_node_resolve(struct fs_node *node);
/* Takes one entry of a listing: its name and DT_DIR, DT_REG or DT_LNK. */
typedef void (*fs_list_fn)(void *arg, const char *name, int type);
/*
 * Lists a resolved folder node, as readdir shows it (without . and ..),
 * handing each entry to add in order. Returns 0 or a negative errno.
 */
int fs_node_list(struct fs_node *node, fs_list_fn add, void *arg);
/* Renders a file node into out; returns 0 or a negative errno. */
int fs_node_render(struct fs_node *node, struct buf *out);
/* The file entry named name in dir's table, or NULL. */
const struct fs_file *fs_dir_file(enum fs_dir_kind dir, const char *name);

/* The mount's context: set once before the session starts, then read-only. */
void fs_ctx_set(struct fs_ctx *ctx);
struct fs_ctx *fs_ctx_get(void);

#endif
