/*
 * Unit tests for ecs/ini.c: the AWS shared file format as botocore's
 * configparser reads it, and where ecsfs deliberately differs (inline
 * comments, duplicate keys).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs/ini.h"
#include "tests/unit/check.h"

/* Parses a C string. */
static struct ini *
parse(const char *text)
{
	return ini_parse(text, strlen(text));
}

/* One lookup and the value it must give (NULL: absent). */
struct lookup {
	const char	*section;
	const char	*key;
	const char	*want;
};

/* Checks every lookup of a table against the parse of text. */
static void
check_table(const char *name, const char *text, const struct lookup *t,
    size_t n)
{
	struct ini *ini = parse(text);
	const char *got;
	size_t i;

	for (i = 0; i < n; i++) {
		got = ini_get(ini, t[i].section, t[i].key);
		if (t[i].want == NULL) {
			if (got != NULL)
				fprintf(stderr, "%s: [%s] %s: got [%s], want "
				    "absent\n", name, t[i].section, t[i].key,
				    got);
			CHECK(got == NULL);
		} else {
			if (got == NULL || strcmp(got, t[i].want) != 0)
				fprintf(stderr, "%s: [%s] %s\n", name,
				    t[i].section, t[i].key);
			CHECK_STR(got, t[i].want);
		}
	}
	ini_free(ini);
}

#define TABLE(name, text, ...) do {					\
	static const struct lookup t_[] = { __VA_ARGS__ };		\
	check_table(name, text, t_, sizeof(t_) / sizeof(t_[0]));	\
} while (0)

/* Comments: full-line '#' and ';', indented, and after whitespace. */
static void
test_comments(void)
{
	TABLE("comments",
	    "# a comment\n"
	    "; another\n"
	    "[default]\n"
	    "  # indented comment\n"
	    "region = us-east-1 # inline\n"
	    "output = json\t; inline after a tab\n"
	    "hash = a#b\n"
	    "semi = x;y\n"
	    "both = a # b ; c\n"
	    "#key = commented out\n"
	    "empty = # only a comment\n",
	    { "default", "region", "us-east-1" },
	    { "default", "output", "json" },
	    { "default", "hash", "a#b" },
	    { "default", "semi", "x;y" },
	    { "default", "both", "a" },
	    { "default", "#key", NULL },
	    { "default", "key", NULL },
	    { "default", "empty", "" });
}

/* Section headers: trimming, "profile NAME" normalised, trailing comments. */
static void
test_sections(void)
{
	struct ini *ini;

	TABLE("sections",
	    "[default]\na = 1\n"
	    "[profile dev]\na = 2\n"
	    "[profile   spaced]\na = 3\n"
	    "[profile \"quoted name\"]\na = 4\n"
	    "[ trimmed ]\na = 5\n"
	    "[hdr] # comment\na = 6\n"
	    "[Case]\na = 7\n"
	    "[services my-svc]\na = 8\n",
	    { "default", "a", "1" },
	    { "profile dev", "a", "2" },
	    { "profile spaced", "a", "3" },
	    { "profile   spaced", "a", NULL },
	    { "profile quoted name", "a", "4" },
	    { "trimmed", "a", "5" },
	    { "hdr", "a", "6" },
	    { "Case", "a", "7" },
	    { "case", "a", NULL },
	    { "services my-svc", "a", "8" },
	    { "nosuch", "a", NULL });

	ini = parse("[default]\n[profile dev]\nx = 1\n");
	CHECK(ini_has_section(ini, "default"));
	CHECK(ini_has_section(ini, "profile dev"));
	CHECK(!ini_has_section(ini, "dev"));
	CHECK(!ini_has_section(ini, "Default"));
	ini_free(ini);
}

/* Keys: lowercased like configparser's optionxform, values trimmed. */
static void
test_keys(void)
{
	TABLE("keys",
	    "[default]\n"
	    "Region = eu-west-1\n"
	    "AWS_ACCESS_KEY_ID = AKIDUPPER\n"
	    "spaced_key   =   value with spaces   \n"
	    "colon: uses a colon\n"
	    "credential_process = /bin/cmd --opt=val --x:y\n"
	    "url = http://h:4566/p\n"
	    "blank =\n"
	    "last = no newline at end",
	    { "default", "region", "eu-west-1" },
	    { "default", "REGION", "eu-west-1" },
	    { "default", "aws_access_key_id", "AKIDUPPER" },
	    { "default", "spaced_key", "value with spaces" },
	    { "default", "colon", "uses a colon" },
	    { "default", "credential_process", "/bin/cmd --opt=val --x:y" },
	    { "default", "url", "http://h:4566/p" },
	    { "default", "blank", "" },
	    { "default", "last", "no newline at end" });
}

/*
 * Sub-sections: a key with an empty value and indented "child = value"
 * lines, as botocore's _parse_nested reads them (child keys keep case).
 */
static void
test_subsections(void)
{
	TABLE("subsections",
	    "[default]\n"
	    "ecs =\n"
	    "  endpoint_url = http://localhost:4566 # local\n"
	    "  Sub_Key = v\n"
	    "  # a comment inside\n"
	    "\n"
	    "  after_blank = z\n"
	    "  not a pair\n"
	    "region = us-west-2\n"
	    "[services svc]\n"
	    "ECS =\n"
	    "\tendpoint_url = https://ecs.example\n"
	    "s3 =\n"
	    "    addressing_style = path\n",
	    { "default", "ecs", "" },
	    { "default", "ecs.endpoint_url", "http://localhost:4566" },
	    { "default", "ECS.endpoint_url", "http://localhost:4566" },
	    { "default", "ecs.Sub_Key", "v" },
	    { "default", "ecs.sub_key", NULL },
	    { "default", "ecs.after_blank", "z" },
	    { "default", "ecs.not a pair", NULL },
	    { "default", "region", "us-west-2" },
	    { "default", "endpoint_url", NULL },
	    { "services svc", "ecs.endpoint_url", "https://ecs.example" },
	    { "services svc", "s3.addressing_style", "path" });
}

/* Continuation lines under a non-empty value join with newlines, as in configparser. */
static void
test_continuation(void)
{
	TABLE("continuation",
	    "[default]\n"
	    "multi = a\n"
	    "  b = c\n"
	    "\n"
	    "   d\n"
	    "next = 1\n"
	    "[indented]\n"
	    "  first = 1\n"
	    "  second = 2\n",
	    { "default", "multi", "a\nb = c\n\nd" },
	    { "default", "b", NULL },
	    { "default", "next", "1" },
	    { "indented", "first", "1" },
	    { "indented", "second", "2" });
}

/* Line ends: CRLF, lone CR, a UTF-8 byte order mark. */
static void
test_line_ends(void)
{
	TABLE("crlf",
	    "[default]\r\nregion = us-east-1\r\necs =\r\n  endpoint_url = "
	    "http://x\r\n[profile dev]\r\nregion = eu-central-1\r\n",
	    { "default", "region", "us-east-1" },
	    { "default", "ecs.endpoint_url", "http://x" },
	    { "profile dev", "region", "eu-central-1" });
	TABLE("cr",
	    "[default]\rregion = ap-south-1\rout = text\r",
	    { "default", "region", "ap-south-1" },
	    { "default", "out", "text" });
	TABLE("bom",
	    "\xef\xbb\xbf[default]\nregion = sa-east-1\n",
	    { "default", "region", "sa-east-1" });
}

/*
 * Garbage is skipped, never fatal (botocore refuses such a file with a
 * ConfigParseError; ecsfs reads what it can).
 */
static void
test_garbage(void)
{
	struct ini *ini;

	TABLE("garbage",
	    "orphan = before any section\n"
	    "[default]\n"
	    "just some words\n"
	    "= no key\n"
	    "[]\n"
	    "[unclosed\n"
	    "good = yes\n"
	    "\x01\x02 = binary\n"
	    "[   ]\n"
	    "lost = 1\n",
	    { "default", "orphan", NULL },
	    { "default", "good", "yes" },
	    { "default", "\x01\x02", "binary" },
	    { "default", "lost", NULL },
	    { "", "", NULL });

	ini = parse("");
	CHECK(ini != NULL);
	CHECK(ini_get(ini, "default", "region") == NULL);
	CHECK(!ini_has_section(ini, "default"));
	ini_free(ini);
	CHECK(ini_get(NULL, "default", "region") == NULL);
	CHECK(!ini_has_section(NULL, "default"));
	ini_free(NULL);
}

/*
 * Duplicates: botocore (configparser strict mode) rejects the whole file;
 * ecsfs, like the Java SDK, takes the last value and merges a
 * section given twice.
 */
static void
test_duplicates(void)
{
	TABLE("duplicates",
	    "[default]\n"
	    "region = first\n"
	    "Region = second\n"
	    "a = 1\n"
	    "[dev]\n"
	    "b = 1\n"
	    "[default]\n"
	    "region = third\n"
	    "c = 3\n",
	    { "default", "region", "third" },
	    { "default", "a", "1" },
	    { "default", "c", "3" },
	    { "dev", "b", "1" });
}

/* [DEFAULT] lends its keys to every section, as configparser does. */
static void
test_default_section(void)
{
	struct ini *ini;

	TABLE("DEFAULT",
	    "[DEFAULT]\n"
	    "shared = s\n"
	    "region = d\n"
	    "[default]\n"
	    "region = own\n"
	    "[dev]\n",
	    { "default", "region", "own" },
	    { "default", "shared", "s" },
	    { "dev", "region", "d" },
	    { "nosuch", "shared", NULL });
	ini = parse("[DEFAULT]\na = 1\n");
	CHECK(!ini_has_section(ini, "DEFAULT"));
	ini_free(ini);
}

/* ini_load: a file, a missing file, a directory. */
static void
test_load(void)
{
	char dir[] = "/tmp/ecsfs-test-ini-XXXXXX", path[256];
	struct ini *ini;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("[profile dev]\nregion = eu-north-1\n", f);
	fclose(f);
	ini = ini_load(path);
	CHECK(ini != NULL);
	CHECK_STR(ini_get(ini, "profile dev", "region"), "eu-north-1");
	ini_free(ini);

	snprintf(path, sizeof(path), "%s/missing", dir);
	errno = 0;
	CHECK(ini_load(path) == NULL);
	CHECK_INT(errno, ENOENT);
	errno = 0;
	CHECK(ini_load(dir) == NULL);
	CHECK_INT(errno, EISDIR);

	snprintf(path, sizeof(path), "%s/config", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_comments();
	test_sections();
	test_keys();
	test_subsections();
	test_continuation();
	test_line_ends();
	test_garbage();
	test_duplicates();
	test_default_section();
	test_load();
	return check_done();
}
