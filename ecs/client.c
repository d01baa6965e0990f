/*
 * One ECS API call over JSON 1.1: the request is encoded, signed and
 * sent, and the response parsed. Every attempt first takes a token of its
 * throttling category from the pacer (ecs/pace.c), which spaces requests
 * to ECS's rates and slows down after a ThrottlingException; a throttled
 * attempt is retried through the pacer for as long as max_throttle_wait
 * allows, 5xx and transport errors with capped exponential backoff and
 * full jitter up to max_attempts, all within the call's time budget (time
 * spent waiting for tokens does not count against it). The client also
 * keeps the figures behind ecs_client_stats().
 */
#include "ecs/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ecs/clock.h"
#include "ecs/config.h"
#include "ecs/creds.h"
#include "ecs/http.h"
#include "ecs/ops.h"
#include "ecs/pace.h"
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

#define NCODES			(ECS_E_INTERNAL + 1)

/* Requests sent for an operation that is not in ecs_ops[]. */
struct other_op {
	char		*name;
	uint64_t	 requests;
};

struct client_stats {
	uint64_t	 calls;
	uint64_t	 attempts;
	uint64_t	 retries;
	uint64_t	 throttles;
	uint64_t	*op_requests;		/* indexed like ecs_ops[] */
	struct other_op	*other;
	size_t		 nother;
	uint64_t	 errors[NCODES];
	uint64_t	 cat_requests[ECS_CAT_COUNT];
	uint64_t	 cat_throttles[ECS_CAT_COUNT];
	uint64_t	 cat_errors[ECS_CAT_COUNT];
};

struct ecs_client {
	const struct ecs_config	*cfg;
	struct creds_provider	*creds;
	struct http_pool	*http;
	char			*url;		/* endpoint + "/" */
	char			*host;		/* the Host header value */
	char			*path;		/* the request path, for signing */
	size_t			 nops;
	struct pace		*pace;		/* thread-safe itself */
	pthread_mutex_t		 lock;
	struct client_stats	 st;		/* protected by lock */
	/* Whether the caller gave up; set before any call, NULL: never. */
	int			(*interrupted)(void);
};

/* The stats key of each code. */
static const char *const code_keys[NCODES] = {
	[ECS_OK] = "ok",
	[ECS_E_INVALID] = "invalid",
	[ECS_E_NOTFOUND] = "not_found",
	[ECS_E_NOTACTIVE] = "not_active",
	[ECS_E_ACCESS] = "access",
	[ECS_E_THROTTLED] = "throttled",
	[ECS_E_TIMEOUT] = "timeout",
	[ECS_E_UNREACHABLE] = "unreachable",
	[ECS_E_SERVER] = "server",
	[ECS_E_PROTOCOL] = "protocol",
	[ECS_E_AWS] = "aws",
	[ECS_E_CONFIG] = "config",
	[ECS_E_CREDS] = "creds",
	[ECS_E_BUSY] = "busy",
	[ECS_E_INTERRUPTED] = "interrupted",
	[ECS_E_INTERNAL] = "internal",
};

/* How often a sleeping call looks whether its caller gave up. */
#define INTERRUPT_SLICE_US	100000

/* Sleeps us microseconds, resuming after signals. */
static void
sleep_us(uint64_t us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Whether the caller of this thread's call gave up. */
static int
gave_up(const struct ecs_client *c)
{
	return c->interrupted != NULL && c->interrupted();
}

/*
 * Sleeps us microseconds in slices, stopping early when the caller gives
 * up. The pacer's sleep, and the backoff's.
 */
static void
client_sleep_us(void *arg, uint64_t us)
{
	const struct ecs_client *c = arg;

	while (us > 0 && !gave_up(c)) {
		uint64_t slice = us < INTERRUPT_SLICE_US ? us : INTERRUPT_SLICE_US;

		sleep_us(slice);
		us -= slice;
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

	c = xcalloc(1, sizeof(*c));
	c->cfg = cfg;
	c->creds = creds;
	pthread_mutex_init(&c->lock, NULL);
	while (ecs_ops[c->nops].name != NULL)
		c->nops++;
	c->st.op_requests = xcalloc(c->nops, sizeof(*c->st.op_requests));
	ecs_error_clear(&err);
	if (cfg->endpoint == NULL || parse_endpoint(c, cfg->endpoint, &err) != 0)
		goto fail;
	if (pace_config_from(cfg, &pc, &err) != 0)
		goto fail;
	pc.sleep_us = client_sleep_us;
	pc.clock_arg = c;
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
ecs_client_free(struct ecs_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	http_pool_free(c->http);
	pace_free(c->pace);
	for (i = 0; i < c->st.nother; i++)
		free(c->st.other[i].name);
	free(c->st.other);
	free(c->st.op_requests);
	pthread_mutex_destroy(&c->lock);
	free(c->url);
	free(c->host);
	free(c->path);
	free(c);
}

/* Counts one request sent for op, and whether it was throttled. */
static void
count_request(struct ecs_client *c, const char *op, const struct ecs_op *e,
    int retry, int throttled)
{
	enum ecs_category cat = e != NULL ? e->category : ECS_CAT_OTHER;
	size_t i;

	pthread_mutex_lock(&c->lock);
	c->st.attempts++;
	if (retry)
		c->st.retries++;
	if (throttled) {
		c->st.throttles++;
		c->st.cat_throttles[cat]++;
	}
	c->st.cat_requests[cat]++;
	if (e != NULL)
		c->st.op_requests[e - ecs_ops]++;
	else {
		for (i = 0; i < c->st.nother; i++)
			if (strcmp(c->st.other[i].name, op) == 0)
				break;
		if (i == c->st.nother) {
			c->st.other = xrealloc(c->st.other,
			    (c->st.nother + 1) * sizeof(*c->st.other));
			c->st.other[i].name = xstrdup(op);
			c->st.other[i].requests = 0;
			c->st.nother++;
		}
		c->st.other[i].requests++;
	}
	pthread_mutex_unlock(&c->lock);
}

/* Counts one finished call and, when it failed, its error. */
static void
count_call(struct ecs_client *c, const struct ecs_op *e, enum ecs_code code)
{
	enum ecs_category cat = e != NULL ? e->category : ECS_CAT_OTHER;

	pthread_mutex_lock(&c->lock);
	c->st.calls++;
	if (code != ECS_OK) {
		if ((unsigned)code < NCODES)
			c->st.errors[code]++;
		c->st.cat_errors[cat]++;
	}
	pthread_mutex_unlock(&c->lock);
}

void
ecs_client_stats(struct ecs_client *c, struct buf *out)
{
	size_t i;
	int k;

	pthread_mutex_lock(&c->lock);
	buf_printf(out, "calls %llu\n", (unsigned long long)c->st.calls);
	buf_printf(out, "attempts %llu\n", (unsigned long long)c->st.attempts);
	buf_printf(out, "retries %llu\n", (unsigned long long)c->st.retries);
	buf_printf(out, "throttles %llu\n", (unsigned long long)c->st.throttles);
	for (i = 0; i < c->nops; i++)
		buf_printf(out, "api_calls.%s %llu\n", ecs_ops[i].name,
		    (unsigned long long)c->st.op_requests[i]);
	for (i = 0; i < c->st.nother; i++)
		buf_printf(out, "api_calls.%s %llu\n", c->st.other[i].name,
		    (unsigned long long)c->st.other[i].requests);
	for (k = ECS_OK + 1; k < NCODES; k++)
		buf_printf(out, "errors.%s %llu\n", code_keys[k],
		    (unsigned long long)c->st.errors[k]);
	for (k = 0; k < ECS_CAT_COUNT; k++) {
		const char *name = ecs_category_name((enum ecs_category)k);

		buf_printf(out, "category.%s.requests %llu\n", name,
		    (unsigned long long)c->st.cat_requests[k]);
		buf_printf(out, "category.%s.throttles %llu\n", name,
		    (unsigned long long)c->st.cat_throttles[k]);
		buf_printf(out, "category.%s.errors %llu\n", name,
		    (unsigned long long)c->st.cat_errors[k]);
	}
	pthread_mutex_unlock(&c->lock);
	pace_stats(c->pace, out);
}

/*
 * Sends one signed request that must end by deadline (monotonic ms).
 * Returns 0 when a response arrived (resp filled), -1 with err when none
 * did, and -2 with err when nothing was sent (no credentials, cannot sign).
 */
static int
attempt(struct ecs_client *c, const char *target, const char *body,
    size_t body_len, int64_t deadline, struct http_response *resp,
    struct ecs_error *err)
{
	struct creds cr;
	struct sigv4_output so;
	struct sigv4_header sh[3];
	struct sigv4_input si;
	struct http_request hr;
	char *hdrs[8];
	size_t nh = 0, i;
	int64_t budget_ms;
	int rc = -2;

	memset(&so, 0, sizeof(so));
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body);
	if (creds_get(c->creds, &cr, err) != 0)
		goto out;

	sh[0].name = "Host";
	sh[0].value = c->host;
	sh[1].name = "Content-Type";
	sh[1].value = ECS_CONTENT_TYPE;
	sh[2].name = "X-Amz-Target";
	sh[2].value = target;
	memset(&si, 0, sizeof(si));
	si.method = "POST";
	si.path = c->path;
	si.query = NULL;
	si.headers = sh;
	si.nheaders = 3;
	si.body = body;
	si.body_len = body_len;
	si.region = c->cfg->region;
	si.service = "ecs";
	si.access_key = cr.access_key;
	si.secret_key = cr.secret_key;
	si.session_token = cr.session_token[0] != '\0' ? cr.session_token : NULL;
	si.when = time(NULL);
	si.normalize_path = 1;
	si.sign_body = 0;
	if (sigv4_sign(&si, &so) != 0) {
		ecs_error_clear(err);
		ecs_error_set(err, ECS_E_INTERNAL, "cannot sign the %s request",
		    target + sizeof(ECS_TARGET_PREFIX) - 1);
		goto out;
	}

	hdrs[nh++] = xasprintf("Host: %s", c->host);
	hdrs[nh++] = xasprintf("Content-Type: %s", ECS_CONTENT_TYPE);
	hdrs[nh++] = xasprintf("X-Amz-Target: %s", target);
	hdrs[nh++] = xasprintf("X-Amz-Date: %s", so.amz_date);
	if (si.session_token != NULL)
		hdrs[nh++] = xasprintf("X-Amz-Security-Token: %s", cr.session_token);
	hdrs[nh++] = xasprintf("Authorization: %s", so.authorization);
	hdrs[nh++] = xstrdup("User-Agent: ecsfs/" ECSFS_VERSION);

	/* Getting credentials may have run a process: measure what is left. */
	budget_ms = deadline - ecs_now_ms();
	if (budget_ms < 1)
		budget_ms = 1;
	memset(&hr, 0, sizeof(hr));
	hr.method = "POST";
	hr.url = c->url;
	hr.headers = (const char *const *)hdrs;
	hr.nheaders = nh;
	hr.body = body;
	hr.body_len = body_len;
	hr.timeout_ms = budget_ms;
	hr.interrupted = c->interrupted;
	hr.connect_timeout_ms = c->cfg->connect_timeout_ms > 0 &&
	    c->cfg->connect_timeout_ms < budget_ms ?
	    c->cfg->connect_timeout_ms : budget_ms;
	rc = http_do(c->http, &hr, resp, err);

	for (i = 0; i < nh; i++) {
		explicit_bzero(hdrs[i], strlen(hdrs[i]));
		free(hdrs[i]);
	}
out:
	if (so.authorization != NULL)
		explicit_bzero(so.authorization, strlen(so.authorization));
	sigv4_output_free(&so);
	explicit_bzero(&cr, sizeof(cr));
	return rc;
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

int
ecs_client_call(struct ecs_client *c, const char *op, json_t *req, json_t **resp,
    struct ecs_error *err)
{
	const struct ecs_op *e = ecs_op_find(op);
	enum ecs_category cat = e != NULL ? e->category : ECS_CAT_OTHER;
	struct http_response hr;
	struct pace_ticket ticket;
	struct ecs_error last;
	char *body = NULL, *target = NULL;
	int64_t start, deadline, left, delay;
	uint64_t throttle_until, token_wait;
	long throttle_wait_ms;
	int max_attempts, n = 0, failures = 0, nthrottled = 0, refreshed = 0;
	int throttled, retry = 0, sent;
	int rc = -1;

	*resp = NULL;
	ecs_error_clear(err);
	ecs_error_clear(&last);
	memset(&hr, 0, sizeof(hr));
	buf_init(&hr.body);
	start = ecs_now_ms();
	deadline = start + (c->cfg->timeout_ms > 0 ? c->cfg->timeout_ms : 15000);
	max_attempts = c->cfg->max_attempts > 0 ? c->cfg->max_attempts : 1;
	throttle_wait_ms = c->cfg->max_throttle_wait_ms > 0 ?
	    c->cfg->max_throttle_wait_ms : 60000;
	throttle_until = pace_now(c->pace) + (uint64_t)throttle_wait_ms * 1000;

	if (op == NULL || *op == '\0' || strpbrk(op, " \t\r\n:") != NULL) {
		ecs_error_set(err, ECS_E_INVALID, "bad operation name");
		goto done;
	}
	body = req != NULL ? json_dumps(req, JSON_COMPACT) : xstrdup("{}");
	if (body == NULL || (req != NULL && !json_is_object(req))) {
		ecs_error_set(err, ECS_E_INVALID, "%s: the request is not a JSON object",
		    op);
		goto done;
	}
	target = xasprintf(ECS_TARGET_PREFIX "%s", op);

	for (;;) {
		left = deadline - ecs_now_ms();
		if (n > 0 && left < ATTEMPT_MIN_MS)
			goto budget;
		/* Every attempt waits its turn; the wait is not part of the budget. */
		if (pace_acquire(c->pace, cat, throttle_until, &ticket, &token_wait) != 0)
			goto busy;
		if (gave_up(c))
			goto interrupted;
		deadline += (int64_t)(ticket.waited_us / 1000);
		n++;
		http_response_free(&hr);
		sent = attempt(c, target, body, strlen(body), deadline, &hr, &last);
		if (sent == -2) {
			*err = last;
			goto done;
		}
		if (sent == -1) {
			count_request(c, op, e, retry, 0);
			if (last.code == ECS_E_INTERRUPTED)
				goto interrupted;
			if (last.code != ECS_E_UNREACHABLE && last.code != ECS_E_TIMEOUT) {
				*err = last;
				goto done;
			}
			throttled = 0;
		} else if (hr.status >= 200 && hr.status <= 299) {
			count_request(c, op, e, retry, 0);
			if (parse_result(&hr, resp, err) != 0)
				goto done;
			err->code = ECS_OK;
			err->http_status = hr.status;
			snprintf(err->request_id, sizeof(err->request_id), "%s",
			    hr.request_id);
			rc = 0;
			goto done;
		} else {
			ecs_error_parse(hr.status, hr.body.data, hr.body.len,
			    hr.error_type, hr.request_id, &last);
			throttled = last.code == ECS_E_THROTTLED;
			count_request(c, op, e, retry, throttled);
			pace_feedback(c->pace, &ticket, throttled);
			if (strcmp(last.aws_code, "ExpiredTokenException") == 0 ||
			    strcmp(last.aws_code, "ExpiredToken") == 0) {
				/* One fresh set of credentials, then it is final. */
				if (refreshed) {
					*err = last;
					goto done;
				}
				refreshed = 1;
				creds_invalidate(c->creds);
				retry = 1;
				continue;
			}
			if (!throttled && last.code != ECS_E_SERVER) {
				*err = last;
				goto done;
			}
		}
		retry = 1;
		/*
		 * Throttled: the pacer has emptied the bucket and slowed down,
		 * so the next token is the backoff; the retry is bounded by
		 * max_throttle_wait, not by max_attempts (unless that is 1,
		 * which means no retry at all, as in the AWS SDKs).
		 */
		if (throttled) {
			nthrottled++;
			if (max_attempts > 1)
				continue;
			*err = last;
			goto done;
		}
		/* 5xx or no response at all. */
		if (++failures >= max_attempts) {
			*err = last;
			if (n > 1)
				note(err, " (after %d attempts in %ld ms)", n,
				    (long)(ecs_now_ms() - start));
			goto done;
		}
		delay = backoff_ms(failures);
		if (ecs_now_ms() + delay + ATTEMPT_MIN_MS > deadline)
			goto budget;
		client_sleep_us(c, (uint64_t)delay * 1000);
		if (gave_up(c))
			goto interrupted;
	}

interrupted:
	ecs_error_set(err, ECS_E_INTERRUPTED, "%s: interrupted after %d attempt%s in %ld ms",
	    op, n, n == 1 ? "" : "s", (long)(ecs_now_ms() - start));
	goto done;

busy:
	/* The next token is further away than max_throttle_wait allows. */
	pace_note_busy(c->pace, cat);
	*err = last;
	err->code = ECS_E_BUSY;
	if (n == 0)
		ecs_error_set(err, ECS_E_BUSY, "%s: client-side rate limit", op);
	note(err, " (%s: next token in %llu ms, beyond max_throttle_wait %ld ms; "
	    "%d attempt%s, %d throttled, in %ld ms)", ecs_category_name(cat),
	    (unsigned long long)(token_wait / 1000), throttle_wait_ms, n,
	    n == 1 ? "" : "s", nthrottled, (long)(ecs_now_ms() - start));
	goto done;
budget:
	/* The budget ran out: the last error says more than "timed out". */
	*err = last;
	if (err->code == ECS_OK)
		ecs_error_set(err, ECS_E_TIMEOUT, "%s: no response", op);
	note(err, " (gave up after %d attempt%s, %ld ms budget)", n,
	    n == 1 ? "" : "s", (long)(deadline - start));
done:
	count_call(c, e, err->code);
	http_response_free(&hr);
	free(body);
	free(target);
	return rc;
}
