/*
 * libFuzzer harness for configuration resolution (ecs/config.h). The input
 * is NUL-separated fields: the config file, the credentials file, then
 * the values of AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION,
 * AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS, AWS_CA_BUNDLE,
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS and the -o region, -o endpoint and
 * -o profile overrides. A missing field is unset; a field of one byte
 * 0xff leaves the file out. The files live in a private temporary folder,
 * which is also HOME, removed at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs/config.h"
#include "tests/fuzz/fuzz_util.h"

static char dir[PATH_MAX];
static char config_path[PATH_MAX];
static char credentials_path[PATH_MAX];

static const char *const env_vars[] = {
	"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS",
	"AWS_CA_BUNDLE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
};

static void
cleanup(void)
{
	unlink(config_path);
	unlink(credentials_path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/ecsfs-fuzz-config.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(config_path, sizeof(config_path), "%s/config", dir);
	snprintf(credentials_path, sizeof(credentials_path), "%s/credentials", dir);
	atexit(cleanup);
	setenv("HOME", dir, 1);
	setenv("AWS_CONFIG_FILE", config_path, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", credentials_path, 1);
	return 0;
}

/* Writes text to path, or removes path when text is NULL or the 0xff marker. */
static void
put_file(const char *path, const char *text)
{
	size_t len, off = 0;
	ssize_t n;
	int fd;

	unlink(path);
	if (text == NULL || strcmp(text, "\xff") == 0)
		return;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		abort();
	len = strlen(text);
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1 && errno != EINTR)
			abort();
		if (n > 0)
			off += (size_t)n;
	}
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ecs_config_overrides ov;
	struct ecs_config cfg;
	struct ecs_error err;
	struct fuzz_fields f;
	char *s;
	size_t i;

	fuzz_fields_init(&f, data, size);
	put_file(config_path, fuzz_field(&f));
	put_file(credentials_path, fuzz_field(&f));
	for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++) {
		if ((s = fuzz_field(&f)) != NULL)
			setenv(env_vars[i], s, 1);
		else
			unsetenv(env_vars[i]);
	}
	memset(&ov, 0, sizeof(ov));
	ov.region = fuzz_field(&f);
	ov.endpoint = fuzz_field(&f);
	ov.profile = fuzz_field(&f);
	ecs_error_clear(&err);
	if (ecs_config_load(&ov, &cfg, &err) == 0) {
		if (cfg.region == NULL || cfg.endpoint == NULL || cfg.profile == NULL)
			abort();
		(void)ecs_config_profile_get(&cfg, "credential_process");
		(void)ecs_config_profile_get(&cfg, "role_arn");
		free(ecs_config_profile_section(&cfg));
		ecs_config_free(&cfg);
	}
	fuzz_fields_free(&f);
	return 0;
}
