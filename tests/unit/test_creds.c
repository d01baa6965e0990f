/*
 * Unit tests for the credential chain (ecs/creds.c, ecs/creds_process.c):
 * each source, the order between them, the errors and their messages
 * (which must never hold a secret), credential_process refreshes under
 * concurrency, the file-permission warning, and container credentials
 * from a small HTTP server on 127.0.0.1. HOME and every AWS_* variable
 * point into a private temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ecs/config.h"
#include "ecs/creds.h"
#include "ecs/creds_process.h"
#include "tests/unit/check.h"

/* Every secret a test writes contains this, so that leaks are easy to find. */
#define SECRET_MARK	"Zq9sEkReT"

static char tmpdir[] = "/tmp/ecsfs-test-creds-XXXXXX";
static char cfgpath[128];
static char credpath[128];
static char runspath[128];
static char scriptpath[128];

static const char *const cleared_vars[] = {
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_ECS", "AWS_MAX_ATTEMPTS", "AWS_CA_BUNDLE",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
	"ECSFS_CREDENTIAL_PROCESS_TIMEOUT_MS", "http_proxy", "HTTP_PROXY",
	"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
};

/* Writes text to path with mode, or removes path when text is NULL. */
static void
write_file(const char *path, const char *text, mode_t mode)
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

/* Clears the environment, writes both files (0600) and forgets past runs. */
static void
setup(const char *config, const char *credentials)
{
	size_t i;

	for (i = 0; i < sizeof(cleared_vars) / sizeof(cleared_vars[0]); i++)
		unsetenv(cleared_vars[i]);
	setenv("HOME", tmpdir, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	write_file(cfgpath, config, 0600);
	write_file(credpath, credentials, 0600);
	unlink(runspath);
}

/* Loads the configuration; exits on failure (every test here needs one). */
static void
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
static struct creds_provider *
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

/* How many times the credential_process script has run. */
static int
runs(void)
{
	FILE *f;
	int n = 0, c;

	if ((f = fopen(runspath, "r")) == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

/* An ISO 8601 UTC time secs from now, in buf. */
static const char *
iso_in(long secs, char *buf, size_t n)
{
	time_t t = time(NULL) + secs;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/*
 * Writes the credential_process script: it counts its runs, then runs
 * body, which may use $n (this run's number).
 */
static void
write_script(const char *body)
{
	char text[4096];

	snprintf(text, sizeof(text), "#!/bin/sh\n"
	    "echo run >> '%s'\n"
	    "n=$(wc -l < '%s' | tr -d ' ')\n"
	    "%s\n", runspath, runspath, body);
	write_file(scriptpath, text, 0700);
}

/* Sets up a default profile whose credential_process is the script. */
static void
setup_process(const char *body)
{
	char config[512];

	snprintf(config, sizeof(config), "[default]\ncredential_process = %s\n",
	    scriptpath);
	setup(config, NULL);
	write_script(body);
}

/* The JSON a script prints: run $n's keys, expiring at exp (NULL: never). */
static const char *
json_body(const char *exp, char *buf, size_t n)
{
	if (exp == NULL)
		snprintf(buf, n, "printf '{\"Version\": 1, \"AccessKeyId\": "
		    "\"AKIDPROC%%s\", \"SecretAccessKey\": \"" SECRET_MARK
		    "%%s\", \"SessionToken\": \"tok%%s\"}\\n' $n $n $n");
	else
		snprintf(buf, n, "printf '{\"Version\": 1, \"AccessKeyId\": "
		    "\"AKIDPROC%%s\", \"SecretAccessKey\": \"" SECRET_MARK
		    "%%s\", \"SessionToken\": \"tok%%s\", \"Expiration\": "
		    "\"%s\"}\\n' $n $n $n", exp);
	return buf;
}

/* Redirects stderr into a file; returns the saved descriptor. */
static int
capture_begin(void)
{
	char path[160];
	int saved, fd;

	fflush(stderr);
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	return saved;
}

/* Restores stderr and returns what was written to it (static buffer). */
static const char *
capture_end(int saved)
{
	static char text[4096];
	char path[160];
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

static void
test_env(void)
{
	struct creds_provider *p;
	struct ecs_error err;
	struct ecs_config_overrides ov;
	struct creds c;
	char want[512];

	setup(NULL, "[default]\naws_access_key_id = AKIDFILE\n"
	    "aws_secret_access_key = " SECRET_MARK "file\n"
	    "[dev]\naws_access_key_id = AKIDDEV\n"
	    "aws_secret_access_key = " SECRET_MARK "dev\n");
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARK "env", 1);
	setenv("AWS_SESSION_TOKEN", "tokenv", 1);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_STR(creds_source(p), "environment");
	CHECK_INT(creds_get(p, &c, &err), 0);
	CHECK_STR(c.access_key, "AKIDENV");
	CHECK_STR(c.secret_key, SECRET_MARK "env");
	CHECK_STR(c.session_token, "tokenv");
	CHECK_INT(c.expiration, 0);
	/* After an ExpiredToken the environment is read again. */
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV2", 1);
	unsetenv("AWS_SESSION_TOKEN");
	creds_invalidate(p);
	CHECK_INT(creds_get(p, &c, &err), 0);
	CHECK_STR(c.access_key, "AKIDENV2");
	CHECK_STR(c.session_token, "");
	creds_provider_free(p);

	/* AWS_PROFILE does not hide the environment's keys (botocore, the CLI)... */
	setenv("AWS_PROFILE", "dev", 1);
	p = provider(NULL, &err);
	CHECK(p != NULL && strcmp(creds_source(p), "environment") == 0);
	creds_provider_free(p);
	/* ...but -o profile does, as the CLI's --profile. */
	unsetenv("AWS_PROFILE");
	memset(&ov, 0, sizeof(ov));
	ov.profile = "dev";
	p = provider(&ov, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		snprintf(want, sizeof(want), "shared credentials file %s [dev]",
		    credpath);
		CHECK_STR(creds_source(p), want);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDDEV");
		creds_provider_free(p);
	}

	/* Only one of the two keys: an error naming the missing one. */
	setup(NULL, NULL);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	CHECK(provider(NULL, &err) == NULL);
	CHECK_INT(err.code, ECS_E_CREDS);
	CHECK_STR(err.message,
	    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARK "env", 1);
	CHECK(provider(NULL, &err) == NULL);
	CHECK_STR(err.message,
	    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	/* An empty variable counts as unset. */
	setenv("AWS_ACCESS_KEY_ID", "", 1);
	CHECK(provider(NULL, &err) == NULL);
	CHECK(strstr(err.message, SECRET_MARK) == NULL);
}

static void
test_files(void)
{
	struct creds_provider *p;
	struct ecs_error err;
	struct creds c;
	char want[512];

	/* The credentials file's section, with a session token. */
	setup("[default]\naws_access_key_id = AKIDCONFIG\n"
	    "aws_secret_access_key = " SECRET_MARK "config\n",
	    "[default]\naws_access_key_id = AKIDFILE\n"
	    "aws_secret_access_key = " SECRET_MARK "file\n"
	    "aws_session_token = tokfile\n");
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		snprintf(want, sizeof(want), "shared credentials file %s "
		    "[default]", credpath);
		CHECK_STR(creds_source(p), want);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDFILE");
		CHECK_STR(c.secret_key, SECRET_MARK "file");
		CHECK_STR(c.session_token, "tokfile");
		/* A rewritten file is read again after creds_invalidate(). */
		write_file(credpath, "[default]\naws_access_key_id = AKIDNEW\n"
		    "aws_secret_access_key = " SECRET_MARK "new\n", 0600);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDFILE");
		creds_invalidate(p);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDNEW");
		CHECK_STR(c.session_token, "");
		/* Keys removed from the file: the reload fails. */
		write_file(credpath, "[default]\nregion = x\n", 0600);
		creds_invalidate(p);
		CHECK_INT(creds_get(p, &c, &err), -1);
		snprintf(want, sizeof(want), "%s [default] no longer has "
		    "aws_access_key_id", credpath);
		CHECK_STR(err.message, want);
		creds_provider_free(p);
	}

	/* The config file's profile keys. */
	setup("[profile dev]\naws_access_key_id = AKIDCONFIG\n"
	    "aws_secret_access_key = " SECRET_MARK "config\n",
	    "[default]\naws_access_key_id = AKIDFILE\n"
	    "aws_secret_access_key = " SECRET_MARK "file\n");
	setenv("AWS_PROFILE", "dev", 1);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		snprintf(want, sizeof(want), "config file %s [profile dev]",
		    cfgpath);
		CHECK_STR(creds_source(p), want);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDCONFIG");
		creds_provider_free(p);
	}

	/* Half a key pair in a file is an error, not a fall-through. */
	setup("[default]\naws_access_key_id = AKIDCONFIG\n"
	    "aws_secret_access_key = " SECRET_MARK "config\n",
	    "[default]\naws_access_key_id = AKIDFILE\n");
	CHECK(provider(NULL, &err) == NULL);
	CHECK_INT(err.code, ECS_E_CREDS);
	snprintf(want, sizeof(want), "%s [default] has aws_access_key_id but "
	    "no aws_secret_access_key", credpath);
	CHECK_STR(err.message, want);

	/* A profile that needs assume-role: refused, not other keys used. */
	setup("[profile dev]\nrole_arn = arn:aws:iam::1:role/r\n"
	    "source_profile = default\n",
	    "[default]\naws_access_key_id = AKIDFILE\n"
	    "aws_secret_access_key = " SECRET_MARK "file\n"
	    "[dev]\naws_access_key_id = AKIDDEV\n"
	    "aws_secret_access_key = " SECRET_MARK "dev\n");
	setenv("AWS_PROFILE", "dev", 1);
	CHECK(provider(NULL, &err) == NULL);
	CHECK_INT(err.code, ECS_E_CREDS);
	CHECK_STR(err.message, "profile dev sets role_arn, but assume-role "
	    "credentials are not supported; use credential_process or static "
	    "keys");
}

static void
test_nothing_found(void)
{
	struct ecs_error err;
	struct ecs_config_overrides ov;
	char want[512];

	setup("[default]\noutput = json\n", NULL);
	CHECK(provider(NULL, &err) == NULL);
	CHECK_INT(err.code, ECS_E_CREDS);
	snprintf(want, sizeof(want), "no credentials: looked in environment "
	    "(AWS_ACCESS_KEY_ID), %s [default] (no file), %s [default], "
	    "container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)",
	    credpath, cfgpath);
	CHECK_STR(err.message, want);

	setup("[profile dev]\nregion = x\n", "[other]\nregion = y\n");
	memset(&ov, 0, sizeof(ov));
	ov.profile = "dev";
	setenv("AWS_ACCESS_KEY_ID", "AKIDIGNORED", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARK, 1);
	CHECK(provider(&ov, &err) == NULL);
	snprintf(want, sizeof(want), "no credentials: looked in environment "
	    "(skipped for -o profile), %s [dev], %s [profile dev], container "
	    "endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)", credpath,
	    cfgpath);
	CHECK_STR(err.message, want);
}

static void
test_permissions(void)
{
	struct creds_provider *p;
	struct ecs_error err;
	const char *out;
	char want[512];
	int saved;

	setup("[default]\nregion = x\n", "[default]\naws_access_key_id = AKID\n"
	    "aws_secret_access_key = " SECRET_MARK "\n");
	chmod(credpath, 0644);
	saved = capture_begin();
	p = provider(NULL, &err);
	creds_provider_free(p);
	p = provider(NULL, &err);
	creds_provider_free(p);
	out = capture_end(saved);
	snprintf(want, sizeof(want), "ecsfs: warning: %s is readable by group "
	    "or others (mode 0644); chmod 600 it\n", credpath);
	/* Once, however many providers read the file. */
	CHECK_STR(out, want);

	/* A config file holding keys; the credentials file has none. */
	setup("[default]\naws_access_key_id = AKID\n"
	    "aws_secret_access_key = " SECRET_MARK "\n", NULL);
	chmod(cfgpath, 0640);
	saved = capture_begin();
	p = provider(NULL, &err);
	CHECK(p != NULL);
	creds_provider_free(p);
	out = capture_end(saved);
	snprintf(want, sizeof(want), "ecsfs: warning: %s is readable by group "
	    "or others (mode 0640); chmod 600 it\n", cfgpath);
	CHECK_STR(out, want);

	/* A config file without keys and private files: no warning. */
	setup("[default]\nregion = x\n", "[default]\naws_access_key_id = AKID2\n"
	    "aws_secret_access_key = " SECRET_MARK "\n");
	chmod(cfgpath, 0644);
	saved = capture_begin();
	p = provider(NULL, &err);
	CHECK(p != NULL);
	creds_provider_free(p);
	out = capture_end(saved);
	CHECK_STR(out, "");
}

static void
test_process(void)
{
	struct creds_provider *p;
	struct ecs_error err;
	struct creds c;
	char body[1024], exp[32], want[512];
	time_t t;

	/* Valid output with a far Expiration: run once, not again. */
	setup_process(json_body(iso_in(3600, exp, sizeof(exp)), body,
	    sizeof(body)));
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p == NULL) {
		fprintf(stderr, "%s\n", err.message);
		return;
	}
	CHECK_STR(creds_source(p), "credential_process (profile default)");
	CHECK_INT(creds_get(p, &c, &err), 0);
	CHECK_STR(c.access_key, "AKIDPROC1");
	CHECK_STR(c.secret_key, SECRET_MARK "1");
	CHECK_STR(c.session_token, "tok1");
	CHECK(creds_parse_time(exp, &t) == 0 && c.expiration == t);
	CHECK_INT(creds_get(p, &c, &err), 0);
	CHECK_INT(runs(), 1);
	/* creds_invalidate() runs it again. */
	creds_invalidate(p);
	CHECK_INT(creds_get(p, &c, &err), 0);
	CHECK_STR(c.access_key, "AKIDPROC2");
	CHECK_INT(runs(), 2);
	creds_provider_free(p);

	/* Expiring within 5 minutes: the next creds_get() runs it again. */
	setup_process(json_body(iso_in(60, exp, sizeof(exp)), body,
	    sizeof(body)));
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_INT(runs(), 1);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDPROC2");
		CHECK_INT(runs(), 2);
		creds_provider_free(p);
	}

	/* No Expiration: never refreshed. */
	setup_process(json_body(NULL, body, sizeof(body)));
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_INT(c.expiration, 0);
		CHECK_STR(c.access_key, "AKIDPROC1");
		CHECK_INT(runs(), 1);
		creds_provider_free(p);
	}

	/* The credentials file's profile may name the process too. */
	snprintf(want, sizeof(want), "[dev]\ncredential_process = %s\n",
	    scriptpath);
	setup(NULL, want);
	write_script(json_body(NULL, body, sizeof(body)));
	setenv("AWS_PROFILE", "dev", 1);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_STR(creds_source(p), "credential_process (profile dev)");
		creds_provider_free(p);
	}
}

/* One failing credential_process: its script body and the message it must give. */
struct process_failure {
	const char	*body;
	const char	*want;
};

static void
test_process_failures(void)
{
	static const struct process_failure cases[] = {
		{ "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDLEAK\", "
		    "\"SecretAccessKey\": \"" SECRET_MARK "\"}'\n"
		    "echo >&2\necho 'token expired: run login' >&2\n"
		    "echo 'second line' >&2\nexit 3",
		    "credential_process (profile default) failed with exit "
		    "status 3: token expired: run login" },
		{ "exit 1",
		    "credential_process (profile default) failed with exit "
		    "status 1" },
		{ "echo 'AccessKeyId AKIDLEAK " SECRET_MARK "'\n"
		    "echo 'warning: cache miss' >&2",
		    "credential_process (profile default): the output is not a "
		    "JSON object (stderr: warning: cache miss)" },
		{ "echo '[\"" SECRET_MARK "\"]'",
		    "credential_process (profile default): the output is not a "
		    "JSON object" },
		{ "echo '{\"Version\": 2, \"AccessKeyId\": \"A\", "
		    "\"SecretAccessKey\": \"" SECRET_MARK "\"}'",
		    "credential_process (profile default): unsupported Version "
		    "2 (want 1)" },
		{ "echo '{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \""
		    SECRET_MARK "\"}'",
		    "credential_process (profile default): the output has no "
		    "\"Version\": 1" },
		{ "echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'",
		    "credential_process (profile default): the output has no "
		    "SecretAccessKey" },
		{ "echo '{\"Version\": 1, \"AccessKeyId\": \"A\", "
		    "\"SecretAccessKey\": \"" SECRET_MARK "\", \"Expiration\": "
		    "\"tomorrow\"}'",
		    "credential_process (profile default): Expiration "
		    "\"tomorrow\" is not an ISO 8601 time" },
		{ "echo '{\"Version\": 1, \"AccessKeyId\": \"A\", "
		    "\"SecretAccessKey\": \"" SECRET_MARK "\", \"Expiration\": "
		    "\"2001-02-03T04:05:06Z\"}'",
		    "credential_process (profile default) gave credentials "
		    "that expired at 2001-02-03T04:05:06Z" },
		{ "/nonexistent/credential-command",
		    "credential_process (profile default) failed with exit "
		    "status 127: " },
	};
	struct ecs_error err;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup_process(cases[i].body);
		CHECK(provider(NULL, &err) == NULL);
		CHECK_INT(err.code, ECS_E_CREDS);
		n = strlen(cases[i].want);
		if (strncmp(err.message, cases[i].want, n) != 0 ||
		    (cases[i].want[n - 1] != ' ' && err.message[n] != '\0'))
			CHECK_STR(err.message, cases[i].want);
		else
			CHECK(1);
		CHECK(strstr(err.message, SECRET_MARK) == NULL);
		CHECK(strstr(err.message, "AKIDLEAK") == NULL);
		CHECK_INT(runs(), 1);
	}

	/* A command killed by a signal. */
	setup("[default]\ncredential_process = echo 'dying' >&2; kill -9 $$\n",
	    NULL);
	CHECK(provider(NULL, &err) == NULL);
	CHECK_STR(err.message, "credential_process (profile default) was "
	    "killed by signal 9: dying");

#ifndef NDEBUG
	/* A command that hangs is killed at the time limit. */
	{
		time_t start = time(NULL);

		setup_process("sleep 20 & sleep 20");
		setenv("ECSFS_CREDENTIAL_PROCESS_TIMEOUT_MS", "300", 1);
		CHECK(provider(NULL, &err) == NULL);
		CHECK_STR(err.message, "credential_process (profile default) "
		    "did not finish within 300 ms");
		CHECK(time(NULL) - start < 5);
		unsetenv("ECSFS_CREDENTIAL_PROCESS_TIMEOUT_MS");
	}
#endif
}

/* What one thread of the concurrency test got. */
struct getter {
	struct creds_provider	*p;
	pthread_barrier_t	*start;
	int			 rc;
	struct creds		 c;
	struct ecs_error	 err;
};

static void *
getter_main(void *arg)
{
	struct getter *g = arg;

	pthread_barrier_wait(g->start);
	ecs_error_clear(&g->err);
	g->rc = creds_get(g->p, &g->c, &g->err);
	return NULL;
}

/* Runs creds_get() on 8 threads at once. */
static void
get_concurrently(struct creds_provider *p, struct getter *g, int n)
{
	pthread_barrier_t start;
	pthread_t t[8];
	int i;

	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		memset(&g[i], 0, sizeof(g[i]));
		g[i].p = p;
		g[i].start = &start;
		pthread_create(&t[i], NULL, getter_main, &g[i]);
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
}

static void
test_concurrency(void)
{
	struct creds_provider *p;
	struct ecs_error err;
	struct getter g[8];
	char body[2048], soon[32], later[32], b1[700], b2[700];
	int i, ok;

	/* Run 1 expires soon; later runs take a while and last an hour. */
	json_body(iso_in(120, soon, sizeof(soon)), b1, sizeof(b1));
	json_body(iso_in(3600, later, sizeof(later)), b2, sizeof(b2));
	snprintf(body, sizeof(body), "if [ $n -eq 1 ]; then %s; exit 0; fi\n"
	    "sleep 0.3\n%s", b1, b2);
	setup_process(body);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_INT(runs(), 1);
	get_concurrently(p, g, 8);
	CHECK_INT(runs(), 2);
	for (i = 0, ok = 0; i < 8; i++) {
		/* Still-valid credentials serve while one thread reloads. */
		ok += g[i].rc == 0 &&
		    (strcmp(g[i].c.access_key, "AKIDPROC1") == 0 ||
		    strcmp(g[i].c.access_key, "AKIDPROC2") == 0);
	}
	CHECK_INT(ok, 8);

	/* Invalidated: every thread waits for the one reload. */
	creds_invalidate(p);
	get_concurrently(p, g, 8);
	CHECK_INT(runs(), 3);
	for (i = 0, ok = 0; i < 8; i++)
		ok += g[i].rc == 0 &&
		    strcmp(g[i].c.access_key, "AKIDPROC3") == 0;
	CHECK_INT(ok, 8);

	/* A failing reload is run once too, and every waiter gets its error. */
	snprintf(body, sizeof(body), "sleep 0.3\necho 'login service is down' >&2\n"
	    "exit 2");
	write_script(body);
	creds_invalidate(p);
	get_concurrently(p, g, 8);
	CHECK_INT(runs(), 4);
	for (i = 0, ok = 0; i < 8; i++)
		ok += g[i].rc == -1 && g[i].err.code == ECS_E_CREDS &&
		    strcmp(g[i].err.message, "credential_process (profile "
		    "default) failed with exit status 2: login service is down") == 0;
	CHECK_INT(ok, 8);
	creds_provider_free(p);
}

static void
test_parse_time(void)
{
	static const struct {
		const char	*s;
		time_t		 want;	/* -1: must fail */
	} cases[] = {
		{ "2030-01-01T00:00:00Z", 1893456000 },
		{ "2030-01-01T00:00:00.123456Z", 1893456000 },
		{ "2030-01-01T01:00:00+01:00", 1893456000 },
		{ "2029-12-31T19:00:00-0500", 1893456000 },
		{ "2030-01-01 00:00:00z", 1893456000 },
		{ "2030-01-01T00:00:00", 1893456000 },
		{ "2024-02-29T12:34:56Z", 1709210096 },
		{ "", -1 },
		{ "2030-01-01", -1 },
		{ "2030-13-01T00:00:00Z", -1 },
		{ "2030-01-01T24:00:00Z", -1 },
		{ "tomorrow", -1 },
		{ "2030-01-01T00:00:00Zjunk", -1 },
		{ "2030-01-01T00:00:00.Z", -1 },
		{ "2030-1-01T00:00:00Z", -1 },
	};
	time_t t;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = 0;
		rc = creds_parse_time(cases[i].s, &t);
		if (cases[i].want == -1)
			CHECK_INT(rc, -1);
		else {
			CHECK_INT(rc, 0);
			CHECK_INT(t, cases[i].want);
		}
	}
}

/* A one-thread HTTP server on 127.0.0.1 that answers every request alike. */
struct server {
	int		 fd;
	int		 port;
	int		 status;
	const char	*body;
	atomic_int	 stop;
	int		 nrequests;
	char		 request[4096];	/* the last request's head */
	pthread_t	 thread;
};

static void *
server_main(void *arg)
{
	struct server *s = arg;
	struct pollfd pfd;
	char resp[2048];
	size_t len;
	ssize_t r;
	int c, n;

	while (!s->stop) {
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((c = accept(s->fd, NULL, NULL)) == -1)
			continue;
		len = 0;
		while (len < sizeof(s->request) - 1 &&
		    (r = read(c, s->request + len,
		    sizeof(s->request) - 1 - len)) > 0) {
			len += (size_t)r;
			s->request[len] = '\0';
			if (strstr(s->request, "\r\n\r\n") != NULL)
				break;
		}
		s->request[len] = '\0';
		s->nrequests++;
		n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\n"
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s", s->status, strlen(s->body),
		    s->body);
		if (write(c, resp, (size_t)n) < 0)
			perror("server write");
		close(c);
	}
	return NULL;
}

/* Starts the server; returns 0, or -1 when no socket can be had. */
static int
server_start(struct server *s, int status, const char *body)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(s, 0, sizeof(*s));
	s->status = status;
	s->body = body;
	if ((s->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s->fd, 8) == -1 ||
	    getsockname(s->fd, (struct sockaddr *)&sin, &sl) == -1) {
		close(s->fd);
		return -1;
	}
	s->port = ntohs(sin.sin_port);
	pthread_create(&s->thread, NULL, server_main, s);
	return 0;
}

static void
server_stop(struct server *s)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static void
test_container(void)
{
	static const char body[] = "{\"AccessKeyId\": \"AKIDCONT\", "
	    "\"SecretAccessKey\": \"" SECRET_MARK "cont\", \"Token\": "
	    "\"tokcont\", \"Expiration\": \"2030-01-01T00:00:00Z\", "
	    "\"RoleArn\": \"arn:aws:iam::1:role/r\"}";
	struct creds_provider *p;
	struct ecs_error err;
	struct server s;
	struct creds c;
	char url[128], tokfile[160];

	if (server_start(&s, 200, body) != 0) {
		fprintf(stderr, "no loopback socket: container test not run\n");
		CHECK(0);
		return;
	}
	setup(NULL, NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/credentials/x",
	    s.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "auth-" SECRET_MARK, 1);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_STR(creds_source(p), "container credentials "
		    "(AWS_CONTAINER_CREDENTIALS_FULL_URI)");
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDCONT");
		CHECK_STR(c.secret_key, SECRET_MARK "cont");
		CHECK_STR(c.session_token, "tokcont");
		CHECK_INT(c.expiration, 1893456000);
		CHECK(strncmp(s.request, "GET /v2/credentials/x HTTP/1.1\r\n",
		    32) == 0);
		CHECK(strstr(s.request, "\r\nAuthorization: auth-" SECRET_MARK
		    "\r\n") != NULL);
		creds_provider_free(p);
	}

	/* The token file wins over the token, and is read at each fetch. */
	snprintf(tokfile, sizeof(tokfile), "%s/token", tmpdir);
	write_file(tokfile, "file-token\n", 0600);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile, 1);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	CHECK(strstr(s.request, "\r\nAuthorization: file-token\r\n") != NULL);
	write_file(tokfile, "rotated-token", 0600);
	creds_invalidate(p);
	CHECK_INT(creds_get(p, &c, &err), 0);
	CHECK(strstr(s.request, "\r\nAuthorization: rotated-token\r\n") !=
	    NULL);
	creds_provider_free(p);
	CHECK_INT(s.nrequests, 3);
	server_stop(&s);
	unlink(tokfile);

	/* A 4xx is not retried; the message has no token and no body. */
	if (server_start(&s, 403, "{\"message\": \"" SECRET_MARK "\"}") == 0) {
		setup(NULL, NULL);
		snprintf(url, sizeof(url), "http://localhost:%d/creds", s.port);
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
		setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", SECRET_MARK, 1);
		CHECK(provider(NULL, &err) == NULL);
		CHECK_INT(err.code, ECS_E_CREDS);
		CHECK_STR(err.message, "container credentials "
		    "(AWS_CONTAINER_CREDENTIALS_FULL_URI): the endpoint in "
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI answered HTTP 403");
		server_stop(&s);
		CHECK_INT(s.nrequests, 1);
	}

	/* A 5xx is tried three times. */
	if (server_start(&s, 500, "{}") == 0) {
		setup(NULL, NULL);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", s.port);
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
		CHECK(provider(NULL, &err) == NULL);
		CHECK(strstr(err.message, "answered HTTP 500") != NULL);
		server_stop(&s);
		CHECK_INT(s.nrequests, 3);
	}

	/* Plain http to anything but loopback or 169.254.170.2 is refused. */
	setup(NULL, NULL);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds", 1);
	CHECK(provider(NULL, &err) == NULL);
	CHECK_STR(err.message, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
	    "https, or http to a loopback address or 169.254.170.2");
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    "http://127.0.0.1.evil.example/creds", 1);
	CHECK(provider(NULL, &err) == NULL);
	CHECK_INT(err.code, ECS_E_CREDS);
}

int
main(void)
{
	char aws[64];

	umask(077);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(aws, sizeof(aws), "%s/.aws", tmpdir);
	mkdir(aws, 0700);
	snprintf(cfgpath, sizeof(cfgpath), "%s/config", aws);
	snprintf(credpath, sizeof(credpath), "%s/credentials", aws);
	snprintf(runspath, sizeof(runspath), "%s/runs", tmpdir);
	snprintf(scriptpath, sizeof(scriptpath), "%s/cred-process.sh", tmpdir);

	test_parse_time();
	test_env();
	test_files();
	test_nothing_found();
	test_permissions();
	test_process();
	test_process_failures();
	test_concurrency();
	test_container();

	setup(NULL, NULL);
	unlink(scriptpath);
	snprintf(aws, sizeof(aws), "%s/stderr", tmpdir);
	unlink(aws);
	snprintf(aws, sizeof(aws), "%s/.aws", tmpdir);
	rmdir(aws);
	rmdir(tmpdir);
	return check_done();
}
