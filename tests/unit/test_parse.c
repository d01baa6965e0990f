/*
 * Unit tests for fs/parse.c: the control files' input parsers, one table
 * per parser, each case with its exact bytes (NULs and invalid UTF-8
 * included) and the answer it must give.
 */
#include <stdio.h>
#include <string.h>

#include "fs/parse.h"
#include "tests/unit/check.h"

/* A byte string with its length, so that embedded NULs count. */
#define B(s) s, sizeof(s) - 1

/* 'c' repeated n times, then tail, into out (NUL-terminated); returns the length. */
static size_t
repeat(char *out, size_t size, const char *c, size_t n, const char *tail)
{
	size_t len = 0, cl = strlen(c), tl = strlen(tail);

	while (n-- > 0 && len + cl < size) {
		memcpy(out + len, c, cl);
		len += cl;
	}
	if (len + tl < size) {
		memcpy(out + len, tail, tl);
		len += tl;
	}
	out[len] = '\0';
	return len;
}

struct chomp_case {
	const char	*data;
	size_t		 len;
	size_t		 want;
};

static void
test_chomp(void)
{
	static const struct chomp_case t[] = {
		{ B(""), 0 },
		{ B("\n"), 0 },
		{ B("5"), 1 },
		{ B("5\n"), 1 },
		{ B("5\n\n"), 2 },	/* only one newline goes */
		{ B("5\r\n"), 2 },	/* a carriage return stays */
		{ B("\n5"), 2 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (fs_parse_chomp(t[i].data, t[i].len) != t[i].want)
			fprintf(stderr, "chomp case %zu\n", i);
		CHECK_INT(fs_parse_chomp(t[i].data, t[i].len), t[i].want);
	}
}

struct text_case {
	const char	*data;
	size_t		 len;
	int		 want;
};

static void
test_is_text(void)
{
	static const struct text_case t[] = {
		{ B(""), 1 },
		{ B("hello"), 1 },
		{ B("tab\there"), 1 },
		{ B("caf\xc3\xa9"), 1 },		/* é */
		{ B("\xe2\x82\xac"), 1 },		/* € */
		{ B("\xf0\x9f\x98\x80"), 1 },		/* U+1F600 */
		{ B("\xf4\x8f\xbf\xbf"), 1 },		/* U+10FFFF */
		{ B("\xef\xbf\xbf"), 1 },		/* U+FFFF */
		{ B("\xc2\x80"), 1 },			/* U+0080, a C1 control: allowed */
		{ B("line\n"), 0 },			/* newline is a control */
		{ B("cr\r"), 0 },
		{ B("nul\0x"), 0 },
		{ B("\x7f"), 0 },			/* DEL */
		{ B("\x1b[0m"), 0 },			/* ESC */
		{ B("\x80"), 0 },			/* stray continuation */
		{ B("\xc3"), 0 },			/* truncated */
		{ B("\xe2\x82"), 0 },			/* truncated */
		{ B("\xf0\x9f\x98"), 0 },		/* truncated */
		{ B("\xc3\x28"), 0 },			/* bad continuation */
		{ B("\xc0\xaf"), 0 },			/* overlong / */
		{ B("\xc1\xbf"), 0 },			/* overlong */
		{ B("\xe0\x80\xaf"), 0 },		/* overlong */
		{ B("\xf0\x80\x80\xaf"), 0 },		/* overlong */
		{ B("\xed\xa0\x80"), 0 },		/* surrogate U+D800 */
		{ B("\xed\xbf\xbf"), 0 },		/* surrogate U+DFFF */
		{ B("\xf4\x90\x80\x80"), 0 },		/* U+110000 */
		{ B("\xf8\x88\x80\x80\x80"), 0 },	/* 5-byte form */
		{ B("\xfe"), 0 },
		{ B("\xff"), 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (fs_parse_is_text(t[i].data, t[i].len) != t[i].want)
			fprintf(stderr, "is_text case %zu\n", i);
		CHECK_INT(fs_parse_is_text(t[i].data, t[i].len), t[i].want);
	}
}

struct count_case {
	const char	*data;
	size_t		 len;
	int		 rc;
	int		 sign;
	long long	 value;
};

static void
test_count(void)
{
	static const struct count_case t[] = {
		{ B("0"), 0, 0, 0 },
		{ B("5"), 0, 0, 5 },
		{ B("5\n"), 0, 0, 5 },
		{ B("+1"), 0, 1, 1 },
		{ B("+1\n"), 0, 1, 1 },
		{ B("-3\n"), 0, -1, 3 },
		{ B("+0"), 0, 1, 0 },
		{ B("-0"), 0, -1, 0 },
		{ B("007"), 0, 0, 7 },
		{ B("2147483647"), 0, 0, 2147483647LL },
		{ B("+2147483647"), 0, 1, 2147483647LL },
		{ B("-2147483647\n"), 0, -1, 2147483647LL },
		{ B("0000000001"), 0, 0, 1 },		/* ten digits */
		{ B("2147483648"), -1, 0, 0 },
		{ B("9999999999"), -1, 0, 0 },
		{ B("00000000001"), -1, 0, 0 },		/* eleven digits */
		{ B("99999999999999999999"), -1, 0, 0 },
		{ B(""), -1, 0, 0 },
		{ B("\n"), -1, 0, 0 },
		{ B("+"), -1, 0, 0 },
		{ B("-\n"), -1, 0, 0 },
		{ B("++1"), -1, 0, 0 },
		{ B("+-1"), -1, 0, 0 },
		{ B(" 5"), -1, 0, 0 },
		{ B("5 "), -1, 0, 0 },
		{ B("5\n\n"), -1, 0, 0 },
		{ B("5\r\n"), -1, 0, 0 },
		{ B("\t5"), -1, 0, 0 },
		{ B("5x"), -1, 0, 0 },
		{ B("0x10"), -1, 0, 0 },
		{ B("1e3"), -1, 0, 0 },
		{ B("1.5"), -1, 0, 0 },
		{ B("5\0"), -1, 0, 0 },
		{ B("\xd9\xa5"), -1, 0, 0 },		/* Arabic-Indic digit five */
		{ B("abc"), -1, 0, 0 },
	};
	size_t i;
	long long value;
	int sign, rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sign = 99;
		value = -99;
		rc = fs_parse_count(t[i].data, t[i].len, &sign, &value);
		if (rc != t[i].rc || (rc == 0 && (sign != t[i].sign || value != t[i].value)))
			fprintf(stderr, "count case %zu\n", i);
		CHECK_INT(rc, t[i].rc);
		if (t[i].rc == 0) {
			CHECK_INT(sign, t[i].sign);
			CHECK_INT(value, t[i].value);
		}
	}
}

struct reason_case {
	const char	*data;
	size_t		 len;
	int		 rc;
	size_t		 reason_len;
};

static void
test_stop_reason_table(void)
{
	static const struct reason_case t[] = {
		{ B("x"), 0, 1 },
		{ B("x\n"), 0, 1 },
		{ B("deploy went bad\n"), 0, 15 },
		{ B("tab\tok"), 0, 6 },
		{ B("caf\xc3\xa9\n"), 0, 5 },
		{ B(""), -1, 0 },
		{ B("\n"), -1, 0 },
		{ B("two\nlines"), -1, 0 },
		{ B("two\nlines\n"), -1, 0 },
		{ B("x\n\n"), -1, 0 },
		{ B("nul\0"), -1, 0 },
		{ B("\xff"), -1, 0 },
		{ B("\xc3\n"), -1, 0 },
		{ B("\x1b"), -1, 0 },
	};
	size_t i, got;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = 9999;
		rc = fs_parse_stop_reason(t[i].data, t[i].len, &got);
		if (rc != t[i].rc || (rc == 0 && got != t[i].reason_len))
			fprintf(stderr, "stop_reason case %zu\n", i);
		CHECK_INT(rc, t[i].rc);
		if (t[i].rc == 0)
			CHECK_INT(got, t[i].reason_len);
	}
}

/* One reason of n copies of a character, with or without a newline. */
struct reason_len_case {
	const char	*unit;
	size_t		 n;
	const char	*tail;
	int		 rc;
};

/* The limit counts characters (code points), not bytes. */
static void
test_stop_reason_length(void)
{
	static const struct reason_len_case t[] = {
		{ "a", 255, "", 0 },
		{ "a", 255, "\n", 0 },
		{ "a", 256, "", -1 },
		{ "a", 256, "\n", -1 },
		{ "\xc3\xa9", 129, "\n", 0 },		/* 258 bytes, 129 characters */
		{ "\xc3\xa9", 255, "", 0 },		/* 510 bytes */
		{ "\xc3\xa9", 256, "", -1 },
		{ "\xe2\x82\xac", 255, "\n", 0 },	/* 765 bytes */
		{ "\xe2\x82\xac", 256, "\n", -1 },
		{ "\xf0\x9f\x98\x80", 255, "", 0 },	/* 1020 bytes */
		{ "\xf0\x9f\x98\x80", 256, "", -1 },
		{ "a", 4096, "", -1 },
	};
	char buf[8192];
	size_t i, len, got;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		len = repeat(buf, sizeof(buf), t[i].unit, t[i].n, t[i].tail);
		got = 0;
		rc = fs_parse_stop_reason(buf, len, &got);
		if (rc != t[i].rc)
			fprintf(stderr, "stop_reason length case %zu\n", i);
		CHECK_INT(rc, t[i].rc);
		if (t[i].rc == 0)
			CHECK_INT(got, len - strlen(t[i].tail));
	}
}

struct status_case {
	const char	*data;
	size_t		 len;
	const char	*want;	/* NULL: refused */
};

static void
test_instance_status(void)
{
	static const struct status_case t[] = {
		{ B("ACTIVE"), "ACTIVE" },
		{ B("ACTIVE\n"), "ACTIVE" },
		{ B("DRAINING"), "DRAINING" },
		{ B("DRAINING\n"), "DRAINING" },
		{ B("draining"), NULL },
		{ B("Active"), NULL },
		{ B("ACTIVE "), NULL },
		{ B(" ACTIVE"), NULL },
		{ B("ACTIVE\n\n"), NULL },
		{ B("ACTIVE\r\n"), NULL },
		{ B("ACTIV"), NULL },
		{ B("ACTIVEX"), NULL },
		{ B("ACTIVE\0"), NULL },
		{ B("INACTIVE"), NULL },
		{ B("REGISTERING"), NULL },
		{ B(""), NULL },
		{ B("\n"), NULL },
	};
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = fs_parse_instance_status(t[i].data, t[i].len);
		if (t[i].want == NULL) {
			if (got != NULL)
				fprintf(stderr, "instance_status case %zu: got %s\n", i, got);
			CHECK(got == NULL);
		} else {
			CHECK_STR(got, t[i].want);
		}
	}
}

struct flag_case {
	const char	*data;
	size_t		 len;
	int		 rc;
	int		 on;
};

static void
test_flag(void)
{
	static const struct flag_case t[] = {
		{ B("0"), 0, 0 },
		{ B("1"), 0, 1 },
		{ B("0\n"), 0, 0 },
		{ B("1\n"), 0, 1 },
		{ B(""), -1, 0 },
		{ B("\n"), -1, 0 },
		{ B("2"), -1, 0 },
		{ B("01"), -1, 0 },
		{ B("1\n\n"), -1, 0 },
		{ B("true"), -1, 0 },
		{ B(" 1"), -1, 0 },
		{ B("1\0"), -1, 0 },
	};
	size_t i;
	int on, rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		on = 99;
		rc = fs_parse_flag(t[i].data, t[i].len, &on);
		if (rc != t[i].rc || (rc == 0 && on != t[i].on))
			fprintf(stderr, "flag case %zu\n", i);
		CHECK_INT(rc, t[i].rc);
		if (t[i].rc == 0)
			CHECK_INT(on, t[i].on);
	}
}

static void
test_bool(void)
{
	static const struct flag_case t[] = {
		{ B("true"), 0, 1 },
		{ B("false"), 0, 0 },
		{ B("true\n"), 0, 1 },
		{ B("false\n"), 0, 0 },
		{ B(""), -1, 0 },
		{ B("\n"), -1, 0 },
		{ B("True"), -1, 0 },
		{ B("1"), -1, 0 },
		{ B("yes"), -1, 0 },
		{ B("true\n\n"), -1, 0 },
		{ B(" true"), -1, 0 },
		{ B("true\0"), -1, 0 },
		{ B("falsey"), -1, 0 },
	};
	size_t i;
	int on, rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		on = 99;
		rc = fs_parse_bool(t[i].data, t[i].len, &on);
		if (rc != t[i].rc || (rc == 0 && on != t[i].on))
			fprintf(stderr, "bool case %zu\n", i);
		CHECK_INT(rc, t[i].rc);
		if (t[i].rc == 0)
			CHECK_INT(on, t[i].on);
	}
}

struct td_case {
	const char	*data;
	size_t		 len;
	int		 rc;
	size_t		 name_len;
};

static void
test_task_definition(void)
{
	static const struct td_case t[] = {
		{ B("api:3"), 0, 5 },
		{ B("api:3\n"), 0, 5 },
		{ B("api"), 0, 3 },
		{ B("my_app-2"), 0, 8 },
		{ B("api:2147483647"), 0, 14 },
		{ B("arn:aws:ecs:us-east-1:123456789012:task-definition/api:3"), 0, 56 },
		{ B("arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/api:12\n"), 0, 61 },
		{ B(""), -1, 0 },
		{ B("\n"), -1, 0 },
		{ B("api:"), -1, 0 },
		{ B(":3"), -1, 0 },
		{ B("api:0"), -1, 0 },
		{ B("api:03"), -1, 0 },
		{ B("api:2147483648"), -1, 0 },
		{ B("api:3:4"), -1, 0 },
		{ B("api 3"), -1, 0 },
		{ B("api:3\n\n"), -1, 0 },
		{ B("ap\xc3\xa9"), -1, 0 },
		{ B("api:-1"), -1, 0 },
		{ B("arn:aws:ecs:us-east-1:123456789012:task-definition/api"), -1, 0 },
		{ B("arn:aws:ecs:us-east-1:12345678901:task-definition/api:3"), -1, 0 },
		{ B("arn:aws:iam:us-east-1:123456789012:task-definition/api:3"), -1, 0 },
		{ B("arn:aws:ecs:us-east-1:123456789012:service/api:3"), -1, 0 },
		{ B("arn:AWS:ecs:us-east-1:123456789012:task-definition/api:3"), -1, 0 },
		{ B("arn:aws:ecs::123456789012:task-definition/api:3"), -1, 0 },
	};
	char longfam[300];
	size_t i, l;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		l = 0;
		rc = fs_parse_task_definition(t[i].data, t[i].len, &l);
		if (rc != t[i].rc || (rc == 0 && l != t[i].name_len))
			fprintf(stderr, "task definition case %zu\n", i);
		CHECK_INT(rc, t[i].rc);
		if (t[i].rc == 0)
			CHECK_INT(l, t[i].name_len);
	}
	/* A family of 255 characters is ECS's longest; 256 is one too many. */
	memset(longfam, 'f', sizeof(longfam));
	CHECK_INT(fs_parse_task_definition(longfam, 255, &l), 0);
	CHECK_INT(fs_parse_task_definition(longfam, 256, &l), -1);
}

/* No parser reads through a NULL pointer when the length is 0. */
static void
test_empty_null(void)
{
	long long value;
	size_t n;
	int sign, on;

	CHECK_INT(fs_parse_chomp(NULL, 0), 0);
	CHECK_INT(fs_parse_is_text(NULL, 0), 1);
	CHECK_INT(fs_parse_count(NULL, 0, &sign, &value), -1);
	CHECK_INT(fs_parse_stop_reason(NULL, 0, &n), -1);
	CHECK(fs_parse_instance_status(NULL, 0) == NULL);
	CHECK_INT(fs_parse_flag(NULL, 0, &on), -1);
	CHECK_INT(fs_parse_bool(NULL, 0, &on), -1);
	CHECK_INT(fs_parse_task_definition(NULL, 0, &n), -1);
}

int
main(void)
{
	test_empty_null();
	test_chomp();
	test_is_text();
	test_count();
	test_stop_reason_table();
	test_stop_reason_length();
	test_instance_status();
	test_flag();
	test_bool();
	test_task_definition();
	return check_done();
}
