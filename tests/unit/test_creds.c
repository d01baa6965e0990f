/*
 * Unit tests for the credential chain (ecs/creds.c): each source, the
 * order between them, the errors and their messages (which must never hold
 * a secret), the file-permission warning, the parsing of expiration times,
 * and container credentials from a small HTTP server on 127.0.0.1. The
 * credential_process source is tested in test_creds_process.c.
 */
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
#include "ecs/log.h"
#include "tests/unit/creds_util.h"

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
		aws_write_file(credpath, "[default]\naws_access_key_id = AKIDNEW\n"
		    "aws_secret_access_key = " SECRET_MARK "new\n", 0600);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDFILE");
		creds_invalidate(p);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDNEW");
		CHECK_STR(c.session_token, "");
		/* Keys removed from the file: the reload fails. */
		aws_write_file(credpath, "[default]\nregion = x\n", 0600);
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
	setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1", 1);
	CHECK(provider(NULL, &err) == NULL);
	CHECK_INT(err.code, ECS_E_CREDS);
	snprintf(want, sizeof(want), "assume-role profile dev "
	    "(arn:aws:iam::1:role/r, from shared credentials file %s "
	    "[default]): STS AssumeRole at http://127.0.0.1:1: no response",
	    credpath);
	CHECK(strncmp(err.message, want, strlen(want)) == 0);
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
	    "(AWS_ACCESS_KEY_ID), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), "
	    "%s [default] (no file), %s [default], "
	    "container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), "
	    "instance metadata (AWS_EC2_METADATA_DISABLED)", credpath, cfgpath);
	CHECK_STR(err.message, want);

	setup("[profile dev]\nregion = x\n", "[other]\nregion = y\n");
	memset(&ov, 0, sizeof(ov));
	ov.profile = "dev";
	setenv("AWS_ACCESS_KEY_ID", "AKIDIGNORED", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARK, 1);
	CHECK(provider(&ov, &err) == NULL);
	snprintf(want, sizeof(want), "no credentials: looked in environment "
	    "(skipped for -o profile), web identity "
	    "(AWS_WEB_IDENTITY_TOKEN_FILE), %s [dev], %s [profile dev], container "
	    "endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), instance "
	    "metadata (AWS_EC2_METADATA_DISABLED)", credpath, cfgpath);
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
	aws_write_file(tokfile, "file-token\n", 0600);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile, 1);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	CHECK(strstr(s.request, "\r\nAuthorization: file-token\r\n") != NULL);
	aws_write_file(tokfile, "rotated-token", 0600);
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

/* The monotonic clock in ms. */
static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes a credential_process script that runs body after counting its runs in $n. */
static void
write_counting_script(const char *body)
{
	char text[4096], config[512];

	snprintf(text, sizeof(text), "#!/bin/sh\n"
	    "echo run >> '%s'\n"
	    "n=$(wc -l < '%s' | tr -d ' ')\n"
	    "%s\n", runspath, runspath, body);
	aws_write_file(scriptpath, text, 0700);
	snprintf(config, sizeof(config), "[default]\ncredential_process = %s\n",
	    scriptpath);
	setup(config, NULL);
}

/* A reader that waits for another thread's reload. */
struct waiter {
	struct creds_provider	*p;
	atomic_int		 stop;		/* its caller goes away */
	long long		 stop_at;	/* or at this monotonic ms (0: never) */
	int			 rc;
	long long		 took_ms;
	struct ecs_error	 err;
};

static int
waiter_stop(void *arg)
{
	struct waiter *w = arg;

	return atomic_load(&w->stop) || (w->stop_at != 0 && mono_ms() >= w->stop_at);
}

static void *
reload_main(void *arg)
{
	struct waiter *w = arg;
	struct creds c;
	long long t0 = mono_ms();

	ecs_error_clear(&w->err);
	w->rc = creds_get(w->p, &c, &w->err);
	w->took_ms = mono_ms() - t0;
	return NULL;
}

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct creds c;
	long long t0 = mono_ms();

	ecs_error_clear(&w->err);
	w->rc = creds_get_stop(w->p, &c, waiter_stop, w, &w->err);
	w->took_ms = mono_ms() - t0;
	return NULL;
}

/*
 * While one thread reloads slowly, readers that wait for it go as soon as
 * their caller goes away: within a slice of asking (100 ms), or at once
 * after creds_wake(); the reload itself goes on and succeeds.
 */
static void
test_waiters_released(void)
{
	struct creds_provider *p;
	struct waiter reloader, w1, w2;
	pthread_t t0, t1, t2;
	struct ecs_error err;
	long long t;

	write_counting_script("[ \"$n\" -gt 1 ] && sleep 3\n"
	    "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDSLOW\", "
	    "\"SecretAccessKey\": \"" SECRET_MARK "slow\"}'");
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	memset(&reloader, 0, sizeof(reloader));
	memset(&w1, 0, sizeof(w1));
	memset(&w2, 0, sizeof(w2));
	reloader.p = w1.p = w2.p = p;
	creds_invalidate(p);
	pthread_create(&t0, NULL, reload_main, &reloader);
	/* The reload has begun once the script has run a second time. */
	t = mono_ms();
	while (access(runspath, F_OK) == 0 && mono_ms() - t < 2000) {
		FILE *f = fopen(runspath, "r");
		int lines = 0, ch;

		if (f != NULL) {
			while ((ch = fgetc(f)) != EOF)
				lines += ch == '\n';
			fclose(f);
		}
		if (lines >= 2)
			break;
		usleep(10000);
	}
	w1.stop_at = mono_ms() + 200;
	pthread_create(&t1, NULL, waiter_main, &w1);
	pthread_create(&t2, NULL, waiter_main, &w2);
	pthread_join(t1, NULL);
	CHECK_INT(w1.rc, -1);
	CHECK_INT(w1.err.code, ECS_E_INTERRUPTED);
	CHECK(strstr(w1.err.message, "interrupted while waiting") != NULL);
	CHECK(w1.took_ms >= 150 && w1.took_ms < 1500);
	/* w2 waits on; a wake with its stop set releases it at once. */
	usleep(50000);
	atomic_store(&w2.stop, 1);
	t = mono_ms();
	creds_wake(p);
	pthread_join(t2, NULL);
	CHECK(mono_ms() - t < 500);
	CHECK_INT(w2.err.code, ECS_E_INTERRUPTED);
	/* The reload was not disturbed. */
	pthread_join(t0, NULL);
	CHECK_INT(reloader.rc, 0);
	CHECK(reloader.took_ms >= 2500);
	creds_provider_free(p);
}

/* The lines given to the log hook. */
static char logged[2048];
static int nlogged;

static void
log_hook(enum ecs_log_level level, const char *line)
{
	size_t len = strlen(logged);

	nlogged++;
	snprintf(logged + len, sizeof(logged) - len, "%s%s\n",
	    level == ECS_LOG_WARN ? "W " : "? ", line);
}

/*
 * A reload that fails while the old credentials still sign is a warning
 * through the log hook, scrubbed of the secrets and any security token the
 * source printed.
 */
static void
test_reload_warning(void)
{
	struct creds_provider *p;
	struct ecs_error err;
	struct creds c;
	char body[1024], when[32];

	snprintf(body, sizeof(body), "if [ \"$n\" -gt 1 ]; then echo "
	    "'broken: X-Amz-Security-Token: tok" SECRET_MARK "x, old token "
	    "oldtok" SECRET_MARK " secret OLDSECRET" SECRET_MARK "' >&2; exit 1; fi\n"
	    "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDOLD\", "
	    "\"SecretAccessKey\": \"oldsecret" SECRET_MARK "\", "
	    "\"SessionToken\": \"oldtok" SECRET_MARK "\", "
	    "\"Expiration\": \"%s\"}'", iso_in(12, when, sizeof(when)));
	write_counting_script(body);
	logged[0] = '\0';
	nlogged = 0;
	ecs_log_set(log_hook);
	p = provider(NULL, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		/*
		 * Past half their life: reloaded, which fails; the old ones serve
		 * (with seconds to spare on a loaded machine).
		 */
		sleep(7);
		CHECK_INT(creds_get(p, &c, &err), 0);
		CHECK_STR(c.access_key, "AKIDOLD");
		CHECK_INT(nlogged, 1);
		CHECK(strncmp(logged, "W creds_get_stop: reloading credentials "
		    "failed: ", 47) == 0);
		CHECK(strstr(logged, "broken: X-Amz-Security-Token: <redacted>") != NULL);
		CHECK(strstr(logged, "old token <redacted> secret <redacted>") != NULL);
		CHECK(strstr(logged, SECRET_MARK) == NULL);
		creds_provider_free(p);
	}
	ecs_log_set(NULL);
}

int
main(void)
{
	if (creds_test_begin() != 0)
		return 1;
	test_parse_time();
	test_env();
	test_files();
	test_nothing_found();
	test_permissions();
	test_container();
	test_waiters_released();
	test_reload_warning();
	creds_test_end();
	return check_done();
}
