/*
 * Blocking wait files (DESIGN §5): services/S/wait blocks until the
 * service is stable, container_instances/I/wait until a draining instance
 * runs no task. Every lookup of a wait file makes a waiter on an inode
 * of its own; one poller thread polls every active waiter on
 * -o wait_interval, independent of the cache TTL, batching the waiters of
 * one kind and cluster into as few Describe calls as the batch limits
 * allow, and appends one progress line per poll to each waiter's output.
 *
 * Files are read through the kernel's page cache, which stops at the size
 * it knows: a reader that wants more than that asks for the attributes
 * first (the wait file's never stay valid), with its file. That getattr
 * is the blocking call: it is answered when the output grew since the
 * last answer or the wait ended (stable: the same size, so EOF; failure:
 * EIO or ETIMEDOUT once all output is out); until then the request is
 * kept, so a blocked reader holds no request thread.
 *
 * New output reaches the kernel before the size that shows it: the poller
 * stores the bytes in the file's pages (a store notification, which also
 * sets the size the kernel knows), then answers the kept getattr. An
 * answer alone would not do: the kernel drops the attributes of a getattr
 * as stale when another caller's attributes of the same file were applied
 * after it was sent, and a plain stat (lsof, a stat of /proc/PID/fd/N),
 * answered at once, can be applied that late; the reader would then read
 * to the old size and end early. Plain stats are told the size the kernel
 * is being given, never less. A kept request whose caller was
 * interrupted is answered EINTR once a signal other than the informational
 * ones is pending for the caller (Ctrl-C, a Python KeyboardInterrupt), not
 * for bash's SIGCHLD. A waiter starts polling at its first blocking
 * getattr and stops when nobody has asked for a while; the kernel
 * forgetting its inode frees it.
 */
#include "fs/wait.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs/clock.h"
#include "ecs/xmalloc.h"
#include "fs/errmap.h"
#include "fs/log.h"
#include "fs/tree.h"

/* Waiters opened within this long of each other share their first poll. */
#define GATHER_MS 50
/* A waiter due within this share of the interval is polled with the others. */
#define COALESCE_DIV 5
/* How often the poller looks at kept requests whose caller was interrupted. */
#define INTERRUPT_CHECK_MS 100
/* A waiter nobody has asked for this long past its interval stops polling. */
#define IDLE_MS 5000

struct fs_waiter {
	struct fs_waiter	*next;		/* protected by wait_lock */
	enum ecs_kind		 kind;		/* ECS_KIND_SERVICE or ECS_KIND_INSTANCE */
	char			*cluster;
	char			*name;
	uint64_t		 deadline;	/* monotonic ms */
	uint64_t		 due;		/* next poll; protected by wait_lock */
	struct buf		 out;		/* protected by wait_lock */
	size_t			 consumed;	/* protected by wait_lock */
	int			 done;		/* protected by wait_lock */
	int			 error;		/* negative errno once done with a failure */
	char			 why[160];	/* the progress of the last poll; protected */
	fuse_req_t		 req;		/* a kept getattr, or NULL; protected */
	pid_t			 req_pid;	/* its caller's thread; protected */
	struct stat		 attr;		/* the file's attributes but its size */
	/* Sizes, all protected by wait_lock: shown <= out.len, stored <= shown. */
	size_t			 shown;		/* what plain stats are told */
	size_t			 stored;	/* what the kernel surely holds */
	size_t			 reported;	/* the last answer to the reader */
	int			 pushing;	/* the poller is storing output */
	int			 active;	/* polling; protected by wait_lock */
	uint64_t		 last_seen;	/* a reader's last request; protected */
	int			 consumer;	/* read by fs_wait_next(); protected */
};

static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poll_cond;	/* the poller; monotonic clock */
/* Readers blocked in fs_wait_next(); with wait_lock. */
static pthread_cond_t next_cond = PTHREAD_COND_INITIALIZER;
/* A store into the kernel finished; with wait_lock. */
static pthread_cond_t push_cond = PTHREAD_COND_INITIALIZER;
static struct fs_waiter *waiters;	/* protected by wait_lock */
static int poller_running;		/* protected by wait_lock */
static int poller_started;		/* set before and after the thread only */
static pthread_t poller_thread;
static struct fs_ctx *wait_ctx;		/* set before the thread starts */

/* Waits on cond for at most ms milliseconds. Called with wait_lock held. */
static void
timed_wait(pthread_cond_t *cond, uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(cond, &wait_lock, &ts);
}

/* Appends "TIME NAME " to a waiter's output. Called with wait_lock held. */
static void
line_start(struct fs_waiter *w)
{
	char when[32];
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(&w->out, "%s %s ", when, w->name);
}

/* Ends a waiter: a last line and the result. Called with wait_lock held. */
static void
finish(struct fs_waiter *w, int error, const char *fmt, const char *arg)
{
	line_start(w);
	buf_printf(&w->out, fmt, arg);
	buf_addc(&w->out, '\n');
	w->done = 1;
	w->error = error;
}

/* Answers req with the attributes and size n. Called with wait_lock held. */
static void
reply_size(struct fs_waiter *w, fuse_req_t req, size_t n)
{
	struct stat st = w->attr;

	st.st_size = (off_t)n;
	st.st_blocks = (st.st_size + 511) / 512;
	fuse_reply_attr(req, &st, 0.0);
}

/*
 * Answers the waiter's kept getattr when there is something to answer:
 * more output the kernel holds, the end, or its error once all output is
 * out; output the kernel does not hold yet is the poller's to store
 * first. Called with wait_lock held.
 */
static void
deliver(struct fs_waiter *w)
{
	fuse_req_t req = w->req;

	if (w->consumer)
		pthread_cond_broadcast(&next_cond);
	if (req == NULL)
		return;
	if (w->stored > w->reported) {
		w->req = NULL;
		w->reported = w->stored;
		reply_size(w, req, w->reported);
	} else if (w->done && w->stored == w->out.len) {
		w->req = NULL;
		if (w->error != 0)
			fuse_reply_err(req, -w->error);
		else
			reply_size(w, req, w->reported);
	} else if (w->out.len > w->shown) {
		pthread_cond_signal(&poll_cond);
	}
}

/*
 * Stores the output of waiters with a kept getattr in the kernel's pages
 * of their files, from the page where what it holds ends, then answers
 * the getattr. Called by the poller with wait_lock held; drops it while
 * the kernel takes the bytes (a store waits for pages other readers
 * hold, whose reads need wait_lock).
 */
static void
push_output(void)
{
	struct fs_waiter *w;
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(0);
	size_t from, to;
	fuse_ino_t ino;
	char *copy;

	for (;;) {
		for (w = waiters; w != NULL; w = w->next)
			if (w->req != NULL && w->out.len > w->shown)
				break;
		if (w == NULL)
			return;
		from = w->stored - w->stored % 4096;
		to = w->out.len;
		copy = xmalloc(to - from);
		memcpy(copy, w->out.data + from, to - from);
		ino = w->attr.st_ino;
		w->shown = to;
		w->pushing = 1;
		pthread_mutex_unlock(&wait_lock);
		bv.buf[0].mem = copy;
		bv.buf[0].size = to - from;
		/* Fails only when the kernel forgot the file: the answer then sets the size. */
		(void)fuse_lowlevel_notify_store(wait_ctx->se, ino, (off_t)from, &bv, 0);
		free(copy);
		pthread_mutex_lock(&wait_lock);
		w->pushing = 0;
		w->stored = to;
		pthread_cond_broadcast(&push_cond);
		deliver(w);
	}
}

/* Answers EINTR to kept requests whose caller has a signal to act on. Lock held. */
static void
check_interrupts(void)
{
	struct fs_waiter *w;

	for (w = waiters; w != NULL; w = w->next) {
		if (w->req == NULL || !fuse_req_interrupted(w->req))
			continue;
		if (fs_signals_check(w->req_pid) != FS_PENDING_NONE) {
			fuse_reply_err(w->req, EINTR);
			w->req = NULL;
			w->active = 0;	/* until the reader asks again */
		}
	}
}

/* Whether any request is kept. Lock held. */
static int
reads_kept(void)
{
	struct fs_waiter *w;

	for (w = waiters; w != NULL; w = w->next)
		if (w->req != NULL)
			return 1;
	return 0;
}

/* The deployment whose rollout failed, or NULL. */
static json_t *
failed_deployment(json_t *svc)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(svc, "deployments"), i, d) {
		const char *r = json_string_value(json_object_get(d, "rolloutState"));

		if (r != NULL && strcmp(r, "FAILED") == 0)
			return d;
	}
	return NULL;
}

/* Applies one polled Service object to a waiter. Called with wait_lock held. */
static void
update_service(struct fs_waiter *w, json_t *svc)
{
	json_t *deps = json_object_get(svc, "deployments"), *bad;
	const char *status = json_string_value(json_object_get(svc, "status"));
	const char *rollout = json_string_value(json_object_get(json_array_get(deps, 0),
	    "rolloutState"));
	const char *reason;

	snprintf(w->why, sizeof(w->why), "desired=%lld running=%lld pending=%lld "
	    "deployments=%zu rollout=%s",
	    (long long)json_integer_value(json_object_get(svc, "desiredCount")),
	    (long long)json_integer_value(json_object_get(svc, "runningCount")),
	    (long long)json_integer_value(json_object_get(svc, "pendingCount")),
	    json_array_size(deps), rollout ? rollout : "-");
	line_start(w);
	buf_printf(&w->out, "%s\n", w->why);
	if (status != NULL && strcmp(status, "ACTIVE") != 0) {
		finish(w, -EIO, "failed: the service is %s", status);
	} else if ((bad = failed_deployment(svc)) != NULL) {
		reason = json_string_value(json_object_get(bad, "rolloutStateReason"));
		finish(w, -EIO, "failed: rollout FAILED: %s", reason ? reason : "-");
	} else if (fs_service_is_stable(svc)) {
		finish(w, 0, "%s", "stable");
	}
}

/* Applies one polled ContainerInstance object to a waiter. Called with wait_lock held. */
static void
update_instance(struct fs_waiter *w, json_t *ci)
{
	const char *status = json_string_value(json_object_get(ci, "status"));
	long long running = json_integer_value(json_object_get(ci, "runningTasksCount"));
	long long pending = json_integer_value(json_object_get(ci, "pendingTasksCount"));

	snprintf(w->why, sizeof(w->why), "status=%s running=%lld pending=%lld",
	    status ? status : "-", running, pending);
	line_start(w);
	buf_printf(&w->out, "%s\n", w->why);
	if (status == NULL || strcmp(status, "DRAINING") != 0)
		finish(w, -EIO, "failed: the instance is %s, not DRAINING", status ? status : "-");
	else if (running == 0 && pending == 0)
		finish(w, 0, "%s", "drained");
}

/* The name of a polled object. */
static const char *
polled_name(enum ecs_kind kind, json_t *o)
{
	const char *v = json_string_value(json_object_get(o, kind == ECS_KIND_SERVICE ?
	    "serviceName" : "containerInstanceArn"));
	const char *slash = v ? strrchr(v, '/') : NULL;

	return slash ? slash + 1 : v;
}

/* One group of due waiters: same kind and cluster, distinct names. */
struct group {
	enum ecs_kind	 kind;
	char		*cluster;
	char		**names;
	size_t		 n;
};

/*
 * Collects the due waiters into groups, marks them polled, and ends the
 * ones past their deadline. Called with wait_lock held; the caller frees.
 */
static size_t
collect(struct group **out, uint64_t now, long interval)
{
	struct group *g = NULL;
	struct fs_waiter *w;
	size_t ng = 0, i, j;

	for (w = waiters; w != NULL; w = w->next) {
		if (w->done || !w->active)
			continue;
		if (w->req == NULL && !w->consumer && now > w->last_seen + (uint64_t)interval + IDLE_MS) {
			w->active = 0;	/* its reader went away */
			continue;
		}
		if (now >= w->deadline) {
			char secs[32];
			long ms = wait_ctx->opts.wait_timeout_ms;

			if (ms % 1000 == 0)
				snprintf(secs, sizeof(secs), "%ld", ms / 1000);
			else
				snprintf(secs, sizeof(secs), "%ld.%03ld", ms / 1000, ms % 1000);
			/* 1.500 reads 1.5 */
			while (strchr(secs, '.') != NULL && secs[strlen(secs) - 1] == '0')
				secs[strlen(secs) - 1] = '\0';
			finish(w, -ETIMEDOUT, "timeout after %ss", secs);
			deliver(w);
			continue;
		}
		if (w->due > now + (uint64_t)interval / COALESCE_DIV)
			continue;
		w->due = now + (uint64_t)interval;
		for (i = 0; i < ng; i++)
			if (g[i].kind == w->kind && strcmp(g[i].cluster, w->cluster) == 0)
				break;
		if (i == ng) {
			g = xrealloc(g, (ng + 1) * sizeof(*g));
			memset(&g[ng], 0, sizeof(g[ng]));
			g[ng].kind = w->kind;
			g[ng].cluster = xstrdup(w->cluster);
			ng++;
		}
		for (j = 0; j < g[i].n; j++)
			if (strcmp(g[i].names[j], w->name) == 0)
				break;
		if (j == g[i].n) {
			g[i].names = xrealloc(g[i].names, (g[i].n + 1) * sizeof(char *));
			g[i].names[g[i].n++] = xstrdup(w->name);
		}
	}
	*out = g;
	return ng;
}

/* Whether name was polled with the group. */
static int
group_has(const struct group *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->names[i], name) == 0)
			return 1;
	return 0;
}

/* Polls one group and feeds the results to its waiters. Takes wait_lock itself. */
static void
poll_group(struct group *g)
{
	struct ecs_error err;
	struct fs_waiter *w;
	json_t *objs = NULL, *o;
	size_t i;
	int rc;

	rc = ecs_store_fetch_many(wait_ctx->store, g->kind, g->cluster,
	    (const char *const *)g->names, g->n, &objs, &err);
	pthread_mutex_lock(&wait_lock);
	for (w = waiters; w != NULL; w = w->next) {
		if (w->done || w->kind != g->kind || strcmp(w->cluster, g->cluster) != 0 ||
		    !group_has(g, w->name))
			continue;
		if (rc != 0) {
			if (err.code == ECS_E_NOTFOUND) {
				finish(w, -ENOENT, "failed: %s", err.message);
			} else {
				line_start(w);
				buf_printf(&w->out, "poll failed (%s), still waiting\n",
				    ecs_strerror(err.code));
			}
			continue;
		}
		json_array_foreach(objs, i, o) {
			const char *name = polled_name(g->kind, o);

			if (name == NULL || strcmp(name, w->name) != 0)
				continue;
			if (g->kind == ECS_KIND_SERVICE)
				update_service(w, o);
			else
				update_instance(w, o);
			break;
		}
		if (i == json_array_size(objs) && !w->done)
			finish(w, -ENOENT, "failed: %s no longer exists", w->name);
	}
	for (w = waiters; w != NULL; w = w->next)
		deliver(w);
	pthread_mutex_unlock(&wait_lock);
	if (rc != 0 && err.code != ECS_E_NOTFOUND)
		fs_log_warn("wait: polling %s: %s: %s", g->cluster, ecs_strerror(err.code),
		    err.message);
	json_decref(objs);
}

/* When the poller next has work: a poll due or a deadline; 0 for none. Lock held. */
static uint64_t
earliest_due(void)
{
	struct fs_waiter *w;
	uint64_t t = 0;

	uint64_t at;

	for (w = waiters; w != NULL; w = w->next) {
		if (w->done || !w->active)
			continue;
		at = w->due < w->deadline ? w->due : w->deadline;
		if (t == 0 || at < t)
			t = at;
	}
	return t;
}

static void *
poller_main(void *arg)
{
	long interval = wait_ctx->opts.wait_interval_ms > 0 ?
	    wait_ctx->opts.wait_interval_ms : 1000;
	struct group *g;
	uint64_t due, now;
	size_t ng, i, j;

	(void)arg;
	pthread_mutex_lock(&wait_lock);
	while (poller_running) {
		push_output();
		if (!poller_running)
			break;	/* stopped while a store had the lock released */
		check_interrupts();
		due = earliest_due();
		now = (uint64_t)ecs_now_ms();
		if (due == 0 || due > now) {
			uint64_t ms = due == 0 ? 3600000 : due - now;

			if (reads_kept() && ms > INTERRUPT_CHECK_MS)
				ms = INTERRUPT_CHECK_MS;
			timed_wait(&poll_cond, ms);
			continue;
		}
		ng = collect(&g, now, interval);
		pthread_mutex_unlock(&wait_lock);
		for (i = 0; i < ng; i++) {
			poll_group(&g[i]);
			for (j = 0; j < g[i].n; j++)
				free(g[i].names[j]);
			free(g[i].names);
			free(g[i].cluster);
		}
		free(g);
		pthread_mutex_lock(&wait_lock);
	}
	pthread_mutex_unlock(&wait_lock);
	return NULL;
}

void
fs_wait_start(struct fs_ctx *ctx)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&poll_cond, &ca);
	pthread_condattr_destroy(&ca);
	wait_ctx = ctx;
	poller_running = 1;
	if (fs_thread_create(&poller_thread, poller_main, NULL) == 0)
		poller_started = 1;
}

void
fs_wait_stop(void)
{
	struct fs_waiter *w;

	if (!poller_started)
		return;
	pthread_mutex_lock(&wait_lock);
	poller_running = 0;
	/* The daemon is going: every kept request ends with an error now. */
	for (w = waiters; w != NULL; w = w->next) {
		if (!w->done)
			finish(w, -EIO, "%s", "failed: ecsfs is stopping");
		if (w->req != NULL) {
			fuse_reply_err(w->req, EIO);
			w->req = NULL;
		}
	}
	pthread_cond_broadcast(&poll_cond);
	pthread_cond_broadcast(&next_cond);
	pthread_mutex_unlock(&wait_lock);
	pthread_join(poller_thread, NULL);
	poller_started = 0;
	pthread_cond_destroy(&poll_cond);
}

int
fs_wait_open(struct fs_node *node, struct fs_waiter **out)
{
	struct fs_waiter *w;
	json_t *obj = NULL;
	const char *status;
	uint64_t now = (uint64_t)ecs_now_ms();

	*out = NULL;
	if (!poller_started)
		return -EIO;
	if (node->dir == FS_INSTANCE) {
		/* Only a draining instance has a drain to wait for. */
		if (ecs_store_fetch(node->ctx->store, ECS_KIND_INSTANCE, node->cluster,
		    node->name, &obj, &node->err) != 0)
			return -fs_errno(node->err.code);
		status = json_string_value(json_object_get(obj, "status"));
		if (status == NULL || strcmp(status, "DRAINING") != 0) {
			json_decref(obj);
			return -EINVAL;
		}
		json_decref(obj);
	}
	w = xcalloc(1, sizeof(*w));
	w->kind = node->dir == FS_INSTANCE ? ECS_KIND_INSTANCE : ECS_KIND_SERVICE;
	w->cluster = xstrdup(node->cluster);
	w->name = xstrdup(node->name);
	w->deadline = now + (uint64_t)node->ctx->opts.wait_timeout_ms;
	w->due = now + GATHER_MS;
	buf_init(&w->out);
	w->attr.st_mode = S_IFREG | 0444;
	w->attr.st_nlink = 1;
	w->attr.st_uid = node->ctx->uid;
	w->attr.st_gid = node->ctx->gid;
	w->attr.st_blksize = 4096;
	w->attr.st_atime = w->attr.st_mtime = w->attr.st_ctime = node->ctx->mount_time;
	pthread_mutex_lock(&wait_lock);
	w->next = waiters;
	waiters = w;
	pthread_mutex_unlock(&wait_lock);
	*out = w;
	return 0;
}

void
fs_wait_getattr(struct fs_waiter *w, fuse_req_t req, fuse_ino_t ino, pid_t caller)
{
	uint64_t now = (uint64_t)ecs_now_ms();

	pthread_mutex_lock(&wait_lock);
	w->attr.st_ino = ino;
	if (w->req != NULL) {
		/* One blocked reader at a time on a wait file. */
		pthread_mutex_unlock(&wait_lock);
		fuse_reply_err(req, EBUSY);
		return;
	}
	if (!w->active && !w->done) {
		if (w->last_seen == 0) {
			/* The wait's clock starts at its first read. */
			w->deadline = now + (uint64_t)wait_ctx->opts.wait_timeout_ms;
			w->due = now + GATHER_MS;
		}
		w->active = 1;
	}
	w->last_seen = now;
	w->req = req;
	w->req_pid = caller;
	deliver(w);
	if (w->req != NULL)
		pthread_cond_signal(&poll_cond);
	pthread_mutex_unlock(&wait_lock);
}

int
fs_wait_next(struct fs_waiter *w, struct buf *out, size_t *off)
{
	uint64_t now = (uint64_t)ecs_now_ms();
	int rc;

	pthread_mutex_lock(&wait_lock);
	if (!w->active && !w->done) {
		if (w->last_seen == 0) {
			/* The wait's clock starts at its first read, as on the mount. */
			w->deadline = now + (uint64_t)wait_ctx->opts.wait_timeout_ms;
			w->due = now + GATHER_MS;
		}
		w->active = 1;
	}
	w->consumer = 1;
	w->last_seen = now;
	for (;;) {
		if (w->out.len > *off) {
			buf_add(out, w->out.data + *off, w->out.len - *off);
			*off = w->out.len;
			rc = 1;
			break;
		}
		if (w->done) {
			rc = w->error;
			break;
		}
		pthread_cond_signal(&poll_cond);
		pthread_cond_wait(&next_cond, &wait_lock);
	}
	pthread_mutex_unlock(&wait_lock);
	return rc;
}

void
fs_wait_stat(struct fs_waiter *w, fuse_req_t req, fuse_ino_t ino)
{
	pthread_mutex_lock(&wait_lock);
	w->attr.st_ino = ino;
	reply_size(w, req, w->shown);
	pthread_mutex_unlock(&wait_lock);
}

void
fs_wait_read(struct fs_waiter *w, fuse_req_t req, size_t size, off_t off)
{
	size_t n = 0;

	pthread_mutex_lock(&wait_lock);
	w->last_seen = (uint64_t)ecs_now_ms();
	if (off >= 0 && (size_t)off < w->out.len) {
		n = w->out.len - (size_t)off;
		if (n > size)
			n = size;
	}
	fuse_reply_buf(req, n > 0 ? w->out.data + off : NULL, n);
	pthread_mutex_unlock(&wait_lock);
}

void
fs_wait_close(struct fs_waiter *w)
{
	struct fs_waiter **pp;

	pthread_mutex_lock(&wait_lock);
	for (pp = &waiters; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	while (w->pushing)
		pthread_cond_wait(&push_cond, &wait_lock);
	if (w->req != NULL)
		fuse_reply_err(w->req, EIO);
	w->req = NULL;
	pthread_mutex_unlock(&wait_lock);
	buf_free(&w->out);
	free(w->cluster);
	free(w->name);
	free(w);
}

size_t
fs_wait_count(void)
{
	struct fs_waiter *w;
	size_t n = 0;

	pthread_mutex_lock(&wait_lock);
	for (w = waiters; w != NULL; w = w->next)
		if (w->active && !w->done)
			n++;
	pthread_mutex_unlock(&wait_lock);
	return n;
}
