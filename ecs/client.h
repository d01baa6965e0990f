/*
 * One ECS API call over JSON 1.1: serialise, sign (SigV4, service "ecs"),
 * send, parse the result or the error. Every attempt is paced: it takes a
 * token of its throttling category first (ecs/pace.h; rates from
 * cfg->rate, else ECS's). ThrottlingException is retried through the
 * pacer until the next token would be more than max_throttle_wait after
 * the call began (then ECS_E_BUSY); HTTP 5xx and connection errors are
 * retried with capped exponential backoff and full jitter up to
 * max_attempts; all within the call's time budget, which time spent
 * waiting for tokens does not use up. max_attempts 1 retries nothing.
 * Other 4xx are never retried. ExpiredTokenException refreshes the
 * credentials once. Thread-safe.
 */
#ifndef ECS_CLIENT_H
#define ECS_CLIENT_H

#include <jansson.h>

#include "ecs/buf.h"
#include "ecs/err.h"

struct ecs_config;
struct creds_provider;
struct ecs_client;

/*
 * Checks what ecs_client_new() would refuse in cfg that ecs_config_load()
 * does not: the endpoint URL as libcurl parses it, and the rate overrides
 * ("BURST:REFILL"). Returns 0, or -1 with err
 * (ECS_E_CONFIG) saying in one line which option is wrong and why.
 */
int ecs_client_validate(const struct ecs_config *cfg, struct ecs_error *err);

/*
 * cfg and creds are borrowed and must outlive the client. NULL when cfg
 * has no usable endpoint or a bad rate override (see ecs_client_validate).
 */
struct ecs_client *ecs_client_new(const struct ecs_config *cfg, struct creds_provider *creds);
void ecs_client_free(struct ecs_client *c);
/*
 * Sets the function a call asks, while it waits for a rate token, backs
 * off or waits for a response, whether its caller gave up (e.g. FUSE's
 * fuse_interrupted(), which answers for the calling thread). Such a call
 * fails with ECS_E_INTERRUPTED. Set before any call.
 */
void ecs_client_set_interrupt(struct ecs_client *c, int (*interrupted)(void));

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
