/*
 * The store's own threads: a small pool that runs the Describe and List
 * calls readers need, so that a reader who gives up never aborts a fetch
 * that others wait for. Jobs are queued per throttling category; at most
 * max_inflight jobs of one category run at once, demand jobs (a reader
 * waits) before read-ahead. Threads start when work first arrives. Used by
 * ecs/store.c only.
 */
#ifndef ECS_STORE_POOL_H
#define ECS_STORE_POOL_H

#include <stddef.h>

#include "ecs/buf.h"

#define SPOOL_CATS	4	/* the categories a job may name: 0 .. SPOOL_CATS-1 */

struct spool;

/* A pool of at most max_threads threads; free with spool_free(). */
struct spool *spool_new(unsigned max_threads, unsigned max_inflight);
/*
 * Stops the pool: jobs still queued are cancelled (cancel(arg)), running
 * ones are waited for, every thread is joined.
 */
void spool_free(struct spool *p);
/*
 * Queues run(arg) in category cat; ahead marks read-ahead (served after
 * the demand jobs of its category). run or cancel is called exactly once,
 * and owns arg. After spool_free() began, cancels at once.
 */
void spool_submit(struct spool *p, unsigned cat, int ahead, void (*run)(void *),
    void (*cancel)(void *), void *arg);
/* Appends "key value" lines: jobs run, read-ahead jobs, the most in flight. */
void spool_stats(struct spool *p, struct buf *out);

#endif
