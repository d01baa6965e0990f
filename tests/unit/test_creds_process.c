/*
 * Unit tests for the credential_process source (ecs/creds_process.c)
 * through the credential chain: output parsing and refresh on expiry,
 * failures and their messages (which must never hold a secret), the time
 * limit, and refreshes under concurrency, all driven by a script that
 * counts its runs.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecs/config.h"
#include "ecs/creds.h"
#include "ecs/creds_process.h"
#include "tests/unit/creds_util.h"

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
	aws_write_file(scriptpath, text, 0700);
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

	/*
	 * Living 60 s: not reloaded at once, as a 5-minute window would, but
	 * at half their life; 10 s ones are reloaded 5 s before expiry.
	 */
	setup_process(json_body(iso_in(60, exp, sizeof(exp)), body,
	    sizeof(body)));
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_INT(runs(), 1);
		creds_provider_free(p);
	}
	setup_process(json_body(iso_in(10, exp, sizeof(exp)), body,
	    sizeof(body)));
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_INT(runs(), 1);
		/* Past half their life, with seconds to spare before expiry. */
		sleep(6);
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

/*
 * The command inherits no descriptor above 2: the test holds a few open
 * without O_CLOEXEC (as a FUSE or HTTP descriptor may be), and the script
 * fails unless ls, run as its last command, sees only 0, 1, 2 and its
 * own directory descriptor 3.
 */
static void
test_no_inherited_fds(void)
{
	struct creds_provider *p;
	struct ecs_error err;
	struct creds c;
	char body[1024], js[700];
	int fd, high, pfd[2];

	fd = open("/dev/null", O_RDONLY);
	high = dup2(fd, 200);
	CHECK(fd > 2 && high == 200 && pipe(pfd) == 0);
	snprintf(body, sizeof(body),
	    "fds=$(ls /proc/self/fd | sort -n | tr '\n' ' ')\n"
	    "if [ \"$fds\" != '0 1 2 3 ' ]; then\n"
	    "\techo \"inherited descriptors: $fds\" >&2; exit 9\n"
	    "fi\n%s", json_body(NULL, js, sizeof(js)));
	setup_process(body);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p == NULL)
		fprintf(stderr, "%s\n", err.message);
	else {
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDPROC1");
		creds_provider_free(p);
	}
	close(fd);
	close(high);
	close(pfd[0]);
	close(pfd[1]);
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
	json_body(iso_in(10, soon, sizeof(soon)), b1, sizeof(b1));
	json_body(iso_in(3600, later, sizeof(later)), b2, sizeof(b2));
	snprintf(body, sizeof(body), "if [ $n -eq 1 ]; then %s; exit 0; fi\n"
	    "sleep 0.3\n%s", b1, b2);
	setup_process(body);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_INT(runs(), 1);
	sleep(6);	/* past half the life of run 1's credentials, seconds before expiry */
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

int
main(void)
{
	if (creds_test_begin() != 0)
		return 1;
	test_process();
	test_process_failures();
	test_no_inherited_fds();
	test_concurrency();
	creds_test_end();
	return check_done();
}
