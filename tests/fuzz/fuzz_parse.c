/*
 * libFuzzer harness for the control files' write parsers (fs/parse.h):
 * every parser on the bytes of one write, each checked against a plain
 * reference written from the header's contract (and from Unicode's table
 * of well-formed UTF-8, Table 3-7), in both directions: what the parser
 * takes, the contract allows, and the other way round.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/parse.h"
#include "tests/fuzz/fuzz_util.h"

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

/*
 * Whether s is well-formed UTF-8 without ASCII controls but tab; counts
 * its code points into *chars.
 */
static int
ref_text(const unsigned char *s, size_t len, size_t *chars)
{
	size_t i = 0, n, k;
	unsigned char lo, hi;

	*chars = 0;
	while (i < len) {
		unsigned char c = s[i];

		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return 0;
			n = 0;
		} else if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if (s[i + k] < (k == 1 ? lo : 0x80) || s[i + k] > (k == 1 ? hi : 0xbf))
				return 0;
		}
		i += n + 1;
		(*chars)++;
	}
	return 1;
}

/* Whether s (chomped) is [+-]?[0-9]{1,10} of at most 2147483647; its sign and value. */
static int
ref_count(const char *s, size_t len, int *sign, long long *value)
{
	size_t i = 0;

	*sign = 0;
	*value = 0;
	if (len > 0 && (s[0] == '+' || s[0] == '-'))
		*sign = s[i++] == '+' ? 1 : -1;
	if (i == len || len - i > 10)
		return 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*value = *value * 10 + (s[i] - '0');
	}
	return *value <= 2147483647LL;
}

/* Whether s[0..len) matches the character class cls, one or more of it. */
static int
ref_all(const char *s, size_t len, int (*cls)(int))
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!cls((unsigned char)s[i]))
			return 0;
	return len > 0;
}

static int
family_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

static int
lower_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int
digit_char(int c)
{
	return c >= '0' && c <= '9';
}

/* A revision: 1..2147483647 written without a leading zero. */
static int
ref_revision(const char *s, size_t len)
{
	int sign;
	long long v;

	return ref_all(s, len, digit_char) && s[0] != '0' && len <= 10 &&
	    ref_count(s, len, &sign, &v) && v >= 1;
}

/*
 * A task definition from the header's contract: split at every ':' into
 * fields; "family" or "family:revision", or, for anything that starts
 * with "arn:", the seven fields of an ARN.
 */
static int
ref_task_definition(const char *s, size_t len)
{
	const char *f[8];
	size_t fl[8], n = 0, i, start = 0;
	static const char res[] = "task-definition/";

	if (len == 0 || len > FS_PARSE_TD_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == ':') {
			if (n == 8)
				return 0;
			f[n] = s + start;
			fl[n++] = i - start;
			start = i + 1;
		}
	}
	if (n > 1 && fl[0] == 3 && memcmp(f[0], "arn", 3) == 0)
		return n == 7 && ref_all(f[1], fl[1], lower_char) && fl[2] == 3 &&
		    memcmp(f[2], "ecs", 3) == 0 && ref_all(f[3], fl[3], lower_char) &&
		    fl[4] == 12 && ref_all(f[4], 12, digit_char) &&
		    fl[5] > sizeof(res) - 1 && memcmp(f[5], res, sizeof(res) - 1) == 0 &&
		    fl[5] - (sizeof(res) - 1) <= FS_PARSE_FAMILY_MAX &&
		    ref_all(f[5] + sizeof(res) - 1, fl[5] - (sizeof(res) - 1), family_char) &&
		    ref_revision(f[6], fl[6]);
	if (n > 2 || fl[0] > FS_PARSE_FAMILY_MAX || !ref_all(f[0], fl[0], family_char))
		return 0;
	return n == 1 || ref_revision(f[1], fl[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data, *st;
	size_t clen, rlen, chars;
	long long value, rvalue;
	int sign, rsign, on, ok, rok;

	/* An empty write may come with a NULL pointer. */
	if (size == 0)
		d = NULL;

	clen = fs_parse_chomp(d, size);
	if (!(clen == size || (clen == size - 1 && d[size - 1] == '\n')))
		FAIL("chomp: %zu of %zu bytes", clen, size);

	ok = fs_parse_is_text(d, size);
	rok = size == 0 || ref_text(data, size, &chars);
	if (ok != rok)
		FAIL("is_text: %d, the reference says %d", ok, rok);

	sign = 7;
	value = -7;
	ok = fs_parse_count(d, size, &sign, &value) == 0;
	rok = ref_count(d, clen, &rsign, &rvalue);
	if (ok != rok || (ok && (sign != rsign || value != rvalue)))
		FAIL("count: %d sign %d value %lld, the reference: %d sign %d value %lld",
		    ok, sign, value, rok, rsign, rvalue);

	ok = fs_parse_stop_reason(d, size, &rlen) == 0;
	rok = clen > 0 && ref_text(data, clen, &chars) && chars <= FS_PARSE_STOP_REASON_MAX;
	if (ok != rok || (ok && rlen != clen))
		FAIL("stop_reason: %d (%zu bytes), the reference says %d", ok, ok ? rlen : 0, rok);

	st = fs_parse_instance_status(d, size);
	rok = (clen == 6 && memcmp(d, "ACTIVE", 6) == 0) ||
	    (clen == 8 && memcmp(d, "DRAINING", 8) == 0);
	if ((st != NULL) != rok || (st != NULL && (strlen(st) != clen || memcmp(st, d, clen) != 0)))
		FAIL("instance_status: %s, the reference says %d", st ? st : "NULL", rok);

	ok = fs_parse_flag(d, size, &on) == 0;
	rok = clen == 1 && (d[0] == '0' || d[0] == '1');
	if (ok != rok || (ok && on != (d[0] == '1')))
		FAIL("flag: %d, the reference says %d", ok, rok);

	ok = fs_parse_bool(d, size, &on) == 0;
	rok = (clen == 4 && memcmp(d, "true", 4) == 0) || (clen == 5 && memcmp(d, "false", 5) == 0);
	if (ok != rok || (ok && on != (clen == 4)))
		FAIL("bool: %d, the reference says %d", ok, rok);

	rlen = 0;
	ok = fs_parse_task_definition(d, size, &rlen) == 0;
	rok = ref_task_definition(d, clen);
	if (ok != rok || (ok && rlen != clen))
		FAIL("task_definition: %d (%zu bytes), the reference says %d", ok, rlen, rok);
	return 0;
}
