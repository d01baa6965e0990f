/*
 * The invalidation thread: a queue of directory entries, drained by one
 * thread that tells the kernel to drop each (so that the next path walk
 * looks the name up again and gets the current inode), outside any
 * request handler. A sequence number per queued item lets a writer wait
 * until its own items are done.
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

struct inval_item {
	struct inval_item	*next;
	uint64_t		 parent;	/* the folder's inode */
	char			*name;
};

static pthread_mutex_t inval_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inval_cond;	/* work queued; monotonic clock */
static pthread_cond_t done_cond;	/* items done; monotonic clock */
static struct inval_item *inval_head;	/* protected by inval_lock */
static struct inval_item *inval_tail;	/* protected by inval_lock */
static uint64_t queued_seq;		/* protected by inval_lock */
static uint64_t done_seq;		/* protected by inval_lock */
static int inval_running;		/* protected by inval_lock */
static int inval_started;		/* written before and after the thread only */
static struct fuse_session *inval_se;	/* likewise */
static pthread_t inval_thread;

static void *
inval_main(void *arg)
{
	struct inval_item *it;

	(void)arg;
	pthread_mutex_lock(&inval_lock);
	while (inval_running) {
		if ((it = inval_head) == NULL) {
			pthread_cond_wait(&inval_cond, &inval_lock);
			continue;
		}
		inval_head = it->next;
		if (inval_head == NULL)
			inval_tail = NULL;
		pthread_mutex_unlock(&inval_lock);
		/* -ENOENT just means the kernel does not have the entry. */
		(void)fuse_lowlevel_notify_inval_entry(inval_se, it->parent, it->name,
		    strlen(it->name));
		free(it->name);
		free(it);
		pthread_mutex_lock(&inval_lock);
		done_seq++;
		pthread_cond_broadcast(&done_cond);
	}
	pthread_mutex_unlock(&inval_lock);
	return NULL;
}

void
fs_inval_start(struct fuse_session *se)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&inval_cond, &ca);
	pthread_cond_init(&done_cond, &ca);
	pthread_condattr_destroy(&ca);
	inval_se = se;
	inval_running = 1;
	if (pthread_create(&inval_thread, NULL, inval_main, NULL) == 0)
		inval_started = 1;
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
	it->parent = parent;
	it->name = xstrdup(slash + 1);
	pthread_mutex_lock(&inval_lock);
	if (inval_tail != NULL)
		inval_tail->next = it;
	else
		inval_head = it;
	inval_tail = it;
	queued_seq++;
	pthread_cond_signal(&inval_cond);
	pthread_mutex_unlock(&inval_lock);
}

void
fs_inval_queue(const char *path)
{
	if (inval_started)
		queue_path(path);
}

void
fs_inval_prefix(const char *prefix)
{
	char **paths;
	size_t i;

	if (!inval_started)
		return;
	paths = fs_ino_paths_under(prefix);
	for (i = 0; paths[i] != NULL; i++) {
		queue_path(paths[i]);
		free(paths[i]);
	}
	free(paths);
}

void
fs_inval_flush(long ms)
{
	struct timespec ts;
	uint64_t want;

	if (!inval_started)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&inval_lock);
	want = queued_seq;
	while (done_seq < want && inval_running)
		if (pthread_cond_timedwait(&done_cond, &inval_lock, &ts) != 0)
			break;
	pthread_mutex_unlock(&inval_lock);
}

void
fs_inval_stop(void)
{
	struct inval_item *it;

	if (!inval_started)
		return;
	pthread_mutex_lock(&inval_lock);
	inval_running = 0;
	pthread_cond_broadcast(&inval_cond);
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&inval_lock);
	pthread_join(inval_thread, NULL);
	inval_started = 0;
	while ((it = inval_head) != NULL) {
		inval_head = it->next;
		free(it->name);
		free(it);
	}
	inval_tail = NULL;
	pthread_cond_destroy(&inval_cond);
	pthread_cond_destroy(&done_cond);
}
