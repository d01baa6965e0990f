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
#include "cache/cache_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cache *
cache_new(const struct cache_config *cfg)
{
	pthread_condattr_t ca;
	struct cache *c;
	size_t i;

	c = ctab_emalloc(sizeof(*c));
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
	c->buckets = ctab_emalloc(c->nbuckets * sizeof(*c->buckets));
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
	ctab_drops_init(&d);
	for (i = 0; i < c->nbuckets; i++) {
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			ctab_entry_clear(e, &d);
			free(e);
		}
	}
	free(c->buckets);
	for (i = 0; i < NCONDS; i++)
		pthread_cond_destroy(&c->conds[i]);
	pthread_mutex_destroy(&c->lock);
	ctab_drops_run(c, &d);
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
	uint64_t hash = ctab_hash_key(key), now;
	int waited = 0, gone;

	ctab_drops_init(&d);
	pthread_mutex_lock(&c->lock);
	/* The pin of cache_hand() ends here, under the same lock as the look. */
	if (w != 0 && (e = ctab_table_lookup(c, key, hash)) != NULL && e->handed > 0) {
		e->handed--;
		e->nwaiters--;
	}
	for (;;) {
		now = ctab_now_ms(c);
		e = ctab_table_lookup(c, key, hash);
		if (e == NULL) {
			e = ctab_table_insert(c, key, hash);
			break;
		}
		if (e->has_value && ((w != 0 && e->vseq >= w) ||
		    ctab_value_fresh(c, e, now))) {
			ctab_value_ref(c, e->value);
			*value = e->value;
			c->stats.hits++;
			ctab_entry_settle(c, e, 1, &d);
			st = CACHE_HIT;
			goto out;
		}
		if (e->negative && ((w != 0 && e->vseq >= w) ||
		    ctab_negative_fresh(c, e, now))) {
			c->stats.negative_hits++;
			ctab_entry_settle(c, e, 1, &d);
			st = CACHE_NEGATIVE;
			goto out;
		}
		if (w != 0 && e->fail_seq >= w) {
			*error = e->fail_error;
			ctab_entry_settle(c, e, 0, &d);
			st = CACHE_FAILED;
			goto out;
		}
		if (e->claim == 0) {
			ctab_entry_expire(c, e, now, &d);
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
		ctab_lru_remove(c, e);
		gone = wait_once(c, hash);
		/*
		 * e is still in the table: it was pinned by nwaiters. Every
		 * way out of the loop settles it, after the failure record
		 * it may carry for this reader has been read.
		 */
		e->nwaiters--;
		if (gone) {
			c->stats.interrupted++;
			ctab_entry_settle(c, e, 0, &d);
			st = CACHE_INTERRUPTED;
			goto out;
		}
	}
	*claim = ctab_entry_claim(c, e);
	c->stats.misses++;
	st = CACHE_MISS;
out:
	ctab_lru_trim(c, now, &d);
	pthread_mutex_unlock(&c->lock);
	ctab_drops_run(c, &d);
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
	e = ctab_table_lookup(c, key, ctab_hash_key(key));
	if (e != NULL && e->claim == claim && claim != 0) {
		/* Pinned as a waiter would be: the result stays for cache_wait. */
		e->handed++;
		e->nwaiters++;
		ctab_lru_remove(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}

int
cache_claim(struct cache *c, const char *key, uint64_t *claim)
{
	struct drops d;
	struct entry *e;
	uint64_t hash = ctab_hash_key(key), now;
	int ok = 0;

	ctab_drops_init(&d);
	pthread_mutex_lock(&c->lock);
	now = ctab_now_ms(c);
	e = ctab_table_lookup(c, key, hash);
	if (e == NULL) {
		/* A batch sibling is optional: never exceed the bound for it. */
		if (!ctab_room_for_one(c))
			goto out;
		e = ctab_table_insert(c, key, hash);
	} else if (e->claim != 0 || ctab_value_fresh(c, e, now) ||
	    ctab_negative_fresh(c, e, now))
		goto out;
	else
		ctab_entry_expire(c, e, now, &d);
	*claim = ctab_entry_claim(c, e);
	ok = 1;
out:
	ctab_lru_trim(c, now, &d);
	pthread_mutex_unlock(&c->lock);
	ctab_drops_run(c, &d);
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
	uint64_t hash = ctab_hash_key(key), now;

	ctab_drops_init(&d);
	pthread_mutex_lock(&c->lock);
	now = ctab_now_ms(c);
	e = ctab_table_lookup(c, key, hash);
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
		ctab_entry_store(c, e, negative, value, claim, now, &d);
	ctab_wake_waiters(c, e);
	ctab_entry_settle(c, e, !failed && !abandon, &d);
	ctab_lru_trim(c, now, &d);
out:
	pthread_mutex_unlock(&c->lock);
	ctab_drops_run(c, &d);
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
	uint64_t hash = ctab_hash_key(key);
	int found = 0;

	ctab_drops_init(&d);
	pthread_mutex_lock(&c->lock);
	e = ctab_table_lookup(c, key, hash);
	if (e != NULL && ctab_value_stale_ok(c, e, ctab_now_ms(c))) {
		ctab_value_ref(c, e->value);
		*value = e->value;
		c->stats.stale_serves++;
		found = 1;
		ctab_entry_settle(c, e, 1, &d);
	}
	pthread_mutex_unlock(&c->lock);
	ctab_drops_run(c, &d);
	return found;
}

/* Hands out what key stores, whatever its age, touching nothing. */
int
cache_peek(struct cache *c, const char *key, void **value, int *fresh)
{
	struct entry *e;
	int found = 0;

	pthread_mutex_lock(&c->lock);
	e = ctab_table_lookup(c, key, ctab_hash_key(key));
	if (e != NULL && e->has_value) {
		ctab_value_ref(c, e->value);
		*value = e->value;
		*fresh = ctab_value_fresh(c, e, ctab_now_ms(c));
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
	uint64_t hash = ctab_hash_key(key), now;

	ctab_drops_init(&d);
	pthread_mutex_lock(&c->lock);
	now = ctab_now_ms(c);
	e = ctab_table_lookup(c, key, hash);
	if (mark != 0 && ((e != NULL && e->gen > mark) || c->dropped > mark)) {
		c->stats.rejected_puts++;
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (e == NULL)
		e = ctab_table_insert(c, key, hash);
	e->gen = ++c->seq;
	ctab_entry_store(c, e, 0, value, e->gen, now, &d);
	if (ctab_entry_pinned(e))
		ctab_wake_waiters(c, e);
	ctab_entry_settle(c, e, 1, &d);
	ctab_lru_trim(c, now, &d);
	pthread_mutex_unlock(&c->lock);
	ctab_drops_run(c, &d);
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

	ctab_drops_init(&d);
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
			ctab_entry_clear(e, &d);
			if (ctab_entry_pinned(e)) {
				pp = &e->hnext;
				continue;
			}
			*pp = e->hnext;
			ctab_lru_remove(c, e);
			c->count--;
			free(e);
		}
	}
	pthread_mutex_unlock(&c->lock);
	ctab_drops_run(c, &d);
}

void
cache_get_stats(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	out->entries = c->count;
	pthread_mutex_unlock(&c->lock);
}
