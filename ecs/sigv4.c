/*
 * AWS Signature Version 4, header form: the canonical request, the string
 * to sign, the signing key derivation, the signature and the Authorization
 * value. Pure and reentrant: the time comes from the caller, no global
 * state is kept and nothing is read or written outside the arguments.
 */
#include "ecs/sigv4.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ecs/buf.h"
#include "ecs/xmalloc.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR	"aws4_request"
#define SHA256_LEN		32

/* One header as it goes into the canonical request. */
struct canon_header {
	char		*name;		/* lower-cased and trimmed; owned */
	const char	*value;		/* borrowed, canonicalised when written */
	size_t		 order;		/* position in the input, for a stable sort */
};

/* One query parameter, both halves already in canonical encoding. */
struct canon_param {
	char	*key;
	char	*value;
};

/* The whitespace that header values are trimmed and folded on. */
static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

/* The RFC 3986 unreserved characters, which are never percent-encoded. */
static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* The RFC 9110 token characters, allowed in methods and header names. */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Whether s is a non-empty token. */
static int
is_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * Whether s can be a part of the credential scope: non-empty printable
 * ASCII without spaces, slashes or commas, which would make the scope or
 * the Authorization value ambiguous.
 */
static int
is_scope_part(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',')
			return 0;
	}
	return 1;
}

/* Writes len bytes as lower-case hex plus a NUL into out. */
static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* Computes the lower-case hex SHA-256 of data into out[65]. */
static int
sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != SHA256_LEN)
		return -1;
	hex_encode(md, SHA256_LEN, out);
	return 0;
}

/* Computes HMAC-SHA256(key, msg) into out[SHA256_LEN]. */
static int
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
    unsigned char *out)
{
	unsigned int outlen = 0;

	if (keylen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out,
	    &outlen) == NULL || outlen != SHA256_LEN)
		return -1;
	return 0;
}

/* Appends s percent-encoded: all but unreserved (and '/' if keep_slash). */
static void
uri_encode(struct buf *b, const char *s, size_t len, int keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			buf_addc(b, (char)c);
		} else {
			buf_addc(b, '%');
			buf_addc(b, digits[c >> 4]);
			buf_addc(b, digits[c & 0xf]);
		}
	}
}

/* Returns the value of a hex digit, or -1. */
static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Appends s with its percent escapes decoded ('+' stays a '+'); fails on
 * a '%' that does not start a valid escape.
 */
static int
uri_decode(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			buf_addc(b, s[i]);
			continue;
		}
		if (i + 2 >= len)
			return -1;
		if (hex_value((unsigned char)s[i + 1]) < 0 ||
		    hex_value((unsigned char)s[i + 2]) < 0)
			return -1;
		buf_addc(b, (char)(hex_value((unsigned char)s[i + 1]) << 4 |
		    hex_value((unsigned char)s[i + 2])));
		i += 2;
	}
	return 0;
}

/*
 * Removes dot segments and empty segments from an absolute path, keeping
 * a trailing slash, the way AWS services (and aws-c-auth) normalise it.
 */
static void
remove_dot_segments(struct buf *out, const char *path)
{
	const char **seg;
	size_t *seglen, nseg = 0, cap = 1, i;
	const char *p, *end;
	size_t len = strlen(path);
	int trailing = len > 0 && path[len - 1] == '/';

	for (p = path; *p != '\0'; p++)
		if (*p == '/')
			cap++;
	seg = xcalloc(cap, sizeof(*seg));
	seglen = xcalloc(cap, sizeof(*seglen));

	for (p = path; p <= path + len; p = end + 1) {
		size_t n;

		if ((end = strchr(p, '/')) == NULL)
			end = path + len;
		n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
			continue;
		}
		seg[nseg] = p;
		seglen[nseg] = n;
		nseg++;
	}

	buf_addc(out, '/');
	for (i = 0; i < nseg; i++) {
		buf_add(out, seg[i], seglen[i]);
		if (i + 1 < nseg || trailing)
			buf_addc(out, '/');
	}
	free(seg);
	free(seglen);
}

/*
 * Appends the canonical URI: the path, normalised if asked, with every
 * byte but unreserved characters and '/' percent-encoded. The path is
 * taken as it goes on the wire, so an escape in it is encoded again, as
 * SigV4 does for every service but S3.
 */
static int
canonical_uri(struct buf *b, const char *path, int normalize)
{
	struct buf norm;

	if (path == NULL)
		return -1;
	if (*path == '\0')
		path = "/";
	if (*path != '/')
		return -1;
	if (!normalize) {
		uri_encode(b, path, strlen(path), 1);
		return 0;
	}
	buf_init(&norm);
	remove_dot_segments(&norm, path);
	uri_encode(b, norm.data, norm.len, 1);
	buf_free(&norm);
	return 0;
}

/* Orders query parameters by encoded key, then by encoded value. */
static int
param_cmp(const void *a, const void *b)
{
	const struct canon_param *pa = a, *pb = b;
	int c;

	if ((c = strcmp(pa->key, pb->key)) != 0)
		return c;
	return strcmp(pa->value, pb->value);
}

/* Decodes one half of a query parameter and encodes it canonically. */
static char *
recode_param(const char *s, size_t len)
{
	struct buf dec, enc;
	char *r = NULL;

	buf_init(&dec);
	buf_init(&enc);
	if (uri_decode(&dec, s, len) != 0)
		goto done;
	uri_encode(&enc, dec.data != NULL ? dec.data : "", dec.len, 0);
	r = buf_steal(&enc);
done:
	buf_free(&dec);
	buf_free(&enc);
	return r;
}

/*
 * Appends the canonical query string: parameters split on '&' (empty ones
 * dropped) and '=', decoded, re-encoded per RFC 3986, sorted by key and
 * then value, with empty values kept as "key=".
 */
static int
canonical_query(struct buf *b, const char *query)
{
	struct canon_param *params = NULL;
	size_t nparams = 0, cap = 1, i;
	const char *p, *end, *eq;
	size_t len;
	int rc = -1;

	if (query == NULL || *query == '\0')
		return 0;
	len = strlen(query);
	for (p = query; *p != '\0'; p++)
		if (*p == '&')
			cap++;
	params = xcalloc(cap, sizeof(*params));

	for (p = query; p <= query + len; p = end + 1) {
		if ((end = strchr(p, '&')) == NULL)
			end = query + len;
		if (end == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			eq = end;
		params[nparams].key = recode_param(p, (size_t)(eq - p));
		params[nparams].value = eq < end ?
		    recode_param(eq + 1, (size_t)(end - eq - 1)) : xstrdup("");
		nparams++;
		if (params[nparams - 1].key == NULL ||
		    params[nparams - 1].value == NULL)
			goto fail;
	}

	qsort(params, nparams, sizeof(*params), param_cmp);
	for (i = 0; i < nparams; i++) {
		if (i > 0)
			buf_addc(b, '&');
		buf_adds(b, params[i].key);
		buf_addc(b, '=');
		buf_adds(b, params[i].value);
	}
	rc = 0;
fail:
	for (i = 0; i < nparams; i++) {
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
	return rc;
}

/* Returns the header name trimmed and lower-cased, or NULL if invalid. */
static char *
header_name(const char *name)
{
	const char *end;
	char *r, *p;

	if (name == NULL)
		return NULL;
	while (is_space((unsigned char)*name))
		name++;
	end = name + strlen(name);
	while (end > name && is_space((unsigned char)end[-1]))
		end--;
	r = xstrndup(name, (size_t)(end - name));
	for (p = r; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!is_token(r)) {
		free(r);
		return NULL;
	}
	return r;
}

/* Appends a header value trimmed, with each run of whitespace one space. */
static void
canonical_value(struct buf *b, const char *v)
{
	int pending = 0;

	while (is_space((unsigned char)*v))
		v++;
	for (; *v != '\0'; v++) {
		if (is_space((unsigned char)*v)) {
			pending = 1;
			continue;
		}
		if (pending)
			buf_addc(b, ' ');
		pending = 0;
		buf_addc(b, *v);
	}
}

/* Orders headers by name, keeping the input order among equal names. */
static int
header_cmp(const void *a, const void *b)
{
	const struct canon_header *ha = a, *hb = b;
	int c;

	if ((c = strcmp(ha->name, hb->name)) != 0)
		return c;
	return ha->order < hb->order ? -1 : ha->order > hb->order;
}

/*
 * Collects the headers to sign: the caller's plus x-amz-date, the session
 * token and the body hash as asked. Refuses a missing host, an invalid
 * name, an Authorization header and the headers this function adds.
 */
static int
collect_headers(const struct sigv4_input *in, const char *amz_date,
    const char *token, const char *content_sha256, struct canon_header **out,
    size_t *nout)
{
	struct canon_header *h;
	size_t n = 0, i;
	int have_host = 0;

	if (in->nheaders > 0 && in->headers == NULL)
		return -1;
	h = xcalloc(in->nheaders + 3, sizeof(*h));
	for (i = 0; i < in->nheaders; i++) {
		char *name;

		if (in->headers[i].value == NULL ||
		    (name = header_name(in->headers[i].name)) == NULL)
			goto fail;
		h[n].name = name;
		h[n].value = in->headers[i].value;
		h[n].order = n;
		n++;
		if (strcmp(name, "host") == 0)
			have_host = 1;
		if (strcmp(name, "x-amz-date") == 0 ||
		    strcmp(name, "authorization") == 0 ||
		    (token != NULL &&
		    strcmp(name, "x-amz-security-token") == 0) ||
		    (content_sha256 != NULL &&
		    strcmp(name, "x-amz-content-sha256") == 0))
			goto fail;
	}
	if (!have_host)
		goto fail;

	h[n].name = xstrdup("x-amz-date");
	h[n].value = amz_date;
	h[n].order = n;
	n++;
	if (token != NULL) {
		h[n].name = xstrdup("x-amz-security-token");
		h[n].value = token;
		h[n].order = n;
		n++;
	}
	if (content_sha256 != NULL) {
		h[n].name = xstrdup("x-amz-content-sha256");
		h[n].value = content_sha256;
		h[n].order = n;
		n++;
	}
	qsort(h, n, sizeof(*h), header_cmp);
	*out = h;
	*nout = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(h[i].name);
	free(h);
	return -1;
}

/*
 * Appends the canonical header block (one "name:value" line per name,
 * repeated names joined with ',' in input order, and an empty line) and
 * writes the signed header list into signed_headers.
 */
static void
canonical_headers(struct buf *b, struct buf *signed_headers,
    const struct canon_header *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0) {
			buf_addc(b, ',');
		} else {
			if (i > 0) {
				buf_addc(b, '\n');
				buf_addc(signed_headers, ';');
			}
			buf_adds(signed_headers, h[i].name);
			buf_adds(b, h[i].name);
			buf_addc(b, ':');
		}
		canonical_value(b, h[i].value);
	}
	buf_adds(b, "\n\n");
}

/* Formats when as YYYYMMDDTHHMMSSZ and YYYYMMDD. */
static int
format_date(time_t when, char amz_date[17], char date[9])
{
	struct tm tm;
	char tmp[64];
	int n;

	if (gmtime_r(&when, &tm) == NULL)
		return -1;
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	n = snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	if (n != 16)
		return -1;
	memcpy(amz_date, tmp, 17);
	memcpy(date, tmp, 8);
	date[8] = '\0';
	return 0;
}

/*
 * Derives the signing key from the secret and the scope, then signs the
 * string to sign into hex.
 */
static int
compute_signature(const char *secret, const char *date, const char *region,
    const char *service, const char *string_to_sign, char hex[65])
{
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN], sig[SHA256_LEN];
	char *seed;
	size_t seedlen;
	int rc = -1;

	seed = xasprintf("AWS4%s", secret);
	seedlen = strlen(seed);
	if (hmac_sha256(seed, seedlen, date, strlen(date), k1) != 0 ||
	    hmac_sha256(k1, sizeof(k1), region, strlen(region), k2) != 0 ||
	    hmac_sha256(k2, sizeof(k2), service, strlen(service), k1) != 0 ||
	    hmac_sha256(k1, sizeof(k1), SIGV4_TERMINATOR,
	    strlen(SIGV4_TERMINATOR), k2) != 0 ||
	    hmac_sha256(k2, sizeof(k2), string_to_sign, strlen(string_to_sign),
	    sig) != 0)
		goto fail;
	hex_encode(sig, sizeof(sig), hex);
	rc = 0;
fail:
	OPENSSL_cleanse(seed, seedlen);
	free(seed);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	return rc;
}

/* Wipes a string that may hold a token or a signature, then frees it. */
static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/*
 * Wipes a buffer's whole allocation, then frees it. (Copies left behind
 * when the buffer grew are not reached.)
 */
static void
buf_wipe_free(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

/*
 * Gives an empty buffer room for the canonical request of in at once, so
 * that it does not grow (and leave unwiped copies of the token behind).
 */
static void
buf_reserve_for(struct buf *b, const struct sigv4_input *in)
{
	size_t n = 512, i;

	n += strlen(in->method) + 3 * strlen(in->path != NULL ? in->path : "") +
	    3 * strlen(in->query != NULL ? in->query : "");
	if (in->session_token != NULL)
		n += 2 * strlen(in->session_token);
	for (i = 0; i < in->nheaders && in->headers != NULL; i++)
		n += 2 * (strlen(in->headers[i].name != NULL ?
		    in->headers[i].name : "") + strlen(in->headers[i].value !=
		    NULL ? in->headers[i].value : "") + 2);
	b->data = xmalloc(n);
	b->cap = n;
	b->len = 0;
	b->data[0] = '\0';
}

/* Checks the fields that do not get checked while they are used. */
static int
input_valid(const struct sigv4_input *in)
{
	if (!is_token(in->method) || !is_scope_part(in->region) ||
	    !is_scope_part(in->service) || !is_scope_part(in->access_key))
		return 0;
	if (in->secret_key == NULL || *in->secret_key == '\0')
		return 0;
	if (in->body == NULL && in->body_len > 0)
		return 0;
	return 1;
}

int
sigv4_sign(const struct sigv4_input *in, struct sigv4_output *out)
{
	struct canon_header *headers = NULL;
	size_t nheaders = 0, i;
	struct buf creq, signed_headers, sts;
	char date[9], creq_hash[65];
	const char *token;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&creq);
	buf_init(&signed_headers);
	buf_init(&sts);

	if (in == NULL || !input_valid(in))
		goto fail;
	buf_reserve_for(&creq, in);
	buf_reserve_for(&signed_headers, in);
	token = in->session_token != NULL && *in->session_token != '\0' ?
	    in->session_token : NULL;
	if (format_date(in->when, out->amz_date, date) != 0)
		goto fail;
	if (sha256_hex(in->body != NULL ? in->body : "", in->body_len,
	    out->content_sha256) != 0)
		goto fail;
	if (collect_headers(in, out->amz_date, token,
	    in->sign_body ? out->content_sha256 : NULL, &headers,
	    &nheaders) != 0)
		goto fail;

	/* The canonical request. */
	buf_adds(&creq, in->method);
	buf_addc(&creq, '\n');
	if (canonical_uri(&creq, in->path, in->normalize_path) != 0)
		goto fail;
	buf_addc(&creq, '\n');
	if (canonical_query(&creq, in->query) != 0)
		goto fail;
	buf_addc(&creq, '\n');
	canonical_headers(&creq, &signed_headers, headers, nheaders);
	buf_add(&creq, signed_headers.data, signed_headers.len);
	buf_addc(&creq, '\n');
	buf_adds(&creq, out->content_sha256);

	/* The string to sign. */
	if (sha256_hex(creq.data, creq.len, creq_hash) != 0)
		goto fail;
	buf_printf(&sts, "%s\n%s\n%s/%s/%s/%s\n%s", SIGV4_ALGORITHM,
	    out->amz_date, date, in->region, in->service, SIGV4_TERMINATOR,
	    creq_hash);

	if (compute_signature(in->secret_key, date, in->region, in->service,
	    sts.data, out->signature) != 0)
		goto fail;
	out->authorization = xasprintf("%s Credential=%s/%s/%s/%s/%s, "
	    "SignedHeaders=%s, Signature=%s", SIGV4_ALGORITHM, in->access_key,
	    date, in->region, in->service, SIGV4_TERMINATOR,
	    signed_headers.data, out->signature);
	out->canonical_request = buf_steal(&creq);
	out->string_to_sign = buf_steal(&sts);
	rc = 0;
fail:
	for (i = 0; i < nheaders; i++)
		wipe_free(headers[i].name);
	free(headers);
	buf_wipe_free(&creq);
	buf_wipe_free(&signed_headers);
	buf_wipe_free(&sts);
	OPENSSL_cleanse(creq_hash, sizeof(creq_hash));
	if (rc != 0)
		sigv4_output_free(out);
	return rc;
}

void
sigv4_output_free(struct sigv4_output *out)
{
	if (out == NULL)
		return;
	wipe_free(out->canonical_request);
	wipe_free(out->string_to_sign);
	wipe_free(out->authorization);
	explicit_bzero(out, sizeof(*out));
}
