/*
 * AWS STS over its query protocol: AssumeRoleWithWebIdentity (unsigned),
 * AssumeRole and GetCallerIdentity (SigV4, service "sts"). Answers are
 * XML, read with libxml2. Used by the credential chain (ecs/creds.c).
 */
#ifndef ECS_STS_H
#define ECS_STS_H

#include <stddef.h>

#include "ecs/creds.h"
#include "ecs/err.h"

struct http_pool;
struct creds_stopper;

/* Where and how an STS call goes. */
struct sts_target {
	struct http_pool		*pool;
	const char			*endpoint;	/* URL, from sts_endpoint() */
	const char			*region;	/* signing region */
	const struct creds_stopper	*st;		/* may be NULL: a call that may give up */
};

/*
 * The STS endpoint for region: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL,
 * else https://sts.REGION.amazonaws.com (ecs_endpoint_env()). The caller
 * frees it.
 */
char *sts_endpoint(const char *region);

/* Calls once, before threads start: sets up libxml2. */
void sts_init(void);

/*
 * AssumeRoleWithWebIdentity with the token (never in a message).
 * duration 0: STS's default. Returns 0 with out, or -1 with err
 * (ECS_E_CREDS) "STS AssumeRoleWithWebIdentity at ENDPOINT: CODE: MESSAGE",
 * or -2 with err (ECS_E_INTERRUPTED) when t->st said to stop.
 */
int sts_assume_role_with_web_identity(const struct sts_target *t,
    const char *role_arn, const char *session_name, const char *token,
    int duration, struct creds *out, struct ecs_error *err);
/*
 * AssumeRole signed with src; external_id may be NULL, duration 0 for
 * STS's default. Returns 0 with out, or -1 with err as above.
 */
int sts_assume_role(const struct sts_target *t, const struct creds *src,
    const char *role_arn, const char *session_name, const char *external_id,
    int duration, struct creds *out, struct ecs_error *err);
/*
 * GetCallerIdentity signed with c: the principal ARN and account into
 * arn[arn_len] and account[account_len]. Returns 0, or -1 with err.
 */
int sts_get_caller_identity(const struct sts_target *t, const struct creds *c,
    char *arn, size_t arn_len, char *account, size_t account_len,
    struct ecs_error *err);

/*
 * Finds the text of the first element named names[i] in the XML document
 * body, for each i, into vals[i] (the caller frees each; NULL when absent).
 * Returns 0, or -1 when body is not XML.
 */
int sts_xml_values(const char *body, size_t len, const char *const *names,
    char **vals, size_t n);

#endif
