/*
 * What cache/cache.c and cache/table.c share: the cache and its entries,
 * the hash table, the LRU list and the life of an entry. Not a public
 * header: cache/cache.h is. Every function here is called with the
 * cache's lock held, but for ctab_drops_run (without it) and
 * ctab_emalloc / ctab_hash_key (either way).
 */
#ifndef CACHE_CACHE_INT_H
#define CACHE_CACHE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"

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
void *ctab_emalloc(size_t size);
/* FNV-1a over the key, finished with a 64-bit mixer for the low bits. */
uint64_t ctab_hash_key(const char *key);
/* The cache's notion of now, in milliseconds. */
uint64_t ctab_now_ms(struct cache *c);
void ctab_drops_init(struct drops *d);
/* Drops the collected references; called without the lock. */
void ctab_drops_run(struct cache *c, struct drops *d);
void ctab_value_ref(struct cache *c, void *value);
int ctab_value_fresh(struct cache *c, const struct entry *e, uint64_t now);
int ctab_negative_fresh(struct cache *c, const struct entry *e, uint64_t now);
int ctab_value_stale_ok(struct cache *c, const struct entry *e, uint64_t now);
int ctab_entry_pinned(const struct entry *e);
void ctab_entry_clear(struct entry *e, struct drops *d);
/* Forgets what neither a reader nor cache_get_stale may still use. */
void ctab_entry_expire(struct cache *c, struct entry *e, uint64_t now, struct drops *d);
void ctab_lru_remove(struct cache *c, struct entry *e);
struct entry *ctab_table_lookup(struct cache *c, const char *key, uint64_t hash);
/* Adds an empty, unpinned entry for key; the caller settles or pins it. */
struct entry *ctab_table_insert(struct cache *c, const char *key, uint64_t hash);
/*
 * Puts e where its state says it belongs: off the LRU list while pinned,
 * out of the table when it holds nothing, else on the LRU list (at its
 * head when touch is set or when it was not on it). e may be freed.
 */
void ctab_entry_settle(struct cache *c, struct entry *e, int touch, struct drops *d);
/*
 * Evicts least recently used unpinned entries down to max_entries, then
 * drops a few dead ones from the cold end, so that keys nobody reads again
 * do not pile up when there is no bound.
 */
void ctab_lru_trim(struct cache *c, uint64_t now, struct drops *d);
/* Whether a new entry would fit without exceeding the bound for good. */
int ctab_room_for_one(struct cache *c);
void ctab_wake_waiters(struct cache *c, const struct entry *e);
/* Makes e in flight under a new claim token. */
uint64_t ctab_entry_claim(struct cache *c, struct entry *e);
/* Stores value (or a negative mark when negative) in e, fresh from now. */
void ctab_entry_store(struct cache *c, struct entry *e, int negative,
    void *value, uint64_t vseq, uint64_t now, struct drops *d);

#endif
