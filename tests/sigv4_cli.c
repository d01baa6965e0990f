/*
 * Signs requests described as JSON on stdin with sigv4_sign() and prints
 * the results as JSON on stdout, for the differential test against
 * botocore's signer. The input is one object, or an array of them:
 *
 *	{"method", "path", "query", "headers": [[name, value], ...],
 *	 "body" (a string) or "body_b64", "region", "service", "access_key",
 *	 "secret_key", "session_token", "when" (unix seconds),
 *	 "normalize_path" (default true), "sign_body" (default false)}
 *
 * Each result is {"canonical_request", "string_to_sign", "signature",
 * "authorization", "amz_date", "content_sha256"}, or {"error"} for a
 * request that could not be signed. Exit status: 0 if every request was
 * signed, 1 if one was not, 2 if the input could not be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ecs/sigv4.h"
#include "ecs/xmalloc.h"

/* Returns a string member, NULL if absent; sets *bad if not a string. */
static const char *
get_str(const json_t *obj, const char *key, int *bad)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

/* Returns a boolean (or integer) member, def when absent. */
static int
get_flag(const json_t *obj, const char *key, int def, int *bad)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return def;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	*bad = 1;
	return def;
}

/* Decodes padded base64 into a new buffer; returns its length or -1. */
static long
base64_decode(const char *s, unsigned char **out)
{
	size_t len = strlen(s), pad = 0;
	int n;

	*out = xmalloc(len / 4 * 3 + 3);
	if (len % 4 != 0)
		goto fail;
	if (len > 0 && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	if (len > (size_t)0x7fffffff)
		goto fail;
	if ((n = EVP_DecodeBlock(*out, (const unsigned char *)s,
	    (int)len)) < 0 || (size_t)n < pad)
		goto fail;
	return (long)((size_t)n - pad);
fail:
	free(*out);
	*out = NULL;
	return -1;
}

/* Returns {"error": msg}. */
static json_t *
error_result(const char *msg)
{
	return json_pack("{s:s}", "error", msg);
}

/* Signs the request one object describes; returns its result object. */
static json_t *
sign_one(const json_t *req)
{
	struct sigv4_input in;
	struct sigv4_output out;
	struct sigv4_header *headers = NULL;
	unsigned char *body = NULL;
	const json_t *hs, *when, *h;
	const char *b64;
	json_t *res = NULL;
	size_t i;
	long blen;
	int bad = 0;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	if (!json_is_object(req))
		return error_result("request is not an object");
	in.method = get_str(req, "method", &bad);
	in.path = get_str(req, "path", &bad);
	in.query = get_str(req, "query", &bad);
	in.region = get_str(req, "region", &bad);
	in.service = get_str(req, "service", &bad);
	in.access_key = get_str(req, "access_key", &bad);
	in.secret_key = get_str(req, "secret_key", &bad);
	in.session_token = get_str(req, "session_token", &bad);
	in.normalize_path = get_flag(req, "normalize_path", 1, &bad);
	in.sign_body = get_flag(req, "sign_body", 0, &bad);
	when = json_object_get(req, "when");
	if (json_is_integer(when))
		in.when = (time_t)json_integer_value(when);
	else if (json_is_real(when))
		in.when = (time_t)json_real_value(when);
	else
		bad = 1;
	if (bad)
		return error_result("a member is missing or has the wrong type");

	if ((b64 = get_str(req, "body_b64", &bad)) != NULL) {
		if ((blen = base64_decode(b64, &body)) < 0)
			return error_result("body_b64 is not base64");
		in.body = body;
		in.body_len = (size_t)blen;
	} else if (bad) {
		return error_result("body_b64 is not a string");
	} else if (json_is_string(json_object_get(req, "body"))) {
		in.body = json_string_value(json_object_get(req, "body"));
		in.body_len = json_string_length(json_object_get(req, "body"));
	}

	hs = json_object_get(req, "headers");
	if (hs != NULL && !json_is_array(hs)) {
		res = error_result("headers is not an array");
		goto done;
	}
	in.nheaders = json_array_size(hs);
	headers = xcalloc(in.nheaders + 1, sizeof(*headers));
	json_array_foreach(hs, i, h) {
		if (!json_is_array(h) || json_array_size(h) != 2 ||
		    !json_is_string(json_array_get(h, 0)) ||
		    !json_is_string(json_array_get(h, 1))) {
			res = error_result("a header is not [name, value]");
			goto done;
		}
		headers[i].name = json_string_value(json_array_get(h, 0));
		headers[i].value = json_string_value(json_array_get(h, 1));
	}
	in.headers = headers;

	if (sigv4_sign(&in, &out) != 0) {
		res = error_result("sigv4_sign refused the request");
		goto done;
	}
	res = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
	    "canonical_request", out.canonical_request,
	    "string_to_sign", out.string_to_sign,
	    "signature", out.signature,
	    "authorization", out.authorization,
	    "amz_date", out.amz_date,
	    "content_sha256", out.content_sha256);
	if (res == NULL)
		res = error_result("result is not valid UTF-8");
done:
	sigv4_output_free(&out);
	free(headers);
	free(body);
	return res;
}

/* Whether a result is an error. */
static int
is_error(const json_t *res)
{
	return res == NULL || json_object_get(res, "error") != NULL;
}

int
main(void)
{
	json_t *input, *output, *req, *res;
	json_error_t jerr;
	size_t i;
	int failed = 0;

	if ((input = json_loadf(stdin, 0, &jerr)) == NULL) {
		fprintf(stderr, "sigv4_cli: stdin: line %d: %s\n", jerr.line,
		    jerr.text);
		return 2;
	}
	if (json_is_array(input)) {
		output = json_array();
		json_array_foreach(input, i, req) {
			res = sign_one(req);
			failed |= is_error(res);
			json_array_append_new(output, res);
		}
	} else {
		output = sign_one(input);
		failed |= is_error(output);
	}
	if (output == NULL || json_dumpf(output, stdout, JSON_COMPACT) != 0) {
		fprintf(stderr, "sigv4_cli: cannot write the results\n");
		failed = 2;
	}
	putchar('\n');
	json_decref(input);
	json_decref(output);
	return failed;
}
