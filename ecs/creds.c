/*
 * The credential chain and the provider that keeps credentials fresh.
 * Sources, in botocore's order: the environment (skipped for a profile
 * named with -o profile, as the CLI skips it for --profile), the shared
 * credentials file, credential_process (creds_process.c), the config
 * file's static keys, the container credentials endpoint
 * (creds_container.c). Assume-role, SSO and web identity
 * are not supported: a profile that asks for one is an error rather than
 * a silent fall-through to other keys. IMDS is never contacted.
 *
 * The first source found is the provider's for its lifetime. Credentials
 * with an Expiration are reloaded from it when they expire within five
 * minutes, and any are reloaded after creds_invalidate(); one thread
 * reloads while the others keep using still-valid credentials or wait,
 * on a timed wait that lets a caller who goes away leave. Every message
 * is scrubbed of the secrets the provider knows.
 */
#include "ecs/creds.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecs/buf.h"
#include "ecs/config.h"
#include "ecs/creds_container.h"
#include "ecs/creds_process.h"
#include "ecs/http.h"
#include "ecs/ini.h"
#include "ecs/log.h"
#include "ecs/redact.h"
#include "ecs/xmalloc.h"

#define REFRESH_WINDOW		300	/* s before expiry that a reload starts */
#define RETRY_AFTER_FAILURE	30	/* s between reloads that keep failing */
/* How often a waiting caller asks whether it is going away. */
#define STOP_SLICE_MS		100

enum creds_kind {
	CREDS_ENV,
	CREDS_SHARED_FILE,
	CREDS_PROCESS,
	CREDS_CONFIG_FILE,
	CREDS_CONTAINER,
};

struct creds_provider {
	enum creds_kind		 kind;
	char			*source;	/* creds_source() */
	char			*path;		/* file sources: the file */
	char			*section;	/* file sources: its section */
	char			*command;	/* credential_process */
	char			*url;		/* container endpoint */
	const char		*url_var;	/* the variable that gave url */
	char			*ca_bundle;
	struct http_pool	*pool;		/* container only */

	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;		/* on CLOCK_MONOTONIC: a reload ended, or creds_wake() */
	struct creds		 cur;		/* protected by mu */
	int			 stale;		/* protected by mu */
	int			 refreshing;	/* protected by mu */
	unsigned long		 generation;	/* protected by mu: reloads finished */
	int			 last_rc;	/* protected by mu: the last reload's result */
	struct ecs_error	 last_err;	/* protected by mu */
	time_t			 retry_after;	/* protected by mu */
};

/* Files already warned about; at most one warning per file and process. */
static pthread_mutex_t warn_mu = PTHREAD_MUTEX_INITIALIZER;
static char *warned[16];	/* protected by warn_mu */

/* The value of an environment variable, or NULL when it is unset or empty. */
static const char *
creds_env_get(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Warns once (ecs/log.h) when path, which holds secrets, is readable by group or others. */
static void
creds_check_secrecy(const char *path)
{
	struct stat st;
	size_t i;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & (S_IRGRP | S_IROTH)) == 0)
		return;
	pthread_mutex_lock(&warn_mu);
	for (i = 0; i < sizeof(warned) / sizeof(warned[0]); i++) {
		if (warned[i] != NULL && strcmp(warned[i], path) == 0)
			break;
		if (warned[i] == NULL) {
			warned[i] = xstrdup(path);
			ecs_log_warn("%s is readable by group or others "
			    "(mode %04o); chmod 600 it", path,
			    (unsigned)(st.st_mode & 07777));
			break;
		}
	}
	pthread_mutex_unlock(&warn_mu);
}

/*
 * Scrubs the secret keys and session tokens of a and b (either may be
 * NULL), and any security token, out of err's message.
 */
static void
creds_scrub(struct ecs_error *err, const struct creds *a, const struct creds *b)
{
	const char *secrets[4];

	secrets[0] = a != NULL ? a->secret_key : NULL;
	secrets[1] = a != NULL ? a->session_token : NULL;
	secrets[2] = b != NULL ? b->secret_key : NULL;
	secrets[3] = b != NULL ? b->session_token : NULL;
	ecs_redact(err->message, sizeof(err->message), secrets, 4);
}

/* Copies src into dst[n]; -1 when it does not fit. */
static int
creds_copy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

/* Fills out with the keys and the token (may be NULL); -1 when one is too long. */
static int
creds_fill(struct creds *out, const char *ak, const char *sk, const char *tok)
{
	memset(out, 0, sizeof(*out));
	if (creds_copy(out->access_key, sizeof(out->access_key), ak) == 0 &&
	    creds_copy(out->secret_key, sizeof(out->secret_key), sk) == 0 &&
	    (tok == NULL || creds_copy(out->session_token,
	    sizeof(out->session_token), tok) == 0))
		return 0;
	explicit_bzero(out, sizeof(*out));
	return -1;
}

/*
 * Reads the keys from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN. Returns 1 when found, 0 when neither key is set, -1
 * with err when only one is or a value is too long.
 */
static int
creds_from_env(struct creds *out, struct ecs_error *err)
{
	const char *ak, *sk, *tok;

	memset(out, 0, sizeof(*out));
	ak = creds_env_get("AWS_ACCESS_KEY_ID");
	sk = creds_env_get("AWS_SECRET_ACCESS_KEY");
	if ((tok = creds_env_get("AWS_SESSION_TOKEN")) == NULL)
		tok = creds_env_get("AWS_SECURITY_TOKEN");
	if (ak == NULL && sk == NULL)
		return 0;
	if (ak == NULL || sk == NULL) {
		ecs_error_set(err, ECS_E_CREDS, "%s is set but %s is not",
		    ak != NULL ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    ak != NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -1;
	}
	if (creds_fill(out, ak, sk, tok) != 0) {
		ecs_error_set(err, ECS_E_CREDS, "a credential in the "
		    "environment is too long");
		return -1;
	}
	return 1;
}

/*
 * Reads aws_access_key_id, aws_secret_access_key and aws_session_token
 * from [section] of ini (the file at path). Returns 1 when found, 0 when
 * neither key is there, -1 with err when only one is.
 */
static int
creds_from_section(const struct ini *ini, const char *path,
    const char *section, struct creds *out, struct ecs_error *err)
{
	const char *ak, *sk, *tok;

	memset(out, 0, sizeof(*out));
	ak = ini_get(ini, section, "aws_access_key_id");
	sk = ini_get(ini, section, "aws_secret_access_key");
	if ((tok = ini_get(ini, section, "aws_session_token")) == NULL ||
	    *tok == '\0')
		tok = ini_get(ini, section, "aws_security_token");
	if (ak != NULL && *ak == '\0')
		ak = NULL;
	if (sk != NULL && *sk == '\0')
		sk = NULL;
	if (ak == NULL && sk == NULL)
		return 0;
	creds_check_secrecy(path);
	if (ak == NULL || sk == NULL) {
		ecs_error_set(err, ECS_E_CREDS, "%s [%s] has %s but no %s",
		    path, section,
		    ak != NULL ? "aws_access_key_id" : "aws_secret_access_key",
		    ak != NULL ? "aws_secret_access_key" : "aws_access_key_id");
		return -1;
	}
	if (creds_fill(out, ak, sk, tok) != 0) {
		ecs_error_set(err, ECS_E_CREDS, "%s [%s]: a credential is too "
		    "long", path, section);
		return -1;
	}
	return 1;
}

/* Re-reads [section] of the file at path, for a reload. */
static int
creds_reload_file(const char *path, const char *section, struct creds *out,
    struct ecs_error *err)
{
	struct ini *ini;
	int rc;

	if ((ini = ini_load(path)) == NULL) {
		ecs_error_set(err, ECS_E_CREDS, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = creds_from_section(ini, path, section, out, err);
	ini_free(ini);
	if (rc == 0)
		ecs_error_set(err, ECS_E_CREDS, "%s [%s] no longer has "
		    "aws_access_key_id", path, section);
	return rc == 1 ? 0 : -1;
}

/*
 * Works out the container endpoint from the environment into p->url and
 * p->url_var: 1, 0 when none is set, -1 with err for a refused URI.
 */
static int
creds_container_env(struct creds_provider *p, struct ecs_error *err)
{
	return creds_container_url(
	    creds_env_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
	    creds_env_get("AWS_CONTAINER_CREDENTIALS_FULL_URI"), &p->url,
	    &p->url_var, err);
}

/*
 * Fetches from the container endpoint, with the authorization token as
 * the environment says now (it rotates). Only one thread loads at a time,
 * so p->pool needs no lock; it is made with the provider.
 */
static int
creds_from_container(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	if (p->pool == NULL)
		p->pool = http_pool_new(p->ca_bundle);
	return creds_container_fetch(p->pool, p->url, p->url_var, p->source,
	    creds_env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
	    creds_env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN"), st, out, err);
}

/* Loads credentials from the provider's source; -2 when st said to stop. */
static int
creds_load(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	int rc;

	switch (p->kind) {
	case CREDS_ENV:
		if ((rc = creds_from_env(out, err)) == 0)
			ecs_error_set(err, ECS_E_CREDS, "AWS_ACCESS_KEY_ID is "
			    "no longer set");
		return rc == 1 ? 0 : -1;
	case CREDS_SHARED_FILE:
	case CREDS_CONFIG_FILE:
		return creds_reload_file(p->path, p->section, out, err);
	case CREDS_PROCESS:
		return creds_process_run(p->command, p->source, out, err);
	case CREDS_CONTAINER:
		return creds_from_container(p, out, st, err);
	}
	ecs_error_set(err, ECS_E_INTERNAL, "unknown credential source");
	return -1;
}

/* The value of key in the active profile: the credentials file, then the config file. */
static const char *
creds_profile_get(const struct ecs_config *cfg, const char *section,
    const char *key)
{
	const char *v;

	if ((v = ini_get(cfg->credentials_ini, cfg->profile, key)) != NULL &&
	    *v != '\0')
		return v;
	if ((v = ini_get(cfg->config_ini, section, key)) != NULL && *v != '\0')
		return v;
	return NULL;
}

/*
 * Refuses a profile (or environment) that asks for a source botocore
 * would use before the files but ecsfs does not have, so that ecsfs never
 * acts as another identity than the CLI would.
 */
static int
creds_unsupported(const struct ecs_config *cfg, const char *section,
    struct ecs_error *err)
{
	static const struct {
		const char	*key;
		const char	*what;
	} keys[] = {
		{ "role_arn", "assume-role" },
		{ "web_identity_token_file", "web identity" },
		{ "sso_session", "SSO" },
		{ "sso_start_url", "SSO" },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (creds_profile_get(cfg, section, keys[i].key) == NULL)
			continue;
		ecs_error_set(err, ECS_E_CREDS, "profile %s sets %s, but %s "
		    "credentials are not supported; use credential_process "
		    "or static keys", cfg->profile, keys[i].key, keys[i].what);
		return -1;
	}
	if (cfg->profile_explicit != ECS_PROFILE_OPTION &&
	    creds_env_get("AWS_WEB_IDENTITY_TOKEN_FILE") != NULL &&
	    creds_env_get("AWS_ROLE_ARN") != NULL) {
		ecs_error_set(err, ECS_E_CREDS, "AWS_WEB_IDENTITY_TOKEN_FILE "
		    "is set, but web identity credentials are not supported");
		return -1;
	}
	return 0;
}

struct creds_provider *
creds_provider_new(const struct ecs_config *cfg, struct ecs_error *err)
{
	struct creds_provider *p;
	struct creds c;
	struct buf looked;
	struct tm tm;
	char *section, when[32];
	const char *cmd;
	pthread_condattr_t ca;
	int rc;

	memset(&c, 0, sizeof(c));
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (cfg->ca_bundle != NULL)
		p->ca_bundle = xstrdup(cfg->ca_bundle);
	buf_init(&looked);
	section = ecs_config_profile_section(cfg);

	if (cfg->profile_explicit == ECS_PROFILE_OPTION)
		buf_adds(&looked, "environment (skipped for -o profile)");
	else {
		if ((rc = creds_from_env(&c, err)) < 0)
			goto fail;
		if (rc > 0) {
			p->kind = CREDS_ENV;
			p->source = xstrdup("environment");
			goto found;
		}
		buf_adds(&looked, "environment (AWS_ACCESS_KEY_ID)");
	}
	if (creds_unsupported(cfg, section, err) != 0)
		goto fail;

	buf_printf(&looked, ", %s [%s]%s", cfg->credentials_file, cfg->profile,
	    cfg->credentials_ini != NULL ? "" : " (no file)");
	if (cfg->credentials_ini != NULL) {
		creds_check_secrecy(cfg->credentials_file);
		rc = creds_from_section(cfg->credentials_ini,
		    cfg->credentials_file, cfg->profile, &c, err);
		if (rc < 0)
			goto fail;
		if (rc > 0) {
			p->kind = CREDS_SHARED_FILE;
			p->path = xstrdup(cfg->credentials_file);
			p->section = xstrdup(cfg->profile);
			p->source = xasprintf("shared credentials file %s [%s]",
			    p->path, p->section);
			goto found;
		}
	}

	if ((cmd = creds_profile_get(cfg, section, "credential_process")) !=
	    NULL) {
		p->kind = CREDS_PROCESS;
		p->command = xstrdup(cmd);
		p->source = xasprintf("credential_process (profile %s)",
		    cfg->profile);
		if (creds_process_run(p->command, p->source, &c, err) != 0)
			goto fail;
		goto found;
	}

	buf_printf(&looked, ", %s [%s]%s", cfg->config_file, section,
	    cfg->config_ini != NULL ? "" : " (no file)");
	if (cfg->config_ini != NULL) {
		rc = creds_from_section(cfg->config_ini, cfg->config_file,
		    section, &c, err);
		if (rc < 0)
			goto fail;
		if (rc > 0) {
			p->kind = CREDS_CONFIG_FILE;
			p->path = xstrdup(cfg->config_file);
			p->section = xstrdup(section);
			p->source = xasprintf("config file %s [%s]", p->path,
			    p->section);
			goto found;
		}
	}

	if ((rc = creds_container_env(p, err)) < 0)
		goto fail;
	if (rc > 0) {
		p->kind = CREDS_CONTAINER;
		p->source = xasprintf("container credentials (%s)", p->url_var);
		if (creds_from_container(p, &c, NULL, err) != 0)
			goto fail;
		goto found;
	}
	buf_adds(&looked, ", container endpoint "
	    "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)");
	ecs_error_set(err, ECS_E_CREDS, "no credentials: looked in %s",
	    looked.data);
	goto fail;

found:
	if (c.expiration != 0 && c.expiration <= time(NULL)) {
		gmtime_r(&c.expiration, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ecs_error_set(err, ECS_E_CREDS, "%s gave credentials that "
		    "expired at %s", p->source, when);
		goto fail;
	}
	p->cur = c;
	explicit_bzero(&c, sizeof(c));
	free(section);
	buf_free(&looked);
	return p;
fail:
	creds_scrub(err, &c, NULL);
	explicit_bzero(&c, sizeof(c));
	free(section);
	buf_free(&looked);
	creds_provider_free(p);
	return NULL;
}

/* Whether the current credentials must be reloaded; p->mu held. */
static int
creds_need_reload(const struct creds_provider *p, time_t now)
{
	return p->stale || (p->cur.expiration != 0 &&
	    p->cur.expiration - now < REFRESH_WINDOW);
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
	rc = creds_load(p, &fresh, &st, &lerr);
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
		p->stale = 0;
		p->retry_after = 0;
	} else if (creds_usable(p, now)) {
		/* Keep signing with the old credentials while they last. */
		p->retry_after = now + RETRY_AFTER_FAILURE;
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
creds_provider_free(struct creds_provider *p)
{
	if (p == NULL)
		return;
	explicit_bzero(&p->cur, sizeof(p->cur));
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cond);
	if (p->pool != NULL)
		http_pool_free(p->pool);
	free(p->source);
	free(p->path);
	free(p->section);
	free(p->command);
	free(p->url);
	free(p->ca_bundle);
	free(p);
}
