/*
 * libFuzzer harness for the credentials documents of credential_process
 * and the container endpoint (ecs/creds_process.h): creds_parse_json on
 * the input, as both callers call it, and creds_parse_time on the input
 * as a string. It also checks the promise that an error never quotes the
 * secret key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ecs/creds_process.h"
#include "tests/fuzz/fuzz_util.h"

/*
 * Aborts when err quotes the document's SecretAccessKey. Only secrets
 * that cannot come from the message templates are checked: 16 bytes or
 * more, holding a '/' or '+' (as real ones do), and not part of the
 * Expiration, which messages may quote.
 */
static void
check_secret(const uint8_t *data, size_t size, const struct ecs_error *err)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL);
	const char *secret, *exp;

	secret = json_string_value(json_object_get(root, "SecretAccessKey"));
	exp = json_string_value(json_object_get(root, "Expiration"));
	if (secret != NULL && strlen(secret) >= 16 && strpbrk(secret, "/+") != NULL &&
	    (exp == NULL || strstr(exp, secret) == NULL) &&
	    strstr(err->message, secret) != NULL) {
		fprintf(stderr, "error message quotes the secret: %s\n", err->message);
		abort();
	}
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* (token member, Version required): credential_process, then the container endpoint. */
	static const struct {
		const char	*token_key;
		int		 want_version;
	} modes[] = {
		{ "SessionToken", 1 },
		{ "Token", 0 },
	};
	struct ecs_error err;
	struct creds c;
	time_t t;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ecs_error_clear(&err);
		if (creds_parse_json((const char *)data, size, modes[i].token_key,
		    modes[i].want_version, "credential_process (profile fuzz)", &c,
		    &err) != 0)
			check_secret(data, size, &err);
	}
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	(void)creds_parse_time(s, &t);
	free(s);
	return 0;
}
