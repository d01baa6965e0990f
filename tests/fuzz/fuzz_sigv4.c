/*
 * libFuzzer harness for SigV4 (ecs/sigv4.h). The input is NUL-separated
 * fields: flags (a number: 1 normalize_path, 2 sign_body), the signing
 * time in epoch seconds, method, path, query, region, service, access
 * key, secret key, session token, then up to 16 "name:value" headers
 * ended by an empty field; the rest is the body. Checks that signing is
 * deterministic and that the Authorization value is one header line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/sigv4.h"
#include "tests/fuzz/fuzz_util.h"

#define MAX_HEADERS 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigv4_header headers[MAX_HEADERS];
	struct sigv4_output out, again;
	struct sigv4_input in;
	struct fuzz_fields f;
	char *flags, *when, *h, *colon;

	fuzz_fields_init(&f, data, size);
	memset(&in, 0, sizeof(in));
	flags = fuzz_field(&f);
	when = fuzz_field(&f);
	in.normalize_path = flags != NULL && (atoi(flags) & 1);
	in.sign_body = flags != NULL && (atoi(flags) & 2);
	in.when = when != NULL ? (time_t)strtoll(when, NULL, 10) : 0;
	in.method = fuzz_field(&f);
	in.path = fuzz_field(&f);
	in.query = fuzz_field(&f);
	in.region = fuzz_field(&f);
	in.service = fuzz_field(&f);
	in.access_key = fuzz_field(&f);
	in.secret_key = fuzz_field(&f);
	in.session_token = fuzz_field(&f);
	while (in.nheaders < MAX_HEADERS && (h = fuzz_field(&f)) != NULL && *h != '\0') {
		headers[in.nheaders].name = h;
		if ((colon = strchr(h, ':')) != NULL) {
			*colon = '\0';
			headers[in.nheaders].value = colon + 1;
		} else
			headers[in.nheaders].value = "";
		in.nheaders++;
	}
	in.headers = in.nheaders > 0 ? headers : NULL;
	in.body = f.rest;
	in.body_len = f.rest_len;
	/* The strings the signer requires; NULL ones are part of the fuzzing too. */
	if (sigv4_sign(&in, &out) == 0) {
		if (out.authorization == NULL || strpbrk(out.authorization, "\r\n") != NULL ||
		    strlen(out.amz_date) != 16 || strlen(out.signature) != 64) {
			fprintf(stderr, "malformed result: %s\n",
			    out.authorization ? out.authorization : "(null)");
			abort();
		}
		if (sigv4_sign(&in, &again) != 0 ||
		    strcmp(out.signature, again.signature) != 0 ||
		    strcmp(out.canonical_request, again.canonical_request) != 0) {
			fprintf(stderr, "signing twice gave different results\n");
			abort();
		}
		sigv4_output_free(&again);
		sigv4_output_free(&out);
	}
	fuzz_fields_free(&f);
	return 0;
}
