/*
 * The credential chain, in botocore's order: environment variables
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), an
 * assume-role profile (source_profile or credential_source), web
 * identity (profile or AWS_WEB_IDENTITY_TOKEN_FILE), the shared
 * credentials file, credential_process, the config file's keys, the
 * container credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * / _FULL_URI), then the instance metadata service (IMDSv2). SSO
 * profiles are refused. Credentials with an Expiration are refreshed 5
 * minutes before it, or at half their life when they live shorter.
 * Thread-safe: one provider serves every request thread.
 */
#ifndef ECS_CREDS_H
#define ECS_CREDS_H

#include <time.h>

#include "ecs/err.h"

struct ecs_config;
struct creds_provider;

struct creds {
	char	access_key[128];
	char	secret_key[128];
	char	session_token[4096];	/* "" when none */
	time_t	expiration;		/* 0: does not expire */
};

/*
 * Finds the first source of the chain that has credentials and loads them
 * once. Returns a provider the caller frees with creds_provider_free(), or
 * NULL with err (ECS_E_CREDS) naming every place that was looked at.
 * Warns (ecs/log.h) when a credentials file is readable by group or others.
 */
struct creds_provider *creds_provider_new(const struct ecs_config *cfg, struct ecs_error *err);
/* Copies the current credentials into out, refreshing them first when they
 * expire within 5 minutes. Returns 0, or -1 with err. */
int creds_get(struct creds_provider *p, struct creds *out, struct ecs_error *err);
/*
 * creds_get() for a caller that may go away: stop(arg) is asked at least
 * every 100 ms while the caller waits for another thread's reload, and at
 * once after creds_wake(); nonzero ends the wait with ECS_E_INTERRUPTED.
 * A reload this caller runs itself is cut short only where it waits on
 * the container endpoint; the others waiting then take it over.
 * stop may be NULL.
 */
int creds_get_stop(struct creds_provider *p, struct creds *out,
    int (*stop)(void *arg), void *arg, struct ecs_error *err);
/* Makes every caller waiting in creds_get_stop() ask its stop function now. */
void creds_wake(struct creds_provider *p);
/* Marks the credentials stale so that the next creds_get() reloads them
 * (after ExpiredTokenException). */
void creds_invalidate(struct creds_provider *p);
/* Where the credentials come from, e.g. "environment", "profile dev (credential_process)".
 * Borrowed; valid for the provider's lifetime. */
const char *creds_source(const struct creds_provider *p);
/* What .ecsfs/identity shows: never a secret. */
struct creds_identity {
	char	source[512];		/* creds_source() */
	char	arn[512];		/* principal ARN, or "" when STS did not say */
	char	account[32];		/* or "" */
	time_t	expiration;		/* of the current credentials; 0: none */
	char	error[512];		/* why arn is "", or "" */
};
/*
 * Fills id. The principal comes from sts:GetCallerIdentity, asked once
 * and kept (asked again at most once a minute while it fails). Blocks
 * for that call; thread-safe.
 */
void creds_identity(struct creds_provider *p, struct creds_identity *id);
void creds_provider_free(struct creds_provider *p);

#endif
