/*
 * What the credential chain tests share: a private temporary directory
 * that HOME and every AWS_* variable point into, the config and
 * credentials files in it, and a provider built from them.
 */
#ifndef TESTS_UNIT_CREDS_UTIL_H
#define TESTS_UNIT_CREDS_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ecs/config.h"
#include "ecs/creds.h"
#include "tests/unit/aws_env.h"
#include "tests/unit/check.h"

/* Every secret a test writes contains this, so that leaks are easy to find. */
#define SECRET_MARK	"Zq9sEkReT"

static char tmpdir[] = "/tmp/ecsfs-test-creds-XXXXXX";
static char cfgpath[128];
static char credpath[128];
static char runspath[128];
static char scriptpath[128];

/* An ISO 8601 UTC time secs from now, in buf (credential expiry times). */
static inline const char *
iso_in(long secs, char *buf, size_t n)
{
	time_t t = time(NULL) + secs;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* Clears the environment, writes both files (0600) and forgets past runs. */
static inline void
setup(const char *config, const char *credentials)
{
	aws_env_clear();
	setenv("HOME", tmpdir, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	/* No test reaches for a real metadata service. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	aws_write_file(cfgpath, config, 0600);
	aws_write_file(credpath, credentials, 0600);
	unlink(runspath);
}

/* Loads the configuration; exits on failure (every test here needs one). */
static inline void
load_config(const struct ecs_config_overrides *ov, struct ecs_config *cfg)
{
	struct ecs_error err;

	ecs_error_clear(&err);
	if (ecs_config_load(ov, cfg, &err) != 0) {
		fprintf(stderr, "ecs_config_load: %s\n", err.message);
		exit(1);
	}
}

/* Builds a provider from the current environment and files. */
static inline struct creds_provider *
provider(const struct ecs_config_overrides *ov, struct ecs_error *err)
{
	struct ecs_config cfg;
	struct creds_provider *p;

	load_config(ov, &cfg);
	ecs_error_clear(err);
	p = creds_provider_new(&cfg, err);
	/* The provider must not depend on the configuration it came from. */
	ecs_config_free(&cfg);
	return p;
}

/* Makes the private directory and the paths in it; 0, or -1 on failure. */
static inline int
creds_test_begin(void)
{
	char aws[64];

	umask(077);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(aws, sizeof(aws), "%s/.aws", tmpdir);
	mkdir(aws, 0700);
	snprintf(cfgpath, sizeof(cfgpath), "%s/config", aws);
	snprintf(credpath, sizeof(credpath), "%s/credentials", aws);
	snprintf(runspath, sizeof(runspath), "%s/runs", tmpdir);
	snprintf(scriptpath, sizeof(scriptpath), "%s/cred-process.sh", tmpdir);
	return 0;
}

/* Removes every file the tests may have left, then the directory. */
static inline void
creds_test_end(void)
{
	char aws[64];

	setup(NULL, NULL);
	unlink(scriptpath);
	snprintf(aws, sizeof(aws), "%s/stderr", tmpdir);
	unlink(aws);
	snprintf(aws, sizeof(aws), "%s/.aws", tmpdir);
	rmdir(aws);
	rmdir(tmpdir);
}

#endif
