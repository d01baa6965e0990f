/*
 * What the credential sources share: the profile being looked at, the
 * table entry of a source, the profile lookups, and the sources that get
 * their credentials through STS or SSO (ecs/creds_roles.c). Used by
 * ecs/creds_chain.c and ecs/creds_roles.c only.
 */
#ifndef ECS_CREDS_SRC_H
#define ECS_CREDS_SRC_H

#include "ecs/buf.h"
#include "ecs/creds_chain.h"
#include "ecs/sts.h"

/* Longest chain of source_profile links followed. */
#define MAX_CHAIN		8

/*
 * Looking at one profile: the configuration, the profile's name and its
 * config file section, and where the chain has looked so far.
 */
struct creds_ctx {
	const struct ecs_config	*cfg;
	const char		*profile;
	char			*section;	/* config file section of profile */
	int			 skip_env;	/* -o profile: no environment keys */
	int			 depth;		/* source_profile links followed */
	const char		*visited[MAX_CHAIN + 1];
	struct buf		*looked;	/* "where it looked" for the last line */
};

/*
 * One source of the chain: configured() says whether it applies (1, with
 * p filled in for fetch), 0 when not (it appends where it looked to
 * ctx->looked), -1 with err when it is set up wrongly; fetch() loads the
 * credentials, -2 when st said to stop.
 */
struct creds_source {
	const char	*name;
	int		(*configured)(struct creds_provider *p,
			    struct creds_ctx *ctx, struct ecs_error *err);
	int		(*fetch)(struct creds_provider *p, struct creds *out,
			    const struct creds_stopper *st, struct ecs_error *err);
};

/* The value of an environment variable, or NULL when it is unset or empty. */
const char *creds_env_get(const char *name);
/* Puts "what: " in front of err's message. */
void creds_prefix(struct ecs_error *err, const char *what);
/* The pool for the provider's HTTP calls, made on first use. */
struct http_pool *creds_pool(struct creds_provider *p);
/* The STS endpoint and signing region of p, for a call st may stop. */
void creds_sts_target(struct creds_provider *p, const struct creds_stopper *st,
    struct sts_target *t);
/* The value of key in the profile: the credentials file, then the config file. */
const char *creds_profile_get(const struct creds_ctx *ctx, const char *key);
/* Reads duration_seconds of the profile into p; -1 with err when bad. */
int creds_duration(struct creds_provider *p, const struct creds_ctx *ctx,
    struct ecs_error *err);
/* A session name when none is configured: botocore-like, unique per process. */
char *creds_default_session(void);
/*
 * The source credentials of an assume-role profile from credential_source
 * (Environment, EcsContainer, Ec2InstanceMetadata) into p.
 */
int creds_credential_source(struct creds_provider *p, struct creds_ctx *ctx,
    const char *what, struct ecs_error *err);
/*
 * Sets p up from the first source of the chain that profile name has,
 * skipping the environment and the container endpoint (a source_profile
 * names a profile, not the process's surroundings). Refuses a loop.
 */
int creds_profile_inner(struct creds_provider *p, struct creds_ctx *ctx,
    const char *name, struct ecs_error *err);

/* The sources of ecs/creds_roles.c, for the table of ecs/creds_chain.c. */
int creds_src_role_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err);
int creds_src_role_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err);
int creds_src_webid_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err);
int creds_src_webid_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err);
int creds_src_sso_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err);
int creds_src_sso_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err);

#endif
