/*
 * The invalidation threads. Entries (so that the next path walk looks a
 * name up again and gets the current inode) are dropped by one thread, in
 * order, and a writer waits for its own with a sequence number. The pages
 * of a file just written are dropped by a second thread, which nobody
 * waits for: until the writer has its reply it holds those pages, so that
 * drop must never stand in front of another writer's entries.
 */
#define FUSE_USE_VERSION 312
#include "fs/inval.h"

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs/xmalloc.h"
#include "fs/ino.h"
#include "fs/req.h"

struct inval_item {
	struct inval_item	*next;
	uint64_t		 ino;		/* the folder's inode, or the written file's */
	char			*name;		/* the entry; NULL: the pages of ino */
};

/* One queue and the thread that drains it. */
struct inval_queue {
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;		/* items queued; monotonic clock */
	pthread_cond_t		 done;		/* items done; monotonic clock */
	struct inval_item	*head;		/* protected by lock */
	struct inval_item	*tail;		/* protected by lock */
	uint64_t		 queued;	/* protected by lock */
	uint64_t		 finished;	/* protected by lock */
	int			 running;	/* protected by lock */
	int			 started;	/* written before and after the thread only */
	pthread_t		 thread;
};

static struct inval_queue entries, pages;
static struct fuse_session *inval_se;	/* set before the threads start */

static void *
inval_main(void *arg)
{
	struct inval_queue *q = arg;
	struct inval_item *it;

	pthread_mutex_lock(&q->lock);
	while (q->running) {
		if ((it = q->head) == NULL) {
			pthread_cond_wait(&q->work, &q->lock);
			continue;
		}
		q->head = it->next;
		if (q->head == NULL)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		/* -ENOENT just means the kernel does not have it. */
		if (it->name != NULL)
			(void)fuse_lowlevel_notify_inval_entry(inval_se, it->ino, it->name,
			    strlen(it->name));
		else
			(void)fuse_lowlevel_notify_inval_inode(inval_se, it->ino, 0, 0);
		free(it->name);
		free(it);
		pthread_mutex_lock(&q->lock);
		q->finished++;
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void
queue_start(struct inval_queue *q)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->work, &ca);
	pthread_cond_init(&q->done, &ca);
	pthread_condattr_destroy(&ca);
	q->running = 1;
	if (fs_thread_create(&q->thread, inval_main, q) == 0)
		q->started = 1;
}

static void
queue_stop(struct inval_queue *q)
{
	struct inval_item *it;

	if (!q->started)
		return;
	pthread_mutex_lock(&q->lock);
	q->running = 0;
	pthread_cond_broadcast(&q->work);
	pthread_cond_broadcast(&q->done);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	q->started = 0;
	while ((it = q->head) != NULL) {
		q->head = it->next;
		free(it->name);
		free(it);
	}
	q->tail = NULL;
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->done);
	pthread_mutex_destroy(&q->lock);
}

/* Appends an item to a queue. */
static void
push(struct inval_queue *q, struct inval_item *it)
{
	pthread_mutex_lock(&q->lock);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->queued++;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->lock);
}

void
fs_inval_start(struct fuse_session *se)
{
	inval_se = se;
	queue_start(&entries);
	queue_start(&pages);
}

/* Queues the entry of path when the kernel knows its folder. */
static void
queue_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct inval_item *it;
	uint64_t parent;
	char *dir;

	if (slash == NULL || slash[1] == '\0')
		return;
	dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	parent = fs_ino_find(dir);
	free(dir);
	if (parent == 0)
		return;
	it = xcalloc(1, sizeof(*it));
	it->ino = parent;
	it->name = xstrdup(slash + 1);
	push(&entries, it);
}

void
fs_inval_queue(const char *path)
{
	if (entries.started)
		queue_path(path);
}

void
fs_inval_prefix(const char *prefix)
{
	char **paths;
	size_t i;

	if (!entries.started)
		return;
	paths = fs_ino_paths_under(prefix);
	for (i = 0; paths[i] != NULL; i++) {
		queue_path(paths[i]);
		free(paths[i]);
	}
	free(paths);
}

void
fs_inval_pages(uint64_t ino)
{
	struct inval_item *it;

	if (!pages.started)
		return;
	it = xcalloc(1, sizeof(*it));
	it->ino = ino;
	push(&pages, it);
}

int
fs_inval_flush(long ms)
{
	struct timespec ts;
	uint64_t want;
	int done;

	if (!entries.started)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&entries.lock);
	want = entries.queued;
	while (entries.finished < want && entries.running)
		if (pthread_cond_timedwait(&entries.done, &entries.lock, &ts) != 0)
			break;
	done = entries.finished >= want;
	pthread_mutex_unlock(&entries.lock);
	return done;
}

void
fs_inval_stop(void)
{
	queue_stop(&entries);
	queue_stop(&pages);
}
