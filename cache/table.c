/*
 * The cache's table: string keys hashed into chains, the LRU list of
 * unpinned entries that bounds their number, and the life of an entry
 * (stored, fresh, stale, expired, removed). The protocol of claims and
 * waits on top of it is cache/cache.c.
 */
#include "cache/cache_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allocates or aborts: the cache keeps no error path for memory. */
void *
ctab_emalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL) {
		fprintf(stderr, "cache: out of memory allocating %zu bytes\n",
		    size);
		abort();
	}
	return p;
}

/* FNV-1a over the key, finished with a 64-bit mixer for the low bits. */
uint64_t
ctab_hash_key(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* The cache's notion of now, in milliseconds. */
uint64_t
ctab_now_ms(struct cache *c)
{
	struct timespec ts;

	if (c->cfg.now_ms != NULL)
		return c->cfg.now_ms();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
ctab_drops_init(struct drops *d)
{
	d->v = d->small;
	d->n = 0;
	d->cap = SMALL_DROPS;
}

static void
drops_add(struct drops *d, void *value)
{
	void **nv;

	if (d->n == d->cap) {
		nv = ctab_emalloc(2 * d->cap * sizeof(*nv));
		memcpy(nv, d->v, d->n * sizeof(*nv));
		if (d->v != d->small)
			free(d->v);
		d->v = nv;
		d->cap *= 2;
	}
	d->v[d->n++] = value;
}

/* Drops the collected references; called without the lock. */
void
ctab_drops_run(struct cache *c, struct drops *d)
{
	size_t i;

	if (c->cfg.unref != NULL)
		for (i = 0; i < d->n; i++)
			c->cfg.unref(d->v[i]);
	if (d->v != d->small)
		free(d->v);
	ctab_drops_init(d);
}

void
ctab_value_ref(struct cache *c, void *value)
{
	if (c->cfg.ref != NULL)
		c->cfg.ref(value);
}

/* Age of what e stores; a clock that went backwards counts as age 0. */
static uint64_t
entry_age(const struct entry *e, uint64_t now)
{
	return now > e->stored_ms ? now - e->stored_ms : 0;
}

static int
younger(uint64_t age, long limit_ms)
{
	return limit_ms > 0 && age < (uint64_t)limit_ms;
}

int
ctab_value_fresh(struct cache *c, const struct entry *e, uint64_t now)
{
	return e->has_value && younger(entry_age(e, now), c->cfg.ttl_ms);
}

int
ctab_negative_fresh(struct cache *c, const struct entry *e, uint64_t now)
{
	return e->negative &&
	    younger(entry_age(e, now), c->cfg.negative_ttl_ms);
}

int
ctab_value_stale_ok(struct cache *c, const struct entry *e, uint64_t now)
{
	return e->has_value && younger(entry_age(e, now), c->cfg.stale_ttl_ms);
}

int
ctab_entry_pinned(const struct entry *e)
{
	return e->claim != 0 || e->nwaiters > 0;
}

void
ctab_entry_clear(struct entry *e, struct drops *d)
{
	if (e->has_value)
		drops_add(d, e->value);
	e->value = NULL;
	e->has_value = 0;
	e->negative = 0;
}

/* Forgets what neither a reader nor cache_get_stale may still use. */
void
ctab_entry_expire(struct cache *c, struct entry *e, uint64_t now, struct drops *d)
{
	if (e->has_value && !ctab_value_fresh(c, e, now) &&
	    !ctab_value_stale_ok(c, e, now))
		ctab_entry_clear(e, d);
	if (e->negative && !ctab_negative_fresh(c, e, now))
		e->negative = 0;
}

void
ctab_lru_remove(struct cache *c, struct entry *e)
{
	if (!e->in_lru)
		return;
	if (e->lprev != NULL)
		e->lprev->lnext = e->lnext;
	else
		c->lru_head = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else
		c->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
	e->in_lru = 0;
}

static void
lru_push_head(struct cache *c, struct entry *e)
{
	e->lprev = NULL;
	e->lnext = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lprev = e;
	else
		c->lru_tail = e;
	c->lru_head = e;
	e->in_lru = 1;
}

struct entry *
ctab_table_lookup(struct cache *c, const char *key, uint64_t hash)
{
	struct entry *e;

	for (e = c->buckets[hash & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == hash && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Doubles the bucket array and rehashes every entry. */
static void
table_grow(struct cache *c)
{
	struct entry **nb, *e, *next;
	size_t i, n = c->nbuckets * 2;

	nb = ctab_emalloc(n * sizeof(*nb));
	for (i = 0; i < n; i++)
		nb[i] = NULL;
	for (i = 0; i < c->nbuckets; i++) {
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

/* Adds an empty, unpinned entry for key; the caller settles or pins it. */
struct entry *
ctab_table_insert(struct cache *c, const char *key, uint64_t hash)
{
	struct entry *e;
	size_t len = strlen(key);
	size_t b;

	if (c->count >= c->nbuckets)
		table_grow(c);
	e = ctab_emalloc(sizeof(*e) + len + 1);
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, len + 1);
	e->hash = hash;
	b = hash & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	c->count++;
	return e;
}

/* Takes e out of the table and the LRU list and frees it. */
static void
table_remove(struct cache *c, struct entry *e, struct drops *d)
{
	struct entry **pp;

	pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	ctab_lru_remove(c, e);
	ctab_entry_clear(e, d);
	c->count--;
	free(e);
}

/*
 * Puts e where its state says it belongs: off the LRU list while pinned,
 * out of the table when it holds nothing, else on the LRU list (at its
 * head when touch is set or when it was not on it). e may be freed.
 */
void
ctab_entry_settle(struct cache *c, struct entry *e, int touch, struct drops *d)
{
	if (ctab_entry_pinned(e)) {
		ctab_lru_remove(c, e);
		return;
	}
	if (!e->has_value && !e->negative) {
		table_remove(c, e, d);
		return;
	}
	if (touch || !e->in_lru) {
		ctab_lru_remove(c, e);
		lru_push_head(c, e);
	}
}

/* Whether nothing in e may be served any more, stale or not. */
static int
entry_dead(struct cache *c, const struct entry *e, uint64_t now)
{
	return !ctab_value_fresh(c, e, now) && !ctab_value_stale_ok(c, e, now) &&
	    !ctab_negative_fresh(c, e, now);
}

/*
 * Evicts least recently used unpinned entries down to max_entries, then
 * drops a few dead ones from the cold end, so that keys nobody reads again
 * do not pile up when there is no bound.
 */
void
ctab_lru_trim(struct cache *c, uint64_t now, struct drops *d)
{
	int n;

	while (c->cfg.max_entries != 0 && c->count > c->cfg.max_entries &&
	    c->lru_tail != NULL) {
		table_remove(c, c->lru_tail, d);
		c->stats.evictions++;
	}
	for (n = 0; n < SWEEP && c->lru_tail != NULL &&
	    entry_dead(c, c->lru_tail, now); n++)
		table_remove(c, c->lru_tail, d);
}

/* Whether a new entry would fit without exceeding the bound for good. */
int
ctab_room_for_one(struct cache *c)
{
	return c->cfg.max_entries == 0 || c->count < c->cfg.max_entries ||
	    c->lru_tail != NULL;
}

void
ctab_wake_waiters(struct cache *c, const struct entry *e)
{
	pthread_cond_broadcast(&c->conds[e->hash & (NCONDS - 1)]);
}

/* Makes e in flight under a new claim token. */
uint64_t
ctab_entry_claim(struct cache *c, struct entry *e)
{
	e->claim = ++c->seq;
	ctab_lru_remove(c, e);
	return e->claim;
}

/* Stores value (or a negative mark when negative) in e, fresh from now. */
void
ctab_entry_store(struct cache *c, struct entry *e, int negative, void *value,
    uint64_t vseq, uint64_t now, struct drops *d)
{
	ctab_entry_clear(e, d);
	if (negative)
		e->negative = 1;
	else {
		ctab_value_ref(c, value);
		e->value = value;
		e->has_value = 1;
	}
	e->stored_ms = now;
	e->vseq = vseq;
}
