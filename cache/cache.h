/*
 * A generic TTL cache of reference-counted values, keyed by strings.
 * ECS-agnostic. It provides:
 *  - in-flight de-duplication: the first reader of a missing key becomes
 *    its fetcher, later readers wait for that fetch instead of starting
 *    their own; a fetcher may also claim sibling keys to fill in one batch;
 *  - negative entries ("this name does not exist") with their own TTL;
 *  - stale-if-error: a value past its TTL is still handed out, up to
 *    stale_ttl after it was fetched, when the fetch fails;
 *  - invalidation by key prefix;
 *  - a generation counter: every invalidation or authoritative set bumps
 *    it, and a fetch claimed before the bump cannot insert its (possibly
 *    older) result afterwards;
 *  - an LRU bound on the number of entries.
 * Thread-safe.
 */
#ifndef CACHE_CACHE_H
#define CACHE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct cache;

struct cache_config {
	long	ttl_ms;			/* a value is fresh this long after it was stored */
	long	negative_ttl_ms;	/* a negative entry is fresh this long */
	long	stale_ttl_ms;		/* a value may be served on error up to this age */
	size_t	max_entries;		/* LRU beyond it; 0: no bound */
	/* Reference counting of values: ref adds one, unref drops one.
	 * ref (and now_ms) run under the cache's lock and must not call
	 * into the cache; unref runs outside it and may. NULL: no-op. */
	void	(*ref)(void *value);
	void	(*unref)(void *value);
	/* Monotonic milliseconds; NULL for CLOCK_MONOTONIC. For tests. */
	uint64_t (*now_ms)(void);
	/*
	 * Whether the calling thread's caller is going away (e.g. its FUSE
	 * request was interrupted). A reader waiting for another's fetch
	 * asks it every interrupt_check_ms (default 20) and, when it answers
	 * non-zero, stops waiting with CACHE_INTERRUPTED; the fetch goes on
	 * for the others. Called without the cache's lock. NULL: never.
	 */
	int	(*interrupted)(void);
	long	interrupt_check_ms;
};

enum cache_state {
	CACHE_HIT,	/* *value is a new reference to a fresh value */
	CACHE_NEGATIVE,	/* a fresh negative entry: the key does not exist */
	CACHE_MISS,	/* the caller is now the key's fetcher and holds *claim */
	CACHE_FAILED,	/* the fetch this call waited for failed with *error */
	CACHE_INTERRUPTED, /* the caller went away while waiting; nothing is held */
};

struct cache_stats {
	unsigned long	hits;
	unsigned long	negative_hits;
	unsigned long	misses;
	unsigned long	waits;		/* readers that waited for another's fetch */
	unsigned long	interrupted;	/* waits given up because the caller went away */
	unsigned long	stale_serves;
	unsigned long	evictions;
	unsigned long	rejected_puts;	/* results dropped by the generation check */
	size_t		entries;
};

/* Returns a new cache; free with cache_free(). */
struct cache *cache_new(const struct cache_config *cfg);
/* Drops every value (through unref) and frees the cache. */
void cache_free(struct cache *c);

/*
 * Looks key up. Fresh value: CACHE_HIT. Fresh negative: CACHE_NEGATIVE.
 * Being fetched by another thread: waits for that fetch and looks again,
 * or returns CACHE_FAILED with its error. Otherwise marks the key in
 * flight and returns CACHE_MISS with a claim token: the caller must end
 * the claim with cache_put(), cache_put_negative() or cache_fail().
 */
enum cache_state cache_get(struct cache *c, const char *key, void **value,
    uint64_t *claim, int *error);
/*
 * Hands claim on key over to another thread: the entry keeps whatever
 * that thread stores (or its failure) for this thread's cache_wait(),
 * which must follow, however short the TTLs.
 */
void cache_hand(struct cache *c, const char *key, uint64_t claim);
/*
 * Waits for the fetch of key under claim (handed over with cache_hand())
 * to end, then answers as cache_get() does, except that whatever that
 * fetch (or a later one) stored answers however old it is. When the fetch
 * stored nothing (abandoned, or refused by the generation check), returns
 * CACHE_MISS with a new claim, as cache_get() would.
 */
enum cache_state cache_wait(struct cache *c, const char *key, uint64_t claim,
    void **value, uint64_t *newclaim, int *error);
/*
 * Claims key for a batch fetch without waiting: returns 1 with *claim when
 * the key is missing or expired and nobody fetches it, else 0.
 */
int cache_claim(struct cache *c, const char *key, uint64_t *claim);
/* Ends a claim with a value (the cache takes a reference of its own).
 * Stored only if nothing was invalidated since the claim; waiters wake. */
void cache_put(struct cache *c, const char *key, void *value, uint64_t claim);
/* Ends a claim with "does not exist". */
void cache_put_negative(struct cache *c, const char *key, uint64_t claim);
/* Ends a claim with a failure; the waiters of this fetch get CACHE_FAILED and error. */
void cache_fail(struct cache *c, const char *key, uint64_t claim, int error);
/* Ends a claim with nothing stored and no failure: the waiters look again
 * (and one of them becomes the key's fetcher). */
void cache_abandon(struct cache *c, const char *key, uint64_t claim);

/* A value no older than stale_ttl, fresh or not, as a new reference; 1 if found.
 * Counts as a stale serve. */
int cache_get_stale(struct cache *c, const char *key, void **value);
/*
 * Looks at key without claiming, waiting or counting: 1 with *value (a new
 * reference) and *fresh when a value is stored, whatever its age; else 0.
 */
int cache_peek(struct cache *c, const char *key, void **value, int *fresh);
/* Stores an authoritative value (the result of a write) at once, fresh,
 * bumping the generation so that older in-flight fetches cannot overwrite it. */
void cache_set(struct cache *c, const char *key, void *value);
/*
 * A mark of this moment, for cache_set_since(): take it before fetching a
 * value outside the claim protocol (a poll), store the result with it.
 */
uint64_t cache_mark(struct cache *c);
/* Stores value as cache_set() does, unless the key was set or invalidated
 * (or a prefix dropped) after mark: a fetched value never overwrites a
 * newer one. A refused value counts as a rejected put. */
void cache_set_since(struct cache *c, const char *key, void *value, uint64_t mark);
/* Drops every entry whose key starts with prefix ("" drops all) and bumps
 * the generation. In-flight fetches of those keys will not be stored. */
void cache_invalidate_prefix(struct cache *c, const char *prefix);
void cache_get_stats(struct cache *c, struct cache_stats *out);

#endif
