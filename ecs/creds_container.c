/*
 * The container credentials endpoint: which URLs may serve credentials,
 * the rotating authorization token, and the fetch with its retries, cut
 * short when the caller goes away.
 */
#include "ecs/creds_container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs/creds_process.h"
#include "ecs/http.h"
#include "ecs/xmalloc.h"

#define CONTAINER_HOST		"http://169.254.170.2"
#define CONTAINER_ATTEMPTS	3
#define CONTAINER_PAUSE_MS	500	/* between tries */
/* How often a pause asks whether the caller is going away. */
#define STOP_SLICE_MS		100

/* Whether host (up to len bytes) may serve container credentials over plain http. */
static int
creds_container_host_ok(const char *host, size_t len)
{
	static const char *const allowed[] = {
		"localhost", "169.254.170.2", "169.254.170.23", "[::1]",
		"[fd00:ec2::23]",
	};
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (strlen(allowed[i]) == len &&
		    strncmp(host, allowed[i], len) == 0)
			return 1;
	}
	/* Anything in 127.0.0.0/8 is loopback. */
	return len > 4 && strncmp(host, "127.", 4) == 0 &&
	    strspn(host, "0123456789.") >= len;
}

int
creds_container_url(const char *relative, const char *full, char **url,
    const char **var, struct ecs_error *err)
{
	const char *v = full, *host;
	size_t len;

	*url = NULL;
	if (relative != NULL) {
		*var = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
		*url = xasprintf("%s%s%s", CONTAINER_HOST,
		    relative[0] == '/' ? "" : "/", relative);
		return 1;
	}
	if (v == NULL)
		return 0;
	*var = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
	if (strncmp(v, "https://", 8) == 0) {
		*url = xstrdup(v);
		return 1;
	}
	if (strncmp(v, "http://", 7) == 0) {
		host = v + 7;
		if (host[0] == '[')
			len = strcspn(host, "]") + 1;
		else
			len = strcspn(host, ":/?#");
		if (creds_container_host_ok(host, len)) {
			*url = xstrdup(v);
			return 1;
		}
	}
	ecs_error_set(err, ECS_E_CREDS, "AWS_CONTAINER_CREDENTIALS_FULL_URI "
	    "must be https, or http to a loopback address or 169.254.170.2");
	return -1;
}

/*
 * The Authorization header for the container endpoint, from file (read
 * each time: it rotates) or value, into *header (NULL when neither is
 * given).
 */
static int
creds_container_token(const char *file, const char *value, char **header,
    struct ecs_error *err)
{
	const char *v;
	FILE *f;
	char buf[4096];
	size_t n;

	*header = NULL;
	if (file != NULL) {
		if ((f = fopen(file, "re")) == NULL) {
			ecs_error_set(err, ECS_E_CREDS, "cannot read %s: %s",
			    file, strerror(errno));
			return -1;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
		    buf[n - 1] == ' '))
			buf[--n] = '\0';
		v = buf;
	} else if ((v = value) == NULL)
		return 0;
	if (strpbrk(v, "\r\n") != NULL) {
		ecs_error_set(err, ECS_E_CREDS, "the container authorization "
		    "token holds a line break");
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	*header = xasprintf("Authorization: %s", v);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int
creds_stopped(const struct creds_stopper *st)
{
	return st != NULL && st->fn != NULL && st->fn(st->arg);
}

/* The transfer's stop function: a read of credentials may always stop. */
static int
creds_transfer_stop(void *arg, int on_wire)
{
	(void)on_wire;
	return creds_stopped(arg);
}

/* Sleeps ms milliseconds in slices; nonzero when the caller went away. */
static int
creds_pause(const struct creds_stopper *st, long ms)
{
	while (ms > 0) {
		long slice = ms < STOP_SLICE_MS ? ms : STOP_SLICE_MS;

		if (creds_stopped(st))
			return 1;
		usleep((useconds_t)slice * 1000);
		ms -= slice;
	}
	return creds_stopped(st);
}

int
creds_container_fetch(struct http_pool *pool, const char *url,
    const char *var, const char *what, const char *token_file,
    const char *token, const struct creds_stopper *st, struct creds *out,
    struct ecs_error *err)
{
	struct http_request req;
	struct http_response resp;
	const char *headers[2];
	char *auth = NULL;
	long status;
	int attempt, rc = -1;

	if (creds_container_token(token_file, token, &auth, err) != 0)
		return -1;
	if (pool == NULL) {
		ecs_error_set(err, ECS_E_INTERNAL, "%s: no HTTP pool", what);
		goto done;
	}
	headers[0] = "Accept: application/json";
	headers[1] = auth;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.nheaders = auth != NULL ? 2 : 1;
	req.connect_timeout_ms = 1000;
	req.timeout_ms = 2000;
	req.stop = creds_transfer_stop;
	req.stop_arg = (void *)st;
	for (attempt = 1; attempt <= CONTAINER_ATTEMPTS; attempt++) {
		if (attempt > 1 && creds_pause(st, CONTAINER_PAUSE_MS)) {
			rc = -2;
			break;
		}
		if (http_do(pool, &req, &resp, err) != 0) {
			http_response_free(&resp);
			if (err->code == ECS_E_INTERRUPTED) {
				rc = -2;
				break;
			}
			ecs_error_set(err, ECS_E_CREDS, "%s: no response from "
			    "the endpoint in %s", what, var);
			continue;
		}
		if (resp.status == 200) {
			rc = creds_parse_json(resp.body.data != NULL ?
			    resp.body.data : "", resp.body.len, "Token", 0,
			    what, out, err);
			if (resp.body.data != NULL)
				explicit_bzero(resp.body.data, resp.body.len);
			http_response_free(&resp);
			break;
		}
		status = resp.status;
		http_response_free(&resp);
		ecs_error_set(err, ECS_E_CREDS, "%s: the endpoint in %s "
		    "answered HTTP %ld", what, var, status);
		if (status < 500)
			break;
	}
	if (rc == -2) {
		ecs_error_clear(err);
		ecs_error_set(err, ECS_E_INTERRUPTED, "%s: interrupted", what);
	}
done:
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	return rc;
}
