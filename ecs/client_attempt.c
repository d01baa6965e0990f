/*
 * One attempt of a call: the JSON 1.1 request to the operation's service
 * (its Host, X-Amz-Target and SigV4 service name), sent within what is
 * left of the call's budget, and its answer parsed into a result or an
 * ecs_error, scrubbed of the credentials it was signed with.
 */
#include "ecs/client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs/clock.h"
#include "ecs/config.h"
#include "ecs/creds.h"
#include "ecs/http.h"
#include "ecs/redact.h"
#include "ecs/sigv4.h"
#include "ecs/xmalloc.h"

#ifndef ECSFS_VERSION
#define ECSFS_VERSION "0.0.0"
#endif

#define JSON_CONTENT_TYPE	"application/x-amz-json-1.1"

/* client_stopping() for creds_get_stop(). */
static int
creds_stop(void *arg)
{
	return client_stopping(arg);
}

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

enum outcome
client_attempt(struct call *k, json_t **resp, struct ecs_error *err)
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
	k->permanent = 0;
	if (creds_get_stop(c->creds, &cr, creds_stop, c, err) != 0)
		goto out;

	sh[0].name = "Host";
	sh[0].value = k->ep->host;
	sh[1].name = "Content-Type";
	sh[1].value = JSON_CONTENT_TYPE;
	sh[2].name = "X-Amz-Target";
	sh[2].value = k->target;
	memset(&si, 0, sizeof(si));
	si.method = "POST";
	si.path = k->ep->path;
	si.query = NULL;
	si.headers = sh;
	si.nheaders = 3;
	si.body = k->body;
	si.body_len = strlen(k->body);
	si.region = c->cfg->region;
	si.service = k->svc->signing_name;
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

	hdrs[nh++] = xasprintf("Host: %s", k->ep->host);
	hdrs[nh++] = xasprintf("Content-Type: %s", JSON_CONTENT_TYPE);
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
	hr.url = k->ep->url;
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
		k->permanent = hresp.permanent;
		out = OUT_NO_ANSWER;
	} else if (hresp.status >= 200 && hresp.status <= 299) {
		out = parse_result(&hresp, resp, err) == 0 ? OUT_OK : OUT_ANSWER;
		if (out == OUT_ANSWER)
			err->applied = k->mutating;
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
