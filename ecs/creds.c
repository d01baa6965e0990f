/*
 * The provider that keeps credentials fresh. The chain of sources that
 * finds them is ecs/creds_chain.c. Credentials with an Expiration are
 * reloaded from their source 5 minutes before it, or at half their life
 * when they live shorter, and any are reloaded after creds_invalidate();
 * one thread reloads while the others keep using still-valid credentials
 * or wait, on a timed wait that lets a caller who goes away leave. A
 * failed reload is logged and tried again while the current ones last.
 * Every message is scrubbed of the secrets the provider knows.
 */
#include "ecs/creds.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/config.h"
#include "ecs/creds_chain.h"
#include "ecs/http.h"
#include "ecs/log.h"
#include "ecs/sts.h"
#include "ecs/xmalloc.h"

#define REFRESH_WINDOW		300	/* s before expiry that a reload starts */
#define RETRY_AFTER_FAILURE	30	/* s between reloads that keep failing */
/* How often a waiting caller asks whether it is going away. */
#define STOP_SLICE_MS		100

struct creds_provider *
creds_provider_new(const struct ecs_config *cfg, struct ecs_error *err)
{
	struct creds_provider *p;
	struct creds c;
	struct tm tm;
	char when[32];
	pthread_condattr_t ca;

	memset(&c, 0, sizeof(c));
	sts_init();
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->id_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (cfg->ca_bundle != NULL)
		p->ca_bundle = xstrdup(cfg->ca_bundle);
	if (creds_chain_find(p, cfg, &c, err) != 0)
		goto fail;
	if (c.expiration != 0 && c.expiration <= time(NULL)) {
		gmtime_r(&c.expiration, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ecs_error_set(err, ECS_E_CREDS, "%s gave credentials that "
		    "expired at %s", p->source, when);
		goto fail;
	}
	p->cur = c;
	p->fetched = time(NULL);
	if (p->sts_url == NULL)
		creds_sts_setup(p, cfg);
	explicit_bzero(&c, sizeof(c));
	return p;
fail:
	creds_scrub(err, &c, NULL);
	explicit_bzero(&c, sizeof(c));
	creds_provider_free(p);
	return NULL;
}

/*
 * How long before expiry a reload starts: five minutes, or half the
 * credentials' life when they live shorter; p->mu held.
 */
static time_t
creds_window(const struct creds_provider *p)
{
	time_t life = p->cur.expiration - p->fetched;

	return life > 0 && life / 2 < REFRESH_WINDOW ? life / 2 :
	    REFRESH_WINDOW;
}

/*
 * How long to wait before trying again after a failed reload: 30 s, or
 * less when the credentials expire sooner, so that several tries fit
 * before they do; p->mu held.
 */
static time_t
creds_retry_delay(const struct creds_provider *p, time_t now)
{
	time_t left = p->cur.expiration != 0 ? p->cur.expiration - now : 0;

	if (left <= 0 || left / 4 >= RETRY_AFTER_FAILURE)
		return RETRY_AFTER_FAILURE;
	return left / 4 > 1 ? left / 4 : 1;
}

/* Whether the current credentials must be reloaded; p->mu held. */
static int
creds_need_reload(const struct creds_provider *p, time_t now)
{
	return p->stale || (p->cur.expiration != 0 &&
	    p->cur.expiration - now < creds_window(p));
}

/* Whether the current credentials can still sign a request; p->mu held. */
static int
creds_usable(const struct creds_provider *p, time_t now)
{
	return !p->stale && (p->cur.expiration == 0 || p->cur.expiration > now);
}

/*
 * Waits on p->cond for at most STOP_SLICE_MS; p->mu held. Returns nonzero
 * when st says the caller is going away.
 */
static int
creds_wait(struct creds_provider *p, const struct creds_stopper *st)
{
	struct timespec ts;

	if (creds_stopped(st))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += STOP_SLICE_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->cond, &p->mu, &ts);
	return creds_stopped(st);
}

int
creds_get(struct creds_provider *p, struct creds *out, struct ecs_error *err)
{
	return creds_get_stop(p, out, NULL, NULL, err);
}

int
creds_get_stop(struct creds_provider *p, struct creds *out,
    int (*stop)(void *arg), void *arg, struct ecs_error *err)
{
	struct creds_stopper st = { stop, arg };
	struct creds fresh;
	struct ecs_error lerr;
	unsigned long gen;
	time_t now;
	int rc;

	memset(&fresh, 0, sizeof(fresh));
	pthread_mutex_lock(&p->mu);
	for (;;) {
		now = time(NULL);
		if (!creds_need_reload(p, now))
			goto current;
		if (p->refreshing) {
			/* Another thread reloads: use what is valid, else wait. */
			if (creds_usable(p, now))
				goto current;
			gen = p->generation;
			while (p->refreshing && p->generation == gen) {
				if (creds_wait(p, &st)) {
					pthread_mutex_unlock(&p->mu);
					ecs_error_clear(err);
					ecs_error_set(err, ECS_E_INTERRUPTED, "%s: "
					    "interrupted while waiting for the "
					    "credentials", p->source);
					return -1;
				}
			}
			if (p->generation != gen && p->last_rc != 0) {
				*err = p->last_err;
				pthread_mutex_unlock(&p->mu);
				return -1;
			}
			/* Reloaded, or the reloader went away: look again. */
			continue;
		}
		if (creds_usable(p, now) && now < p->retry_after)
			goto current;
		break;
	}
	p->refreshing = 1;
	pthread_mutex_unlock(&p->mu);

	ecs_error_clear(&lerr);
	rc = creds_chain_fetch(p, &fresh, &st, &lerr);
	now = time(NULL);
	if (rc == 0 && fresh.expiration != 0 && fresh.expiration <= now) {
		ecs_error_set(&lerr, ECS_E_CREDS, "%s gave credentials that "
		    "have already expired", p->source);
		rc = -1;
	}

	pthread_mutex_lock(&p->mu);
	p->refreshing = 0;
	creds_scrub(&lerr, &p->cur, &fresh);
	if (rc == -2) {
		/* This caller went away: another waiting one takes over. */
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->mu);
		explicit_bzero(&fresh, sizeof(fresh));
		*err = lerr;
		return -1;
	}
	p->generation++;
	if (rc == 0) {
		p->cur = fresh;
		p->fetched = now;
		p->stale = 0;
		p->retry_after = 0;
	} else if (creds_usable(p, now)) {
		/* Keep signing with the old credentials while they last. */
		p->retry_after = now + creds_retry_delay(p, now);
		ecs_log_warn("%s: reloading credentials failed: %s", __func__,
		    lerr.message);
		rc = 0;
	}
	p->last_rc = rc;
	p->last_err = lerr;
	pthread_cond_broadcast(&p->cond);
	explicit_bzero(&fresh, sizeof(fresh));
	if (rc != 0) {
		*err = lerr;
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
current:
	*out = p->cur;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void
creds_wake(struct creds_provider *p)
{
	pthread_mutex_lock(&p->mu);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	if (p->pool != NULL)
		http_pool_wake(p->pool);
}

void
creds_invalidate(struct creds_provider *p)
{
	pthread_mutex_lock(&p->mu);
	p->stale = 1;
	pthread_mutex_unlock(&p->mu);
}

const char *
creds_source(const struct creds_provider *p)
{
	return p->source != NULL ? p->source : "";
}

void
creds_identity(struct creds_provider *p, struct creds_identity *id)
{
	struct sts_target t;
	struct ecs_error err;
	struct creds c;
	time_t now = time(NULL);

	memset(id, 0, sizeof(*id));
	snprintf(id->source, sizeof(id->source), "%s", creds_source(p));
	pthread_mutex_lock(&p->mu);
	id->expiration = p->cur.expiration;
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_lock(&p->id_mu);
	if (p->arn[0] == '\0' && p->sts_url != NULL &&
	    (p->id_asked == 0 || now - p->id_asked >= 60)) {
		ecs_error_clear(&err);
		memset(&c, 0, sizeof(c));
		if (p->id_pool == NULL)
			p->id_pool = http_pool_new(p->ca_bundle);
		t.pool = p->id_pool;
		t.endpoint = p->sts_url;
		t.region = p->region;
		t.st = NULL;
		if (creds_get(p, &c, &err) != 0 ||
		    sts_get_caller_identity(&t, &c, p->arn, sizeof(p->arn),
		    p->account, sizeof(p->account), &err) != 0) {
			creds_scrub(&err, &c, NULL);
			p->arn[0] = p->account[0] = '\0';
			snprintf(p->id_error, sizeof(p->id_error), "%s",
			    err.message);
			p->id_asked = now;
		} else
			p->id_error[0] = '\0';
		explicit_bzero(&c, sizeof(c));
	}
	snprintf(id->arn, sizeof(id->arn), "%s", p->arn);
	snprintf(id->account, sizeof(id->account), "%s", p->account);
	snprintf(id->error, sizeof(id->error), "%s", p->id_error);
	pthread_mutex_unlock(&p->id_mu);
}

void
creds_provider_free(struct creds_provider *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->id_mu);
	if (p->id_pool != NULL)
		http_pool_free(p->id_pool);
	explicit_bzero(&p->cur, sizeof(p->cur));
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cond);
	if (p->pool != NULL)
		http_pool_free(p->pool);
	free(p->ca_bundle);
	creds_chain_clear(p);
	free(p);
}
