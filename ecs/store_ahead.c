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
	size_t		 last_miss;	/* listing position of the last miss */
	int		 dir;		/* 1 forward, -1 backward, 0 not a scan yet */
	size_t		 ahead;		/* in scan order: the first position not handed out */
	unsigned	 window;	/* in batches */
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

/* A listing position in the scan's order (0 is where a scan starts). */
static size_t
scan_pos(const struct scan *sc, size_t count, size_t pos)
{
	return sc->dir >= 0 ? pos : count - 1 - pos;
}

/*
 * Hands out, as listing positions, the whole batches that bring the window
 * ahead of p (a position in scan order). Under lock.
 */
static int
fill(struct scan *sc, size_t count, size_t batch, size_t p, size_t *from, size_t *to)
{
	size_t want = p + 1 + (size_t)sc->window * batch, n, f, t;

	if (sc->ahead <= p)
		sc->ahead = p + 1;
	if (sc->ahead >= want || sc->ahead >= count)
		return 0;
	/* Whole batches, so that no call describes a few names only. */
	n = (want - sc->ahead + batch - 1) / batch * batch;
	f = sc->ahead;
	t = f + n < count ? f + n : count;
	sc->ahead = t;
	if (sc->dir >= 0) {
		*from = f;
		*to = t;
	} else {
		*from = count - t;
		*to = count - f;
	}
	return 1;
}

int
sahead_miss(struct sahead *a, const char *lkey, size_t count, size_t batch,
    size_t pos, int *dir, size_t *from, size_t *to)
{
	struct scan *sc;
	size_t p;
	int rc = 0, fresh;

	pthread_mutex_lock(&a->lock);
	fresh = (sc = find(a, lkey, 0)) == NULL;
	if (fresh)
		sc = find(a, lkey, 1);
	if (!fresh && sc->dir == 0 && pos != sc->last_miss) {
		/* A second miss in this listing: a scan, in this direction. */
		sc->dir = pos > sc->last_miss ? 1 : -1;
		sc->window = 1;
		sc->used = 0;
		sc->ahead = 0;
	} else if (!fresh && sc->dir != 0 &&
	    scan_pos(sc, count, pos) > scan_pos(sc, count, sc->last_miss) &&
	    sc->last_miss < count) {
		/* The scan goes on. */
	} else {
		/* The first miss, or one that goes back: not a scan (yet). */
		sc->dir = 0;
		sc->window = 0;
		sc->last_miss = pos;
		*dir = 0;
		goto out;
	}
	sc->last_miss = pos;
	*dir = sc->dir;
	/* The reader's own batch covers the next batch positions. */
	p = scan_pos(sc, count, pos) + batch - 1;
	if (sc->ahead < p + 1)
		sc->ahead = p + 1;
	rc = fill(sc, count, batch, p, from, to);
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
	if ((sc = find(a, lkey, 0)) == NULL || sc->dir == 0 || pos >= count)
		goto out;
	if (id > sc->last_id) {
		sc->last_id = id;
		/*
		 * 1, 1, 1, 4, 8, ...: the first two batches reached keep the
		 * window (a short run of reads, whichever way it goes, costs
		 * one call more at most), then it grows fourfold and
		 * twofold, as the kernel's read-ahead does.
		 */
		if (++sc->used > 2 && sc->window < a->max_window) {
			sc->window *= sc->used == 3 ? 4 : 2;
			if (sc->window > a->max_window)
				sc->window = a->max_window;
		}
	}
	rc = fill(sc, count, batch, scan_pos(sc, count, pos), from, to);
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
