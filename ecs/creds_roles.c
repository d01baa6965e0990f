/*
 * The credential sources that get their credentials from AWS through a
 * role: assume-role profiles (source_profile or credential_source), web
 * identity (IRSA, the profile's web_identity_token_file) and SSO. Each is
 * a configured/fetch pair of the chain's table (ecs/creds_chain.c).
 */
#include "ecs/creds_src.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/config.h"
#include "ecs/ini.h"
#include "ecs/redact.h"
#include "ecs/sso.h"
#include "ecs/xmalloc.h"

/*
 * An assume-role profile: role_arn with source_profile or
 * credential_source. mfa_serial is refused: a daemon cannot prompt.
 */
int
creds_src_role_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	const char *arn, *sp, *cs, *v;

	if ((arn = creds_profile_get(ctx, "role_arn")) == NULL)
		return 0;
	sp = creds_profile_get(ctx, "source_profile");
	cs = creds_profile_get(ctx, "credential_source");
	if (sp == NULL && cs == NULL) {
		if (creds_profile_get(ctx, "web_identity_token_file") != NULL)
			return 0;	/* web identity's */
		ecs_error_set(err, ECS_E_CREDS, "assume-role profile %s: "
		    "role_arn needs source_profile or credential_source",
		    ctx->profile);
		return -1;
	}
	if (sp != NULL && cs != NULL) {
		ecs_error_set(err, ECS_E_CREDS, "assume-role profile %s sets "
		    "both source_profile and credential_source", ctx->profile);
		return -1;
	}
	if (creds_profile_get(ctx, "mfa_serial") != NULL) {
		ecs_error_set(err, ECS_E_CREDS, "assume-role profile %s sets "
		    "mfa_serial, but ecsfs runs unattended and cannot ask for "
		    "an MFA code; use a role without MFA, or credentials "
		    "from aws sts get-session-token in the environment",
		    ctx->profile);
		return -1;
	}
	p->role_arn = xstrdup(arn);
	p->session_name = (v = creds_profile_get(ctx, "role_session_name")) !=
	    NULL ? xstrdup(v) : creds_default_session();
	if ((v = creds_profile_get(ctx, "external_id")) != NULL)
		p->external_id = xstrdup(v);
	if (creds_duration(p, ctx, err) != 0)
		return -1;
	creds_sts_setup(p, ctx->cfg);
	p->inner = xcalloc(1, sizeof(*p->inner));
	if (p->ca_bundle != NULL)
		p->inner->ca_bundle = xstrdup(p->ca_bundle);
	if (sp != NULL) {
		if (creds_profile_inner(p->inner, ctx, sp, err) != 0)
			return -1;
	} else if (creds_credential_source(p->inner, ctx, cs, err) != 0)
		return -1;
	p->source = xasprintf("assume-role profile %s (%s, from %s)",
	    ctx->profile, p->role_arn, p->inner->source);
	return 1;
}

int
creds_src_role_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	struct sts_target t;
	struct creds base;
	int rc;

	memset(&base, 0, sizeof(base));
	if ((rc = p->inner->src->fetch(p->inner, &base, st, err)) != 0)
		return rc;
	creds_sts_target(p, st, &t);
	rc = sts_assume_role(&t, &base, p->role_arn, p->session_name,
	    p->external_id, p->duration, out, err);
	if (rc == -1)
		creds_prefix(err, p->source);
	explicit_bzero(&base, sizeof(base));
	return rc;
}

/*
 * Web identity: the profile's web_identity_token_file and role_arn, else
 * AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (IRSA).
 */
int
creds_src_webid_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	const char *file, *arn, *name;

	if ((file = creds_profile_get(ctx, "web_identity_token_file")) !=
	    NULL) {
		if ((arn = creds_profile_get(ctx, "role_arn")) == NULL) {
			ecs_error_set(err, ECS_E_CREDS, "profile %s sets "
			    "web_identity_token_file but no role_arn",
			    ctx->profile);
			return -1;
		}
		name = creds_profile_get(ctx, "role_session_name");
		p->source = xasprintf("web identity (profile %s, %s)",
		    ctx->profile, file);
	} else if (!ctx->skip_env && ctx->depth == 0 &&
	    (file = creds_env_get("AWS_WEB_IDENTITY_TOKEN_FILE")) != NULL) {
		if ((arn = creds_env_get("AWS_ROLE_ARN")) == NULL) {
			ecs_error_set(err, ECS_E_CREDS, "web identity: "
			    "AWS_WEB_IDENTITY_TOKEN_FILE is set but "
			    "AWS_ROLE_ARN is not");
			return -1;
		}
		name = creds_env_get("AWS_ROLE_SESSION_NAME");
		p->source = xasprintf("web identity "
		    "(AWS_WEB_IDENTITY_TOKEN_FILE %s)", file);
	} else {
		if (ctx->depth == 0)
			buf_adds(ctx->looked, ", web identity "
			    "(AWS_WEB_IDENTITY_TOKEN_FILE)");
		return 0;
	}
	p->token_file = xstrdup(file);
	p->role_arn = xstrdup(arn);
	p->session_name = name != NULL ? xstrdup(name) :
	    creds_default_session();
	if (creds_duration(p, ctx, err) != 0)
		return -1;
	creds_sts_setup(p, ctx->cfg);
	return 1;
}

/* Reads the web identity token from path (it rotates) into tok[n]. */
static int
creds_read_token(const char *what, const char *path, char *tok, size_t n,
    struct ecs_error *err)
{
	FILE *f;
	size_t len;

	if ((f = fopen(path, "re")) == NULL) {
		ecs_error_set(err, ECS_E_CREDS, "%s: cannot read the token "
		    "file %s: %s", what, path, strerror(errno));
		return -1;
	}
	len = fread(tok, 1, n - 1, f);
	fclose(f);
	tok[len] = '\0';
	while (len > 0 && strchr(" \t\r\n", tok[len - 1]) != NULL)
		tok[--len] = '\0';
	if (len == 0) {
		ecs_error_set(err, ECS_E_CREDS, "%s: the token file %s is "
		    "empty", what, path);
		return -1;
	}
	return 0;
}

int
creds_src_webid_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	struct sts_target t;
	char *tok;
	int rc = -1;

	tok = xmalloc(16384);
	if (creds_read_token(p->source, p->token_file, tok, 16384, err) != 0)
		goto done;
	creds_sts_target(p, st, &t);
	if ((rc = sts_assume_role_with_web_identity(&t, p->role_arn,
	    p->session_name, tok, p->duration, out, err)) == -1) {
		ecs_redact(err->message, sizeof(err->message),
		    (const char *const *)&tok, 1);
		creds_prefix(err, p->source);
	}
done:
	explicit_bzero(tok, 16384);
	free(tok);
	return rc;
}

/*
 * An SSO profile: sso_session (its [sso-session NAME] section has
 * sso_start_url and sso_region) or the legacy sso_start_url and
 * sso_region in the profile; sso_account_id and sso_role_name.
 */
int
creds_src_sso_configured(struct creds_provider *p, struct creds_ctx *ctx,
    struct ecs_error *err)
{
	const char *session, *url, *region, *acct, *role;
	char *sec = NULL;
	int rc = -1;

	session = creds_profile_get(ctx, "sso_session");
	url = creds_profile_get(ctx, "sso_start_url");
	if (session == NULL && url == NULL)
		return 0;
	region = creds_profile_get(ctx, "sso_region");
	if (session != NULL) {
		sec = xasprintf("sso-session %s", session);
		if (!ini_has_section(ctx->cfg->config_ini, sec)) {
			ecs_error_set(err, ECS_E_CREDS, "SSO profile %s: "
			    "sso_session %s has no [%s] section in %s",
			    ctx->profile, session, sec, ctx->cfg->config_file);
			goto done;
		}
		url = ini_get(ctx->cfg->config_ini, sec, "sso_start_url");
		region = ini_get(ctx->cfg->config_ini, sec, "sso_region");
	}
	acct = creds_profile_get(ctx, "sso_account_id");
	role = creds_profile_get(ctx, "sso_role_name");
	if (url == NULL || region == NULL || acct == NULL || role == NULL) {
		ecs_error_set(err, ECS_E_CREDS, "SSO profile %s needs "
		    "sso_start_url, sso_region, sso_account_id and "
		    "sso_role_name", ctx->profile);
		goto done;
	}
	p->sso_profile = xstrdup(ctx->profile);
	p->sso_session = session != NULL ? xstrdup(session) : NULL;
	p->sso_url = xstrdup(url);
	p->sso_region = xstrdup(region);
	p->sso_account = xstrdup(acct);
	p->sso_role = xstrdup(role);
	p->source = xasprintf("SSO profile %s (account %s, role %s)",
	    ctx->profile, acct, role);
	rc = 1;
done:
	free(sec);
	return rc;
}

int
creds_src_sso_fetch(struct creds_provider *p, struct creds *out,
    const struct creds_stopper *st, struct ecs_error *err)
{
	struct sso_profile s;

	(void)st;
	s.profile = p->sso_profile;
	s.session = p->sso_session;
	s.start_url = p->sso_url;
	s.region = p->sso_region;
	s.account_id = p->sso_account;
	s.role_name = p->sso_role;
	return sso_fetch(creds_pool(p), &s, out, err);
}
