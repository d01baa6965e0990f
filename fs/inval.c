/*
 * The invalidation thread: a queue of paths, drained by one thread that
 * calls fuse_invalidate_path() outside any request handler.
 */
#define FUSE_USE_VERSION 312
#include "fs/inval.h"

#include <fuse.h>
#include <pthread.h>
#include <stdlib.h>

#include "ecs/xmalloc.h"

struct inval_item {
	struct inval_item	*next;
	char			*path;
};

static pthread_mutex_t inval_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inval_cond = PTHREAD_COND_INITIALIZER;
static struct inval_item *inval_head;	/* protected by inval_lock */
static struct inval_item *inval_tail;	/* protected by inval_lock */
static int inval_running;		/* protected by inval_lock */
static int inval_started;		/* written before and after the thread only */
static struct fuse *inval_fuse;		/* likewise */
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
		/* -ENOENT just means the kernel does not know the path. */
		(void)fuse_invalidate_path(inval_fuse, it->path);
		free(it->path);
		free(it);
		pthread_mutex_lock(&inval_lock);
	}
	pthread_mutex_unlock(&inval_lock);
	return NULL;
}

void
fs_inval_start(struct fuse *fuse)
{
	inval_fuse = fuse;
	inval_running = 1;
	if (pthread_create(&inval_thread, NULL, inval_main, NULL) == 0)
		inval_started = 1;
}

void
fs_inval_queue(const char *path)
{
	struct inval_item *it;

	if (!inval_started)
		return;
	it = xcalloc(1, sizeof(*it));
	it->path = xstrdup(path);
	pthread_mutex_lock(&inval_lock);
	if (inval_tail != NULL)
		inval_tail->next = it;
	else
		inval_head = it;
	inval_tail = it;
	pthread_cond_signal(&inval_cond);
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
	pthread_cond_signal(&inval_cond);
	pthread_mutex_unlock(&inval_lock);
	pthread_join(inval_thread, NULL);
	inval_started = 0;
	while ((it = inval_head) != NULL) {
		inval_head = it->next;
		free(it->path);
		free(it);
	}
	inval_tail = NULL;
}
