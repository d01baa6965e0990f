/*
 * Where ecsfs talks to and as whom: region, endpoint, profile and the
 * files they come from, resolved the way the AWS SDKs do.
 *
 * Region: override (-o region), AWS_REGION, AWS_DEFAULT_REGION, the
 * profile's "region". Endpoint: override (-o endpoint), AWS_ENDPOINT_URL_ECS,
 * AWS_ENDPOINT_URL, the profile's "endpoint_url" (or its "ecs" sub-section),
 * else https://ecs.REGION.amazonaws.com. Profile: override (-o profile),
 * AWS_PROFILE, "default". Files: AWS_CONFIG_FILE (~/.aws/config),
 * AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials).
 */
#ifndef ECS_CONFIG_H
#define ECS_CONFIG_H

#include "ecs/err.h"
#include "ecs/ops.h"

struct ini;

/* Values given on the command line; NULL or 0 means "not given". */
struct ecs_config_overrides {
	const char	*region;
	const char	*endpoint;
	const char	*profile;
	int		 max_attempts;
	long		 connect_timeout_ms;
	long		 timeout_ms;
	long		 max_throttle_wait_ms;		/* 0: the default */
	const char	*rate[ECS_CAT_COUNT];		/* "BURST:REFILL" per category, NULL: AWS's */
};

/*
 * How the profile was chosen (ecs_config.profile_explicit). The AWS CLI
 * ignores AWS_ACCESS_KEY_ID and friends only for a profile named on the
 * command line, not for one named by AWS_PROFILE.
 */
#define ECS_PROFILE_DEFAULT	0	/* nothing named it: "default" */
#define ECS_PROFILE_ENV		1	/* AWS_PROFILE */
#define ECS_PROFILE_OPTION	2	/* -o profile */

/* Every string is owned by the config and freed by ecs_config_free(). */
struct ecs_config {
	char		*region;
	char		*region_source;		/* e.g. "AWS_REGION", "-o region", "profile dev in /root/.aws/config" */
	char		*endpoint;		/* URL without a trailing slash */
	char		*profile;
	int		 profile_explicit;	/* the profile was named, not defaulted: ECS_PROFILE_* */
	char		*config_file;		/* path, whether or not it exists */
	char		*credentials_file;
	char		*ca_bundle;		/* AWS_CA_BUNDLE or the profile's ca_bundle, or NULL */
	int		 max_attempts;		/* AWS_MAX_ATTEMPTS, the profile's max_attempts, else 8 */
	long		 connect_timeout_ms;	/* default 3000 */
	long		 timeout_ms;		/* a whole call with its retries; default 15000 */
	long		 max_throttle_wait_ms;	/* longest wait for a rate token; default 60000 */
	char		*rate[ECS_CAT_COUNT];	/* rate overrides "BURST:REFILL", or NULL */
	struct ini	*config_ini;		/* parsed config file, or NULL */
	struct ini	*credentials_ini;	/* parsed credentials file, or NULL */
};

/*
 * Resolves the configuration from overrides, the environment and the
 * files. Returns 0, or -1 with err (ECS_E_CONFIG) saying what is missing
 * and where ecsfs looked, in one line.
 */
int ecs_config_load(const struct ecs_config_overrides *ov, struct ecs_config *cfg,
    struct ecs_error *err);
/*
 * The config file's section of the active profile: "profile NAME", or
 * "default" for the default profile unless [profile default] exists.
 * The caller frees it.
 */
char *ecs_config_profile_section(const struct ecs_config *cfg);
/* The value of key in the active profile of the config file, or NULL (borrowed). */
const char *ecs_config_profile_get(const struct ecs_config *cfg, const char *key);
void ecs_config_free(struct ecs_config *cfg);

#endif
