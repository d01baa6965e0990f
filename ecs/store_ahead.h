/*
 * Read-ahead for the store: tells, from the misses and first uses readers
 * make in one listing, whether they scan it, and which listing positions
 * to describe ahead of them. Pure bookkeeping (no I/O, no cache), so that
 * it can be tested alone. Thread-safe. Used by ecs/store.c only.
 *
 * A listing is named by its cache key. The first miss in a listing is
 * remembered; a second miss makes it a scan, forward or backward (readdir
 * order need not be the listing's), and from then on
 * a window of positions ahead of the reader is kept described. The window
 * starts at one batch and stays there while readers reach the first two
 * batches read ahead for them; it grows fourfold at the third and doubles
 * at each one after, up to max_window batches, as the kernel's read-ahead.
 */
#ifndef ECS_STORE_AHEAD_H
#define ECS_STORE_AHEAD_H

#include <stddef.h>

struct sahead;

/* max_window in batches (>= 1). Free with sahead_free(). */
struct sahead *sahead_new(unsigned max_window);
void sahead_free(struct sahead *a);

/*
 * A reader missed at pos of listing lkey (count names). *dir says which
 * way the reader's own batch should take its siblings: 1 the names that
 * follow pos, -1 those before it, 0 not a scan (the caller's choice).
 * Returns 1 with listing positions [*from, *to) to read ahead, or 0.
 */
int sahead_miss(struct sahead *a, const char *lkey, size_t count, size_t batch,
    size_t pos, int *dir, size_t *from, size_t *to);
/*
 * A reader used, for the first time, an object read ahead at pos as part
 * of read-ahead batch id (ids grow). Returns 1 with [*from, *to) to read
 * ahead next, or 0.
 */
int sahead_used(struct sahead *a, const char *lkey, size_t count, size_t batch,
    size_t pos, unsigned id, size_t *from, size_t *to);
/* Forgets the scans of listings whose key starts with prefix ("" all). */
void sahead_forget(struct sahead *a, const char *prefix);

#endif
