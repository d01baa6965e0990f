/*
 * Inside the credential chain: the provider's state, shared by the
 * chain's sources (ecs/creds_chain.c) and the provider that keeps
 * credentials fresh (ecs/creds.c). Used by those two files only.
 */
#ifndef ECS_CREDS_CHAIN_H
#define ECS_CREDS_CHAIN_H

#include <pthread.h>
#include <time.h>

#include "ecs/creds.h"
#include "ecs/creds_container.h"
#include "ecs/err.h"

struct ecs_config;
struct http_pool;

struct creds_source;

/*
 * What one source needs to fetch. The fields a source does not use stay
 * NULL. Only the thread that reloads touches them after construction.
 */
struct creds_provider {
	const struct creds_source *src;
	char			*source;	/* creds_source() */
	char			*path;		/* file sources: the file */
	char			*section;	/* file sources: its section */
	char			*command;	/* credential_process */
	char			*url;		/* container endpoint */
	const char		*url_var;	/* the variable that gave url */
	char			*ca_bundle;
	struct http_pool	*pool;		/* container and STS */
	char			*region;	/* STS signing region */
	char			*sts_url;	/* STS endpoint */
	char			*role_arn;	/* assume-role, web identity */
	char			*session_name;
	char			*external_id;
	int			 duration;	/* duration_seconds, 0: STS's */
	char			*token_file;	/* web identity */
	struct creds_provider	*inner;		/* assume-role: the source credentials */
	char			*imds_url;	/* instance metadata */
	char			*sso_profile;	/* SSO */
	char			*sso_session;
	char			*sso_url;
	char			*sso_region;
	char			*sso_account;
	char			*sso_role;
	int			 imds_explicit;	/* asked for, not the chain's last resort */

	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;		/* on CLOCK_MONOTONIC: a reload ended, or creds_wake() */
	struct creds		 cur;		/* protected by mu */
	time_t			 fetched;	/* protected by mu: when cur came */
	int			 stale;		/* protected by mu */
	int			 refreshing;	/* protected by mu */
	unsigned long		 generation;	/* protected by mu: reloads finished */
	int			 last_rc;	/* protected by mu: the last reload's result */
	struct ecs_error	 last_err;	/* protected by mu */
	time_t			 retry_after;	/* protected by mu */

	pthread_mutex_t		 id_mu;
	struct http_pool	*id_pool;	/* protected by id_mu */
	char			 arn[512];	/* protected by id_mu */
	char			 account[32];	/* protected by id_mu */
	char			 id_error[512];	/* protected by id_mu */
	time_t			 id_asked;	/* protected by id_mu: last failed try */
};

/*
 * Finds the first source of the chain that is configured for cfg, sets
 * p up for it and fetches the first credentials into out. Returns 0, or
 * -1 with err naming the source, where it looked and why it failed (or
 * every place looked at when none is configured).
 */
int creds_chain_find(struct creds_provider *p, const struct ecs_config *cfg,
    struct creds *out, struct ecs_error *err);
/* Fetches from p's source again; -2 when st said to stop. */
int creds_chain_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err);
/* Sets p's STS endpoint and signing region from cfg. */
void creds_sts_setup(struct creds_provider *p, const struct ecs_config *cfg);
/* Frees what the chain set up in p (not p itself, not its locks). */
void creds_chain_clear(struct creds_provider *p);
/*
 * Scrubs the secret keys and session tokens of a and b (either may be
 * NULL) out of err's message.
 */
void creds_scrub(struct ecs_error *err, const struct creds *a, const struct creds *b);

#endif
