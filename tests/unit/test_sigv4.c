/*
 * Tests of ecs/sigv4.c: every header-signing case of the official SigV4
 * suite in $ECSFS_SHARED_DIR/testdata/sigv4 (byte for byte), then a table
 * of edge cases whose expected signatures were computed with botocore.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ecs/buf.h"
#include "ecs/sigv4.h"
#include "ecs/xmalloc.h"
#include "tests/unit/check.h"

#define SECRET_EXAMPLE	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A request parsed from a suite case's request.txt. */
struct raw_request {
	char			*method;
	char			*path;
	char			*query;
	struct sigv4_header	*headers;
	size_t			 nheaders;
	char			*body;
	size_t			 body_len;
};

/* Reads a whole file into a NUL-terminated string, or returns NULL. */
static char *
slurp(const char *path, size_t *lenp)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (lenp != NULL)
		*lenp = b.len;
	return buf_steal(&b);
}

/* Reads dir/name, or returns NULL. */
static char *
slurp_in(const char *dir, const char *name, size_t *lenp)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *r = slurp(path, lenp);

	free(path);
	return r;
}

static void
raw_request_free(struct raw_request *r)
{
	size_t i;

	free(r->method);
	free(r->path);
	free(r->query);
	for (i = 0; i < r->nheaders; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Returns the length of the line at p without its "\n" or "\r\n". */
static size_t
line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		*next = end;
		n = (size_t)(end - p);
	} else {
		*next = nl + 1;
		n = (size_t)(nl - p);
	}
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/*
 * Parses a raw HTTP request: the request line (whose target may hold
 * spaces), headers with continuation lines kept as "\n" plus the line,
 * an empty line and the body.
 */
static int
parse_request(const char *text, size_t len, struct raw_request *r)
{
	const char *p = text, *end = text + len, *next, *sp, *target, *q;
	size_t n, tlen;

	memset(r, 0, sizeof(*r));
	n = line_len(p, end, &next);
	if ((sp = memchr(p, ' ', n)) == NULL)
		return -1;
	r->method = xstrndup(p, (size_t)(sp - p));
	target = sp + 1;
	tlen = n - (size_t)(target - p);
	/* The target runs up to the last space, before "HTTP/1.1". */
	while (tlen > 0 && target[tlen - 1] != ' ')
		tlen--;
	if (tlen == 0)
		return -1;
	tlen--;
	if ((q = memchr(target, '?', tlen)) != NULL) {
		r->path = xstrndup(target, (size_t)(q - target));
		r->query = xstrndup(q + 1, tlen - (size_t)(q - target) - 1);
	} else {
		r->path = xstrndup(target, tlen);
	}

	r->headers = xcalloc(1, sizeof(*r->headers));
	for (p = next; p < end; p = next) {
		const char *colon;

		n = line_len(p, end, &next);
		if (n == 0) {
			p = next;
			break;
		}
		if ((*p == ' ' || *p == '\t') && r->nheaders > 0) {
			struct sigv4_header *h = &r->headers[r->nheaders - 1];
			char *v = xasprintf("%s\n%.*s", h->value, (int)n, p);

			free((char *)h->value);
			h->value = v;
			continue;
		}
		if ((colon = memchr(p, ':', n)) == NULL)
			return -1;
		r->headers = xrealloc(r->headers,
		    (r->nheaders + 1) * sizeof(*r->headers));
		r->headers[r->nheaders].name = xstrndup(p, (size_t)(colon - p));
		r->headers[r->nheaders].value = xstrndup(colon + 1,
		    n - (size_t)(colon - p) - 1);
		r->nheaders++;
	}
	r->body_len = p < end ? (size_t)(end - p) : 0;
	r->body = xmalloc(r->body_len + 1);
	memcpy(r->body, p < end ? p : "", r->body_len);
	r->body[r->body_len] = '\0';
	return 0;
}

/* Parses "YYYY-MM-DDTHH:MM:SSZ" as UTC. */
static int
parse_timestamp(const char *s, time_t *when)
{
	struct tm tm;
	char z = '\0';

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 ||
	    z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*when = timegm(&tm);
	return 0;
}

/* Returns the value of the first "name:" line of a signed request. */
static char *
signed_header(const char *text, const char *name)
{
	const char *p = text, *end = text + strlen(text), *next;
	size_t nlen = strlen(name), n;

	for (; p < end; p = next) {
		n = line_len(p, end, &next);
		if (n == 0)
			break;
		if (n > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0)
			return xstrndup(p + nlen + 1, n - nlen - 1);
	}
	return NULL;
}

/* Signs one suite case and compares every header-form result; 0 if all match. */
static int
run_suite_case(const char *dir, const char *name)
{
	struct raw_request req;
	struct sigv4_input in;
	struct sigv4_output out;
	json_t *ctx = NULL;
	json_error_t jerr;
	char *path, *text = NULL, *creq = NULL, *sts = NULL, *sig = NULL;
	char *signed_req = NULL, *v;
	const char *token = NULL, *ts = NULL;
	int failed_before = check_failed, omit = 0, normalize = 1, sign_body = 0;
	size_t len;

	memset(&req, 0, sizeof(req));
	memset(&out, 0, sizeof(out));
	path = xasprintf("%s/context.json", dir);
	ctx = json_load_file(path, 0, &jerr);
	free(path);
	CHECK(ctx != NULL);
	if (ctx == NULL)
		goto done;
	CHECK(json_unpack_ex(ctx, &jerr, 0, "{s:{s?s}, s:s, s?b, s?b, s?b}",
	    "credentials", "token", &token, "timestamp", &ts,
	    "normalize", &normalize, "sign_body", &sign_body,
	    "omit_session_token", &omit) == 0);

	memset(&in, 0, sizeof(in));
	text = slurp_in(dir, "request.txt", &len);
	CHECK(text != NULL);
	if (text == NULL || ts == NULL)
		goto done;
	CHECK_INT(parse_request(text, len, &req), 0);
	CHECK_INT(parse_timestamp(ts, &in.when), 0);
	in.method = req.method;
	in.path = req.path;
	in.query = req.query;
	in.headers = req.headers;
	in.nheaders = req.nheaders;
	in.body = req.body;
	in.body_len = req.body_len;
	in.region = json_string_value(json_object_get(ctx, "region"));
	in.service = json_string_value(json_object_get(ctx, "service"));
	in.access_key = json_string_value(json_object_get(
	    json_object_get(ctx, "credentials"), "access_key_id"));
	in.secret_key = json_string_value(json_object_get(
	    json_object_get(ctx, "credentials"), "secret_access_key"));
	/*
	 * With omit_session_token the token goes on the request unsigned,
	 * after signing: the signer does not see it.
	 */
	in.session_token = omit ? NULL : token;
	in.normalize_path = normalize;
	in.sign_body = sign_body;

	CHECK_INT(sigv4_sign(&in, &out), 0);
	if (out.canonical_request == NULL)
		goto done;
	creq = slurp_in(dir, "header-canonical-request.txt", NULL);
	sts = slurp_in(dir, "header-string-to-sign.txt", NULL);
	sig = slurp_in(dir, "header-signature.txt", NULL);
	signed_req = slurp_in(dir, "header-signed-request.txt", NULL);
	CHECK_STR(out.canonical_request, creq);
	CHECK_STR(out.string_to_sign, sts);
	CHECK_STR(out.signature, sig);
	if (signed_req != NULL) {
		v = signed_header(signed_req, "Authorization");
		CHECK_STR(out.authorization, v);
		free(v);
		v = signed_header(signed_req, "X-Amz-Date");
		CHECK_STR(out.amz_date, v);
		free(v);
		if (sign_body) {
			v = signed_header(signed_req, "x-amz-content-sha256");
			CHECK_STR(out.content_sha256, v);
			free(v);
		}
		if (token != NULL) {
			v = signed_header(signed_req, "X-Amz-Security-Token");
			CHECK_STR(token, v);
			free(v);
		}
	} else {
		CHECK(signed_req != NULL);
	}
done:
	printf("%s %s\n", check_failed == failed_before ? "ok  " : "FAIL", name);
	sigv4_output_free(&out);
	raw_request_free(&req);
	json_decref(ctx);
	free(text);
	free(creq);
	free(sts);
	free(sig);
	free(signed_req);
	return check_failed == failed_before ? 0 : -1;
}

/* Prints the result line of a table test begun when check_failed was before. */
static void
table_result(const char *name, int before)
{
	printf("%s table: %s\n", check_failed == before ? "ok  " : "FAIL", name);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Runs every case folder (one holding context.json) of the suite in
 * sorted order. Returns the number of cases run, or -1 if the suite is
 * not there.
 */
static int
run_suite(const char *suite)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, *ctx;
	size_t n = 0, i;
	int ran = 0;

	if ((d = opendir(suite)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ctx = xasprintf("%s/%s/context.json", suite, de->d_name);
		if (access(ctx, R_OK) == 0) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
		free(ctx);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		char *dir = xasprintf("%s/%s", suite, names[i]);

		run_suite_case(dir, names[i]);
		ran++;
		free(dir);
		free(names[i]);
	}
	free(names);
	return ran;
}

/* Returns line number idx (0-based) of a canonical request, in a static buffer. */
static const char *
creq_line(const char *creq, int idx)
{
	static char line[1024];
	const char *p = creq, *nl;
	size_t n;

	for (; idx > 0 && p != NULL; idx--)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	if (p == NULL)
		return "";
	nl = strchr(p, '\n');
	n = nl != NULL ? (size_t)(nl - p) : strlen(p);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, p, n);
	line[n] = '\0';
	return line;
}

/* A minimal request to vary one field at a time. */
static void
base_input(struct sigv4_input *in, const struct sigv4_header *h, size_t nh)
{
	memset(in, 0, sizeof(*in));
	in->method = "GET";
	in->path = "/";
	in->headers = h;
	in->nheaders = nh;
	in->region = "us-east-1";
	in->service = "service";
	in->access_key = "AKIDEXAMPLE";
	in->secret_key = SECRET_EXAMPLE;
	in->when = 1440938160;	/* 20150830T123600Z, as in the suite */
	in->normalize_path = 1;
}

/* An ECS JSON 1.1 call with a session token; expected values from botocore. */
static void
test_ecs_call(void)
{
	static const struct sigv4_header h[] = {
		{ "Host", "ecs.us-west-2.amazonaws.com" },
		{ "Content-Type", "application/x-amz-json-1.1" },
		{ "X-Amz-Target",
		    "AmazonEC2ContainerServiceV20141113.ListClusters" },
	};
	struct sigv4_input in;
	struct sigv4_output out;
	int before = check_failed;

	base_input(&in, h, 3);
	in.method = "POST";
	in.body = "{}";
	in.body_len = 2;
	in.region = "us-west-2";
	in.service = "ecs";
	in.session_token = "FQoGZXIvYXdzEXAMPLETOKEN//+==";
	in.when = 1700000000;
	CHECK_INT(sigv4_sign(&in, &out), 0);
	CHECK_STR(out.canonical_request, "POST\n/\n\n"
	    "content-type:application/x-amz-json-1.1\n"
	    "host:ecs.us-west-2.amazonaws.com\n"
	    "x-amz-date:20231114T221320Z\n"
	    "x-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN//+==\n"
	    "x-amz-target:AmazonEC2ContainerServiceV20141113.ListClusters\n\n"
	    "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
	    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	CHECK_STR(out.amz_date, "20231114T221320Z");
	CHECK_STR(out.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
	    "20231114/us-west-2/ecs/aws4_request, SignedHeaders=content-type;"
	    "host;x-amz-date;x-amz-security-token;x-amz-target, Signature="
	    "079ddb6bfa4bd5e143dd012fc587808e3965d8c98e40d0e34572c59436bfca5b");
	sigv4_output_free(&out);
	table_result("ecs call with session token", before);
}

/* An empty body, signed: the empty hash is both the header and the payload. */
static void
test_empty_body_signed(void)
{
	static const struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" },
	};
	struct sigv4_input in;
	struct sigv4_output out;
	int before = check_failed;

	base_input(&in, h, 1);
	in.region = "eu-central-1";
	in.when = 951782400;	/* 2000-02-29, a leap day */
	in.sign_body = 1;
	CHECK_INT(sigv4_sign(&in, &out), 0);
	CHECK_STR(out.content_sha256, EMPTY_SHA256);
	CHECK_STR(out.canonical_request, "GET\n/\n\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-content-sha256:" EMPTY_SHA256 "\n"
	    "x-amz-date:20000229T000000Z\n\n"
	    "host;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256);
	CHECK_STR(out.signature,
	    "5700dab7f5d3c4421ed41bb98d538306d802cde10c39b40feab2879c90403a4a");
	sigv4_output_free(&out);
	table_result("empty body, signed", before);
}

/* An empty session token is no token; the vanilla case signature holds. */
static void
test_empty_token(void)
{
	static const struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" },
	};
	struct sigv4_input in;
	struct sigv4_output out;
	int before = check_failed;

	base_input(&in, h, 1);
	in.session_token = "";
	CHECK_INT(sigv4_sign(&in, &out), 0);
	CHECK_STR(creq_line(out.canonical_request, 6), "host;x-amz-date");
	CHECK_STR(out.signature,
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	CHECK_STR(out.content_sha256, EMPTY_SHA256);
	sigv4_output_free(&out);
	table_result("empty session token", before);
}

/* Canonical URI and query string edge cases. */
static void
test_uri_and_query(void)
{
	static const struct {
		const char	*path;
		int		 normalize;
		const char	*query;
		const char	*want_uri;
		const char	*want_query;
	} t[] = {
		{ "/a/./b/../c//", 1, NULL, "/a/c/", "" },
		{ "", 1, "", "/", "" },
		{ "/..", 1, NULL, "/", "" },
		{ "/a/b/.", 1, NULL, "/a/b", "" },
		{ "/%20x", 1, NULL, "/%2520x", "" },
		{ "/a/../b", 0, NULL, "/a/../b", "" },
		{ "/\xc3\xa9 +", 0, NULL, "/%C3%A9%20%2B", "" },
		{ "/", 1, "b=2&a=%e1%88%b4&a=1&c&a+b=x%20y",
		    "/", "a=%E1%88%B4&a=1&a%2Bb=x%20y&b=2&c=" },
		{ "/", 1, "&&x=&=v&%41=%7e", "/", "=v&A=~&x=" },
		{ "/", 1, "k=a=b", "/", "k=a%3Db" },
	};
	static const struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" },
	};
	struct sigv4_input in;
	struct sigv4_output out;
	int before = check_failed;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		base_input(&in, h, 1);
		in.path = t[i].path;
		in.normalize_path = t[i].normalize;
		in.query = t[i].query;
		CHECK_INT(sigv4_sign(&in, &out), 0);
		if (out.canonical_request == NULL)
			continue;
		CHECK_STR(creq_line(out.canonical_request, 1), t[i].want_uri);
		CHECK_STR(creq_line(out.canonical_request, 2), t[i].want_query);
		sigv4_output_free(&out);
	}
	table_result("canonical URI and query", before);
}

/* Header names trimmed and lower-cased, values trimmed and folded, joined. */
static void
test_headers(void)
{
	static const struct sigv4_header h[] = {
		{ " X-A ", "  1 \t  2 " },
		{ "host", "example.amazonaws.com" },
		{ "x-a", "\t3" },
		{ "X-B", "" },
		{ "x-c", " \r\n " },
	};
	struct sigv4_input in;
	struct sigv4_output out;
	int before = check_failed;

	base_input(&in, h, 5);
	CHECK_INT(sigv4_sign(&in, &out), 0);
	CHECK_STR(creq_line(out.canonical_request, 3), "host:example.amazonaws.com");
	CHECK_STR(creq_line(out.canonical_request, 4), "x-a:1 2,3");
	CHECK_STR(creq_line(out.canonical_request, 5), "x-amz-date:20150830T123600Z");
	CHECK_STR(creq_line(out.canonical_request, 6), "x-b:");
	CHECK_STR(creq_line(out.canonical_request, 7), "x-c:");
	CHECK_STR(creq_line(out.canonical_request, 9), "host;x-a;x-amz-date;x-b;x-c");
	sigv4_output_free(&out);

	base_input(&in, h + 1, 1);
	in.when = 0;
	CHECK_INT(sigv4_sign(&in, &out), 0);
	CHECK_STR(out.amz_date, "19700101T000000Z");
	sigv4_output_free(&out);
	table_result("header canonicalisation", before);
}

/* Malformed input fails and leaves the output empty. */
static void
test_malformed(void)
{
	static const struct sigv4_header host[] = {
		{ "Host", "example.amazonaws.com" },
	};
	static const struct sigv4_header nohost[] = {
		{ "X-A", "1" },
	};
	static const struct sigv4_header date[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	static const struct sigv4_header tok[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Security-Token", "t" },
	};
	static const struct sigv4_header badname[] = {
		{ "Host", "example.amazonaws.com" },
		{ "Bad Name", "1" },
	};
	struct sigv4_input in;
	struct sigv4_output out;
	int before = check_failed;
	int i;

	for (i = 0; i < 11; i++) {
		base_input(&in, host, 1);
		switch (i) {
		case 0:
			in.headers = nohost;
			break;
		case 1:
			in.headers = date;
			in.nheaders = 2;
			break;
		case 2:
			in.headers = tok;
			in.nheaders = 2;
			in.session_token = "s";
			break;
		case 3:
			in.headers = badname;
			in.nheaders = 2;
			break;
		case 4:
			in.query = "a=%zz";
			break;
		case 5:
			in.query = "a=%4";
			break;
		case 6:
			in.path = "relative";
			break;
		case 7:
			in.method = NULL;
			break;
		case 8:
			in.secret_key = "";
			break;
		case 9:
			in.region = "us/east";
			break;
		case 10:
			in.when = (time_t)253402300800LL;	/* year 10000 */
			break;
		}
		CHECK_INT(sigv4_sign(&in, &out), -1);
		CHECK(out.canonical_request == NULL && out.string_to_sign == NULL &&
		    out.authorization == NULL && out.signature[0] == '\0' &&
		    out.amz_date[0] == '\0');
		sigv4_output_free(&out);
	}
	/* The same token header is fine when the signer adds none. */
	base_input(&in, tok, 2);
	CHECK_INT(sigv4_sign(&in, &out), 0);
	CHECK_STR(creq_line(out.canonical_request, 7),
	    "host;x-amz-date;x-amz-security-token");
	sigv4_output_free(&out);
	table_result("malformed input", before);
}

int
main(void)
{
	const char *shared = getenv("ECSFS_SHARED_DIR");
	char *suite;
	int ran;

	test_ecs_call();
	test_empty_body_signed();
	test_empty_token();
	test_uri_and_query();
	test_headers();
	test_malformed();

	suite = xasprintf("%s/testdata/sigv4",
	    shared != NULL && *shared != '\0' ? shared : "../shared");
	ran = run_suite(suite);
	if (ran <= 0) {
		int rc;
		char *why = xasprintf("no SigV4 test suite case folders in %s "
		    "(set ECSFS_SHARED_DIR to the shared folder)", suite);

		free(suite);
		if (check_failed > 0)
			rc = check_done();
		else
			rc = check_skip(why);
		free(why);
		return rc;
	}
	printf("%d suite cases run from %s\n", ran, suite);
	free(suite);
	return check_done();
}
