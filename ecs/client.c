/*
 * One AWS API call over JSON 1.1, to ECS, Application Auto Scaling or
 * CloudWatch Logs (the operation's service in ecs/ops.c says which: its
 * endpoint, X-Amz-Target prefix and SigV4 name): the request is encoded,
 * signed and sent, and the response parsed. Every attempt first takes a
 * token of its throttling category from the pacer (ecs/pace.c), which
 * spaces requests to the services' rates and slows down after a
 * ThrottlingException; a throttled attempt is retried through the pacer
 * for as long as max_throttle_wait allows, 5xx and transport errors with
 * capped exponential backoff and full jitter up to max_attempts, all
 * within the call's time budget (time spent waiting for tokens does not
 * count against it). A call reads as steps: call_begin(), then per
 * attempt a token, client_attempt() (in client_attempt.c), account() and
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
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ecs/client_int.h"
#include "ecs/client_stats.h"
#include "ecs/clock.h"
#include "ecs/config.h"
#include "ecs/creds.h"
#include "ecs/http.h"
#include "ecs/ops.h"
#include "ecs/pace.h"
#include "ecs/xmalloc.h"

/* Backoff after 5xx and transport errors: doubling per retry, up to the cap. */
#define BACKOFF_BASE_MS		50
#define BACKOFF_CAP_MS		2000
/* An attempt is not started with less time than this left. */
#define ATTEMPT_MIN_MS		20


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
		if (client_stopping(c))
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

/* The endpoint URL of service i in cfg (ECS's may be only in cfg->endpoint). */
static const char *
endpoint_of(const struct ecs_config *cfg, int i)
{
	if (cfg->endpoints[i] == NULL && i == ECS_SVC_ECS)
		return cfg->endpoint;
	return cfg->endpoints[i];
}

/* Fills ep[] with the endpoint of every service the client calls. */
static int
endpoints_parse(const struct ecs_config *cfg, struct client_endpoint *ep,
    struct ecs_error *err)
{
	int i;

	for (i = 0; i < ECS_SVC_COUNT; i++) {
		if (ecs_services[i].option == NULL)
			continue;
		if (client_endpoint_parse(&ep[i], ecs_services[i].title,
		    endpoint_of(cfg, i), err) != 0)
			return -1;
	}
	return 0;
}

/* Frees what endpoints_parse() filled. */
static void
endpoints_free(struct client_endpoint *ep)
{
	int i;

	for (i = 0; i < ECS_SVC_COUNT; i++)
		client_endpoint_free(&ep[i]);
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
	struct client_endpoint ep[ECS_SVC_COUNT];
	struct pace_config pc;
	int rc;

	ecs_error_clear(err);
	memset(ep, 0, sizeof(ep));
	rc = endpoints_parse(cfg, ep, err);
	endpoints_free(ep);
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
	if (endpoints_parse(cfg, c->ep, &err) != 0)
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
	endpoints_free(c->ep);
	free(c);
}

void
ecs_client_stats(struct ecs_client *c, struct buf *out)
{
	client_stats_print(c->st, out);
	pace_stats(c->pace, out);
}

/* What the call does after an attempt. */
enum decision {
	DECIDE_DONE,		/* return what err says */
	DECIDE_AGAIN,		/* throttled: the next token is the backoff */
	DECIDE_REFRESH,		/* reload the credentials, then again */
	DECIDE_BACKOFF,		/* sleep the backoff, then again */
};

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
 * max_attempts (not an untrusted certificate or an unusable URL, which
 * would fail the same way); an expired token once after a reload. A mutation that
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
		if (k->permanent)
			return DECIDE_DONE;	/* an untrusted certificate stays so */
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
	k->svc = &ecs_services[k->e != NULL ? k->e->service : ECS_SVC_ECS];
	k->ep = &c->ep[k->e != NULL ? k->e->service : ECS_SVC_ECS];
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
	k->target = xasprintf("%s%s", k->svc->target_prefix, op);
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
		if (client_stopping(c)) {
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
		if (client_stopping(c)) {
			pace_refund(c->pace, &ticket);
			fail_interrupted(&k, err, 0);
			goto done;
		}
		k.deadline += (int64_t)(ticket.waited_us / 1000);
		k.n++;
		out = client_attempt(&k, resp, &last);
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
