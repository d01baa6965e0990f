/*
 * libFuzzer harness for the AWS error parser (ecs_error_parse in
 * ecs/err.h), which reads what any HTTP peer sends back. The input is
 * NUL-separated fields: the HTTP status, the x-amzn-ErrorType header, the
 * request id, then the body (the rest). The AWS code, message and request
 * id must come out as one printable line, since they go to the log and
 * the journal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/err.h"
#include "tests/fuzz/fuzz_util.h"

/* Whether the NUL-terminated s is one line without control characters. */
static int
one_line(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* Aborts unless s[size] is NUL-terminated and one line. */
static void
check(const char *what, const char *s, size_t size)
{
	if (strnlen(s, size) == size) {
		fprintf(stderr, "%s is not NUL-terminated\n", what);
		abort();
	}
	if (!one_line(s)) {
		fprintf(stderr, "%s holds a control character: \"%s\"\n", what, s);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ecs_error err;
	struct fuzz_fields f;
	char *status, *type, *id;

	fuzz_fields_init(&f, data, size);
	status = fuzz_field(&f);
	type = fuzz_field(&f);
	id = fuzz_field(&f);
	memset(&err, 0xa5, sizeof(err));
	ecs_error_parse(status != NULL ? strtol(status, NULL, 10) : 0,
	    f.rest_len > 0 ? f.rest : NULL, f.rest_len, type, id, &err);
	check("aws_code", err.aws_code, sizeof(err.aws_code));
	check("message", err.message, sizeof(err.message));
	check("request_id", err.request_id, sizeof(err.request_id));
	if (err.code == ECS_OK) {
		fprintf(stderr, "an error response parsed as no error\n");
		abort();
	}
	(void)ecs_strerror(err.code);
	fuzz_fields_free(&f);
	return 0;
}
