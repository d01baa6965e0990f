/*
 * The figures behind ecs_client_stats(): calls, attempts, retries and
 * throttles, requests by operation, errors by code, and per-category
 * counts. Used by ecs/client.c only. Thread-safe.
 */
#ifndef ECS_CLIENT_STATS_H
#define ECS_CLIENT_STATS_H

#include "ecs/buf.h"
#include "ecs/err.h"
#include "ecs/ops.h"

struct client_stats;

/* New, all zero; free with client_stats_free(). */
struct client_stats *client_stats_new(void);
void client_stats_free(struct client_stats *st);
/* Counts one request sent for op (e its entry, NULL when not in ecs_ops[]). */
void client_stats_request(struct client_stats *st, const char *op,
    const struct ecs_op *e, int retry, int throttled);
/* Counts one finished call and, when it failed, its error. */
void client_stats_call(struct client_stats *st, const struct ecs_op *e,
    enum ecs_code code);
/* Appends the "key value" lines. */
void client_stats_print(struct client_stats *st, struct buf *out);

#endif
