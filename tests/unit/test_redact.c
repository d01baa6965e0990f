/*
 * Unit tests of ecs/redact.c, table-driven: secrets in any case, at the
 * ends, overlapping and adjacent, the X-Amz-Security-Token header and
 * parameter forms, and results cut to the buffer's size.
 */
#include "ecs/redact.h"

#include <stdio.h>
#include <string.h>

#include "tests/unit/check.h"

struct rcase {
	const char	*text;
	size_t		 size;		/* 0: big enough */
	const char	*s1, *s2;	/* the secrets, NULL for none */
	const char	*want;
};

static const struct rcase cases[] = {
	/* Nothing to do. */
	{ "", 0, "abc", NULL, "" },
	{ "plain message", 0, "abc", NULL, "plain message" },
	{ "plain message", 0, NULL, NULL, "plain message" },
	{ "empty secrets change nothing", 0, "", "", "empty secrets change nothing" },
	/* A secret anywhere, in any case, as often as it comes. */
	{ "key SeCrEt1 here", 0, "secret1", NULL, "key <redacted> here" },
	{ "secret1 at the start", 0, "secret1", NULL, "<redacted> at the start" },
	{ "at the end secret1", 0, "secret1", NULL, "at the end <redacted>" },
	{ "secret1", 0, "secret1", NULL, "<redacted>" },
	{ "SECRET1 and secret1", 0, "Secret1", NULL, "<redacted> and <redacted>" },
	{ "secret1secret1", 0, "secret1", NULL, "<redacted>" },
	/* Overlaps: one replacement for the union, no fragment left. */
	{ "xxabcdefyy", 0, "abcd", "cdef", "xx<redacted>yy" },
	{ "aaaa", 0, "aaa", NULL, "<redacted>" },
	{ "abcdef", 0, "abc", "abcdef", "<redacted>" },
	{ "abc def", 0, "abc", "def", "<redacted> <redacted>" },
	/* A secret longer than the text, or a near miss. */
	{ "abc", 0, "abcd", NULL, "abc" },
	{ "abd abcd", 0, "abcd", NULL, "abd <redacted>" },
	/* The security token header and parameter forms, whatever the secrets. */
	{ "got X-Amz-Security-Token:tok123 end", 0, NULL, NULL,
	    "got X-Amz-Security-Token:<redacted> end" },
	{ "X-AMZ-SECURITY-TOKEN: tok123", 0, NULL, NULL,
	    "X-AMZ-SECURITY-TOKEN: <redacted>" },
	{ "x-amz-security-token=tok/+=123&X-Amz-Date=1", 0, NULL, NULL,
	    "x-amz-security-token=<redacted>" },
	{ "{\"x-amz-security-token\":\"v\"}", 0, NULL, NULL,
	    "{\"x-amz-security-token\":\"v\"}" },
	{ "h x-amz-security-token:abc,next;x-amz-security-token=def;z", 0, NULL,
	    NULL, "h x-amz-security-token:<redacted>,next;"
	    "x-amz-security-token=<redacted>;z" },
	{ "x-amz-security-token:\"quoted\"", 0, NULL, NULL,
	    "x-amz-security-token:\"quoted\"" },
	{ "x-amz-security-token:", 0, NULL, NULL, "x-amz-security-token:" },
	{ "x-amz-security-token", 0, NULL, NULL, "x-amz-security-token" },
	{ "x-amz-security-tokens:abc", 0, NULL, NULL, "x-amz-security-tokens:abc" },
	/* Both at once, overlapping. */
	{ "X-Amz-Security-Token:TOK1 bare tok1", 0, "tok1", NULL,
	    "X-Amz-Security-Token:<redacted> bare <redacted>" },
	/* Cut to the buffer: the replacement may be cut, the secret never shows. */
	{ "ab s1 cd", 9, "s1", NULL, "ab <reda" },
	{ "ab s1", 6, "s1", NULL, "ab <r" },
	{ "s1 abcdefgh", 12, "s1", NULL, "<redacted> " },
	{ "xs1", 4, "s1", NULL, "x<r" },
	{ "ab", 1, "ab", NULL, "" },
	/* A text that fills its buffer was cut: a cut secret at its end goes too. */
	{ "ab secret1 cd", 8, "secret1", NULL, "ab <red" },
	{ "ab secret1 cd", 7, "secret1", NULL, "ab sec" },	/* too short to tell */
	{ "ab secret1 cd", 6, "secret1", NULL, "ab se" },
	{ "ab secret1 cd", 8, "ecret1", NULL, "ab secr" },
	{ "ab secret1 cd", 20, "secret1", "cdx", "ab <redacted> cd" },
};

static void
test_table(void)
{
	char buf[256];
	size_t i, size;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *secrets[2] = { cases[i].s1, cases[i].s2 };

		size = cases[i].size != 0 ? cases[i].size : sizeof(buf);
		memset(buf, 'Z', sizeof(buf));
		snprintf(buf, size, "%s", cases[i].text);
		ecs_redact(buf, size, secrets, 2);
		if (strcmp(buf, cases[i].want) != 0)
			fprintf(stderr, "case %zu: [%s]\n", i, cases[i].text);
		CHECK_STR(buf, cases[i].want);
		/* Nothing written past the buffer. */
		CHECK(size == sizeof(buf) || buf[size] == 'Z');
	}
}

/* A text that fills its buffer without a terminator gets one. */
static void
test_unterminated(void)
{
	char buf[8];
	const char *secrets[] = { "cd" };

	memcpy(buf, "abcdefgh", 8);
	ecs_redact(buf, sizeof(buf), secrets, 1);
	CHECK_STR(buf, "ab<reda");
	ecs_redact(NULL, 10, secrets, 1);
	ecs_redact(buf, 0, secrets, 1);
	CHECK_STR(buf, "ab<reda");
}

int
main(void)
{
	test_table();
	test_unterminated();
	return check_done();
}
