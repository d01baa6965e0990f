/*
 * Generic renderers: one JSON member of the node's object as a line of
 * text, as a date, as the last part of an ARN, or the whole object.
 */
#include "fs/tree.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Appends a scalar JSON value as text: strings as they are, numbers, true/false. */
static void
scalar(json_t *v, struct buf *out)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_add(out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		buf_printf(out, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		buf_adds(out, "true");
		break;
	case JSON_FALSE:
		buf_adds(out, "false");
		break;
	default:
		break;
	}
}

int
fs_render_field(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	json_t *v = json_object_get(n->obj, n->file->field);

	(void)err;
	if (v != NULL)
		scalar(v, out);
	buf_addc(out, '\n');
	return 0;
}

/*
 * The dates ISO 8601's four-digit years can write, 0000-01-01T00:00:00Z
 * to 9999-12-31T23:59:59Z, in epoch seconds. Every one fits in time_t.
 */
#define DATE_MIN	(-62167219200.0)
#define DATE_MAX	(253402300799.0)

/*
 * Appends epoch seconds d as ISO 8601 UTC, with msec milliseconds when
 * msec >= 0; nothing for a date outside the four-digit years.
 */
static void
format_epoch(double d, int msec, struct buf *out)
{
	char text[80];
	struct tm tm;
	time_t t;

	/*
	 * Converting a double outside time_t's range is undefined: a date
	 * outside the four-digit years (and NaN) is rendered as nothing.
	 */
	if (!(d >= DATE_MIN && d < DATE_MAX + 1.0))
		return;
	t = (time_t)floor(d);
	if (gmtime_r(&t, &tm) == NULL)
		return;
	/* strftime's %Y would not pad the years before 1000. */
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	buf_adds(out, text);
	if (msec >= 0)
		buf_printf(out, ".%03d", msec);
	buf_addc(out, 'Z');
}

void
fs_format_date(json_t *v, struct buf *out)
{
	if (json_is_number(v))
		format_epoch(json_number_value(v), -1, out);
}

void
fs_format_date_ms(json_t *v, struct buf *out)
{
	json_int_t ms, secs;
	double d;

	if (json_is_integer(v)) {
		/* Seconds and milliseconds apart, rounded down, as a double would not. */
		ms = json_integer_value(v);
		/* Out of range shows nothing, as format_epoch would (and secs * 1000 cannot overflow). */
		if ((double)ms < DATE_MIN * 1000.0 || (double)ms >= (DATE_MAX + 1.0) * 1000.0)
			return;
		secs = ms / 1000 - (ms % 1000 < 0);
		format_epoch((double)secs, (int)(ms - secs * 1000), out);
	} else if (json_is_real(v)) {
		d = floor(json_real_value(v)) / 1000.0;
		if (d >= DATE_MIN && d < DATE_MAX + 1.0)
			format_epoch(d, (int)(floor(json_real_value(v)) - floor(d) * 1000.0), out);
	}
}

int
fs_render_date(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)err;
	fs_format_date(json_object_get(n->obj, n->file->field), out);
	buf_addc(out, '\n');
	return 0;
}

int
fs_render_basename(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	const char *v = json_string_value(json_object_get(n->obj, n->file->field));
	const char *slash;

	(void)err;
	if (v != NULL) {
		slash = strrchr(v, '/');
		buf_adds(out, slash ? slash + 1 : v);
	}
	buf_addc(out, '\n');
	return 0;
}

int
fs_render_json(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	char *text = json_dumps(n->obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text == NULL) {
		ecs_error_set(err, ECS_E_INTERNAL, "cannot encode JSON");
		return -1;
	}
	buf_adds(out, text);
	buf_addc(out, '\n');
	free(text);
	return 0;
}
