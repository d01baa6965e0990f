/*
 * One ECS API call over JSON 1.1: the request is encoded, signed and
 * sent, and the response parsed. Every attempt first takes a token of its
 * throttling category from the pacer (ecs/pace.c), which spaces requests
 * to ECS's rates and slows down after a ThrottlingException; a throttled
 * attempt is retried through the pacer for as long as max_throttle_wait
 * allows, 5xx and transport errors with capped exponential backoff and
 * full jitter up to max_attempts, all within the call's time budget (time
 * spent waiting for tokens does not count against it). A call reads as
 * steps: call_begin(), then per attempt a token, attempt(), account() and
 * retry_decision(). A mutation that may have been sent is never sent
 * again. The figures behind ecs_client_stats() live in client_stats.c.
 */
#include "ecs/client.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ecs/client_stats.h"
#include "ecs/clock.h"
#include "ecs/config.h"
#include "ecs/creds.h"
#include "ecs/http.h"
#include "ecs/ops.h"
#include "ecs/pace.h"
#include "ecs/redact.h"
#include "ecs/sigv4.h"
#include "ecs/xmalloc.h"

#ifndef ECSFS_VERSION
#define ECSFS_VERSION "0.0.0"
#endif

#define ECS_TARGET_PREFIX	"AmazonEC2ContainerServiceV20141113."
#define ECS_CONTENT_TYPE	"application/x-amz-json-1.1"

/* Backoff after 5xx and transport errors: doubling per retry, up to the cap. */
#define BACKOFF_BASE_MS		50
#define BACKOFF_CAP_MS		2000
/* An attempt is not started with less time than this left. */
#define ATTEMPT_MIN_MS		20

struct ecs_client {
	const struct ecs_config	*cfg;
	struct creds_provider	*creds;
	struct http_pool	*http;
	char			*url;		/* endpoint + "/" */
	char			*host;		/* the Host header value */
	char			*path;		/* the request path, for signing */
	struct pace		*pace;		/* thread-safe itself */
	struct client_stats	*st;		/* thread-safe itself */
	/* Whether the caller is going away; set before any call, NULL: never. */
	int			(*interrupted)(void);
	atomic_int		 shut;		/* set once by ecs_client_shutdown() */
	pthread_mutex_t		 sleep_lock;
	pthread_cond_t		 sleep_cond;	/* on CLOCK_MONOTONIC; broadcast at shutdown */
};

/* How often a sleeping call asks whether its caller is going away. */
#define INTERRUPT_SLICE_US	100000

/* The monotonic clock in microseconds. */
static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Whether the client is shut down or the caller of this thread's call is going away. */
static int
stopping(const struct ecs_client *c)
{
	return atomic_load(&c->shut) || (c->interrupted != NULL && c->interrupted());
}

/* stopping() for creds_get_stop(). */
static int
creds_stop(void *arg)
{
	return stopping(arg);
}

/*
 * Sleeps us microseconds, waking early when the caller goes away (asked
 * every INTERRUPT_SLICE_US) or the client shuts down (at once). Returns
 * nonzero when cut short. The pacer's sleep, and the backoff's.
 */
static int
client_sleep_us(void *arg, uint64_t us)
{
	struct ecs_client *c = arg;
	uint64_t end = mono_us() + us, now, slice, at;
	struct timespec ts;

	for (;;) {
		if (stopping(c))
			return 1;
		if ((now = mono_us()) >= end)
			return 0;
		slice = end - now < INTERRUPT_SLICE_US ? end - now : INTERRUPT_SLICE_US;
		at = now + slice;
		ts.tv_sec = (time_t)(at / 1000000);
		ts.tv_nsec = (long)(at % 1000000) * 1000;
		pthread_mutex_lock(&c->sleep_lock);
		if (!atomic_load(&c->shut))
			pthread_cond_timedwait(&c->sleep_cond, &c->sleep_lock, &ts);
		pthread_mutex_unlock(&c->sleep_lock);
	}
}

/* A uniform random number in [0, n], from a per-thread xorshift generator. */
static uint64_t
jitter(uint64_t n)
{
	static _Thread_local uint64_t state;
	uint64_t x;

	if (state == 0) {
		if (getrandom(&state, sizeof(state), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(state))
			state = (uint64_t)ecs_now_ms() ^ ((uint64_t)(uintptr_t)&x << 16) ^
			    (uint64_t)getpid();
		if (state == 0)
			state = 0x9e3779b97f4a7c15ULL;
	}
	x = state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	state = x;
	return (x * 0x2545f4914f6cdd1dULL) % (n + 1);
}

/* The full-jitter backoff before retry number retry (1 for the first). */
static int64_t
backoff_ms(int retry)
{
	uint64_t ceiling = BACKOFF_BASE_MS;
	int i;

	for (i = 1; i < retry && ceiling < BACKOFF_CAP_MS; i++)
		ceiling *= 2;
	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	return (int64_t)jitter(ceiling);
}

/*
 * Splits the endpoint URL into the request URL, the Host header (without a
 * default port, as the AWS SDKs sign it) and the path to sign.
 */
static int
parse_endpoint(struct ecs_client *c, const char *endpoint, struct ecs_error *err)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	size_t len = strlen(endpoint), i;
	int rc = -1;

	while (len > 0 && endpoint[len - 1] == '/')
		len--;
	c->url = xasprintf("%.*s/", (int)len, endpoint);
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, c->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		ecs_error_set(err, ECS_E_CONFIG, "bad endpoint URL: %s", endpoint);
		goto fail;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		ecs_error_set(err, ECS_E_CONFIG,
		    "endpoint %s: scheme must be http or https", endpoint);
		goto fail;
	}
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port != NULL &&
	    !(strcasecmp(scheme, "http") == 0 && strcmp(port, "80") == 0) &&
	    !(strcasecmp(scheme, "https") == 0 && strcmp(port, "443") == 0))
		c->host = xasprintf("%s:%s", host, port);
	else
		c->host = xstrdup(host);
	c->path = xstrdup(path);
	rc = 0;
fail:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* How long throttled calls may wait, in ms. */
static long
throttle_wait(const struct ecs_config *cfg)
{
	return cfg->max_throttle_wait_ms > 0 ? cfg->max_throttle_wait_ms : 60000;
}

/* Fills pc with the rate of every category: cfg's overrides, else ECS's. */
static int
pace_config_from(const struct ecs_config *cfg, struct pace_config *pc,
    struct ecs_error *err)
{
	int i;

	memset(pc, 0, sizeof(*pc));
	pc->slack_us = PACE_SLACK_US;
	for (i = 0; i < ECS_CAT_COUNT; i++) {
		pc->rate[i] = pace_default_rate((enum ecs_category)i);
		if (i != ECS_CAT_OTHER && cfg->rate[i] != NULL &&
		    pace_parse_rate((enum ecs_category)i, cfg->rate[i], &pc->rate[i],
		    err) != 0)
			return -1;
	}
	return 0;
}

int
ecs_client_validate(const struct ecs_config *cfg, struct ecs_error *err)
{
	struct ecs_client scratch;
	struct pace_config pc;
	int rc;

	ecs_error_clear(err);
	memset(&scratch, 0, sizeof(scratch));
	if (cfg->endpoint == NULL) {
		ecs_error_set(err, ECS_E_CONFIG, "no endpoint");
		return -1;
	}
	rc = parse_endpoint(&scratch, cfg->endpoint, err);
	free(scratch.url);
	free(scratch.host);
	free(scratch.path);
	if (rc != 0)
		return -1;
	return pace_config_from(cfg, &pc, err);
}

struct ecs_client *
ecs_client_new(const struct ecs_config *cfg, struct creds_provider *creds)
{
	struct ecs_client *c;
	struct ecs_error err;
	struct pace_config pc;

	pthread_condattr_t ca;

	c = xcalloc(1, sizeof(*c));
	c->cfg = cfg;
	c->creds = creds;
	atomic_init(&c->shut, 0);
	pthread_mutex_init(&c->sleep_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->sleep_cond, &ca);
	pthread_condattr_destroy(&ca);
	c->st = client_stats_new();
	ecs_error_clear(&err);
	if (cfg->endpoint == NULL || parse_endpoint(c, cfg->endpoint, &err) != 0)
		goto fail;
	if (pace_config_from(cfg, &pc, &err) != 0)
		goto fail;
	pc.sleep_us = client_sleep_us;
	pc.clock_arg = c;
	pc.busy_after_us = (uint64_t)throttle_wait(cfg) * 1000;
	c->pace = pace_new(&pc);
	if ((c->http = http_pool_new(cfg->ca_bundle)) == NULL)
		goto fail;
	return c;
fail:
	ecs_client_free(c);
	return NULL;
}

void
ecs_client_set_interrupt(struct ecs_client *c, int (*interrupted)(void))
{
	c->interrupted = interrupted;
}

void
ecs_client_shutdown(struct ecs_client *c)
{
	pthread_mutex_lock(&c->sleep_lock);
	atomic_store(&c->shut, 1);
	pthread_cond_broadcast(&c->sleep_cond);
	pthread_mutex_unlock(&c->sleep_lock);
	http_pool_wake(c->http);
	if (c->creds != NULL)
		creds_wake(c->creds);
}

void
ecs_client_free(struct ecs_client *c)
{
	if (c == NULL)
		return;
	http_pool_free(c->http);
	pace_free(c->pace);
	client_stats_free(c->st);
	pthread_cond_destroy(&c->sleep_cond);
	pthread_mutex_destroy(&c->sleep_lock);
	free(c->url);
	free(c->host);
	free(c->path);
	free(c);
}

void
ecs_client_stats(struct ecs_client *c, struct buf *out)
{
	client_stats_print(c->st, out);
	pace_stats(c->pace, out);
}

/* One call in progress: what it sends, its bounds and its counts so far. */
struct call {
	struct ecs_client	*c;
	const char		*op;
	const struct ecs_op	*e;		/* NULL: not in ecs_ops[] */
	enum ecs_category	 cat;
	int			 mutating;
	char			*body;
	char			*target;
	int64_t			 start;		/* monotonic ms */
	int64_t			 deadline;	/* monotonic ms, moved on by token waits */
	uint64_t		 throttle_until;	/* pacer time */
	long			 throttle_wait_ms;
	int			 max_attempts;
	int			 n;		/* attempts sent */
	int			 failures;	/* 5xx answers and transport failures */
	int			 nthrottled;
	int			 refreshed;	/* credentials reloaded once */
	int			 retry;		/* the next attempt is a retry */
	int			 maybe_sent;	/* the last attempt's, when unanswered */
	uint64_t		 token_wait;	/* why the pacer said no, in us */
};

/* What one attempt came to. */
enum outcome {
	OUT_OK,			/* a 2xx answer, parsed */
	OUT_ANSWER,		/* an error answer */
	OUT_NO_ANSWER,		/* no answer; k->maybe_sent says if it left */
	OUT_NOT_SENT,		/* nothing sent: no credentials, cannot sign, stopped */
};

/* What the call does after an attempt. */
enum decision {
	DECIDE_DONE,		/* return what err says */
	DECIDE_AGAIN,		/* throttled: the next token is the backoff */
	DECIDE_REFRESH,		/* reload the credentials, then again */
	DECIDE_BACKOFF,		/* sleep the backoff, then again */
};

/*
 * The transfer's stop function: a shutdown stops anything; the caller
 * going away stops a read, and a mutation only while it cannot have been
 * sent, since one that was must hear how it ended.
 */
static int
transfer_stop(void *arg, int on_wire)
{
	const struct call *k = arg;

	if (atomic_load(&k->c->shut))
		return 1;
	if (k->mutating && on_wire)
		return 0;
	return k->c->interrupted != NULL && k->c->interrupted();
}

/* Parses a 2xx body into a JSON object (an empty body is {}). */
static int
parse_result(const struct http_response *resp, json_t **out, struct ecs_error *err)
{
	json_error_t jerr;
	json_t *j;

	if (resp->body.len == 0) {
		*out = json_object();
		return 0;
	}
	j = json_loadb(resp->body.data, resp->body.len, 0, &jerr);
	if (j == NULL || !json_is_object(j)) {
		ecs_error_clear(err);
		err->http_status = resp->status;
		snprintf(err->request_id, sizeof(err->request_id), "%s",
		    resp->request_id);
		if (j == NULL)
			ecs_error_set(err, ECS_E_PROTOCOL,
			    "HTTP %ld response is not JSON: %s", resp->status,
			    jerr.text);
		else
			ecs_error_set(err, ECS_E_PROTOCOL,
			    "HTTP %ld response is not a JSON object", resp->status);
		json_decref(j);
		return -1;
	}
	*out = j;
	return 0;
}

/* Scrubs the secrets of cr, and any security token, out of err's texts. */
static void
scrub(struct ecs_error *err, const struct creds *cr)
{
	const char *secrets[2];

	secrets[0] = cr != NULL ? cr->secret_key : NULL;
	secrets[1] = cr != NULL ? cr->session_token : NULL;
	ecs_redact(err->message, sizeof(err->message), secrets, 2);
	ecs_redact(err->aws_code, sizeof(err->aws_code), secrets, 2);
	ecs_redact(err->request_id, sizeof(err->request_id), secrets, 2);
}

/*
 * Signs and sends one request that must end by k->deadline and reads its
 * answer: *resp (a new reference) on OUT_OK, err otherwise. Every error
 * text is scrubbed of the credentials used.
 */
static enum outcome
attempt(struct call *k, json_t **resp, struct ecs_error *err)
{
	struct ecs_client *c = k->c;
	struct creds cr;
	struct sigv4_output so;
	struct sigv4_header sh[3];
	struct sigv4_input si;
	struct http_request hr;
	struct http_response hresp;
	char *hdrs[8];
	size_t nh = 0, i;
	int64_t budget_ms;
	enum outcome out = OUT_NOT_SENT;

	memset(&so, 0, sizeof(so));
	memset(&cr, 0, sizeof(cr));
	memset(&hresp, 0, sizeof(hresp));
	buf_init(&hresp.body);
	ecs_error_clear(err);
	k->maybe_sent = 0;
	if (creds_get_stop(c->creds, &cr, creds_stop, c, err) != 0)
		goto out;

	sh[0].name = "Host";
	sh[0].value = c->host;
	sh[1].name = "Content-Type";
	sh[1].value = ECS_CONTENT_TYPE;
	sh[2].name = "X-Amz-Target";
	sh[2].value = k->target;
	memset(&si, 0, sizeof(si));
	si.method = "POST";
	si.path = c->path;
	si.query = NULL;
	si.headers = sh;
	si.nheaders = 3;
	si.body = k->body;
	si.body_len = strlen(k->body);
	si.region = c->cfg->region;
	si.service = "ecs";
	si.access_key = cr.access_key;
	si.secret_key = cr.secret_key;
	si.session_token = cr.session_token[0] != '\0' ? cr.session_token : NULL;
	si.when = time(NULL);
	si.normalize_path = 1;
	si.sign_body = 0;
	if (sigv4_sign(&si, &so) != 0) {
		ecs_error_set(err, ECS_E_INTERNAL, "cannot sign the %s request",
		    k->op);
		goto out;
	}

	hdrs[nh++] = xasprintf("Host: %s", c->host);
	hdrs[nh++] = xasprintf("Content-Type: %s", ECS_CONTENT_TYPE);
	hdrs[nh++] = xasprintf("X-Amz-Target: %s", k->target);
	hdrs[nh++] = xasprintf("X-Amz-Date: %s", so.amz_date);
	if (si.session_token != NULL)
		hdrs[nh++] = xasprintf("X-Amz-Security-Token: %s", cr.session_token);
	hdrs[nh++] = xasprintf("Authorization: %s", so.authorization);
	hdrs[nh++] = xstrdup("User-Agent: ecsfs/" ECSFS_VERSION);

	/* Getting credentials may have run a process: measure what is left. */
	budget_ms = k->deadline - ecs_now_ms();
	if (budget_ms < 1)
		budget_ms = 1;
	memset(&hr, 0, sizeof(hr));
	hr.method = "POST";
	hr.url = c->url;
	hr.headers = (const char *const *)hdrs;
	hr.nheaders = nh;
	hr.body = k->body;
	hr.body_len = si.body_len;
	hr.timeout_ms = budget_ms;
	hr.stop = transfer_stop;
	hr.stop_arg = k;
	hr.once = k->mutating;
	hr.connect_timeout_ms = c->cfg->connect_timeout_ms > 0 &&
	    c->cfg->connect_timeout_ms < budget_ms ?
	    c->cfg->connect_timeout_ms : budget_ms;
	if (http_do(c->http, &hr, &hresp, err) != 0) {
		k->maybe_sent = hresp.maybe_sent;
		out = OUT_NO_ANSWER;
	} else if (hresp.status >= 200 && hresp.status <= 299) {
		out = parse_result(&hresp, resp, err) == 0 ? OUT_OK : OUT_ANSWER;
		if (out == OUT_OK) {
			err->code = ECS_OK;
			err->http_status = hresp.status;
			snprintf(err->request_id, sizeof(err->request_id), "%s",
			    hresp.request_id);
		}
	} else {
		ecs_error_parse(hresp.status, hresp.body.data, hresp.body.len,
		    hresp.error_type, hresp.request_id, err);
		out = OUT_ANSWER;
	}

	for (i = 0; i < nh; i++) {
		explicit_bzero(hdrs[i], strlen(hdrs[i]));
		free(hdrs[i]);
	}
out:
	scrub(err, &cr);
	if (hresp.body.data != NULL)
		explicit_bzero(hresp.body.data, hresp.body.len);
	http_response_free(&hresp);
	if (so.authorization != NULL)
		explicit_bzero(so.authorization, strlen(so.authorization));
	sigv4_output_free(&so);
	explicit_bzero(&cr, sizeof(cr));
	return out;
}

/* Appends a note to err's message, as far as it fits. */
static void __attribute__((format(printf, 2, 3)))
note(struct ecs_error *err, const char *fmt, ...)
{
	size_t len = strlen(err->message);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->message + len, sizeof(err->message) - len, fmt, ap);
	va_end(ap);
}

/* Whether err is AWS saying the credentials have expired. */
static int
expired_token(const struct ecs_error *err)
{
	return strcmp(err->aws_code, "ExpiredTokenException") == 0 ||
	    strcmp(err->aws_code, "ExpiredToken") == 0;
}

/*
 * Decides, from how attempt number k->n came out (err, out), whether the
 * call goes on. ThrottlingException is retried through the pacer, bounded
 * by max_throttle_wait rather than max_attempts (unless that is 1, which
 * means no retry at all, as in the AWS SDKs); 5xx answers and failures
 * that cannot have sent anything are retried with backoff up to
 * max_attempts; an expired token once after a reload. A mutation that
 * may have been sent is never sent again: it may have been applied.
 */
static enum decision
retry_decision(struct ecs_error *err, enum outcome out, struct call *k)
{
	switch (out) {
	case OUT_OK:
	case OUT_NOT_SENT:
		return DECIDE_DONE;
	case OUT_NO_ANSWER:
		if (k->mutating && k->maybe_sent) {
			err->maybe_applied = 1;
			return DECIDE_DONE;
		}
		if (err->code != ECS_E_UNREACHABLE && err->code != ECS_E_TIMEOUT)
			return DECIDE_DONE;
		break;
	case OUT_ANSWER:
		if (expired_token(err))
			return k->refreshed ? DECIDE_DONE : DECIDE_REFRESH;
		if (err->code == ECS_E_THROTTLED) {
			k->nthrottled++;
			return k->max_attempts > 1 ? DECIDE_AGAIN : DECIDE_DONE;
		}
		if (err->code != ECS_E_SERVER)
			return DECIDE_DONE;
		break;
	}
	/* A 5xx answer, or no connection at all. */
	if (++k->failures >= k->max_attempts) {
		if (k->n > 1)
			note(err, " (after %d attempts in %ld ms)", k->n,
			    (long)(ecs_now_ms() - k->start));
		return DECIDE_DONE;
	}
	return DECIDE_BACKOFF;
}

/* Sets up k for op and req; -1 with err for a bad operation or request. */
static int
call_begin(struct call *k, struct ecs_client *c, const char *op, json_t *req,
    struct ecs_error *err)
{
	memset(k, 0, sizeof(*k));
	k->c = c;
	k->op = op;
	k->e = ecs_op_find(op);
	k->cat = k->e != NULL ? k->e->category : ECS_CAT_OTHER;
	k->mutating = k->e != NULL && k->e->mutating;
	k->start = ecs_now_ms();
	k->deadline = k->start + (c->cfg->timeout_ms > 0 ? c->cfg->timeout_ms : 15000);
	k->max_attempts = c->cfg->max_attempts > 0 ? c->cfg->max_attempts : 1;
	k->throttle_wait_ms = throttle_wait(c->cfg);
	k->throttle_until = pace_now(c->pace) + (uint64_t)k->throttle_wait_ms * 1000;

	if (op == NULL || *op == '\0' || strpbrk(op, " \t\r\n:") != NULL) {
		ecs_error_set(err, ECS_E_INVALID, "bad operation name");
		return -1;
	}
	k->body = req != NULL ? json_dumps(req, JSON_COMPACT) : xstrdup("{}");
	if (k->body == NULL || (req != NULL && !json_is_object(req))) {
		ecs_error_set(err, ECS_E_INVALID, "%s: the request is not a JSON object",
		    op);
		return -1;
	}
	k->target = xasprintf(ECS_TARGET_PREFIX "%s", op);
	return 0;
}

/* Fails the call as interrupted: the caller is going away, or the client shut down. */
static void
fail_interrupted(struct call *k, struct ecs_error *err, int maybe_applied)
{
	ecs_error_clear(err);
	ecs_error_set(err, ECS_E_INTERRUPTED, "%s: %s after %d attempt%s in %ld ms%s",
	    k->op, atomic_load(&k->c->shut) ? "client shut down" : "interrupted",
	    k->n, k->n == 1 ? "" : "s", (long)(ecs_now_ms() - k->start),
	    maybe_applied ? "; the request may have been applied" : "");
	err->maybe_applied = maybe_applied;
}

/* Fails the call as busy: the pacer would not give a token in time. */
static void
fail_busy(struct call *k, int why, const struct ecs_error *last,
    struct ecs_error *err)
{
	pace_note_busy(k->c->pace, k->cat);
	*err = *last;
	if (k->n == 0 || err->code == ECS_OK)
		ecs_error_set(err, ECS_E_BUSY, "%s: client-side rate limit", k->op);
	err->code = ECS_E_BUSY;
	if (why == PACE_REFUSING)
		note(err, " (%s: throttled for %llu ms without a success, beyond "
		    "max_throttle_wait %ld ms: failing fast until ECS takes one "
		    "again; %d attempt%s in %ld ms)", ecs_category_name(k->cat),
		    (unsigned long long)(k->token_wait / 1000), k->throttle_wait_ms,
		    k->n, k->n == 1 ? "" : "s", (long)(ecs_now_ms() - k->start));
	else
		note(err, " (%s: next token in %llu ms, beyond max_throttle_wait "
		    "%ld ms; %d attempt%s, %d throttled, in %ld ms)",
		    ecs_category_name(k->cat),
		    (unsigned long long)(k->token_wait / 1000), k->throttle_wait_ms,
		    k->n, k->n == 1 ? "" : "s", k->nthrottled,
		    (long)(ecs_now_ms() - k->start));
}

/* Fails the call because its budget ran out: the last error says more than "timed out". */
static void
fail_budget(struct call *k, const struct ecs_error *last, struct ecs_error *err)
{
	*err = *last;
	if (err->code == ECS_OK)
		ecs_error_set(err, ECS_E_TIMEOUT, "%s: no response", k->op);
	note(err, " (gave up after %d attempt%s, %ld ms budget)", k->n,
	    k->n == 1 ? "" : "s", (long)(k->deadline - k->start));
}

/* Counts attempt k->n and tells the pacer how it went; gives back an unused token. */
static void
account(struct call *k, enum outcome out, const struct ecs_error *err,
    const struct pace_ticket *ticket)
{
	int throttled = out == OUT_ANSWER && err->code == ECS_E_THROTTLED;

	switch (out) {
	case OUT_NOT_SENT:
		pace_refund(k->c->pace, ticket);
		return;
	case OUT_NO_ANSWER:
		if (!k->maybe_sent)
			pace_refund(k->c->pace, ticket);
		break;
	case OUT_OK:
	case OUT_ANSWER:
		pace_feedback(k->c->pace, ticket, throttled);
		break;
	}
	client_stats_request(k->c->st, k->op, k->e, k->retry, throttled);
}

int
ecs_client_call(struct ecs_client *c, const char *op, json_t *req, json_t **resp,
    struct ecs_error *err)
{
	struct pace_ticket ticket;
	struct ecs_error last;
	struct call k;
	enum outcome out;
	int64_t delay;
	int rc = -1, pr;

	*resp = NULL;
	ecs_error_clear(err);
	ecs_error_clear(&last);
	if (call_begin(&k, c, op, req, err) != 0)
		goto done;
	for (;;) {
		/* Every attempt waits its turn; the wait is not part of the budget. */
		if (stopping(c)) {
			fail_interrupted(&k, err, 0);
			goto done;
		}
		if (k.n > 0 && k.deadline - ecs_now_ms() < ATTEMPT_MIN_MS) {
			fail_budget(&k, &last, err);
			goto done;
		}
		pr = pace_acquire(c->pace, k.cat, k.throttle_until, &ticket,
		    &k.token_wait);
		if (pr == PACE_STOPPED) {
			fail_interrupted(&k, err, 0);
			goto done;
		}
		if (pr != PACE_OK) {
			fail_busy(&k, pr, &last, err);
			goto done;
		}
		if (stopping(c)) {
			pace_refund(c->pace, &ticket);
			fail_interrupted(&k, err, 0);
			goto done;
		}
		k.deadline += (int64_t)(ticket.waited_us / 1000);
		k.n++;
		out = attempt(&k, resp, &last);
		account(&k, out, &last, &ticket);
		if (out == OUT_OK) {
			*err = last;
			rc = 0;
			goto done;
		}
		if (last.code == ECS_E_INTERRUPTED) {
			fail_interrupted(&k, err, k.mutating && k.maybe_sent);
			goto done;
		}
		k.retry = 1;
		switch (retry_decision(&last, out, &k)) {
		case DECIDE_DONE:
			*err = last;
			goto done;
		case DECIDE_REFRESH:
			/* One fresh set of credentials, then it is final. */
			k.refreshed = 1;
			creds_invalidate(c->creds);
			continue;
		case DECIDE_AGAIN:
			continue;
		case DECIDE_BACKOFF:
			break;
		}
		delay = backoff_ms(k.failures);
		if (ecs_now_ms() + delay + ATTEMPT_MIN_MS > k.deadline) {
			fail_budget(&k, &last, err);
			goto done;
		}
		if (client_sleep_us(c, (uint64_t)delay * 1000) != 0) {
			fail_interrupted(&k, err, 0);
			goto done;
		}
	}
done:
	client_stats_call(c->st, k.e, err->code);
	free(k.body);
	free(k.target);
	return rc;
}
