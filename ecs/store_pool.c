/*
 * The store's worker pool: one lock, one condition variable for idle
 * workers, and per category two FIFO queues (demand, read-ahead). A worker
 * takes the oldest demand job of a category below its in-flight bound,
 * else the oldest read-ahead job; categories are visited in turn so that
 * one busy category does not starve another.
 */
#include "ecs/store_pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "ecs/xmalloc.h"

struct job {
	struct job	*next;
	void		(*run)(void *);
	void		(*cancel)(void *);
	void		*arg;
};

struct queue {
	struct job	*head;
	struct job	*tail;
};

struct spool {
	unsigned	 max_threads;	/* immutable */
	unsigned	 max_inflight;	/* immutable */
	pthread_mutex_t	 lock;		/* protects everything below */
	pthread_cond_t	 work;		/* a job was queued, a slot freed, or stop */
	struct queue	 demand[SPOOL_CATS];
	struct queue	 ahead[SPOOL_CATS];
	unsigned	 inflight[SPOOL_CATS];
	unsigned	 max_seen[SPOOL_CATS];
	unsigned	 next_cat;	/* where the next search starts */
	pthread_t	*threads;
	unsigned	 nthreads;
	unsigned	 idle;
	int		 stopping;
	unsigned long	 runs;
	unsigned long	 ahead_runs;
};

static void
queue_push(struct queue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct job *
queue_pop(struct queue *q)
{
	struct job *j = q->head;

	if (j != NULL && (q->head = j->next) == NULL)
		q->tail = NULL;
	return j;
}

/* The next runnable job and its category, under the lock; NULL if none. */
static struct job *
take(struct spool *p, unsigned *catp, int *aheadp)
{
	struct job *j;
	unsigned i, cat;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < SPOOL_CATS; i++) {
			cat = (p->next_cat + i) % SPOOL_CATS;
			if (p->inflight[cat] >= p->max_inflight)
				continue;
			j = queue_pop(pass == 0 ? &p->demand[cat] : &p->ahead[cat]);
			if (j == NULL)
				continue;
			p->next_cat = (cat + 1) % SPOOL_CATS;
			*catp = cat;
			*aheadp = pass;
			return j;
		}
	}
	return NULL;
}

static void *
worker(void *arg)
{
	struct spool *p = arg;
	struct job *j;
	unsigned cat;
	int ahead;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->stopping)
			break;
		if ((j = take(p, &cat, &ahead)) == NULL) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
			continue;
		}
		if (++p->inflight[cat] > p->max_seen[cat])
			p->max_seen[cat] = p->inflight[cat];
		p->runs++;
		if (ahead)
			p->ahead_runs++;
		pthread_mutex_unlock(&p->lock);
		j->run(j->arg);
		free(j);
		pthread_mutex_lock(&p->lock);
		p->inflight[cat]--;
		/* A slot freed: a job of cat may be waiting for it. */
		pthread_cond_broadcast(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct spool *
spool_new(unsigned max_threads, unsigned max_inflight)
{
	struct spool *p = xcalloc(1, sizeof(*p));

	p->max_threads = max_threads ? max_threads : 1;
	p->max_inflight = max_inflight ? max_inflight : 1;
	p->threads = xcalloc(p->max_threads, sizeof(*p->threads));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	return p;
}

void
spool_submit(struct spool *p, unsigned cat, int ahead, void (*run)(void *),
    void (*cancel)(void *), void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->run = run;
	j->cancel = cancel;
	j->arg = arg;
	cat %= SPOOL_CATS;
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		cancel(arg);
		free(j);
		return;
	}
	queue_push(ahead ? &p->ahead[cat] : &p->demand[cat], j);
	if (p->idle == 0 && p->nthreads < p->max_threads &&
	    pthread_create(&p->threads[p->nthreads], NULL, worker, p) == 0)
		p->nthreads++;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void
spool_free(struct spool *p)
{
	struct job *j, *cancelled = NULL;
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	for (i = 0; i < SPOOL_CATS; i++) {
		while ((j = queue_pop(&p->demand[i])) != NULL ||
		    (j = queue_pop(&p->ahead[i])) != NULL) {
			j->next = cancelled;
			cancelled = j;
		}
	}
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	while ((j = cancelled) != NULL) {
		cancelled = j->next;
		j->cancel(j->arg);
		free(j);
	}
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void
spool_stats(struct spool *p, struct buf *out)
{
	unsigned i, max = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < SPOOL_CATS; i++)
		if (p->max_seen[i] > max)
			max = p->max_seen[i];
	buf_printf(out, "store_jobs %lu\n", p->runs);
	buf_printf(out, "store_ahead_jobs %lu\n", p->ahead_runs);
	buf_printf(out, "store_threads %u\n", p->nthreads);
	buf_printf(out, "store_max_inflight %u\n", max);
	pthread_mutex_unlock(&p->lock);
}
