/*
 * SSO: the token cache file, the OIDC refresh, the portal's role
 * credentials. No message quotes a token, a client secret or a key.
 */
#include "ecs/sso.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "ecs/buf.h"
#include "ecs/config.h"
#include "ecs/creds_process.h"
#include "ecs/http.h"
#include "ecs/xmalloc.h"

#define SSO_REFRESH_WINDOW	900	/* s before expiry that a token is refreshed */
#define SSO_TIMEOUT_MS		10000

/* The value of an environment variable, or NULL when unset or empty. */
static const char *
sso_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

char *
sso_cache_path(const struct sso_profile *s)
{
	const char *key = s->session != NULL ? s->session : s->start_url;
	const char *home = sso_env("HOME");
	unsigned char md[SHA_DIGEST_LENGTH];
	char hex[2 * SHA_DIGEST_LENGTH + 1];
	size_t i;

	SHA1((const unsigned char *)key, strlen(key), md);
	for (i = 0; i < SHA_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xasprintf("%s/.aws/sso/cache/%s.json", home != NULL ? home : "",
	    hex);
}

/* The error line for a login that must be made again. */
static void
sso_login_needed(const struct sso_profile *s, const char *path, const char *why,
    struct ecs_error *err)
{
	ecs_error_set(err, ECS_E_CREDS, "SSO profile %s: %s (%s): run aws sso "
	    "login --profile %s", s->profile, why, path, s->profile);
}

/* A string member of o, or NULL. Borrowed. */
static const char *
sso_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/*
 * CreateToken with the cache's refresh token; on success updates cache
 * (accessToken, expiresAt, refreshToken) and writes it to path.
 */
static int
sso_refresh(struct http_pool *pool, const struct sso_profile *s,
    const char *path, json_t *cache, struct ecs_error *err)
{
	struct http_request req;
	struct http_response resp;
	const char *headers[1] = { "Content-Type: application/json" };
	json_t *body = NULL, *ans = NULL;
	char *url, *text = NULL, when[32], *out = NULL;
	time_t exp;
	struct tm tm;
	json_int_t in;
	int rc = -1;

	url = ecs_endpoint_env(ECS_SVC_SSO_OIDC, s->region);
	{
		char *u = xasprintf("%s/token", url);

		free(url);
		url = u;
	}
	body = json_pack("{s:s, s:s?, s:s?, s:s?}", "grantType",
	    "refresh_token", "clientId", sso_str(cache, "clientId"),
	    "clientSecret", sso_str(cache, "clientSecret"), "refreshToken",
	    sso_str(cache, "refreshToken"));
	text = json_dumps(body, JSON_COMPACT);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.nheaders = 1;
	req.body = text;
	req.body_len = strlen(text);
	req.connect_timeout_ms = 3000;
	req.timeout_ms = SSO_TIMEOUT_MS;
	if (http_do(pool, &req, &resp, err) != 0) {
		http_response_free(&resp);
		ecs_error_set(err, ECS_E_CREDS, "SSO profile %s: SSO-OIDC "
		    "CreateToken at %s: no response", s->profile, url);
		goto done;
	}
	if (resp.status != 200 || (ans = json_loadb(resp.body.data != NULL ?
	    resp.body.data : "", resp.body.len, 0, NULL)) == NULL ||
	    sso_str(ans, "accessToken") == NULL) {
		http_response_free(&resp);
		ecs_error_set(err, ECS_E_CREDS, "SSO profile %s: the cached "
		    "token could not be refreshed (CreateToken at %s answered "
		    "HTTP %ld): run aws sso login --profile %s", s->profile,
		    url, resp.status, s->profile);
		goto done;
	}
	if (resp.body.data != NULL)
		explicit_bzero(resp.body.data, resp.body.len);
	http_response_free(&resp);
	in = json_integer_value(json_object_get(ans, "expiresIn"));
	exp = time(NULL) + (in > 0 ? (time_t)in : 3600);
	gmtime_r(&exp, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set(cache, "accessToken", json_object_get(ans,
	    "accessToken"));
	json_object_set_new(cache, "expiresAt", json_string(when));
	if (sso_str(ans, "refreshToken") != NULL)
		json_object_set(cache, "refreshToken", json_object_get(ans,
		    "refreshToken"));
	/* Written back as the CLI does, so that both see the new token. */
	out = json_dumps(cache, JSON_INDENT(2));
	{
		char *tmp = xasprintf("%s.ecsfs-tmp", path);
		FILE *f = fopen(tmp, "we");

		if (f != NULL) {
			fchmod(fileno(f), 0600);
			fputs(out, f);
			if (fclose(f) == 0)
				rename(tmp, path);
			else
				unlink(tmp);
		}
		free(tmp);
	}
	rc = 0;
done:
	if (out != NULL) {
		explicit_bzero(out, strlen(out));
		free(out);
	}
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	json_decref(body);
	json_decref(ans);
	free(url);
	return rc;
}

/* GetRoleCredentials with the access token. */
static int
sso_role_credentials(struct http_pool *pool, const struct sso_profile *s,
    const char *token, struct creds *out, struct ecs_error *err)
{
	struct http_request req;
	struct http_response resp;
	const char *headers[2];
	char *base, *url, *hdr;
	json_t *ans = NULL, *rc_obj;
	const char *ak, *sk, *st;
	json_int_t exp;
	int rc = -1;

	base = ecs_endpoint_env(ECS_SVC_SSO, s->region);
	url = xasprintf("%s/federation/credentials?account_id=%s&role_name=%s",
	    base, s->account_id, s->role_name);
	hdr = xasprintf("x-amz-sso_bearer_token: %s", token);
	headers[0] = hdr;
	headers[1] = "Accept: application/json";
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.nheaders = 2;
	req.connect_timeout_ms = 3000;
	req.timeout_ms = SSO_TIMEOUT_MS;
	if (http_do(pool, &req, &resp, err) != 0) {
		http_response_free(&resp);
		ecs_error_set(err, ECS_E_CREDS, "SSO profile %s: "
		    "GetRoleCredentials at %s: no response", s->profile, base);
		goto done;
	}
	if (resp.status == 401 || resp.status == 403) {
		http_response_free(&resp);
		ecs_error_set(err, ECS_E_CREDS, "SSO profile %s: "
		    "GetRoleCredentials at %s refused the login (HTTP %ld) for "
		    "account %s role %s: run aws sso login --profile %s",
		    s->profile, base, resp.status, s->account_id, s->role_name,
		    s->profile);
		goto done;
	}
	if (resp.status != 200 || (ans = json_loadb(resp.body.data != NULL ?
	    resp.body.data : "", resp.body.len, 0, NULL)) == NULL) {
		http_response_free(&resp);
		ecs_error_set(err, ECS_E_CREDS, "SSO profile %s: "
		    "GetRoleCredentials at %s answered HTTP %ld", s->profile,
		    base, resp.status);
		goto done;
	}
	if (resp.body.data != NULL)
		explicit_bzero(resp.body.data, resp.body.len);
	http_response_free(&resp);
	rc_obj = json_object_get(ans, "roleCredentials");
	ak = sso_str(rc_obj, "accessKeyId");
	sk = sso_str(rc_obj, "secretAccessKey");
	st = sso_str(rc_obj, "sessionToken");
	exp = json_integer_value(json_object_get(rc_obj, "expiration"));
	memset(out, 0, sizeof(*out));
	if (ak == NULL || sk == NULL || st == NULL ||
	    strlen(ak) >= sizeof(out->access_key) ||
	    strlen(sk) >= sizeof(out->secret_key) ||
	    strlen(st) >= sizeof(out->session_token)) {
		ecs_error_set(err, ECS_E_CREDS, "SSO profile %s: "
		    "GetRoleCredentials at %s gave no usable roleCredentials",
		    s->profile, base);
		goto done;
	}
	memcpy(out->access_key, ak, strlen(ak) + 1);
	memcpy(out->secret_key, sk, strlen(sk) + 1);
	memcpy(out->session_token, st, strlen(st) + 1);
	out->expiration = (time_t)(exp / 1000);
	rc = 0;
done:
	json_decref(ans);
	explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	free(url);
	free(base);
	return rc;
}

int
sso_fetch(struct http_pool *pool, const struct sso_profile *s,
    struct creds *out, struct ecs_error *err)
{
	json_t *cache;
	json_error_t je;
	const char *tok, *exp_s;
	char *path;
	time_t exp = 0, now = time(NULL);
	int rc = -1;

	path = sso_cache_path(s);
	if ((cache = json_load_file(path, 0, &je)) == NULL) {
		sso_login_needed(s, path, access(path, F_OK) == 0 ?
		    "the cached login cannot be read" : "no cached login", err);
		free(path);
		return -1;
	}
	tok = sso_str(cache, "accessToken");
	exp_s = sso_str(cache, "expiresAt");
	if (tok == NULL || exp_s == NULL || creds_parse_time(exp_s, &exp) != 0) {
		sso_login_needed(s, path, "the cached login has no token", err);
		goto done;
	}
	if (exp - now < SSO_REFRESH_WINDOW) {
		if (s->session != NULL && sso_str(cache, "refreshToken") != NULL &&
		    sso_str(cache, "clientId") != NULL) {
			if (sso_refresh(pool, s, path, cache, err) != 0) {
				if (exp > now)
					goto use;	/* still valid for now */
				goto done;
			}
		} else if (exp <= now) {
			sso_login_needed(s, path, "the SSO login has expired",
			    err);
			goto done;
		}
	}
use:
	tok = sso_str(cache, "accessToken");
	rc = sso_role_credentials(pool, s, tok, out, err);
done:
	json_decref(cache);
	free(path);
	return rc;
}
