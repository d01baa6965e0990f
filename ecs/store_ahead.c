/*
 * Read-ahead bookkeeping: a few scan records, the least recently touched
 * one reused for a new listing. Positions are listing indices; "ahead" is
 * the first position not yet handed out for describing.
 */
#include "ecs/store_ahead.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/xmalloc.h"

#define SCANS	16	/* listings followed at once */

struct scan {
	char		*lkey;		/* NULL: a free slot */
	uint64_t	 touched;
	size_t		 last_miss;
	size_t		 ahead;
	unsigned	 window;	/* in batches; 0 until it is a scan */
	unsigned	 used;		/* read-ahead batches readers reached */
	unsigned	 last_id;	/* the newest of them */
};

struct sahead {
	unsigned	 max_window;	/* immutable */
	pthread_mutex_t	 lock;		/* protects everything below */
	struct scan	 scans[SCANS];
	uint64_t	 clock;
};

struct sahead *
sahead_new(unsigned max_window)
{
	struct sahead *a = xcalloc(1, sizeof(*a));

	a->max_window = max_window ? max_window : 1;
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

void
sahead_free(struct sahead *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < SCANS; i++)
		free(a->scans[i].lkey);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* The record of lkey; with create, a new (or the oldest) one. Under lock. */
static struct scan *
find(struct sahead *a, const char *lkey, int create)
{
	struct scan *sc, *old = &a->scans[0];
	size_t i;

	for (i = 0; i < SCANS; i++) {
		sc = &a->scans[i];
		if (sc->lkey != NULL && strcmp(sc->lkey, lkey) == 0) {
			sc->touched = ++a->clock;
			return sc;
		}
		if (sc->lkey == NULL || sc->touched < old->touched)
			old = sc;
	}
	if (!create)
		return NULL;
	free(old->lkey);
	memset(old, 0, sizeof(*old));
	old->lkey = xstrdup(lkey);
	old->touched = ++a->clock;
	return old;
}

/* Hands out the positions that bring the window ahead of pos. Under lock. */
static int
fill(struct scan *sc, size_t count, size_t batch, size_t pos, size_t *from, size_t *to)
{
	size_t want = pos + 1 + (size_t)sc->window * batch, n;

	if (sc->ahead <= pos)
		sc->ahead = pos + 1;
	if (sc->ahead >= want || sc->ahead >= count)
		return 0;
	/* Whole batches, so that no call describes a few names only. */
	n = (want - sc->ahead + batch - 1) / batch * batch;
	*from = sc->ahead;
	*to = sc->ahead + n < count ? sc->ahead + n : count;
	sc->ahead = *to;
	return 1;
}

int
sahead_miss(struct sahead *a, const char *lkey, size_t count, size_t batch,
    size_t pos, size_t demand_end, size_t *from, size_t *to)
{
	struct scan *sc;
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	sc = find(a, lkey, 1);
	if (sc->last_miss == 0 && sc->window == 0 && sc->ahead == 0) {
		/* The first miss in this listing: not a scan yet. */
		sc->last_miss = pos + 1;
		sc->ahead = demand_end;
		goto out;
	}
	if (pos + 1 <= sc->last_miss) {
		/* Backwards: start over from here. */
		sc->last_miss = pos + 1;
		sc->ahead = demand_end;
		sc->window = 0;
		sc->used = 0;
		goto out;
	}
	sc->last_miss = pos + 1;
	if (sc->window == 0)
		sc->window = 1;
	if (sc->ahead < demand_end)
		sc->ahead = demand_end;
	/* The window counts from the end of the reader's own batch. */
	rc = fill(sc, count, batch, demand_end > pos ? demand_end - 1 : pos, from, to);
out:
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int
sahead_used(struct sahead *a, const char *lkey, size_t count, size_t batch,
    size_t pos, unsigned id, size_t *from, size_t *to)
{
	struct scan *sc;
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	if ((sc = find(a, lkey, 0)) == NULL || sc->window == 0)
		goto out;
	if (id > sc->last_id) {
		sc->last_id = id;
		/* 1, 1, 2, 4, ... : the first batch reached keeps the window. */
		if (++sc->used > 1 && sc->window < a->max_window) {
			sc->window *= 2;
			if (sc->window > a->max_window)
				sc->window = a->max_window;
		}
	}
	rc = fill(sc, count, batch, pos, from, to);
out:
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void
sahead_forget(struct sahead *a, const char *prefix)
{
	size_t i, n = strlen(prefix);

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < SCANS; i++) {
		if (a->scans[i].lkey != NULL && strncmp(a->scans[i].lkey, prefix, n) == 0) {
			free(a->scans[i].lkey);
			memset(&a->scans[i], 0, sizeof(a->scans[i]));
		}
	}
	pthread_mutex_unlock(&a->lock);
}
