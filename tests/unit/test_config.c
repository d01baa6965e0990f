/*
 * Unit tests for ecs/config.c: precedence of the command line, the
 * environment and the shared files for region, every service's endpoint,
 * profile and max_attempts, and the errors for what is missing or wrong. HOME and
 * every AWS_* variable point into a private temporary directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecs/client.h"
#include "ecs/config.h"
#include "ecs/ini.h"
#include "tests/unit/aws_env.h"
#include "tests/unit/check.h"

static char tmpdir[] = "/tmp/ecsfs-test-config-XXXXXX";
static char cfgpath[256];
static char credpath[256];

/* Clears the environment and writes the two files (NULL: no file). */
static void
setup(const char *config, const char *credentials)
{
	aws_env_clear();
	setenv("HOME", tmpdir, 1);
	aws_write_file(cfgpath, config, 0644);
	aws_write_file(credpath, credentials, 0644);
}

/* Loads with overrides ov (may be NULL); returns ecs_config_load's result. */
static int
load(const struct ecs_config_overrides *ov, struct ecs_config *cfg,
    struct ecs_error *err)
{
	ecs_error_clear(err);
	return ecs_config_load(ov, cfg, err);
}

/* One region case: the inputs and the region and source they must give. */
struct region_case {
	const char	*ov;
	const char	*aws_region;
	const char	*aws_default_region;
	const char	*aws_profile;
	const char	*want;
	const char	*want_source;	/* "%s" is the home directory */
};

static void
test_region(void)
{
	static const char config[] =
	    "[default]\nregion = cfg-default-1\n"
	    "[profile dev]\nregion = cfg-dev-1\n"
	    "[profile nor]\noutput = json\n";
	static const char credentials[] =
	    "[dev]\naws_access_key_id = AKIDX\n"
	    "[nor]\nregion = cred-nor-1\n";
	static const struct region_case cases[] = {
		{ "ov-1", "env-1", "envdef-1", NULL, "ov-1", "-o region" },
		{ NULL, "env-1", "envdef-1", NULL, "env-1", "AWS_REGION" },
		{ NULL, "", "envdef-1", NULL, "envdef-1", "AWS_DEFAULT_REGION" },
		{ NULL, NULL, "envdef-1", "dev", "envdef-1",
		    "AWS_DEFAULT_REGION" },
		{ NULL, NULL, NULL, NULL, "cfg-default-1",
		    "profile default in %s/.aws/config" },
		{ NULL, NULL, NULL, "dev", "cfg-dev-1",
		    "profile dev in %s/.aws/config" },
		{ NULL, NULL, NULL, "nor", "cred-nor-1",
		    "profile nor in %s/.aws/credentials" },
	};
	struct ecs_config cfg;
	struct ecs_error err;
	struct ecs_config_overrides ov;
	char want_source[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup(config, credentials);
		if (cases[i].aws_region != NULL)
			setenv("AWS_REGION", cases[i].aws_region, 1);
		if (cases[i].aws_default_region != NULL)
			setenv("AWS_DEFAULT_REGION",
			    cases[i].aws_default_region, 1);
		if (cases[i].aws_profile != NULL)
			setenv("AWS_PROFILE", cases[i].aws_profile, 1);
		memset(&ov, 0, sizeof(ov));
		ov.region = cases[i].ov;
		snprintf(want_source, sizeof(want_source),
		    cases[i].want_source, tmpdir);
		if (load(&ov, &cfg, &err) != 0) {
			fprintf(stderr, "region case %zu: %s\n", i, err.message);
			CHECK(0);
			continue;
		}
		CHECK_STR(cfg.region, cases[i].want);
		CHECK_STR(cfg.region_source, want_source);
		ecs_config_free(&cfg);
	}

	/* No region anywhere: one line naming where ecsfs looked. */
	setup("[default]\noutput = json\n", NULL);
	CHECK_INT(load(NULL, &cfg, &err), -1);
	CHECK_INT(err.code, ECS_E_CONFIG);
	snprintf(want_source, sizeof(want_source), "no region: set -o region=, "
	    "AWS_REGION or AWS_DEFAULT_REGION, or region in profile default "
	    "of %s/.aws/config", tmpdir);
	CHECK_STR(err.message, want_source);
	CHECK(cfg.region == NULL && cfg.config_ini == NULL);

	setup("[profile dev]\noutput = json\n", NULL);
	setenv("AWS_PROFILE", "dev", 1);
	CHECK_INT(load(NULL, &cfg, &err), -1);
	snprintf(want_source, sizeof(want_source), "no region: set -o region=, "
	    "AWS_REGION or AWS_DEFAULT_REGION, or region in profile dev "
	    "of %s/.aws/config", tmpdir);
	CHECK_STR(err.message, want_source);

	/* A region that cannot be part of a host name. */
	setup(NULL, NULL);
	setenv("AWS_REGION", "us east 1", 1);
	CHECK_INT(load(NULL, &cfg, &err), -1);
	CHECK_INT(err.code, ECS_E_CONFIG);
	CHECK_STR(err.message, "invalid region \"us east 1\" (from AWS_REGION)");
}

/* One endpoint case. */
struct endpoint_case {
	const char	*config;
	const char	*ov;
	const char	*url_ecs;
	const char	*url;
	const char	*ignore;
	const char	*region;
	const char	*want;
};

static void
test_endpoint(void)
{
	static const char plain[] = "[default]\nregion = eu-west-1\n";
	static const char sub[] =
	    "[default]\nregion = eu-west-1\n"
	    "endpoint_url = http://global:1\n"
	    "ecs =\n  endpoint_url = http://sub:2/\n";
	static const char services[] =
	    "[default]\nregion = eu-west-1\nservices = local\n"
	    "endpoint_url = http://global:1\n"
	    "[services local]\n"
	    "s3 =\n  endpoint_url = http://s3:9\n"
	    "ecs =\n  endpoint_url = http://svc:3\n";
	static const char global[] =
	    "[default]\nregion = eu-west-1\nendpoint_url = http://global:1//\n";
	static const struct endpoint_case cases[] = {
		{ plain, NULL, NULL, NULL, NULL, NULL,
		    "https://ecs.eu-west-1.amazonaws.com" },
		{ plain, NULL, NULL, NULL, NULL, "cn-north-1",
		    "https://ecs.cn-north-1.amazonaws.com.cn" },
		{ sub, "http://127.0.0.1:8080/", "http://e:1", "http://e:2",
		    NULL, NULL, "http://127.0.0.1:8080" },
		{ sub, NULL, "HTTP://Ecs-Env:1/", "http://e:2", NULL, NULL,
		    "HTTP://Ecs-Env:1" },
		{ sub, NULL, NULL, "https://all.example/base/", NULL, NULL,
		    "https://all.example/base" },
		{ services, NULL, NULL, NULL, NULL, NULL, "http://svc:3" },
		{ sub, NULL, NULL, NULL, NULL, NULL, "http://sub:2" },
		{ global, NULL, NULL, NULL, NULL, NULL, "http://global:1" },
		{ sub, NULL, "http://e:1", "http://e:2", "true", NULL,
		    "https://ecs.eu-west-1.amazonaws.com" },
		{ sub, "http://ov:1", NULL, NULL, "true", NULL, "http://ov:1" },
	};
	static const struct {
		const char	*ov;
		const char	*url;
		const char	*want;
	} bad[] = {
		{ "localhost:4566", NULL, "invalid endpoint \"localhost:4566\" "
		    "(from -o endpoint): it must be an http:// or https:// URL" },
		{ NULL, "ftp://x", "invalid endpoint \"ftp://x\" (from "
		    "AWS_ENDPOINT_URL): it must be an http:// or https:// URL" },
		{ "http://", NULL, NULL },
		{ "https:///path", NULL, NULL },
		{ "http://a b", NULL, NULL },
	};
	struct ecs_config cfg;
	struct ecs_error err;
	struct ecs_config_overrides ov;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup(cases[i].config, NULL);
		if (cases[i].url_ecs != NULL)
			setenv("AWS_ENDPOINT_URL_ECS", cases[i].url_ecs, 1);
		if (cases[i].url != NULL)
			setenv("AWS_ENDPOINT_URL", cases[i].url, 1);
		if (cases[i].ignore != NULL)
			setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
			    cases[i].ignore, 1);
		memset(&ov, 0, sizeof(ov));
		ov.endpoint = cases[i].ov;
		ov.region = cases[i].region;
		if (load(&ov, &cfg, &err) != 0) {
			fprintf(stderr, "endpoint case %zu: %s\n", i,
			    err.message);
			CHECK(0);
			continue;
		}
		CHECK_STR(cfg.endpoint, cases[i].want);
		ecs_config_free(&cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup(plain, NULL);
		if (bad[i].url != NULL)
			setenv("AWS_ENDPOINT_URL", bad[i].url, 1);
		memset(&ov, 0, sizeof(ov));
		ov.endpoint = bad[i].ov;
		CHECK_INT(load(&ov, &cfg, &err), -1);
		CHECK_INT(err.code, ECS_E_CONFIG);
		CHECK(strncmp(err.message, "invalid endpoint", 16) == 0);
		if (bad[i].want != NULL)
			CHECK_STR(err.message, bad[i].want);
	}
}

/* One source of a service's endpoint, for every service the client calls. */
struct service_case {
	const char	*what;
	const char	*config;	/* "%1$s" is the service's config key */
	int		 ov;		/* the service's own -o option set */
	int		 env_own;	/* AWS_ENDPOINT_URL_<SERVICE> set */
	int		 env_all;	/* AWS_ENDPOINT_URL set */
	int		 env_other;	/* another service's variable set */
	int		 ignore;	/* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true */
	const char	*region;
	const char	*want;		/* "%1$s" is the host prefix */
	const char	*want_source;	/* "%1$s" the option, "%2$s" the variable, "%3$s" the home */
};

/*
 * Every source of ecs_endpoint_lookup(), for ECS, Application Auto
 * Scaling and CloudWatch Logs, each from its own variable, option and
 * config key, in the SDKs' order; and the credential chain's services
 * from the environment.
 */
static void
test_service_endpoints(void)
{
	static const struct service_case cases[] = {
		{ "regional default", "[default]\nregion = eu-west-1\n", 0, 0, 0, 0,
		    0, NULL, "https://%1$s.eu-west-1.amazonaws.com",
		    "the regional default" },
		{ "China", "[default]\nregion = eu-west-1\n", 0, 0, 0, 0, 0,
		    "cn-north-1", "https://%1$s.cn-north-1.amazonaws.com.cn",
		    "the regional default" },
		{ "option first", "[default]\nregion = eu-west-1\n", 1, 1, 1, 0, 0,
		    NULL, "http://127.0.0.1:7001", "-o %1$s" },
		{ "own variable", "[default]\nregion = eu-west-1\n"
		    "endpoint_url = http://profile:1\n", 0, 1, 1, 0, 0, NULL,
		    "http://own.example:7002", "%2$s" },
		{ "AWS_ENDPOINT_URL", "[default]\nregion = eu-west-1\n"
		    "endpoint_url = http://profile:1\n", 0, 0, 1, 0, 0, NULL,
		    "https://all.example/base", "AWS_ENDPOINT_URL" },
		{ "another service's variable is not ours",
		    "[default]\nregion = eu-west-1\n", 0, 0, 0, 1, 0, NULL,
		    "https://%1$s.eu-west-1.amazonaws.com", "the regional default" },
		{ "[services] section", "[default]\nregion = eu-west-1\n"
		    "services = local\nendpoint_url = http://profile:1\n"
		    "[services local]\n%1$s =\n  endpoint_url = http://svc:3/\n"
		    "other_service =\n  endpoint_url = http://other:9\n", 0, 0, 0, 1,
		    0, NULL, "http://svc:3", "[services local] in %3$s/.aws/config" },
		{ "the profile's sub-section", "[default]\nregion = eu-west-1\n"
		    "endpoint_url = http://profile:1\n%1$s =\n  endpoint_url = "
		    "http://sub:2\n", 0, 0, 0, 0, 0, NULL, "http://sub:2",
		    "profile default in %3$s/.aws/config" },
		{ "the profile's endpoint_url", "[default]\nregion = eu-west-1\n"
		    "endpoint_url = http://profile:1//\n", 0, 0, 0, 0, 0, NULL,
		    "http://profile:1", "profile default in %3$s/.aws/config" },
		{ "ignored: all but the option", "[default]\nregion = eu-west-1\n"
		    "endpoint_url = http://profile:1\n", 0, 1, 1, 0, 1, NULL,
		    "https://%1$s.eu-west-1.amazonaws.com", "the regional default" },
		{ "ignored, option given", "[default]\nregion = eu-west-1\n", 1, 1,
		    1, 0, 1, NULL, "http://127.0.0.1:7001", "-o %1$s" },
		{ "ignored by the profile", "[default]\nregion = eu-west-1\n"
		    "ignore_configured_endpoint_urls = true\n"
		    "endpoint_url = http://profile:1\n", 0, 0, 1, 0, 0, NULL,
		    "https://%1$s.eu-west-1.amazonaws.com", "the regional default" },
	};
	static const int svcs[] = { ECS_SVC_ECS, ECS_SVC_AUTOSCALING, ECS_SVC_LOGS };
	char config[1024], want[256], want_src[512], var[128], other[128];
	struct ecs_config_overrides ov;
	struct ecs_config cfg;
	struct ecs_error err;
	const struct ecs_service *sv;
	size_t i, j;
	char *u;

	for (j = 0; j < sizeof(svcs) / sizeof(svcs[0]); j++) {
		sv = &ecs_services[svcs[j]];
		snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", sv->env_suffix);
		/* The next service's variable, for the case where it must not count. */
		snprintf(other, sizeof(other), "AWS_ENDPOINT_URL_%s",
		    ecs_services[svcs[(j + 1) % 3]].env_suffix);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			snprintf(config, sizeof(config), cases[i].config,
			    sv->config_key);
			setup(config, NULL);
			memset(&ov, 0, sizeof(ov));
			if (cases[i].ov)
				ov.endpoints[svcs[j]] = "http://127.0.0.1:7001/";
			if (cases[i].env_own)
				setenv(var, "http://own.example:7002/", 1);
			if (cases[i].env_all)
				setenv("AWS_ENDPOINT_URL", "https://all.example/base/", 1);
			if (cases[i].env_other)
				setenv(other, "http://other.example:7003", 1);
			if (cases[i].ignore)
				setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
			ov.region = cases[i].region;
			if (load(&ov, &cfg, &err) != 0) {
				fprintf(stderr, "%s, %s: %s\n", sv->title,
				    cases[i].what, err.message);
				CHECK(0);
				continue;
			}
			snprintf(want, sizeof(want), cases[i].want, sv->host_prefix);
			snprintf(want_src, sizeof(want_src), cases[i].want_source,
			    sv->option, var, tmpdir);
			if (strcmp(cfg.endpoints[svcs[j]], want) != 0)
				fprintf(stderr, "%s, %s:\n", sv->title, cases[i].what);
			CHECK_STR(cfg.endpoints[svcs[j]], want);
			CHECK_STR(cfg.endpoint_sources[svcs[j]], want_src);
			CHECK(cfg.endpoint == cfg.endpoints[ECS_SVC_ECS]);
			CHECK_INT(ecs_client_validate(&cfg, &err), 0);
			ecs_config_free(&cfg);
		}
	}

	/* One load: each service from its own variable. */
	setup("[default]\nregion = eu-west-1\n", NULL);
	setenv("AWS_ENDPOINT_URL_ECS", "http://e:1", 1);
	setenv("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING", "http://a:2", 1);
	setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://l:3", 1);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_STR(cfg.endpoint, "http://e:1");
	CHECK_STR(cfg.endpoints[ECS_SVC_AUTOSCALING], "http://a:2");
	CHECK_STR(cfg.endpoints[ECS_SVC_LOGS], "http://l:3");
	/* The credential chain's services are not the client's to resolve. */
	CHECK(cfg.endpoints[ECS_SVC_STS] == NULL);
	ecs_config_free(&cfg);

	/* -o endpoint is ECS's only. */
	memset(&ov, 0, sizeof(ov));
	ov.endpoint = "http://ecs-only:1";
	CHECK_INT(load(&ov, &cfg, &err), 0);
	CHECK_STR(cfg.endpoint, "http://ecs-only:1");
	CHECK_STR(cfg.endpoints[ECS_SVC_LOGS], "http://l:3");
	ecs_config_free(&cfg);
	unsetenv("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING");
	CHECK_INT(load(&ov, &cfg, &err), 0);
	CHECK_STR(cfg.endpoints[ECS_SVC_AUTOSCALING],
	    "https://application-autoscaling.eu-west-1.amazonaws.com");
	ecs_config_free(&cfg);

	/* A bad endpoint names its service and where it came from. */
	setup("[default]\nregion = eu-west-1\n", NULL);
	setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "ftp://x", 1);
	CHECK_INT(load(NULL, &cfg, &err), -1);
	CHECK_INT(err.code, ECS_E_CONFIG);
	CHECK_STR(err.message, "invalid CloudWatch Logs endpoint \"ftp://x\" (from "
	    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS): it must be an http:// or https:// URL");
	unsetenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
	memset(&ov, 0, sizeof(ov));
	ov.endpoints[ECS_SVC_AUTOSCALING] = "localhost:4566";
	CHECK_INT(load(&ov, &cfg, &err), -1);
	CHECK_STR(err.message, "invalid Application Auto Scaling endpoint "
	    "\"localhost:4566\" (from -o autoscaling_endpoint): it must be an "
	    "http:// or https:// URL");

	/* What only libcurl refuses, ecs_client_validate() finds, for any service. */
	ov.endpoints[ECS_SVC_AUTOSCALING] = "http://[::1";
	CHECK_INT(load(&ov, &cfg, &err), 0);
	CHECK_INT(ecs_client_validate(&cfg, &err), -1);
	CHECK_INT(err.code, ECS_E_CONFIG);
	CHECK_STR(err.message, "bad Application Auto Scaling endpoint URL: "
	    "http://[::1");
	ecs_config_free(&cfg);
	memset(&ov, 0, sizeof(ov));
	ov.endpoints[ECS_SVC_LOGS] = "http://[::1";
	CHECK_INT(load(&ov, &cfg, &err), 0);
	CHECK_INT(ecs_client_validate(&cfg, &err), -1);
	CHECK_STR(err.message, "bad CloudWatch Logs endpoint URL: http://[::1");
	ecs_config_free(&cfg);

	/* STS and SSO: the environment alone, through the same lookup. */
	setup(NULL, NULL);
	u = ecs_endpoint_env(ECS_SVC_STS, "eu-west-1");
	CHECK_STR(u, "https://sts.eu-west-1.amazonaws.com");
	free(u);
	u = ecs_endpoint_env(ECS_SVC_STS, "cn-northwest-1");
	CHECK_STR(u, "https://sts.cn-northwest-1.amazonaws.com.cn");
	free(u);
	u = ecs_endpoint_env(ECS_SVC_SSO, "eu-west-1");
	CHECK_STR(u, "https://portal.sso.eu-west-1.amazonaws.com");
	free(u);
	u = ecs_endpoint_env(ECS_SVC_SSO_OIDC, "eu-west-1");
	CHECK_STR(u, "https://oidc.eu-west-1.amazonaws.com");
	free(u);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9//", 1);
	u = ecs_endpoint_env(ECS_SVC_SSO, "eu-west-1");
	CHECK_STR(u, "http://127.0.0.1:9");
	free(u);
	setenv("AWS_ENDPOINT_URL_SSO_OIDC", "http://oidc.test", 1);
	u = ecs_endpoint_env(ECS_SVC_SSO_OIDC, "eu-west-1");
	CHECK_STR(u, "http://oidc.test");
	free(u);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
	u = ecs_endpoint_env(ECS_SVC_STS, NULL);
	CHECK_STR(u, "https://sts.us-east-1.amazonaws.com");
	free(u);
}

static void
test_profile(void)
{
	static const char config[] =
	    "[default]\nregion = r-default\n"
	    "[profile dev]\nregion = r-dev\ncli_pager = less\n"
	    "[profile prod]\nregion = r-prod\n";
	static const char credentials[] =
	    "[credonly]\naws_access_key_id = AKIDC\nregion = r-credonly\n";
	struct ecs_config cfg;
	struct ecs_error err;
	struct ecs_config_overrides ov;
	char want[512];

	setup(config, credentials);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_STR(cfg.profile, "default");
	CHECK_INT(cfg.profile_explicit, ECS_PROFILE_DEFAULT);
	ecs_config_free(&cfg);

	setenv("AWS_PROFILE", "dev", 1);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_STR(cfg.profile, "dev");
	CHECK_INT(cfg.profile_explicit, ECS_PROFILE_ENV);
	CHECK_STR(cfg.region, "r-dev");
	CHECK_STR(ecs_config_profile_get(&cfg, "cli_pager"), "less");
	CHECK(ecs_config_profile_get(&cfg, "nosuch") == NULL);
	ecs_config_free(&cfg);

	memset(&ov, 0, sizeof(ov));
	ov.profile = "prod";
	CHECK_INT(load(&ov, &cfg, &err), 0);
	CHECK_STR(cfg.profile, "prod");
	CHECK_INT(cfg.profile_explicit, ECS_PROFILE_OPTION);
	CHECK_STR(cfg.region, "r-prod");
	ecs_config_free(&cfg);

	/* A profile that only the credentials file has exists. */
	setenv("AWS_PROFILE", "credonly", 1);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_STR(cfg.region, "r-credonly");
	CHECK(ecs_config_profile_get(&cfg, "region") == NULL);
	ecs_config_free(&cfg);

	/* Named explicitly but in neither file. */
	snprintf(want, sizeof(want), "profile nope not found in "
	    "%s/.aws/config and %s/.aws/credentials", tmpdir, tmpdir);
	setenv("AWS_PROFILE", "nope", 1);
	CHECK_INT(load(NULL, &cfg, &err), -1);
	CHECK_INT(err.code, ECS_E_CONFIG);
	CHECK_STR(err.message, want);
	unsetenv("AWS_PROFILE");
	ov.profile = "nope";
	setenv("AWS_REGION", "us-east-1", 1);
	CHECK_INT(load(&ov, &cfg, &err), -1);
	CHECK_STR(err.message, want);

	/* "default" is fine unnamed without files, not when named. */
	setup(NULL, NULL);
	setenv("AWS_REGION", "us-east-1", 1);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK(cfg.config_ini == NULL && cfg.credentials_ini == NULL);
	ecs_config_free(&cfg);
	setenv("AWS_PROFILE", "default", 1);
	CHECK_INT(load(NULL, &cfg, &err), -1);
	CHECK_INT(err.code, ECS_E_CONFIG);

	/* [profile default] is the default profile too, and wins over [default]. */
	setup("[default]\nregion = plain\n[profile default]\nregion = prefixed\n",
	    NULL);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_STR(cfg.region, "prefixed");
	ecs_config_free(&cfg);
}

static void
test_max_attempts(void)
{
	static const char *const bad[] = { "0", "-1", "abc", "3x", " 3",
	    "99999999999" };
	struct ecs_config cfg;
	struct ecs_error err;
	struct ecs_config_overrides ov;
	size_t i;

	setup("[default]\nregion = r\n", NULL);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_INT(cfg.max_attempts, 8);
	CHECK_INT(cfg.connect_timeout_ms, 3000);
	CHECK_INT(cfg.timeout_ms, 15000);
	ecs_config_free(&cfg);

	setup("[default]\nregion = r\nmax_attempts = 3\n", NULL);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_INT(cfg.max_attempts, 3);
	ecs_config_free(&cfg);
	setenv("AWS_MAX_ATTEMPTS", "5", 1);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_INT(cfg.max_attempts, 5);
	ecs_config_free(&cfg);
	memset(&ov, 0, sizeof(ov));
	ov.max_attempts = 2;
	ov.connect_timeout_ms = 100;
	ov.timeout_ms = 200;
	CHECK_INT(load(&ov, &cfg, &err), 0);
	CHECK_INT(cfg.max_attempts, 2);
	CHECK_INT(cfg.connect_timeout_ms, 100);
	CHECK_INT(cfg.timeout_ms, 200);
	ecs_config_free(&cfg);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("AWS_MAX_ATTEMPTS", bad[i], 1);
		CHECK_INT(load(NULL, &cfg, &err), -1);
		CHECK_INT(err.code, ECS_E_CONFIG);
		CHECK(strncmp(err.message, "AWS_MAX_ATTEMPTS must be a positive "
		    "integer", 41) == 0);
	}
	setup("[default]\nregion = r\nmax_attempts = many\n", NULL);
	CHECK_INT(load(NULL, &cfg, &err), -1);
	CHECK_STR(err.message, "max_attempts in the profile must be a "
	    "positive integer, not \"many\"");
}

/* AWS_CONFIG_FILE and friends, "~" expansion, the CA bundle, unreadable files. */
static void
test_files(void)
{
	struct ecs_config cfg;
	struct ecs_error err;
	char alt[128], want[512], sub[64];

	snprintf(sub, sizeof(sub), "%s/alt", tmpdir);
	mkdir(sub, 0700);
	snprintf(alt, sizeof(alt), "%s/alt/conf", tmpdir);
	setup(NULL, NULL);
	aws_write_file(alt, "[profile x]\nregion = alt-1\nca_bundle = ~/ca.pem\n", 0644);
	setenv("AWS_CONFIG_FILE", "~/alt/conf", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_PROFILE", "x", 1);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_STR(cfg.config_file, alt);
	CHECK_STR(cfg.credentials_file, "/nonexistent/credentials");
	CHECK_STR(cfg.region, "alt-1");
	snprintf(want, sizeof(want), "%s/ca.pem", tmpdir);
	CHECK_STR(cfg.ca_bundle, want);
	ecs_config_free(&cfg);

	setenv("AWS_CA_BUNDLE", "/etc/ssl/custom.pem", 1);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK_STR(cfg.ca_bundle, "/etc/ssl/custom.pem");
	ecs_config_free(&cfg);

	setup("[default]\nregion = r\n", NULL);
	CHECK_INT(load(NULL, &cfg, &err), 0);
	CHECK(cfg.ca_bundle == NULL);
	snprintf(want, sizeof(want), "%s/.aws/config", tmpdir);
	CHECK_STR(cfg.config_file, want);
	CHECK(cfg.config_ini != NULL);
	CHECK_STR(ini_get(cfg.config_ini, "default", "region"), "r");
	ecs_config_free(&cfg);

	/* A config file that exists but cannot be read is an error. */
	setenv("AWS_CONFIG_FILE", sub, 1);
	setenv("AWS_REGION", "r", 1);
	CHECK_INT(load(NULL, &cfg, &err), -1);
	CHECK_INT(err.code, ECS_E_CONFIG);
	snprintf(want, sizeof(want), "cannot read %s: %s", sub,
	    strerror(EISDIR));
	CHECK_STR(err.message, want);
	unlink(alt);
	rmdir(sub);
}

int
main(void)
{
	char aws[64];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(aws, sizeof(aws), "%s/.aws", tmpdir);
	mkdir(aws, 0700);
	snprintf(cfgpath, sizeof(cfgpath), "%s/config", aws);
	snprintf(credpath, sizeof(credpath), "%s/credentials", aws);

	test_region();
	test_endpoint();
	test_service_endpoints();
	test_profile();
	test_max_attempts();
	test_files();

	unlink(cfgpath);
	unlink(credpath);
	rmdir(aws);
	rmdir(tmpdir);
	return check_done();
}
