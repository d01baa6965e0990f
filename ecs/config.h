/*
 * Where ecsfs talks to and as whom: region, endpoint, profile and the
 * files they come from, resolved the way the AWS SDKs do.
 *
 * Region: override (-o region), AWS_REGION, AWS_DEFAULT_REGION, the
 * profile's "region". Endpoint of each service the client calls (ECS,
 * Application Auto Scaling, CloudWatch Logs): its override (-o endpoint,
 * -o autoscaling_endpoint, -o logs_endpoint), AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL, the profile's [services] section, its sub-section
 * for the service or its "endpoint_url", else the regional endpoint
 * (ecs_endpoint_lookup). Profile: override (-o profile),
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
	const char	*endpoint;			/* ECS's */
	/* Other services' (-o autoscaling_endpoint, -o logs_endpoint); [ECS_SVC_ECS] wins over endpoint. */
	const char	*endpoints[ECS_SVC_COUNT];
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
	char		*endpoint;		/* ECS's URL without a trailing slash: endpoints[ECS_SVC_ECS] */
	/*
	 * The URL of each service the client calls (ecs_services[].option
	 * set), without a trailing slash, and what named it ("-o endpoint",
	 * "AWS_ENDPOINT_URL_ECS", "the regional default", ...); NULL for the rest.
	 */
	char		*endpoints[ECS_SVC_COUNT];
	char		*endpoint_sources[ECS_SVC_COUNT];
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

/*
 * Where service svc is, the AWS SDKs' way: override (named from, e.g.
 * "-o endpoint"), AWS_ENDPOINT_URL_<ecs_services[svc].env_suffix>,
 * AWS_ENDPOINT_URL, then with cfg (may be NULL: the environment only)
 * the profile's [services NAME] section's KEY.endpoint_url, its own
 * KEY.endpoint_url and its endpoint_url (KEY the service's config_key),
 * else https://HOST.REGION.amazonaws.com (.com.cn in cn- regions).
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true, or the profile's
 * ignore_configured_endpoint_urls, skips all but the override. Returns
 * the URL as configured (not checked, trailing slashes kept) and sets
 * *source (may be NULL) to what named it; the caller frees both.
 */
char *ecs_endpoint_lookup(enum ecs_service_id svc, const char *region,
    const char *override, const char *from, const struct ecs_config *cfg,
    char **source);
/*
 * ecs_endpoint_lookup() from the environment alone, without trailing
 * slashes: where the credential chain's STS and SSO calls go. The caller
 * frees it.
 */
char *ecs_endpoint_env(enum ecs_service_id svc, const char *region);

#endif
