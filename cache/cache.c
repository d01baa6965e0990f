/*
 * The generic TTL cache: a string-keyed hash table of entries, each holding
 * a reference-counted value or a negative mark, plus the bookkeeping of the
 * fetch in flight for it. Unpinned entries sit on an LRU list that bounds
 * their number. One mutex guards the whole cache; waiters for a fetch sleep
 * on a small array of condition variables chosen by the key's hash.
 *
 * Sequence numbers. One counter, c->seq, hands out every claim token and
 * every generation (the mark left by an invalidation or an authoritative
 * set), so "a happened before b" is "a's number is smaller". An entry keeps
 * in e->gen the number of its last invalidation or set. A claim is only
 * ever taken on an entry that is in the table, and an entry with a live
 * claim is never removed (neither by eviction nor by invalidation, which
 * only empties it), so every invalidation or set of the key between the
 * claim and its put finds that same entry and raises e->gen above the
 * claim token. A put is therefore stored only when e->claim == claim (the
 * token is the key's current one) and e->gen < claim (nothing invalidated
 * or set the key since). Keys absent at invalidation time cannot hold a
 * live claim, so no table-wide prefix generation is needed: this check is
 * exact per key.
 *
 * Callbacks. ref and now_ms are called with the cache's mutex held and
 * must not call into the cache. unref is always called after the mutex is
 * released (dropped values are collected on a list first), so it may.
 *
 * The bound. Entries in flight or waited on are pinned: off the LRU list,
 * never evicted. They count towards max_entries, so when more keys than
 * the bound are in flight at once the table exceeds it until they end
 * (cache_claim then refuses new keys; cache_get cannot refuse).
 *
 * Waiting. A reader that waits for another's fetch sleeps on its condition
 * variable (CLOCK_MONOTONIC) for at most interrupt_check_ms at a time and
 * asks cfg.interrupted() in between, outside the lock: a reader whose
 * caller goes away leaves alone, and the fetch goes on for the others.
 *
 * Usage rule: a thread that holds a claim must not block in cache_get on
 * a key whose fetcher may be waiting for that claim; batch siblings are
 * taken with cache_claim, which never waits.
 */
#include "cache/cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NCONDS		64	/* condition variables, a power of two */
#define MIN_BUCKETS	64	/* initial hash table size, a power of two */
#define SMALL_DROPS	8	/* values to unref before a heap list is needed */
#define SWEEP		4	/* dead entries dropped per operation at most */
#define CHECK_MS	20	/* default interrupt_check_ms */

/* One key's state. Every field is protected by the cache's lock. */
struct entry {
	struct entry	*hnext;		/* hash chain */
	struct entry	*lprev;		/* LRU list, towards the most recent */
	struct entry	*lnext;		/* LRU list, towards the least recent */
	uint64_t	 hash;
	void		*value;		/* valid when has_value */
	uint64_t	 stored_ms;	/* when the value or negative mark was stored */
	uint64_t	 vseq;		/* the put's claim or the set's generation */
	uint64_t	 gen;		/* the last invalidation or set of this key */
	uint64_t	 claim;		/* the fetch in flight; 0 for none */
	uint64_t	 fail_seq;	/* the last claim that ended in cache_fail */
	int		 fail_error;
	unsigned	 nwaiters;	/* readers sleeping on this key's fetch, or handed */
	unsigned	 handed;	/* of those, claims handed over (cache_hand) */
	unsigned	 has_value:1;
	unsigned	 negative:1;
	unsigned	 in_lru:1;
	char		 key[];
};

struct cache {
	struct cache_config cfg;	/* immutable after cache_new */
	long		 check_ms;	/* immutable: the interrupt poll interval */
	pthread_mutex_t	 lock;		/* protects everything below */
	/* Waiters sleep on conds[hash % NCONDS] under lock. */
	pthread_cond_t	 conds[NCONDS];
	struct entry	**buckets;
	size_t		 nbuckets;
	size_t		 count;		/* entries in the table, pinned or not */
	/* Entries neither in flight nor waited on, most recently used first. */
	struct entry	*lru_head;
	struct entry	*lru_tail;
	uint64_t	 seq;		/* the last claim token or generation given */
	uint64_t	 dropped;	/* the generation of the last prefix invalidation */
	struct cache_stats stats;	/* stats.entries is count, filled on read */
};

/* Values to unref once the lock is released. */
struct drops {
	void	**v;
	size_t	  n;
	size_t	  cap;
	void	 *small[SMALL_DROPS];
};

/* Allocates or aborts: the cache keeps no error path for memory. */
static void *
emalloc(size_t size)
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
static uint64_t
hash_key(const char *key)
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
static uint64_t
now_ms(struct cache *c)
{
	struct timespec ts;

	if (c->cfg.now_ms != NULL)
		return c->cfg.now_ms();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
drops_init(struct drops *d)
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
		nv = emalloc(2 * d->cap * sizeof(*nv));
		memcpy(nv, d->v, d->n * sizeof(*nv));
		if (d->v != d->small)
			free(d->v);
		d->v = nv;
		d->cap *= 2;
	}
	d->v[d->n++] = value;
}

/* Drops the collected references; called without the lock. */
static void
drops_run(struct cache *c, struct drops *d)
{
	size_t i;

	if (c->cfg.unref != NULL)
		for (i = 0; i < d->n; i++)
			c->cfg.unref(d->v[i]);
	if (d->v != d->small)
		free(d->v);
	drops_init(d);
}

static void
value_ref(struct cache *c, void *value)
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

static int
value_fresh(struct cache *c, const struct entry *e, uint64_t now)
{
	return e->has_value && younger(entry_age(e, now), c->cfg.ttl_ms);
}

static int
negative_fresh(struct cache *c, const struct entry *e, uint64_t now)
{
	return e->negative &&
	    younger(entry_age(e, now), c->cfg.negative_ttl_ms);
}

static int
value_stale_ok(struct cache *c, const struct entry *e, uint64_t now)
{
	return e->has_value && younger(entry_age(e, now), c->cfg.stale_ttl_ms);
}

static int
entry_pinned(const struct entry *e)
{
	return e->claim != 0 || e->nwaiters > 0;
}

static void
entry_clear(struct entry *e, struct drops *d)
{
	if (e->has_value)
		drops_add(d, e->value);
	e->value = NULL;
	e->has_value = 0;
	e->negative = 0;
}

/* Forgets what neither a reader nor cache_get_stale may still use. */
static void
entry_expire(struct cache *c, struct entry *e, uint64_t now, struct drops *d)
{
	if (e->has_value && !value_fresh(c, e, now) &&
	    !value_stale_ok(c, e, now))
		entry_clear(e, d);
	if (e->negative && !negative_fresh(c, e, now))
		e->negative = 0;
}

static void
lru_remove(struct cache *c, struct entry *e)
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

static struct entry *
table_lookup(struct cache *c, const char *key, uint64_t hash)
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

	nb = emalloc(n * sizeof(*nb));
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
static struct entry *
table_insert(struct cache *c, const char *key, uint64_t hash)
{
	struct entry *e;
	size_t len = strlen(key);
	size_t b;

	if (c->count >= c->nbuckets)
		table_grow(c);
	e = emalloc(sizeof(*e) + len + 1);
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
	lru_remove(c, e);
	entry_clear(e, d);
	c->count--;
	free(e);
}

/*
 * Puts e where its state says it belongs: off the LRU list while pinned,
 * out of the table when it holds nothing, else on the LRU list (at its
 * head when touch is set or when it was not on it). e may be freed.
 */
static void
entry_settle(struct cache *c, struct entry *e, int touch, struct drops *d)
{
	if (entry_pinned(e)) {
		lru_remove(c, e);
		return;
	}
	if (!e->has_value && !e->negative) {
		table_remove(c, e, d);
		return;
	}
	if (touch || !e->in_lru) {
		lru_remove(c, e);
		lru_push_head(c, e);
	}
}

/* Whether nothing in e may be served any more, stale or not. */
static int
entry_dead(struct cache *c, const struct entry *e, uint64_t now)
{
	return !value_fresh(c, e, now) && !value_stale_ok(c, e, now) &&
	    !negative_fresh(c, e, now);
}

/*
 * Evicts least recently used unpinned entries down to max_entries, then
 * drops a few dead ones from the cold end, so that keys nobody reads again
 * do not pile up when there is no bound.
 */
static void
lru_trim(struct cache *c, uint64_t now, struct drops *d)
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
static int
room_for_one(struct cache *c)
{
	return c->cfg.max_entries == 0 || c->count < c->cfg.max_entries ||
	    c->lru_tail != NULL;
}

static void
wake_waiters(struct cache *c, const struct entry *e)
{
	pthread_cond_broadcast(&c->conds[e->hash & (NCONDS - 1)]);
}

/* Makes e in flight under a new claim token. */
static uint64_t
entry_claim(struct cache *c, struct entry *e)
{
	e->claim = ++c->seq;
	lru_remove(c, e);
	return e->claim;
}

/* Stores value (or a negative mark when negative) in e, fresh from now. */
static void
entry_store(struct cache *c, struct entry *e, int negative, void *value,
    uint64_t vseq, uint64_t now, struct drops *d)
{
	entry_clear(e, d);
	if (negative)
		e->negative = 1;
	else {
		value_ref(c, value);
		e->value = value;
		e->has_value = 1;
	}
	e->stored_ms = now;
	e->vseq = vseq;
}

struct cache *
cache_new(const struct cache_config *cfg)
{
	pthread_condattr_t ca;
	struct cache *c;
	size_t i;

	c = emalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->check_ms = cfg->interrupt_check_ms > 0 ? cfg->interrupt_check_ms : CHECK_MS;
	if (pthread_mutex_init(&c->lock, NULL) != 0 ||
	    pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0)
		abort();
	for (i = 0; i < NCONDS; i++)
		if (pthread_cond_init(&c->conds[i], &ca) != 0)
			abort();
	pthread_condattr_destroy(&ca);
	c->nbuckets = MIN_BUCKETS;
	c->buckets = emalloc(c->nbuckets * sizeof(*c->buckets));
	for (i = 0; i < c->nbuckets; i++)
		c->buckets[i] = NULL;
	return c;
}

void
cache_free(struct cache *c)
{
	struct drops d;
	struct entry *e, *next;
	size_t i;

	if (c == NULL)
		return;
	drops_init(&d);
	for (i = 0; i < c->nbuckets; i++) {
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			entry_clear(e, &d);
			free(e);
		}
	}
	free(c->buckets);
	for (i = 0; i < NCONDS; i++)
		pthread_cond_destroy(&c->conds[i]);
	pthread_mutex_destroy(&c->lock);
	drops_run(c, &d);
	free(c);
}

/*
 * Sleeps on key's condition variable for at most check_ms (with the lock
 * held, as pthread_cond_timedwait does); returns 1 when the caller went
 * away. The lock is dropped around the callback.
 */
static int
wait_once(struct cache *c, uint64_t hash)
{
	struct timespec ts;

	if (c->cfg.interrupted == NULL) {
		pthread_cond_wait(&c->conds[hash & (NCONDS - 1)], &c->lock);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += c->check_ms / 1000;
	ts.tv_nsec += (c->check_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&c->conds[hash & (NCONDS - 1)], &c->lock, &ts);
	pthread_mutex_unlock(&c->lock);
	if (c->cfg.interrupted()) {
		pthread_mutex_lock(&c->lock);
		return 1;
	}
	pthread_mutex_lock(&c->lock);
	return 0;
}

/*
 * Looks key up; see cache.h. A reader that waits remembers the claim w it
 * waits for (cache_wait starts with one): anything stored since w
 * (e->vseq >= w) answers it even if already expired, and a failure of w
 * or of a later fetch answers it with CACHE_FAILED. A rejected or
 * abandoned put leaves neither, so the reader looks again.
 */
static enum cache_state
lookup(struct cache *c, const char *key, uint64_t w, void **value, uint64_t *claim,
    int *error)
{
	struct drops d;
	struct entry *e;
	enum cache_state st;
	uint64_t hash = hash_key(key), now;
	int waited = 0, gone;

	drops_init(&d);
	pthread_mutex_lock(&c->lock);
	/* The pin of cache_hand() ends here, under the same lock as the look. */
	if (w != 0 && (e = table_lookup(c, key, hash)) != NULL && e->handed > 0) {
		e->handed--;
		e->nwaiters--;
	}
	for (;;) {
		now = now_ms(c);
		e = table_lookup(c, key, hash);
		if (e == NULL) {
			e = table_insert(c, key, hash);
			break;
		}
		if (e->has_value && ((w != 0 && e->vseq >= w) ||
		    value_fresh(c, e, now))) {
			value_ref(c, e->value);
			*value = e->value;
			c->stats.hits++;
			entry_settle(c, e, 1, &d);
			st = CACHE_HIT;
			goto out;
		}
		if (e->negative && ((w != 0 && e->vseq >= w) ||
		    negative_fresh(c, e, now))) {
			c->stats.negative_hits++;
			entry_settle(c, e, 1, &d);
			st = CACHE_NEGATIVE;
			goto out;
		}
		if (w != 0 && e->fail_seq >= w) {
			*error = e->fail_error;
			entry_settle(c, e, 0, &d);
			st = CACHE_FAILED;
			goto out;
		}
		if (e->claim == 0) {
			entry_expire(c, e, now, &d);
			break;
		}
		/* Another thread fetches key: sleep until its claim ends. */
		if (!waited) {
			c->stats.waits++;
			waited = 1;
		}
		if (e->claim > w)
			w = e->claim;
		e->nwaiters++;
		lru_remove(c, e);
		gone = wait_once(c, hash);
		/*
		 * e is still in the table: it was pinned by nwaiters. Every
		 * way out of the loop settles it, after the failure record
		 * it may carry for this reader has been read.
		 */
		e->nwaiters--;
		if (gone) {
			c->stats.interrupted++;
			entry_settle(c, e, 0, &d);
			st = CACHE_INTERRUPTED;
			goto out;
		}
	}
	*claim = entry_claim(c, e);
	c->stats.misses++;
	st = CACHE_MISS;
out:
	lru_trim(c, now, &d);
	pthread_mutex_unlock(&c->lock);
	drops_run(c, &d);
	return st;
}

enum cache_state
cache_get(struct cache *c, const char *key, void **value, uint64_t *claim,
    int *error)
{
	return lookup(c, key, 0, value, claim, error);
}

enum cache_state
cache_wait(struct cache *c, const char *key, uint64_t claim, void **value,
    uint64_t *newclaim, int *error)
{
	return lookup(c, key, claim, value, newclaim, error);
}

void
cache_hand(struct cache *c, const char *key, uint64_t claim)
{
	struct entry *e;

	pthread_mutex_lock(&c->lock);
	e = table_lookup(c, key, hash_key(key));
	if (e != NULL && e->claim == claim && claim != 0) {
		/* Pinned as a waiter would be: the result stays for cache_wait. */
		e->handed++;
		e->nwaiters++;
		lru_remove(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}

int
cache_claim(struct cache *c, const char *key, uint64_t *claim)
{
	struct drops d;
	struct entry *e;
	uint64_t hash = hash_key(key), now;
	int ok = 0;

	drops_init(&d);
	pthread_mutex_lock(&c->lock);
	now = now_ms(c);
	e = table_lookup(c, key, hash);
	if (e == NULL) {
		/* A batch sibling is optional: never exceed the bound for it. */
		if (!room_for_one(c))
			goto out;
		e = table_insert(c, key, hash);
	} else if (e->claim != 0 || value_fresh(c, e, now) ||
	    negative_fresh(c, e, now))
		goto out;
	else
		entry_expire(c, e, now, &d);
	*claim = entry_claim(c, e);
	ok = 1;
out:
	lru_trim(c, now, &d);
	pthread_mutex_unlock(&c->lock);
	drops_run(c, &d);
	return ok;
}

/*
 * Ends a claim: stores a value or a negative mark, or records a failure.
 * A token that is not the key's current claim is ignored.
 */
static void
claim_end(struct cache *c, const char *key, uint64_t claim, int negative,
    int failed, void *value, int error, int abandon)
{
	struct drops d;
	struct entry *e;
	uint64_t hash = hash_key(key), now;

	drops_init(&d);
	pthread_mutex_lock(&c->lock);
	now = now_ms(c);
	e = table_lookup(c, key, hash);
	if (e == NULL || claim == 0 || e->claim != claim)
		goto out;
	e->claim = 0;
	if (abandon)
		;
	else if (failed) {
		e->fail_seq = claim;
		e->fail_error = error;
	} else if (e->gen > claim)
		c->stats.rejected_puts++;
	else
		entry_store(c, e, negative, value, claim, now, &d);
	wake_waiters(c, e);
	entry_settle(c, e, !failed && !abandon, &d);
	lru_trim(c, now, &d);
out:
	pthread_mutex_unlock(&c->lock);
	drops_run(c, &d);
}

void
cache_put(struct cache *c, const char *key, void *value, uint64_t claim)
{
	claim_end(c, key, claim, 0, 0, value, 0, 0);
}

void
cache_put_negative(struct cache *c, const char *key, uint64_t claim)
{
	claim_end(c, key, claim, 1, 0, NULL, 0, 0);
}

void
cache_fail(struct cache *c, const char *key, uint64_t claim, int error)
{
	claim_end(c, key, claim, 0, 1, NULL, error, 0);
}

void
cache_abandon(struct cache *c, const char *key, uint64_t claim)
{
	claim_end(c, key, claim, 0, 0, NULL, 0, 1);
}

int
cache_get_stale(struct cache *c, const char *key, void **value)
{
	struct drops d;
	struct entry *e;
	uint64_t hash = hash_key(key);
	int found = 0;

	drops_init(&d);
	pthread_mutex_lock(&c->lock);
	e = table_lookup(c, key, hash);
	if (e != NULL && value_stale_ok(c, e, now_ms(c))) {
		value_ref(c, e->value);
		*value = e->value;
		c->stats.stale_serves++;
		found = 1;
		entry_settle(c, e, 1, &d);
	}
	pthread_mutex_unlock(&c->lock);
	drops_run(c, &d);
	return found;
}

/* Hands out what key stores, whatever its age, touching nothing. */
int
cache_peek(struct cache *c, const char *key, void **value, int *fresh)
{
	struct entry *e;
	int found = 0;

	pthread_mutex_lock(&c->lock);
	e = table_lookup(c, key, hash_key(key));
	if (e != NULL && e->has_value) {
		value_ref(c, e->value);
		*value = e->value;
		*fresh = value_fresh(c, e, now_ms(c));
		found = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/*
 * Stores value as the key's fresh state and raises the key's generation,
 * so that a fetch in flight keeps its claim but cannot store its result.
 * Its waiters wake and take this value.
 */
/*
 * Stores value for key as cache_set() does; with a mark, only when nothing
 * set or invalidated the key (or dropped a prefix) after the mark was taken.
 */
static void
set_value(struct cache *c, const char *key, void *value, uint64_t mark)
{
	struct drops d;
	struct entry *e;
	uint64_t hash = hash_key(key), now;

	drops_init(&d);
	pthread_mutex_lock(&c->lock);
	now = now_ms(c);
	e = table_lookup(c, key, hash);
	if (mark != 0 && ((e != NULL && e->gen > mark) || c->dropped > mark)) {
		c->stats.rejected_puts++;
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (e == NULL)
		e = table_insert(c, key, hash);
	e->gen = ++c->seq;
	entry_store(c, e, 0, value, e->gen, now, &d);
	if (entry_pinned(e))
		wake_waiters(c, e);
	entry_settle(c, e, 1, &d);
	lru_trim(c, now, &d);
	pthread_mutex_unlock(&c->lock);
	drops_run(c, &d);
}

void
cache_set(struct cache *c, const char *key, void *value)
{
	set_value(c, key, value, 0);
}

uint64_t
cache_mark(struct cache *c)
{
	uint64_t m;

	pthread_mutex_lock(&c->lock);
	m = ++c->seq;
	pthread_mutex_unlock(&c->lock);
	return m;
}

void
cache_set_since(struct cache *c, const char *key, void *value, uint64_t mark)
{
	set_value(c, key, value, mark);
}

/*
 * Drops matching entries; one in flight or waited on keeps its node (so its
 * claim and waiters stay valid) but loses its value and gets the new
 * generation. This walks the whole table: invalidations follow writes,
 * which are rare next to reads.
 */
void
cache_invalidate_prefix(struct cache *c, const char *prefix)
{
	struct drops d;
	struct entry **pp, *e;
	size_t i, plen = strlen(prefix);
	uint64_t g;

	drops_init(&d);
	pthread_mutex_lock(&c->lock);
	g = ++c->seq;
	c->dropped = g;
	for (i = 0; i < c->nbuckets; i++) {
		pp = &c->buckets[i];
		while ((e = *pp) != NULL) {
			if (strncmp(e->key, prefix, plen) != 0) {
				pp = &e->hnext;
				continue;
			}
			e->gen = g;
			entry_clear(e, &d);
			if (entry_pinned(e)) {
				pp = &e->hnext;
				continue;
			}
			*pp = e->hnext;
			lru_remove(c, e);
			c->count--;
			free(e);
		}
	}
	pthread_mutex_unlock(&c->lock);
	drops_run(c, &d);
}

void
cache_get_stats(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	out->entries = c->count;
	pthread_mutex_unlock(&c->lock);
}
