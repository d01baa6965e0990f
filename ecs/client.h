/*
 * One ECS API call over JSON 1.1: serialise, sign (SigV4, service "ecs"),
 * send, parse the result or the error, and retry ThrottlingException,
 * HTTP 5xx and connection errors with capped exponential backoff and full
 * jitter, up to max_attempts and within the call's time budget. Other 4xx
 * are never retried. ExpiredTokenException refreshes the credentials once.
 * Thread-safe.
 */
#ifndef ECS_CLIENT_H
#define ECS_CLIENT_H

#include <jansson.h>

#include "ecs/buf.h"
#include "ecs/err.h"

struct ecs_config;
struct creds_provider;
struct ecs_client;

/* cfg and creds are borrowed and must outlive the client. */
struct ecs_client *ecs_client_new(const struct ecs_config *cfg, struct creds_provider *creds);
void ecs_client_free(struct ecs_client *c);

/*
 * Calls operation op ("DescribeServices") with request body req
 * (borrowed). On success returns 0 and *resp is a new reference the caller
 * releases with json_decref(); err->code is ECS_OK and err->request_id set.
 * On failure returns -1, *resp is NULL and err says why.
 */
int ecs_client_call(struct ecs_client *c, const char *op, json_t *req, json_t **resp,
    struct ecs_error *err);

/*
 * Appends "key value" lines to out: calls by action (api_calls.Op N),
 * attempts, retries, throttles, errors by code, and per-category figures.
 */
void ecs_client_stats(struct ecs_client *c, struct buf *out);

#endif
