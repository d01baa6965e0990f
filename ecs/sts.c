/*
 * STS calls for the credential chain: the form-encoded query request,
 * its SigV4 signature when the call needs one, and the XML answer
 * (credentials, identity, or an ErrorResponse) read with libxml2. No
 * message quotes a token, a secret or the request body.
 */
#include "ecs/sts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ecs/buf.h"
#include "ecs/config.h"
#include "ecs/creds_container.h"
#include "ecs/creds_process.h"
#include "ecs/http.h"
#include "ecs/sigv4.h"
#include "ecs/xmalloc.h"

#define STS_VERSION		"2011-06-15"
#define STS_CONTENT_TYPE	"application/x-www-form-urlencoded; charset=utf-8"
#define STS_CONNECT_MS		3000
#define STS_TIMEOUT_MS		10000
#define STS_ATTEMPTS		3

char *
sts_endpoint(const char *region)
{
	return ecs_endpoint_env(ECS_SVC_STS, region);
}

void
sts_init(void)
{
	xmlInitParser();
}

/* Appends "&name=value" (or "name=value" first) to b, value percent-encoded. */
static void
sts_param(struct buf *b, const char *name, const char *value)
{
	const unsigned char *s;

	if (b->len > 0)
		buf_adds(b, "&");
	buf_adds(b, name);
	buf_adds(b, "=");
	for (s = (const unsigned char *)value; *s != '\0'; s++) {
		if (isalnum(*s) || *s == '-' || *s == '_' || *s == '.' ||
		    *s == '~')
			buf_printf(b, "%c", *s);
		else
			buf_printf(b, "%%%02X", *s);
	}
}

/* The first element named name under node, depth first, or NULL. */
static xmlNode *
sts_find(xmlNode *node, const char *name)
{
	xmlNode *n, *r;

	for (n = node; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, name) == 0)
			return n;
		if ((r = sts_find(n->children, name)) != NULL)
			return r;
	}
	return NULL;
}

int
sts_xml_values(const char *body, size_t len, const char *const *names,
    char **vals, size_t n)
{
	xmlDoc *doc;
	xmlNode *node;
	xmlChar *text;
	size_t i;

	for (i = 0; i < n; i++)
		vals[i] = NULL;
	if (len > 0x7fffffff)
		return -1;
	doc = xmlReadMemory(body, (int)len, "sts.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((node = sts_find(xmlDocGetRootElement(doc), names[i])) ==
		    NULL)
			continue;
		if ((text = xmlNodeGetContent(node)) == NULL)
			continue;
		vals[i] = xstrdup((const char *)text);
		xmlFree(text);
	}
	xmlFreeDoc(doc);
	return 0;
}

/* Frees vals[0..n), zeroing each first. */
static void
sts_free_values(char **vals, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (vals[i] == NULL)
			continue;
		explicit_bzero(vals[i], strlen(vals[i]));
		free(vals[i]);
		vals[i] = NULL;
	}
}

/* The Host header of url: its authority, lower-cased. The caller frees it. */
static char *
sts_host(const char *url)
{
	const char *s = strstr(url, "://");
	char *h;
	size_t i;

	s = s != NULL ? s + 3 : url;
	h = xstrdup(s);
	h[strcspn(h, "/?#")] = '\0';
	for (i = 0; h[i] != '\0'; i++)
		h[i] = (char)tolower((unsigned char)h[i]);
	return h;
}

/* The transfer's stop function: an STS call may always give up. */
static int
sts_transfer_stop(void *arg, int on_wire)
{
	(void)on_wire;
	return creds_stopped(arg);
}

/* Turns an STS error answer (or its absence) into err for action. */
static void
sts_error(const struct sts_target *t, const char *action, long status,
    const char *body, size_t len, struct ecs_error *err)
{
	static const char *const names[] = { "Code", "Message" };
	char *vals[2];
	size_t i;

	if (body != NULL && len > 0 &&
	    sts_xml_values(body, len, names, vals, 2) == 0 &&
	    vals[0] != NULL) {
		for (i = 0; i < 2; i++)
			if (vals[i] != NULL)
				vals[i][strcspn(vals[i], "\r\n")] = '\0';
		ecs_error_set(err, ECS_E_CREDS, "STS %s at %s: %s: %s", action,
		    t->endpoint, vals[0], vals[1] != NULL ? vals[1] : "");
		snprintf(err->aws_code, sizeof(err->aws_code), "%s", vals[0]);
		sts_free_values(vals, 2);
		return;
	}
	sts_free_values(vals, 2);
	ecs_error_set(err, ECS_E_CREDS, "STS %s at %s: HTTP %ld", action,
	    t->endpoint, status);
}

/*
 * Posts the form body to STS, signed with c when it is not NULL, and
 * reads the values named names from the answer. 0, or -1 with err.
 */
static int
sts_call(const struct sts_target *t, const char *action, const char *body,
    const struct creds *c, const char *const *names, char **vals, size_t n,
    struct ecs_error *err)
{
	struct sigv4_header sh[2];
	struct sigv4_input si;
	struct sigv4_output so;
	struct http_request req;
	struct http_response resp;
	char *hdrs[6], *host, *url, why[sizeof(err->message)];
	const char *tok;
	size_t nh = 0, i;
	int attempt, rc = -1;

	memset(&so, 0, sizeof(so));
	for (i = 0; i < n; i++)
		vals[i] = NULL;
	host = sts_host(t->endpoint);
	url = xasprintf("%s/", t->endpoint);
	hdrs[nh++] = xasprintf("Content-Type: %s", STS_CONTENT_TYPE);
	hdrs[nh++] = xstrdup("Accept: text/xml");
	if (c != NULL) {
		tok = c->session_token[0] != '\0' ? c->session_token : NULL;
		sh[0].name = "Host";
		sh[0].value = host;
		sh[1].name = "Content-Type";
		sh[1].value = STS_CONTENT_TYPE;
		memset(&si, 0, sizeof(si));
		si.method = "POST";
		si.path = "/";
		si.headers = sh;
		si.nheaders = 2;
		si.body = body;
		si.body_len = strlen(body);
		si.region = t->region;
		si.service = "sts";
		si.access_key = c->access_key;
		si.secret_key = c->secret_key;
		si.session_token = tok;
		si.when = time(NULL);
		si.normalize_path = 1;
		if (sigv4_sign(&si, &so) != 0) {
			ecs_error_set(err, ECS_E_INTERNAL, "cannot sign the "
			    "STS %s request", action);
			goto done;
		}
		hdrs[nh++] = xasprintf("X-Amz-Date: %s", so.amz_date);
		if (tok != NULL)
			hdrs[nh++] = xasprintf("X-Amz-Security-Token: %s", tok);
		hdrs[nh++] = xasprintf("Authorization: %s", so.authorization);
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = (const char *const *)hdrs;
	req.nheaders = nh;
	req.body = body;
	req.body_len = strlen(body);
	req.connect_timeout_ms = STS_CONNECT_MS;
	req.timeout_ms = STS_TIMEOUT_MS;
	req.stop = sts_transfer_stop;
	req.stop_arg = (void *)t->st;
	for (attempt = 1; attempt <= STS_ATTEMPTS; attempt++) {
		if (http_do(t->pool, &req, &resp, err) != 0) {
			http_response_free(&resp);
			if (err->code == ECS_E_INTERRUPTED) {
				rc = -2;
				break;
			}
			snprintf(why, sizeof(why), "%s", err->message);
			ecs_error_set(err, ECS_E_CREDS, "STS %s at %s: no "
			    "response (%s)", action, t->endpoint, why);
			continue;
		}
		if (resp.status == 200) {
			if (sts_xml_values(resp.body.data != NULL ?
			    resp.body.data : "", resp.body.len, names, vals,
			    n) != 0)
				ecs_error_set(err, ECS_E_CREDS, "STS %s at %s: "
				    "the answer is not XML", action,
				    t->endpoint);
			else
				rc = 0;
		} else
			sts_error(t, action, resp.status, resp.body.data,
			    resp.body.len, err);
		if (resp.body.data != NULL)
			explicit_bzero(resp.body.data, resp.body.len);
		if (resp.status >= 500 && attempt < STS_ATTEMPTS) {
			http_response_free(&resp);
			continue;
		}
		http_response_free(&resp);
		break;
	}
done:
	for (i = 0; i < nh; i++) {
		explicit_bzero(hdrs[i], strlen(hdrs[i]));
		free(hdrs[i]);
	}
	sigv4_output_free(&so);
	free(host);
	free(url);
	return rc;
}

/* Reads the Credentials element of an AssumeRole* answer into out. */
static int
sts_credentials(const struct sts_target *t, const char *action,
    const char *body, const struct creds *c, struct creds *out,
    struct ecs_error *err)
{
	static const char *const names[] = { "AccessKeyId", "SecretAccessKey",
	    "SessionToken", "Expiration" };
	char *vals[4];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((rc = sts_call(t, action, body, c, names, vals, 4, err)) != 0)
		return rc;
	rc = -1;
	if (vals[0] == NULL || vals[1] == NULL || vals[2] == NULL ||
	    vals[3] == NULL ||
	    strlen(vals[0]) >= sizeof(out->access_key) ||
	    strlen(vals[1]) >= sizeof(out->secret_key) ||
	    strlen(vals[2]) >= sizeof(out->session_token) ||
	    creds_parse_time(vals[3], &out->expiration) != 0) {
		ecs_error_set(err, ECS_E_CREDS, "STS %s at %s: the answer has "
		    "no usable Credentials", action, t->endpoint);
		memset(out, 0, sizeof(*out));
		goto done;
	}
	memcpy(out->access_key, vals[0], strlen(vals[0]) + 1);
	memcpy(out->secret_key, vals[1], strlen(vals[1]) + 1);
	memcpy(out->session_token, vals[2], strlen(vals[2]) + 1);
	rc = 0;
done:
	sts_free_values(vals, 4);
	return rc;
}

int
sts_assume_role_with_web_identity(const struct sts_target *t,
    const char *role_arn, const char *session_name, const char *token,
    int duration, struct creds *out, struct ecs_error *err)
{
	struct buf b;
	char d[16];
	int rc;

	buf_init(&b);
	sts_param(&b, "Action", "AssumeRoleWithWebIdentity");
	sts_param(&b, "Version", STS_VERSION);
	sts_param(&b, "RoleArn", role_arn);
	sts_param(&b, "RoleSessionName", session_name);
	if (duration > 0) {
		snprintf(d, sizeof(d), "%d", duration);
		sts_param(&b, "DurationSeconds", d);
	}
	sts_param(&b, "WebIdentityToken", token);
	rc = sts_credentials(t, "AssumeRoleWithWebIdentity", b.data, NULL, out,
	    err);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	return rc;
}

int
sts_assume_role(const struct sts_target *t, const struct creds *src,
    const char *role_arn, const char *session_name, const char *external_id,
    int duration, struct creds *out, struct ecs_error *err)
{
	struct buf b;
	char d[16];
	int rc;

	buf_init(&b);
	sts_param(&b, "Action", "AssumeRole");
	sts_param(&b, "Version", STS_VERSION);
	sts_param(&b, "RoleArn", role_arn);
	sts_param(&b, "RoleSessionName", session_name);
	if (external_id != NULL)
		sts_param(&b, "ExternalId", external_id);
	if (duration > 0) {
		snprintf(d, sizeof(d), "%d", duration);
		sts_param(&b, "DurationSeconds", d);
	}
	rc = sts_credentials(t, "AssumeRole", b.data, src, out, err);
	buf_free(&b);
	return rc;
}

int
sts_get_caller_identity(const struct sts_target *t, const struct creds *c,
    char *arn, size_t arn_len, char *account, size_t account_len,
    struct ecs_error *err)
{
	static const char *const names[] = { "Arn", "Account" };
	char *vals[2];
	struct buf b;
	int rc = -1;

	buf_init(&b);
	sts_param(&b, "Action", "GetCallerIdentity");
	sts_param(&b, "Version", STS_VERSION);
	if (sts_call(t, "GetCallerIdentity", b.data, c, names, vals, 2,
	    err) == 0) {
		snprintf(arn, arn_len, "%s", vals[0] != NULL ? vals[0] : "");
		snprintf(account, account_len, "%s",
		    vals[1] != NULL ? vals[1] : "");
		rc = 0;
	}
	sts_free_values(vals, 2);
	buf_free(&b);
	return rc;
}
