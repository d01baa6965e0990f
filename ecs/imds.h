/*
 * The EC2 instance metadata service, IMDSv2 only: a session token from
 * PUT /latest/api/token, then the instance role's credentials. Used by
 * the credential chain (ecs/creds.c).
 */
#ifndef ECS_IMDS_H
#define ECS_IMDS_H

#include "ecs/creds.h"
#include "ecs/err.h"

struct http_pool;

/*
 * The metadata address: AWS_EC2_METADATA_SERVICE_ENDPOINT, else
 * http://169.254.169.254; NULL when AWS_EC2_METADATA_DISABLED is true.
 * The caller frees it.
 */
char *imds_endpoint(void);

/*
 * Fetches the instance role's credentials from endpoint: each request
 * has 1 s and one retry. Returns 0, or -1 with err (ECS_E_CREDS) saying
 * which step failed; a token PUT without an answer from inside a
 * container names the hop limit.
 */
int imds_fetch(struct http_pool *pool, const char *endpoint,
    struct creds *out, struct ecs_error *err);

#endif
