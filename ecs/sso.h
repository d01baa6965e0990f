/*
 * AWS IAM Identity Center (SSO) credentials: the token the AWS CLI's
 * `aws sso login` caches in ~/.aws/sso/cache, refreshed through SSO-OIDC
 * CreateToken when it has a refresh token, and GetRoleCredentials at the
 * portal. Used by the credential chain (ecs/creds.c).
 */
#ifndef ECS_SSO_H
#define ECS_SSO_H

#include "ecs/creds.h"
#include "ecs/err.h"

struct http_pool;

/* One SSO profile's settings; strings borrowed. */
struct sso_profile {
	const char	*profile;	/* for "run aws sso login --profile NAME" */
	const char	*session;	/* sso_session name, or NULL (legacy form) */
	const char	*start_url;
	const char	*region;	/* sso_region */
	const char	*account_id;
	const char	*role_name;
};

/*
 * The cache file of s: ~/.aws/sso/cache/SHA1(session, else start URL)
 * .json, under $HOME. The caller frees it.
 */
char *sso_cache_path(const struct sso_profile *s);

/*
 * Reads the cached token (refreshing it through CreateToken within 15
 * minutes of its expiry when the cache has a refresh token, and writing
 * the new one back), then calls GetRoleCredentials. Returns 0 with out,
 * or -1 with err (ECS_E_CREDS); an expired login that cannot be
 * refreshed says "run aws sso login --profile NAME".
 */
int sso_fetch(struct http_pool *pool, const struct sso_profile *s,
    struct creds *out, struct ecs_error *err);

#endif
