/*
 * Configuration: which profile, files, region, endpoint, retry count and
 * CA bundle ecsfs uses, resolved from the command line, the environment
 * and the AWS shared files the way botocore and the AWS CLI resolve them.
 * A profile's settings are read from the credentials file's [NAME]
 * section, then from the config file's [profile NAME] section (botocore
 * merges the two files so). Empty environment variables count as unset.
 */
#include "ecs/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ecs/ini.h"
#include "ecs/xmalloc.h"

#define DEFAULT_MAX_ATTEMPTS		8
#define DEFAULT_CONNECT_TIMEOUT_MS	3000
#define DEFAULT_TIMEOUT_MS		15000
#define DEFAULT_MAX_THROTTLE_WAIT_MS	60000

/* The value of an environment variable, or NULL when it is unset or empty. */
static const char *
config_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* The user's home directory: $HOME, else the password database, else "/". */
static char *
config_home(void)
{
	struct passwd pw, *res = NULL;
	const char *h;
	char buf[4096];

	if ((h = config_env("HOME")) != NULL)
		return xstrdup(h);
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL && res->pw_dir != NULL)
		return xstrdup(res->pw_dir);
	return xstrdup("/");
}

/*
 * Expands a leading "~" or "~/" to the home directory and makes a relative
 * path absolute against the current directory (the daemon moves to "/"
 * once mounted); a new string.
 */
static char *
config_expand(const char *path)
{
	char *home, *p, cwd[4096];

	if (path[0] == '~' && (path[1] == '\0' || path[1] == '/')) {
		home = config_home();
		p = xasprintf("%s%s", home, path + 1);
		free(home);
		return p;
	}
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		return xasprintf("%s/%s", cwd, path);
	return xstrdup(path);
}

/* The path from the environment variable var, else ~/.aws/NAME; a new string. */
static char *
config_file_path(const char *var, const char *name)
{
	const char *v;
	char *home, *p;

	if ((v = config_env(var)) != NULL)
		return config_expand(v);
	home = config_home();
	p = xasprintf("%s/.aws/%s", strcmp(home, "/") == 0 ? "" : home, name);
	free(home);
	return p;
}

/* Parses path into *out; a missing file is no error and leaves *out NULL. */
static int
config_read(const char *path, struct ini **out, struct ecs_error *err)
{
	*out = ini_load(path);
	if (*out != NULL || errno == ENOENT || errno == ENOTDIR)
		return 0;
	ecs_error_set(err, ECS_E_CONFIG, "cannot read %s: %s", path,
	    strerror(errno));
	return -1;
}

char *
ecs_config_profile_section(const struct ecs_config *cfg)
{
	char *s = xasprintf("profile %s", cfg->profile);

	/* [profile default] wins over [default] when both are there. */
	if (strcmp(cfg->profile, "default") == 0 &&
	    !ini_has_section(cfg->config_ini, s)) {
		free(s);
		s = xstrdup("default");
	}
	return s;
}

const char *
ecs_config_profile_get(const struct ecs_config *cfg, const char *key)
{
	const char *v;
	char *section;

	if (cfg->config_ini == NULL || cfg->profile == NULL)
		return NULL;
	section = ecs_config_profile_section(cfg);
	v = ini_get(cfg->config_ini, section, key);
	free(section);
	return v;
}

/*
 * The value of key in the active profile, from the credentials file or
 * else the config file; *file says which (borrowed), or NULL.
 */
static const char *
config_profile_value(const struct ecs_config *cfg, const char *key,
    const char **file)
{
	const char *v;

	if ((v = ini_get(cfg->credentials_ini, cfg->profile, key)) != NULL &&
	    *v != '\0') {
		*file = cfg->credentials_file;
		return v;
	}
	if ((v = ecs_config_profile_get(cfg, key)) != NULL && *v != '\0') {
		*file = cfg->config_file;
		return v;
	}
	*file = NULL;
	return NULL;
}

/* Whether s is a region name as botocore accepts one. */
static int
config_region_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	}
	return 1;
}

/* Sets cfg->region and cfg->region_source. */
static int
config_region(struct ecs_config *cfg, const struct ecs_config_overrides *ov,
    struct ecs_error *err)
{
	const char *v, *file;

	if (ov != NULL && ov->region != NULL && *ov->region != '\0') {
		v = ov->region;
		cfg->region_source = xstrdup("-o region");
	} else if ((v = config_env("AWS_REGION")) != NULL)
		cfg->region_source = xstrdup("AWS_REGION");
	else if ((v = config_env("AWS_DEFAULT_REGION")) != NULL)
		cfg->region_source = xstrdup("AWS_DEFAULT_REGION");
	else if ((v = config_profile_value(cfg, "region", &file)) != NULL)
		cfg->region_source = xasprintf("profile %s in %s",
		    cfg->profile, file);
	else {
		ecs_error_set(err, ECS_E_CONFIG, "no region: set -o region=, "
		    "AWS_REGION or AWS_DEFAULT_REGION, or region in profile %s "
		    "of %s", cfg->profile, cfg->config_file);
		return -1;
	}
	if (!config_region_valid(v)) {
		ecs_error_set(err, ECS_E_CONFIG, "invalid region \"%.64s\" "
		    "(from %s)", v, cfg->region_source);
		return -1;
	}
	cfg->region = xstrdup(v);
	return 0;
}

/* Whether the value of a boolean setting is true. */
static int
config_true(const char *v)
{
	return v != NULL && strcasecmp(v, "true") == 0;
}

/* Checks the endpoint URL of service i and stores it without trailing slashes. */
static int
config_set_endpoint(struct ecs_config *cfg, int i, const char *url,
    struct ecs_error *err)
{
	size_t skip, n;
	const char *s;

	if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else
		skip = 0;
	for (s = url; *s != '\0' && !isspace((unsigned char)*s) &&
	    !iscntrl((unsigned char)*s); s++)
		;
	if (skip == 0 || url[skip] == '\0' || url[skip] == '/' || *s != '\0') {
		ecs_error_set(err, ECS_E_CONFIG, "invalid %s%sendpoint \"%.200s\" "
		    "(from %s): it must be an http:// or https:// URL",
		    i == ECS_SVC_ECS ? "" : ecs_services[i].title,
		    i == ECS_SVC_ECS ? "" : " ", url,
		    cfg->endpoint_sources[i]);
		return -1;
	}
	n = strlen(url);
	while (n > skip && url[n - 1] == '/')
		n--;
	cfg->endpoints[i] = xstrndup(url, n);
	return 0;
}

/*
 * The endpoint URL the configuration names for svc, or NULL: the steps of
 * ecs_endpoint_lookup() but for the override and the regional default.
 * *source gets what named it.
 */
static const char *
config_endpoint_configured(enum ecs_service_id svc,
    const struct ecs_config *cfg, char **source)
{
	const struct ecs_service *s = &ecs_services[svc];
	const char *v, *file, *svcs, *ign;
	char *name, *key;

	ign = config_env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (ign == NULL && cfg != NULL)
		ign = config_profile_value(cfg,
		    "ignore_configured_endpoint_urls", &file);
	if (config_true(ign))
		return NULL;
	name = xasprintf("AWS_ENDPOINT_URL_%s", s->env_suffix);
	v = config_env(name);
	if (v != NULL) {
		*source = name;
		return v;
	}
	free(name);
	if ((v = config_env("AWS_ENDPOINT_URL")) != NULL) {
		*source = xstrdup("AWS_ENDPOINT_URL");
		return v;
	}
	if (cfg == NULL || cfg->profile == NULL)
		return NULL;
	key = xasprintf("%s.endpoint_url", s->config_key);
	if ((svcs = config_profile_value(cfg, "services", &file)) != NULL) {
		name = xasprintf("services %s", svcs);
		v = ini_get(cfg->config_ini, name, key);
		free(name);
		if (v != NULL && *v != '\0') {
			*source = xasprintf("[services %s] in %s", svcs,
			    cfg->config_file);
			free(key);
			return v;
		}
	}
	if ((v = config_profile_value(cfg, key, &file)) != NULL ||
	    (v = config_profile_value(cfg, "endpoint_url", &file)) != NULL)
		*source = xasprintf("profile %s in %s", cfg->profile, file);
	free(key);
	return v;
}

char *
ecs_endpoint_lookup(enum ecs_service_id svc, const char *region,
    const char *override, const char *from, const struct ecs_config *cfg,
    char **source)
{
	char *src = NULL, *url;
	const char *v;

	if (region == NULL || *region == '\0')
		region = "us-east-1";
	if (override != NULL && *override != '\0') {
		v = override;
		src = xstrdup(from != NULL ? from : "the command line");
	} else if ((v = config_endpoint_configured(svc, cfg, &src)) == NULL)
		src = xstrdup("the regional default");
	if (v != NULL)
		url = xstrdup(v);
	else
		url = xasprintf("https://%s.%s.amazonaws.com%s",
		    ecs_services[svc].host_prefix, region,
		    strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
	if (source != NULL)
		*source = src;
	else
		free(src);
	return url;
}

char *
ecs_endpoint_env(enum ecs_service_id svc, const char *region)
{
	char *u = ecs_endpoint_lookup(svc, region, NULL, NULL, NULL, NULL);
	size_t n = strlen(u);

	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	return u;
}

/*
 * Sets the endpoint of every service the client calls, each from its own
 * override; ECS's is cfg->endpoint too.
 */
static int
config_endpoints(struct ecs_config *cfg, const struct ecs_config_overrides *ov,
    struct ecs_error *err)
{
	const char *over;
	char *url, *opt;
	int i, rc;

	for (i = 0; i < ECS_SVC_COUNT; i++) {
		if (ecs_services[i].option == NULL)
			continue;
		over = ov != NULL ? ov->endpoints[i] : NULL;
		if (i == ECS_SVC_ECS && (over == NULL || *over == '\0') &&
		    ov != NULL)
			over = ov->endpoint;
		opt = xasprintf("-o %s", ecs_services[i].option);
		url = ecs_endpoint_lookup((enum ecs_service_id)i, cfg->region,
		    over, opt, cfg, &cfg->endpoint_sources[i]);
		free(opt);
		rc = config_set_endpoint(cfg, i, url, err);
		free(url);
		if (rc != 0)
			return -1;
	}
	cfg->endpoint = cfg->endpoints[ECS_SVC_ECS];
	return 0;
}

/* Sets cfg->max_attempts: -o max_attempts, AWS_MAX_ATTEMPTS, the profile, 8. */
static int
config_max_attempts(struct ecs_config *cfg,
    const struct ecs_config_overrides *ov, struct ecs_error *err)
{
	const char *v, *file, *from;
	char *end;
	long n;

	if (ov != NULL && ov->max_attempts > 0) {
		cfg->max_attempts = ov->max_attempts;
		return 0;
	}
	from = "AWS_MAX_ATTEMPTS";
	if ((v = config_env("AWS_MAX_ATTEMPTS")) == NULL) {
		from = "max_attempts in the profile";
		v = config_profile_value(cfg, "max_attempts", &file);
	}
	if (v == NULL) {
		cfg->max_attempts = DEFAULT_MAX_ATTEMPTS;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno != 0 ||
	    n < 1 || n > INT_MAX) {
		ecs_error_set(err, ECS_E_CONFIG, "%s must be a positive integer, "
		    "not \"%.32s\"", from, v);
		return -1;
	}
	cfg->max_attempts = (int)n;
	return 0;
}

/* Sets the profile, checking that one named explicitly exists. */
static int
config_profile(struct ecs_config *cfg, const struct ecs_config_overrides *ov,
    struct ecs_error *err)
{
	const char *v;
	char *section;
	int found;

	if (ov != NULL && ov->profile != NULL && *ov->profile != '\0') {
		cfg->profile = xstrdup(ov->profile);
		cfg->profile_explicit = ECS_PROFILE_OPTION;
	} else if ((v = config_env("AWS_PROFILE")) != NULL) {
		cfg->profile = xstrdup(v);
		cfg->profile_explicit = ECS_PROFILE_ENV;
	} else {
		cfg->profile = xstrdup("default");
		cfg->profile_explicit = ECS_PROFILE_DEFAULT;
	}
	if (cfg->profile_explicit == ECS_PROFILE_DEFAULT)
		return 0;
	section = ecs_config_profile_section(cfg);
	found = ini_has_section(cfg->config_ini, section) ||
	    ini_has_section(cfg->credentials_ini, cfg->profile);
	free(section);
	if (!found) {
		ecs_error_set(err, ECS_E_CONFIG, "profile %s not found in %s "
		    "and %s", cfg->profile, cfg->config_file,
		    cfg->credentials_file);
		return -1;
	}
	return 0;
}

int
ecs_config_load(const struct ecs_config_overrides *ov, struct ecs_config *cfg,
    struct ecs_error *err)
{
	const char *v, *file;
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->config_file = config_file_path("AWS_CONFIG_FILE", "config");
	cfg->credentials_file = config_file_path("AWS_SHARED_CREDENTIALS_FILE",
	    "credentials");
	if (config_read(cfg->config_file, &cfg->config_ini, err) != 0 ||
	    config_read(cfg->credentials_file, &cfg->credentials_ini, err) != 0)
		goto fail;
	if (config_profile(cfg, ov, err) != 0 ||
	    config_region(cfg, ov, err) != 0 ||
	    config_endpoints(cfg, ov, err) != 0 ||
	    config_max_attempts(cfg, ov, err) != 0)
		goto fail;
	if ((v = config_env("AWS_CA_BUNDLE")) != NULL ||
	    (v = config_profile_value(cfg, "ca_bundle", &file)) != NULL)
		cfg->ca_bundle = config_expand(v);
	cfg->connect_timeout_ms = ov != NULL && ov->connect_timeout_ms > 0 ?
	    ov->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->timeout_ms = ov != NULL && ov->timeout_ms > 0 ?
	    ov->timeout_ms : DEFAULT_TIMEOUT_MS;
	cfg->max_throttle_wait_ms = ov != NULL && ov->max_throttle_wait_ms > 0 ?
	    ov->max_throttle_wait_ms : DEFAULT_MAX_THROTTLE_WAIT_MS;
	for (i = 0; i < ECS_CAT_COUNT; i++)
		cfg->rate[i] = ov != NULL && ov->rate[i] != NULL ? xstrdup(ov->rate[i]) : NULL;
	return 0;
fail:
	ecs_config_free(cfg);
	return -1;
}

void
ecs_config_free(struct ecs_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->region);
	free(cfg->region_source);
	for (int i = 0; i < ECS_SVC_COUNT; i++) {
		free(cfg->endpoints[i]);
		free(cfg->endpoint_sources[i]);
	}
	free(cfg->profile);
	free(cfg->config_file);
	free(cfg->credentials_file);
	free(cfg->ca_bundle);
	for (int i = 0; i < ECS_CAT_COUNT; i++)
		free(cfg->rate[i]);
	ini_free(cfg->config_ini);
	ini_free(cfg->credentials_ini);
	memset(cfg, 0, sizeof(*cfg));
}
