/*
 * Unit tests for the generic renderers of fs/render.c: dates as ISO 8601
 * UTC, including numbers no date can be (built with
 * -fsanitize=undefined, an out-of-range conversion fails the test).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ecs/buf.h"
#include "fs/tree.h"
#include "tests/unit/check.h"

/* One epoch-seconds number and the date it renders as ("" for none). */
struct date_case {
	double		 secs;
	const char	*want;
};

/* Renders v (stolen) with format and compares with want. */
static void
check_format(void (*format)(json_t *, struct buf *), json_t *v, const char *want,
    const char *what)
{
	struct buf out;

	buf_init(&out);
	format(v, &out);
	if (strcmp(out.data != NULL ? out.data : "", want) != 0)
		fprintf(stderr, "date %s:\n", what);
	CHECK_STR(out.data != NULL ? out.data : "", want);
	buf_free(&out);
	json_decref(v);
}

/* Renders v (stolen) with fs_format_date and compares with want. */
static void
check_date(json_t *v, const char *want, const char *what)
{
	check_format(fs_format_date, v, want, what);
}

static void
test_dates(void)
{
	static const struct date_case cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1764582245.789, "2025-12-01T09:44:05Z" },
		{ -0.5, "1969-12-31T23:59:59Z" },
		{ -62167219200.0, "0000-01-01T00:00:00Z" },
		{ 253402300799.999, "9999-12-31T23:59:59Z" },
		/* Past the four-digit years, past time_t, not a number. */
		{ 253402300800.0, "" },
		{ -62167219201.0, "" },
		{ 1e19, "" },
		{ -1e19, "" },
		{ 9.3e18, "" },
		{ 1e300, "" },
		{ -1e300, "" },
		{ HUGE_VAL, "" },
		{ -HUGE_VAL, "" },
		{ NAN, "" },
	};
	char what[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "%.17g", cases[i].secs);
		/* jansson makes no real of NaN or an infinity: json_real() gives NULL. */
		if (isfinite(cases[i].secs))
			check_date(json_real(cases[i].secs), cases[i].want, what);
		else
			check_date(NULL, "", what);
	}
	/* Integers, including the largest (converted to a double past time_t). */
	check_date(json_integer(1764582245), "2025-12-01T09:44:05Z", "int");
	check_date(json_integer(INT64_MAX), "", "INT64_MAX");
	check_date(json_integer(INT64_MIN), "", "INT64_MIN");
	/* Not a number at all. */
	check_date(json_string("2025-12-01T09:44:05Z"), "", "string");
	check_date(json_null(), "", "null");
}

/* Renders v (stolen) with fs_format_date_ms and compares with want. */
static void
check_date_ms(json_t *v, const char *want, const char *what)
{
	check_format(fs_format_date_ms, v, want, what);
}

/* CloudWatch Logs timestamps: epoch milliseconds, shown to the millisecond. */
static void
test_dates_ms(void)
{
	check_date_ms(json_integer(0), "1970-01-01T00:00:00.000Z", "0");
	check_date_ms(json_integer(1796130309123LL), "2026-12-01T13:05:09.123Z", "ms");
	check_date_ms(json_integer(1796130309007LL), "2026-12-01T13:05:09.007Z", "007");
	check_date_ms(json_integer(-1), "1969-12-31T23:59:59.999Z", "-1");
	check_date_ms(json_integer(-1500), "1969-12-31T23:59:58.500Z", "-1500");
	check_date_ms(json_real(1796130309123.0), "2026-12-01T13:05:09.123Z", "real");
	check_date_ms(json_integer(253402300799999LL), "9999-12-31T23:59:59.999Z", "last");
	check_date_ms(json_integer(253402300800000LL), "", "past 9999");
	check_date_ms(json_integer(INT64_MAX), "", "INT64_MAX");
	check_date_ms(json_integer(INT64_MIN), "", "INT64_MIN");
	check_date_ms(json_real(1e300), "", "1e300");
	check_date_ms(json_string("1796130309123"), "", "string");
	check_date_ms(NULL, "", "NULL");
}

int
main(void)
{
	test_dates();
	test_dates_ms();
	return check_done();
}
