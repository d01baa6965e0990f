/*
 * The chain of credential sources, in botocore's order: one table entry
 * per source (name, configured, fetch), the profile lookups they share,
 * source_profile chains and credential_source. The first source that is
 * configured is the provider's for its lifetime.
 */
#include "ecs/creds_src.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecs/buf.h"
#include "ecs/config.h"
#include "ecs/creds_process.h"
#include "ecs/http.h"
#include "ecs/imds.h"
#include "ecs/ini.h"
#include "ecs/log.h"
#include "ecs/redact.h"
#include "ecs/sso.h"
#include "ecs/sts.h"
#include "ecs/xmalloc.h"


/* Files already warned about; at most one warning per file and process. */
static pthread_mutex_t warn_mu = PTHREAD_MUTEX_INITIALIZER;
static char *warned[16];	/* protected by warn_mu */

/* The value of an environment variable, or NULL when it is unset or empty. */
const char *
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
void
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

/* Puts "what: " in front of err's message. */
void
creds_prefix(struct ecs_error *err, const char *what)
{
	char msg[sizeof(err->message)];

	snprintf(msg, sizeof(msg), "%s", err->message);
	ecs_error_set(err, ECS_E_CREDS, "%s: %s", what, msg);
}

/* The pool for the provider's HTTP calls, made on first use. */
struct http_pool *
creds_pool(struct creds_provider *p)
{
	if (p->pool == NULL)
		p->pool = http_pool_new(p->ca_bundle);
	return p->pool;
}

/* The STS endpoint and signing region of p, for a call st may stop. */
void
creds_sts_target(struct creds_provider *p, const struct creds_stopper *st,
    struct sts_target *t)
{
	t->pool = creds_pool(p);
	t->endpoint = p->sts_url;
	t->region = p->region;
	t->st = st;
}

/* The config file section of profile name: "profile NAME" or "default". */
static char *
creds_section_of(const struct ecs_config *cfg, const char *name)
{
	char *s = xasprintf("profile %s", name);

	if (strcmp(name, "default") == 0 &&
	    !ini_has_section(cfg->config_ini, s)) {
		free(s);
		s = xstrdup("default");
	}
	return s;
}

/* The value of key in the profile: the credentials file, then the config file. */
const char *
creds_profile_get(const struct creds_ctx *ctx, const char *key)
{
	const char *v;

	if ((v = ini_get(ctx->cfg->credentials_ini, ctx->profile, key)) !=
	    NULL && *v != '\0')
		return v;
	if ((v = ini_get(ctx->cfg->config_ini, ctx->section, key)) != NULL &&
	    *v != '\0')
		return v;
	return NULL;
}

void
creds_sts_setup(struct creds_provider *p, const struct ecs_config *cfg)
{
	p->region = xstrdup(cfg->region != NULL ? cfg->region : "us-east-1");
	p->sts_url = sts_endpoint(p->region);
}

/* Reads duration_seconds of the profile into p; -1 with err when bad. */
int
creds_duration(struct creds_provider *p, const struct creds_ctx *ctx,
    struct ecs_error *err)
{
	const char *v = creds_profile_get(ctx, "duration_seconds");
	char *end;
	long d;

	if (v == NULL)
		return 0;
	d = strtol(v, &end, 10);
	if (*end != '\0' || d < 900 || d > 43200) {
		ecs_error_set(err, ECS_E_CREDS, "profile %s: duration_seconds "
		    "must be a number of seconds from 900 to 43200",
		    ctx->profile);
		return -1;
	}
	p->duration = (int)d;
	return 0;
}

/* A session name when none is configured: botocore-like, unique per process. */
char *
creds_default_session(void)
{
	return xasprintf("ecsfs-%ld-%ld", (long)time(NULL), (long)getpid());
}

/* The environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. */
static int
src_env_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	(void)err;
	if (ctx->skip_env) {
		buf_adds(ctx->looked, "environment (skipped for -o profile)");
		return 0;
	}
	if (creds_env_get("AWS_ACCESS_KEY_ID") == NULL &&
	    creds_env_get("AWS_SECRET_ACCESS_KEY") == NULL) {
		buf_adds(ctx->looked, "environment (AWS_ACCESS_KEY_ID)");
		return 0;
	}
	p->source = xstrdup("environment");
	return 1;
}

static int
src_env_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	int rc;

	(void)p;
	(void)st;
	if ((rc = creds_from_env(out, err)) == 0)
		ecs_error_set(err, ECS_E_CREDS, "AWS_ACCESS_KEY_ID is no "
		    "longer set");
	return rc == 1 ? 0 : -1;
}

/* Fills p for a file source when [section] of ini has keys: 1, 0, -1. */
static int
creds_file_configured(struct creds_provider *p, const struct ini *ini,
    const char *path, const char *section, const char *kind,
    struct ecs_error *err)
{
	(void)err;
	if (ini == NULL)
		return 0;
	if (ini_get(ini, section, "aws_access_key_id") == NULL &&
	    ini_get(ini, section, "aws_secret_access_key") == NULL)
		return 0;
	p->path = xstrdup(path);
	p->section = xstrdup(section);
	p->source = xasprintf("%s %s [%s]", kind, path, section);
	return 1;
}

/* The shared credentials file's [PROFILE]. */
static int
src_shared_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	const struct ecs_config *cfg = ctx->cfg;

	if (ctx->depth == 0)
		buf_printf(ctx->looked, ", %s [%s]%s", cfg->credentials_file,
		    ctx->profile, cfg->credentials_ini != NULL ? "" :
		    " (no file)");
	if (cfg->credentials_ini != NULL)
		creds_check_secrecy(cfg->credentials_file);
	return creds_file_configured(p, cfg->credentials_ini,
	    cfg->credentials_file, ctx->profile, "shared credentials file",
	    err);
}

/* The config file's [profile PROFILE] keys. */
static int
src_config_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	const struct ecs_config *cfg = ctx->cfg;

	if (ctx->depth == 0)
		buf_printf(ctx->looked, ", %s [%s]%s", cfg->config_file,
		    ctx->section, cfg->config_ini != NULL ? "" : " (no file)");
	return creds_file_configured(p, cfg->config_ini, cfg->config_file,
	    ctx->section, "config file", err);
}

static int
src_file_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	(void)st;
	return creds_reload_file(p->path, p->section, out, err);
}

/* The profile's credential_process. */
static int
src_process_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	const char *cmd;

	(void)err;
	if ((cmd = creds_profile_get(ctx, "credential_process")) == NULL)
		return 0;
	p->command = xstrdup(cmd);
	p->source = xasprintf("credential_process (profile %s)", ctx->profile);
	return 1;
}

static int
src_process_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	(void)st;
	return creds_process_run(p->command, p->source, out, err);
}

/* The container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI. */
static int
src_container_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	int rc;

	rc = creds_container_url(
	    creds_env_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
	    creds_env_get("AWS_CONTAINER_CREDENTIALS_FULL_URI"), &p->url,
	    &p->url_var, err);
	if (rc == 0 && ctx->depth == 0)
		buf_adds(ctx->looked, ", container endpoint "
		    "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)");
	if (rc > 0)
		p->source = xasprintf("container credentials (%s)", p->url_var);
	return rc;
}

/*
 * Fetches from the container endpoint, with the authorization token as
 * the environment says now (it rotates).
 */
static int
src_container_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	return creds_container_fetch(creds_pool(p), p->url, p->url_var,
	    p->source, creds_env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
	    creds_env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN"), st, out, err);
}

/* The instance metadata service (IMDSv2), unless AWS_EC2_METADATA_DISABLED. */
static int
src_imds_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	(void)err;
	if ((p->imds_url = imds_endpoint()) == NULL) {
		if (ctx->depth == 0)
			buf_adds(ctx->looked, ", instance metadata "
			    "(AWS_EC2_METADATA_DISABLED)");
		return 0;
	}
	p->imds_explicit = ctx->depth > 0 ||
	    creds_env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT") != NULL;
	p->source = xasprintf("instance metadata (IMDSv2 at %s)", p->imds_url);
	return 1;
}

static int
src_imds_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	(void)st;
	return imds_fetch(creds_pool(p), p->imds_url, out, err);
}

/* The chain, in botocore's order. */
static const struct creds_source creds_sources[] = {
	{ "environment", src_env_configured, src_env_fetch },
	{ "assume-role", creds_src_role_configured, creds_src_role_fetch },
	{ "web identity", creds_src_webid_configured, creds_src_webid_fetch },
	{ "sso", creds_src_sso_configured, creds_src_sso_fetch },
	{ "shared credentials file", src_shared_configured, src_file_fetch },
	{ "credential_process", src_process_configured, src_process_fetch },
	{ "config file", src_config_configured, src_file_fetch },
	{ "container", src_container_configured, src_container_fetch },
	{ "instance metadata", src_imds_configured, src_imds_fetch },
};

/* The source called name in creds_sources. */
static const struct creds_source *
creds_source_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(creds_sources) / sizeof(creds_sources[0]); i++)
		if (strcmp(creds_sources[i].name, name) == 0)
			return &creds_sources[i];
	return NULL;
}

/*
 * The source credentials of an assume-role profile from credential_source
 * (Environment, EcsContainer, Ec2InstanceMetadata) into p.
 */
int
creds_credential_source(struct creds_provider *p, struct creds_ctx *ctx,
    const char *what, struct ecs_error *err)
{
	struct creds_ctx sub = *ctx;
	struct creds probe;
	struct buf scratch;
	int rc;

	buf_init(&scratch);
	sub.looked = &scratch;
	sub.depth = ctx->depth + 1;
	sub.skip_env = 0;
	if (strcmp(what, "Environment") == 0) {
		p->src = creds_source_named("environment");
		rc = creds_from_env(&probe, err);
		explicit_bzero(&probe, sizeof(probe));
		if (rc == 0)
			ecs_error_set(err, ECS_E_CREDS, "profile %s: "
			    "credential_source Environment, but "
			    "AWS_ACCESS_KEY_ID is not set", ctx->profile);
		rc = rc == 1 ? p->src->configured(p, &sub, err) : -1;
	} else if (strcmp(what, "EcsContainer") == 0) {
		p->src = creds_source_named("container");
		if ((rc = p->src->configured(p, &sub, err)) == 0) {
			ecs_error_set(err, ECS_E_CREDS, "profile %s: "
			    "credential_source EcsContainer, but neither "
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
			    "_FULL_URI is set", ctx->profile);
			rc = -1;
		}
	} else if (strcmp(what, "Ec2InstanceMetadata") == 0) {
		p->src = creds_source_named("instance metadata");
		if ((rc = p->src->configured(p, &sub, err)) == 0) {
			ecs_error_set(err, ECS_E_CREDS, "profile %s: "
			    "credential_source Ec2InstanceMetadata, but "
			    "AWS_EC2_METADATA_DISABLED is true", ctx->profile);
			rc = -1;
		}
	} else {
		ecs_error_set(err, ECS_E_CREDS, "profile %s: credential_source "
		    "%s is not one of Environment, EcsContainer, "
		    "Ec2InstanceMetadata", ctx->profile, what);
		rc = -1;
	}
	buf_free(&scratch);
	return rc > 0 ? 0 : -1;
}

/*
 * Sets p up from the first source of the chain that profile name has,
 * skipping the environment and the container endpoint (a source_profile
 * names a profile, not the process's surroundings). Refuses a loop.
 */
int
creds_profile_inner(struct creds_provider *p, struct creds_ctx *ctx,
    const char *name, struct ecs_error *err)
{
	struct creds_ctx sub;
	struct buf scratch;
	size_t i;
	int d, rc = 0;

	for (d = 0; d <= ctx->depth; d++) {
		if (strcmp(ctx->visited[d], name) == 0) {
			ecs_error_set(err, ECS_E_CREDS, "profile %s: the "
			    "source_profile chain loops back to profile %s",
			    ctx->visited[0], name);
			return -1;
		}
	}
	if (ctx->depth + 1 >= MAX_CHAIN) {
		ecs_error_set(err, ECS_E_CREDS, "profile %s: the "
		    "source_profile chain is longer than %d", ctx->visited[0],
		    MAX_CHAIN);
		return -1;
	}
	buf_init(&scratch);
	sub = *ctx;
	sub.profile = name;
	sub.section = creds_section_of(ctx->cfg, name);
	sub.depth = ctx->depth + 1;
	sub.visited[sub.depth] = name;
	sub.looked = &scratch;
	for (i = 1; i < sizeof(creds_sources) / sizeof(creds_sources[0]) - 2;
	    i++) {
		p->src = &creds_sources[i];
		if ((rc = p->src->configured(p, &sub, err)) != 0)
			break;
	}
	if (rc == 0)
		ecs_error_set(err, ECS_E_CREDS, "profile %s: its "
		    "source_profile %s has no credentials", ctx->profile, name);
	free(sub.section);
	buf_free(&scratch);
	return rc > 0 ? 0 : -1;
}

/* "no credentials: looked in LOOKED, WHY" with err's message as WHY. */
static void
creds_nothing_found(struct ecs_error *err, const char *looked)
{
	char msg[sizeof(err->message)];

	snprintf(msg, sizeof(msg), "%s", err->message);
	ecs_error_set(err, ECS_E_CREDS, "no credentials: looked in %s, %s",
	    looked, msg);
}

int
creds_chain_find(struct creds_provider *p, const struct ecs_config *cfg,
    struct creds *out, struct ecs_error *err)
{
	struct creds_ctx ctx;
	struct buf looked;
	size_t i;
	int rc = 0;

	buf_init(&looked);
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.profile = cfg->profile;
	ctx.section = ecs_config_profile_section(cfg);
	ctx.skip_env = cfg->profile_explicit == ECS_PROFILE_OPTION;
	ctx.visited[0] = cfg->profile;
	ctx.looked = &looked;

	for (i = 0; i < sizeof(creds_sources) / sizeof(creds_sources[0]); i++) {
		p->src = &creds_sources[i];
		if ((rc = p->src->configured(p, &ctx, err)) != 0)
			break;
	}
	if (rc == 0) {
		ecs_error_set(err, ECS_E_CREDS, "no credentials: looked in %s",
		    looked.data);
		rc = -1;
	} else if (rc > 0 && (rc = p->src->fetch(p, out, NULL, err)) != 0) {
		/* The metadata service is the last resort, not a choice. */
		if (p->imds_url != NULL && !p->imds_explicit)
			creds_nothing_found(err, looked.data);
		rc = -1;
	}
	free(ctx.section);
	buf_free(&looked);
	return rc < 0 ? -1 : 0;
}

int
creds_chain_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	return p->src->fetch(p, out, st, err);
}

void
creds_chain_clear(struct creds_provider *p)
{
	free(p->source);
	free(p->path);
	free(p->section);
	free(p->command);
	free(p->url);
	free(p->region);
	free(p->sts_url);
	free(p->role_arn);
	free(p->session_name);
	free(p->external_id);
	free(p->token_file);
	free(p->imds_url);
	free(p->sso_profile);
	free(p->sso_session);
	free(p->sso_url);
	free(p->sso_region);
	free(p->sso_account);
	free(p->sso_role);
	creds_provider_free(p->inner);
}
