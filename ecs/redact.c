/*
 * ecs_redact(): marks every byte that belongs to a secret, then writes
 * the text back with each run of marked bytes as one "<redacted>".
 */
#include "ecs/redact.h"

#include <stdlib.h>
#include <string.h>

#include "ecs/xmalloc.h"

#define TOKEN_NAME	"x-amz-security-token"
/* The shortest cut-off start of a secret that is still redacted. */
#define CUT_MIN		4

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Whether the len bytes at s equal pat, ignoring case. */
static int
match_at(const char *s, const char *pat, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lower((unsigned char)s[i]) != lower((unsigned char)pat[i]))
			return 0;
	return 1;
}

/* Whether c ends a token value. */
static int
value_end(int c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v' || c == '"' || c == '\'' || c == ',' ||
	    c == ';';
}

/* Marks the values of X-Amz-Security-Token headers and parameters. */
static void
mark_token_values(const char *text, size_t len, unsigned char *mask)
{
	size_t nlen = strlen(TOKEN_NAME), i, v;

	for (i = 0; i + nlen < len; i++) {
		if (!match_at(text + i, TOKEN_NAME, nlen))
			continue;
		v = i + nlen;
		if (text[v] != ':' && text[v] != '=')
			continue;
		for (v++; v < len && (text[v] == ' ' || text[v] == '\t'); v++)
			;
		for (; v < len && !value_end((unsigned char)text[v]); v++)
			mask[v] = 1;
	}
}

/*
 * Marks every occurrence of secret, overlapping ones included. When the
 * text fills its buffer (it was probably cut), a tail of at least
 * CUT_MIN bytes that begins the secret is marked too.
 */
static void
mark_secret(const char *text, size_t len, int full, const char *secret,
    unsigned char *mask)
{
	size_t slen = strlen(secret), i, tail;

	if (slen == 0)
		return;
	for (i = 0; i + slen <= len; i++)
		if (match_at(text + i, secret, slen))
			memset(mask + i, 1, slen);
	if (!full)
		return;
	for (tail = slen - 1 < len ? slen - 1 : len; tail >= CUT_MIN &&
	    tail >= 1; tail--)
		if (match_at(text + len - tail, secret, tail)) {
			memset(mask + len - tail, 1, tail);
			break;
		}
}

void
ecs_redact(char *text, size_t size, const char *const *secrets, size_t n)
{
	static const char repl[] = ECS_REDACTED;
	unsigned char *mask;
	char *out;
	size_t len, i, o = 0, k;
	int any = 0, full;

	if (text == NULL || size == 0)
		return;
	len = strnlen(text, size);
	if (len == size) {
		/* Not terminated: treat the last byte as the end. */
		len = size - 1;
		text[len] = '\0';
	}
	if (len == 0)
		return;
	full = len == size - 1;
	mask = xcalloc(len, 1);
	mark_token_values(text, len, mask);
	for (k = 0; k < n; k++)
		if (secrets != NULL && secrets[k] != NULL)
			mark_secret(text, len, full, secrets[k], mask);
	for (i = 0; i < len && !any; i++)
		any = mask[i];
	if (!any) {
		free(mask);
		return;
	}
	out = xmalloc(size);
	for (i = 0; i < len;) {
		if (!mask[i]) {
			if (o + 1 >= size)
				break;
			out[o++] = text[i++];
			continue;
		}
		while (i < len && mask[i])
			i++;
		/* A cut replacement is harmless; a cut secret is not written at all. */
		for (k = 0; repl[k] != '\0' && o + 1 < size; k++)
			out[o++] = repl[k];
	}
	out[o] = '\0';
	memcpy(text, out, o + 1);
	explicit_bzero(out, size);
	free(out);
	explicit_bzero(mask, len);
	free(mask);
}
