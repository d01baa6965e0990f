/*
 * One AWS API call over JSON 1.1: serialise, sign, send, parse the result
 * or the error. The operation's row of ecs/ops.c names its service (ECS,
 * Application Auto Scaling or CloudWatch Logs), hence its endpoint
 * (cfg->endpoints), its X-Amz-Target prefix and the SigV4 service name it
 * is signed for; an operation not in the table goes to ECS. Every attempt
 * is paced: it takes a token of its throttling category first
 * (ecs/pace.h; rates from cfg->rate, else the defaults). ThrottlingException is retried through the
 * pacer until the next token would be more than max_throttle_wait after
 * the call began (then ECS_E_BUSY); HTTP 5xx and connection errors are
 * retried with capped exponential backoff and full jitter up to
 * max_attempts; all within the call's time budget, which time spent
 * waiting for tokens does not use up. max_attempts 1 retries nothing.
 * Other 4xx are never retried. ExpiredTokenException refreshes the
 * credentials once. Once a category has been throttled without a success
 * for max_throttle_wait, its calls fail at once with ECS_E_BUSY, but for
 * a probe now and then (ecs/pace.h). A mutation (ecs_op.mutating) that
 * may have reached ECS is never sent again: when its answer does not come
 * it fails with err->maybe_applied set; when it is answered with success
 * but the answer cannot be used, it fails (ECS_E_PROTOCOL) with
 * err->applied set. Error messages never hold the
 * secret key or a session token, whatever the endpoint echoed.
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

/*
 * Checks what ecs_client_new() would refuse in cfg that ecs_config_load()
 * does not: every service's endpoint URL as libcurl parses it (the error
 * names the service), and the rate overrides
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
 * Sets the function that says, for the calling thread, whether the caller
 * of the call in progress is going away (the front end decides what that
 * means: for FUSE, a fatal signal pending on the process behind an
 * interrupted request). A call asks it, at least every 100 ms, while it
 * waits for a rate token, for credentials another thread reloads, for its
 * backoff, for a connection, and for the answer to a read; it then fails
 * with ECS_E_INTERRUPTED and gives its token back. A mutation that may
 * have been sent is not stopped by it: it waits for its answer within
 * the call's budget. Set before any call.
 */
void ecs_client_set_interrupt(struct ecs_client *c, int (*interrupted)(void));
/*
 * Ends every call in progress and every later one at once with
 * ECS_E_INTERRUPTED, mutations included (with err->maybe_applied set
 * where one may have been sent): token waits, backoffs, credential waits
 * and transfers all wake. For SIGTERM; callable from any thread (not from
 * a signal handler). The client must still be freed after the calls end.
 */
void ecs_client_shutdown(struct ecs_client *c);

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
