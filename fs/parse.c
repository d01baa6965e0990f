/*
 * The control files' input parsers (DESIGN §4): each takes the bytes of
 * one write and says whether they are valid and what they mean. Pure
 * functions: no I/O, no allocation, no store.
 */
#include "fs/parse.h"

#include <stdint.h>
#include <string.h>

/*
 * Decodes the UTF-8 text of data, counting its code points into *chars.
 * Returns 1 when it is valid UTF-8 (shortest form, no surrogate, at most
 * U+10FFFF) with no control character but tab, else 0.
 */
static int
text_chars(const char *data, size_t len, size_t *chars)
{
	const unsigned char *p = (const unsigned char *)data, *end;
	size_t count = 0;

	if (len == 0) {
		if (chars != NULL)
			*chars = 0;
		return 1;
	}
	end = p + len;
	while (p < end) {
		size_t n, i;
		uint32_t cp;

		count++;
		if (*p < 0x80) {
			if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
				return 0;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else {
			return 0;
		}
		if ((size_t)(end - p) <= n)
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	if (chars != NULL)
		*chars = count;
	return 1;
}

size_t
fs_parse_chomp(const char *data, size_t len)
{
	return len > 0 && data[len - 1] == '\n' ? len - 1 : len;
}

int
fs_parse_is_text(const char *data, size_t len)
{
	return text_chars(data, len, NULL);
}

int
fs_parse_count(const char *data, size_t len, int *sign, long long *value)
{
	size_t i = 0;
	long long v = 0;
	int s = 0;

	len = fs_parse_chomp(data, len);
	if (len > 0 && (data[0] == '+' || data[0] == '-'))
		s = data[i++] == '+' ? 1 : -1;
	if (i == len || len - i > 10)
		return -1;
	for (; i < len; i++) {
		if (data[i] < '0' || data[i] > '9')
			return -1;
		v = v * 10 + (data[i] - '0');
	}
	if (v > INT32_MAX)
		return -1;
	*sign = s;
	*value = v;
	return 0;
}

int
fs_parse_stop_reason(const char *data, size_t len, size_t *reason_len)
{
	size_t chars;

	len = fs_parse_chomp(data, len);
	if (len == 0 || !text_chars(data, len, &chars) ||
	    chars > FS_PARSE_STOP_REASON_MAX)
		return -1;
	*reason_len = len;
	return 0;
}

const char *
fs_parse_instance_status(const char *data, size_t len)
{
	static const char *const states[] = { "ACTIVE", "DRAINING", NULL };
	size_t i;

	len = fs_parse_chomp(data, len);
	for (i = 0; states[i] != NULL; i++)
		if (strlen(states[i]) == len && memcmp(states[i], data, len) == 0)
			return states[i];
	return NULL;
}

int
fs_parse_flag(const char *data, size_t len, int *on)
{
	if (fs_parse_chomp(data, len) != 1 || (data[0] != '0' && data[0] != '1'))
		return -1;
	*on = data[0] == '1';
	return 0;
}

int
fs_parse_bool(const char *data, size_t len, int *on)
{
	len = fs_parse_chomp(data, len);
	if (len == 4 && memcmp(data, "true", 4) == 0)
		*on = 1;
	else if (len == 5 && memcmp(data, "false", 5) == 0)
		*on = 0;
	else
		return -1;
	return 0;
}

/* Whether s[0..len) is a family name: 1 to 255 letters, digits, '-' and '_'. */
static int
family_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > FS_PARSE_FAMILY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* Whether s[0..len) is a revision number: 1 to 2147483647, no leading zero. */
static int
revision_ok(const char *s, size_t len)
{
	long long v = 0;
	size_t i;

	if (len == 0 || len > 10 || s[0] == '0')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 2147483647LL;
}

/* Whether s[0..len) is "family" (need_rev 0) or "family:revision". */
static int
family_rev_ok(const char *s, size_t len, int need_rev)
{
	const char *colon = memchr(s, ':', len);

	if (colon == NULL)
		return !need_rev && family_ok(s, len);
	return family_ok(s, (size_t)(colon - s)) &&
	    revision_ok(colon + 1, len - (size_t)(colon - s) - 1);
}

/* Whether s[0..len) holds only characters of set (a NUL-terminated list) and is not empty. */
static int
only(const char *s, size_t len, const char *set)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

#define LOWER_DIGITS	"abcdefghijklmnopqrstuvwxyz0123456789-"

/* Whether s[0..len) names a task definition (fs_parse_task_definition). */
static int
td_ok(const char *s, size_t len)
{
	static const char res[] = "task-definition/";
	const char *p = s + 4, *end = s + len, *c;
	int field;

	if (len > FS_PARSE_TD_MAX)
		return 0;
	if (len < 4 || memcmp(s, "arn:", 4) != 0)
		return family_rev_ok(s, len, 0);
	/* partition, service, region, account: then the resource. */
	for (field = 0; field < 4; field++) {
		if ((c = memchr(p, ':', (size_t)(end - p))) == NULL)
			return 0;
		if ((field == 0 && !only(p, (size_t)(c - p), LOWER_DIGITS)) ||
		    (field == 1 && ((size_t)(c - p) != 3 || memcmp(p, "ecs", 3) != 0)) ||
		    (field == 2 && !only(p, (size_t)(c - p), LOWER_DIGITS)) ||
		    (field == 3 && ((size_t)(c - p) != 12 || !only(p, 12, "0123456789"))))
			return 0;
		p = c + 1;
	}
	if ((size_t)(end - p) <= sizeof(res) - 1 || memcmp(p, res, sizeof(res) - 1) != 0)
		return 0;
	p += sizeof(res) - 1;
	return family_rev_ok(p, (size_t)(end - p), 1);
}

int
fs_parse_task_definition(const char *data, size_t len, size_t *name_len)
{
	len = fs_parse_chomp(data, len);
	if (len == 0 || !td_ok(data, len))
		return -1;
	*name_len = len;
	return 0;
}
