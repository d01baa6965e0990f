/*
 * For the configuration and credential tests: clears every variable the
 * AWS SDK chain reads (and the proxies libcurl reads), so that nothing of
 * the machine's environment leaks into a test, and writes their files.
 */
#ifndef TESTS_AWS_ENV_H
#define TESTS_AWS_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const aws_env_vars[] = {
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING",
	"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL_STS",
	"AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_MAX_ATTEMPTS", "AWS_CA_BUNDLE",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
	"ECSFS_CREDENTIAL_PROCESS_TIMEOUT_MS", "http_proxy", "HTTP_PROXY",
	"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
};

/* Unsets every variable of aws_env_vars. */
static inline void
aws_env_clear(void)
{
	size_t i;

	for (i = 0; i < sizeof(aws_env_vars) / sizeof(aws_env_vars[0]); i++)
		unsetenv(aws_env_vars[i]);
}

/* Writes text to path with mode, or only removes path when text is NULL. */
static inline void
aws_write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	if (text == NULL)
		return;
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

#endif
