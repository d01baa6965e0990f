/*
 * Log files that grow (tasks/T/logs/CONTAINER). A file version of the
 * tree is a snapshot that never changes; a log file instead has views:
 * an inode holds a view, content that only grows, so that a reader who
 * holds the file (tail -f) sees it grow, in size and content.
 *
 * The kernel and a growing inode. Reads come from the page cache, which
 * stops at the size the kernel knows. A log inode's attributes never stay
 * valid (timeout 0), so every stat, and every read that reaches past the
 * known size, asks getattr; a larger size in the answer makes the kernel
 * drop the inode's pages (fuse_change_attributes: a size change
 * invalidates the mapping unless the daemon asked for explicit
 * invalidation), and the read that follows comes here. Content below the
 * old size never changes, so pages that stay are right. An answer to a
 * request made before another answer was applied is dropped by the kernel
 * (attr_version): so every answer waits for a fetch in flight, and sizes
 * only grow.
 *
 * Streams and fetches. The views of one stream share its state: the
 * nextForwardToken of its last answer, when the next call is due, and its
 * latest log_lines events (the window a new view starts with). One fetch
 * per cache_ttl per stream: a reader past the due time queues one on this
 * module's threads and waits for it; the answer (only what is new) is
 * appended to every view of the stream. A reader who goes away stops
 * waiting; the fetch goes on for the others. A view with content waits a
 * few seconds at most, then is served what it holds (a failing endpoint),
 * and a failed fetch is tried again after a short while. Lookups never
 * call Logs: a stream nobody has read yet shows as empty until a read (a
 * read, or a getattr that comes with the open file) asks for it.
 *
 * Bounds. A view that has taken in FULL_FACTOR × log_lines events is full:
 * the next lookup of its path starts a new view with the latest window,
 * and the holders of the old one keep following it. A view holding more
 * than VIEW_MAX bytes drops its front (reads there fail with EIO).
 * Streams without views are kept for a TTL, then freed.
 *
 * Locks: a stream's lock (its state and its views') may be held while
 * reg_lock (the table of streams) or q_lock (the fetch queue) is taken,
 * never the other way; reg_lock and q_lock are never held together. A
 * stream is freed, under reg_lock alone, only once nothing refers to it.
 * Replies to the kernel go out under the stream's lock, which no kernel
 * call made here waits for.
 */
#include "fs/logview.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs/api.h"
#include "ecs/clock.h"
#include "ecs/xmalloc.h"
#include "fs/errmap.h"
#include "fs/ino.h"
#include "fs/log.h"
#include "fs/logs.h"

#define WORKERS		4		/* fetches at once */
#define BUCKETS		256		/* of the table of streams */
#define SLICE_MS	20		/* a waiter looks at its caller this often */
#define STALE_WAIT_MS	3000		/* longest wait of a view with content */
#define RETRY_MS	2000		/* a failed fetch is tried again after this */
#define MAX_PAGES	8		/* pages one fetch follows while they come full */
#define FULL_FACTOR	4
#define VIEW_MAX	((size_t)16 << 20)
#define TRIM_ALIGN	((size_t)1 << 20)

struct lstream;

struct fs_logview {
	struct fs_logview	*next;		/* the stream's views; protected by st->lock */
	struct lstream		*st;		/* immutable */
	struct buf		 text;		/* the content from base on; protected by st->lock */
	size_t			 base;		/* the offset of text's first byte; protected */
	size_t			 events;	/* events taken in; protected by st->lock */
	struct timespec		 mtime;		/* when it last grew; protected by st->lock */
};

struct lstream {
	struct lstream		*next;		/* bucket chain; protected by reg_lock */
	unsigned		 refs;		/* views, queued fetches; protected by reg_lock */
	uint64_t		 idle_since;	/* when refs fell to 0; protected by reg_lock */
	char			*group;		/* immutable */
	char			*name;		/* immutable */
	pthread_mutex_t		 lock;
	pthread_cond_t		 done;		/* a fetch ended; monotonic clock, with lock */
	struct fs_logview	*views;		/* protected by lock */
	struct buf		 window;	/* the latest log_lines events; protected */
	size_t			*starts;	/* where each of them starts; protected */
	size_t			 nstarts;	/* protected by lock */
	size_t			 capstarts;	/* protected by lock */
	char			*token;		/* nextForwardToken, NULL: none yet; protected */
	int			 loaded;	/* a fetch succeeded once; protected by lock */
	int			 fetching;	/* protected by lock */
	uint64_t		 due;		/* when the next fetch may start; protected */
	struct ecs_error	 err;		/* the last failure; protected by lock */
	int			 failed;	/* the last fetch failed; protected by lock */
	struct lstream		*qnext;		/* the fetch queue; protected by q_lock */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lstream *streams[BUCKETS];	/* protected by reg_lock */
static uint64_t last_purge;			/* protected by reg_lock */
static int reg_stopping;			/* free streams at once; reg_lock */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;	/* work queued, or stop */
static struct lstream *q_head, *q_tail;		/* protected by q_lock */
static pthread_t workers[WORKERS];		/* protected by q_lock */
static unsigned nworkers, idle_workers;		/* protected by q_lock */
static int q_stopping;				/* protected by q_lock */
static struct fs_ctx *lv_ctx;			/* set before any lookup */

/* -- streams ----------------------------------------------------------- */

static size_t
hash_loc(const char *group, const char *name)
{
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	for (p = group; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '\n') * 1099511628211ULL;
	for (p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)(h % BUCKETS);
}

static uint64_t
ttl_ms(void)
{
	return lv_ctx->opts.cache_ttl_ms > 0 ? (uint64_t)lv_ctx->opts.cache_ttl_ms : 0;
}

static void
stream_free(struct lstream *st)
{
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->done);
	buf_free(&st->window);
	free(st->starts);
	free(st->token);
	free(st->group);
	free(st->name);
	free(st);
}

/* Frees the streams nobody has used for a TTL. Called with reg_lock held. */
static void
purge(uint64_t now)
{
	struct lstream **pp, *st;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		for (pp = &streams[i]; (st = *pp) != NULL;) {
			if (st->refs == 0 && (reg_stopping || now >= st->idle_since + ttl_ms())) {
				*pp = st->next;
				stream_free(st);
			} else {
				pp = &st->next;
			}
		}
	}
	last_purge = now;
}

/* The stream at loc with a reference for the caller, made when new. */
static struct lstream *
stream_get(const struct fs_log_loc *loc)
{
	size_t h = hash_loc(loc->group, loc->stream);
	uint64_t now = (uint64_t)ecs_now_ms();
	pthread_condattr_t ca;
	struct lstream *st;

	pthread_mutex_lock(&reg_lock);
	if (now >= last_purge + ttl_ms())
		purge(now);
	for (st = streams[h]; st != NULL; st = st->next)
		if (strcmp(st->group, loc->group) == 0 && strcmp(st->name, loc->stream) == 0)
			break;
	if (st == NULL) {
		st = xcalloc(1, sizeof(*st));
		st->group = xstrdup(loc->group);
		st->name = xstrdup(loc->stream);
		pthread_mutex_init(&st->lock, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&st->done, &ca);
		pthread_condattr_destroy(&ca);
		buf_init(&st->window);
		st->next = streams[h];
		streams[h] = st;
	}
	st->refs++;
	pthread_mutex_unlock(&reg_lock);
	return st;
}

/* Drops a reference; a stream without any is kept a TTL for the next reader. */
static void
stream_unref(struct lstream *st)
{
	pthread_mutex_lock(&reg_lock);
	if (--st->refs == 0) {
		st->idle_since = (uint64_t)ecs_now_ms();
		if (reg_stopping)
			purge(st->idle_since);
	}
	pthread_mutex_unlock(&reg_lock);
}

/* -- content ----------------------------------------------------------- */

/* Appends what a fetch brought to a view, dropping its front past VIEW_MAX. Lock held. */
static void
view_append(struct fs_logview *v, const struct buf *chunk, size_t n)
{
	size_t keep = VIEW_MAX / 2, end, cut;

	if (chunk->len == 0)
		return;
	buf_add(&v->text, chunk->data, chunk->len);
	v->events += n;
	clock_gettime(CLOCK_REALTIME, &v->mtime);
	if (v->text.len <= VIEW_MAX)
		return;
	/* Whole TRIM_ALIGN units of the file, so that what stays is page-aligned. */
	end = v->base + v->text.len;
	cut = (end - keep) - (end - keep) % TRIM_ALIGN;
	if (cut <= v->base)
		return;
	memmove(v->text.data, v->text.data + (cut - v->base), end - cut);
	v->text.len = end - cut;
	v->text.data[v->text.len] = '\0';
	v->base = cut;
}

/* Appends events (their starts in chunk) to the window, keeping the latest lines. Lock held. */
static void
window_append(struct lstream *st, const struct buf *chunk, const size_t *starts, size_t n,
    size_t lines)
{
	size_t i, drop, cut;

	if (st->nstarts + n > st->capstarts) {
		st->capstarts = (st->nstarts + n) * 2;
		st->starts = xrealloc(st->starts, st->capstarts * sizeof(*st->starts));
	}
	for (i = 0; i < n; i++)
		st->starts[st->nstarts++] = st->window.len + starts[i];
	buf_add(&st->window, chunk->data != NULL ? chunk->data : "", chunk->len);
	if (st->nstarts <= lines)
		return;
	drop = st->nstarts - lines;
	cut = st->starts[drop];
	memmove(st->window.data, st->window.data + cut, st->window.len - cut);
	st->window.len -= cut;
	st->window.data[st->window.len] = '\0';
	for (i = 0; i < lines; i++)
		st->starts[i] = st->starts[i + drop] - cut;
	st->nstarts = lines;
}

/* -- fetches ----------------------------------------------------------- */

/*
 * One fetch of a stream: with no token yet, its latest log_lines events;
 * else what came after the token, following pages while they come full.
 * A stream or group that does not exist yet has no events.
 */
static void
fetch(struct lstream *st)
{
	long lines = fs_logs_lines(lv_ctx);
	struct ecs_error err;
	struct buf chunk;
	json_t *events, *ev;
	char *token, *next;
	size_t *starts = NULL, n = 0, cap = 0, i, count;
	uint64_t now;
	int page, rc = 0, same;

	pthread_mutex_lock(&st->lock);
	token = st->token != NULL ? xstrdup(st->token) : NULL;
	pthread_mutex_unlock(&st->lock);
	buf_init(&chunk);
	ecs_error_clear(&err);
	for (page = 0; page < MAX_PAGES; page++) {
		next = NULL;
		if (ecs_logs_get_events(lv_ctx->client, st->group, st->name, lines, token,
		    &events, &next, &err) != 0) {
			if (err.code == ECS_E_NOTFOUND)
				ecs_error_clear(&err);
			else if (page == 0)
				rc = -1;	/* else: keep what the pages before brought */
			break;
		}
		count = json_array_size(events);
		if (n + count > cap) {
			cap = (n + count) * 2;
			starts = xrealloc(starts, cap * sizeof(*starts));
		}
		json_array_foreach(events, i, ev) {
			starts[n++] = chunk.len;
			fs_logs_format(ev, &chunk);
		}
		json_decref(events);
		/* The latest events are all there is until more come. */
		same = token == NULL || next == NULL || strcmp(next, token) == 0;
		if (next != NULL) {
			free(token);
			token = next;
		}
		if (same || count < (size_t)lines)
			break;
	}
	/* Before the waiters wake: a reader who gets the error finds it in the log. */
	if (rc != 0)
		fs_log_warn("logs %s %s: %s: %s%s%s", st->group, st->name, ecs_strerror(err.code),
		    err.aws_code, err.aws_code[0] ? ": " : "", err.message);
	now = (uint64_t)ecs_now_ms();
	pthread_mutex_lock(&st->lock);
	if (rc == 0) {
		struct fs_logview *v;

		for (v = st->views; v != NULL; v = v->next)
			view_append(v, &chunk, n);
		window_append(st, &chunk, starts, n, (size_t)lines);
		free(st->token);
		st->token = token;
		token = NULL;
		st->loaded = 1;
		st->failed = 0;
		st->due = now + ttl_ms();
	} else {
		st->err = err;
		st->failed = 1;
		st->due = now + (ttl_ms() < RETRY_MS ? ttl_ms() : RETRY_MS);
	}
	st->fetching = 0;
	pthread_cond_broadcast(&st->done);
	pthread_mutex_unlock(&st->lock);
	free(token);
	free(starts);
	buf_free(&chunk);
}

/* Ends a fetch that will not run. Takes the stream's lock. */
static void
fetch_cancel(struct lstream *st, const char *why)
{
	pthread_mutex_lock(&st->lock);
	ecs_error_set(&st->err, ECS_E_INTERRUPTED, "%s", why);
	st->failed = 1;
	st->fetching = 0;
	pthread_cond_broadcast(&st->done);
	pthread_mutex_unlock(&st->lock);
}

static void *
worker_main(void *arg)
{
	struct lstream *st;

	(void)arg;
	pthread_mutex_lock(&q_lock);
	while (!q_stopping) {
		if ((st = q_head) == NULL) {
			idle_workers++;
			pthread_cond_wait(&q_cond, &q_lock);
			idle_workers--;
			continue;
		}
		if ((q_head = st->qnext) == NULL)
			q_tail = NULL;
		pthread_mutex_unlock(&q_lock);
		fetch(st);
		stream_unref(st);
		pthread_mutex_lock(&q_lock);
	}
	pthread_mutex_unlock(&q_lock);
	return NULL;
}

/* Queues a fetch of st (st->fetching set). Called with st's lock held; 0, or -1 when none can run. */
static int
queue_fetch(struct lstream *st)
{
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	st->refs++;
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_lock(&q_lock);
	if (!q_stopping && idle_workers == 0 && nworkers < WORKERS &&
	    fs_thread_create(&workers[nworkers], worker_main, NULL) == 0)
		nworkers++;
	if (q_stopping || nworkers == 0) {
		rc = -1;
	} else {
		st->qnext = NULL;
		if (q_tail != NULL)
			q_tail->qnext = st;
		else
			q_head = st;
		q_tail = st;
		pthread_cond_signal(&q_cond);
	}
	pthread_mutex_unlock(&q_lock);
	if (rc != 0) {
		pthread_mutex_lock(&reg_lock);
		st->refs--;	/* st's lock is held: the caller's view keeps it */
		pthread_mutex_unlock(&reg_lock);
	}
	return rc;
}

void
fs_logview_start(struct fs_ctx *ctx)
{
	lv_ctx = ctx;
	pthread_mutex_lock(&q_lock);
	q_stopping = 0;
	pthread_mutex_unlock(&q_lock);
}

void
fs_logview_stop(void)
{
	struct lstream *st;
	unsigned i, n;

	pthread_mutex_lock(&q_lock);
	q_stopping = 1;
	pthread_cond_broadcast(&q_cond);
	n = nworkers;
	pthread_mutex_unlock(&q_lock);
	/* The daemon is stopping: the client ends calls in flight at once. */
	for (i = 0; i < n; i++)
		pthread_join(workers[i], NULL);
	pthread_mutex_lock(&q_lock);
	nworkers = 0;
	st = q_head;
	q_head = q_tail = NULL;
	pthread_mutex_unlock(&q_lock);
	while (st != NULL) {
		struct lstream *next = st->qnext;

		fetch_cancel(st, "ecsfs is stopping");
		stream_unref(st);
		st = next;
	}
	pthread_mutex_lock(&reg_lock);
	reg_stopping = 1;
	purge((uint64_t)ecs_now_ms());
	pthread_mutex_unlock(&reg_lock);
}

/* -- views ------------------------------------------------------------- */

/* A new view of the stream at loc: the stream's window when it was read, else empty. */
static struct fs_logview *
view_new(const struct fs_log_loc *loc)
{
	struct fs_logview *v = xcalloc(1, sizeof(*v));
	struct lstream *st = stream_get(loc);

	v->st = st;
	buf_init(&v->text);
	clock_gettime(CLOCK_REALTIME, &v->mtime);
	pthread_mutex_lock(&st->lock);
	if (st->loaded && st->window.len > 0) {
		buf_add(&v->text, st->window.data, st->window.len);
		v->events = st->nstarts;
	}
	v->next = st->views;
	st->views = v;
	pthread_mutex_unlock(&st->lock);
	return v;
}

void
fs_logview_free(void *p)
{
	struct fs_logview *v = p, **pp;
	struct lstream *st;

	if (v == NULL)
		return;
	st = v->st;
	pthread_mutex_lock(&st->lock);
	for (pp = &st->views; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	buf_free(&v->text);
	free(v);
	stream_unref(st);
}

/* Whether v has taken in enough that a new lookup should start afresh. */
static int
view_full(struct fs_logview *v)
{
	size_t lines = (size_t)fs_logs_lines(lv_ctx);
	int full;

	pthread_mutex_lock(&v->st->lock);
	full = v->events >= FULL_FACTOR * lines || v->base > 0 || v->text.len > VIEW_MAX / 2;
	pthread_mutex_unlock(&v->st->lock);
	return full;
}

struct fs_logview *
fs_logview_of(uint64_t ino)
{
	return fs_ino_priv_as(ino, fs_logview_free);
}

int
fs_logview_lookup(const char *path, struct fs_node *node, uint64_t *ino,
    struct fs_logview **out)
{
	struct fs_log_loc loc;
	struct fs_logview *v;
	uint64_t i = 0;

	if ((v = fs_ino_ref_priv(path, fs_logview_free, &i)) != NULL && view_full(v)) {
		/* Its holders keep it; lookups from now on get the latest window. */
		fs_ino_retire(i);
		fs_ino_forget(i, 1);
		v = NULL;
	}
	if (v == NULL) {
		switch (fs_logs_locate(node, &loc, &node->err)) {
		case 1:
			break;
		case 0:
			return -ENOENT;
		default:
			return -fs_errno(node->err.code);
		}
		v = view_new(&loc);
		i = fs_ino_new_current(path, v, fs_logview_free);
	}
	/* A lookup's answer must not carry a size older than a fetch in flight. */
	(void)fs_logview_update(v, FS_LOGVIEW_PEEK);
	*ino = i;
	*out = v;
	return 0;
}

/* Waits on st's done for at most ms. Called with st's lock held. */
static void
timed_wait(struct lstream *st, uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_cond_timedwait(&st->done, &st->lock, &ts);
}

int
fs_logview_update(struct fs_logview *v, enum fs_logview_need need)
{
	struct lstream *st = v->st;
	uint64_t now = (uint64_t)ecs_now_ms(), start = now;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	if (need != FS_LOGVIEW_PEEK && !st->fetching && now >= st->due &&
	    (st->loaded || need == FS_LOGVIEW_LOAD)) {
		st->fetching = 1;
		if (queue_fetch(st) != 0) {
			st->fetching = 0;
			st->failed = 1;
			ecs_error_set(&st->err, ECS_E_INTERNAL, "no thread to fetch with");
		}
	}
	/* A first read waits for its content; anything else, a little while. */
	while (st->fetching) {
		if ((st->loaded || need != FS_LOGVIEW_LOAD) && now - start >= STALE_WAIT_MS)
			break;
		if (fs_req_going_away()) {
			rc = -EINTR;
			break;
		}
		timed_wait(st, SLICE_MS);
		now = (uint64_t)ecs_now_ms();
	}
	if (rc == 0 && need == FS_LOGVIEW_LOAD && !st->loaded && st->failed)
		rc = -fs_errno(st->err.code);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void
fs_logview_attr(struct fs_logview *v, struct stat *st)
{
	pthread_mutex_lock(&v->st->lock);
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = (off_t)(v->base + v->text.len);
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim = st->st_ctim = st->st_atim = v->mtime;
	pthread_mutex_unlock(&v->st->lock);
}

void
fs_logview_read(struct fs_logview *v, fuse_req_t req, size_t size, off_t off)
{
	size_t end, n = 0;

	pthread_mutex_lock(&v->st->lock);
	end = v->base + v->text.len;
	if (off >= 0 && (size_t)off < v->base) {
		pthread_mutex_unlock(&v->st->lock);
		fuse_reply_err(req, EIO);	/* dropped to bound the view */
		return;
	}
	if (off >= 0 && (size_t)off < end) {
		n = end - (size_t)off;
		if (n > size)
			n = size;
	}
	fuse_reply_buf(req, n > 0 ? v->text.data + ((size_t)off - v->base) : NULL, n);
	pthread_mutex_unlock(&v->st->lock);
}
