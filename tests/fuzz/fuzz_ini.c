/*
 * libFuzzer harness for the AWS shared-file parser (ecs/ini.h): parses the
 * input as a config or credentials file, then looks up the sections and
 * keys ecsfs asks for, including sub-keys and [DEFAULT] inheritance.
 */
#include <stddef.h>
#include <stdint.h>

#include "ecs/ini.h"
#include "tests/fuzz/fuzz_util.h"

static const char *const sections[] = {
	"default", "DEFAULT", "profile default", "profile dev", "dev",
	"profile prod", "services local", "sso-session corp", "",
};

static const char *const keys[] = {
	"region", "REGION", "aws_access_key_id", "aws_secret_access_key",
	"aws_session_token", "credential_process", "endpoint_url",
	"ecs.endpoint_url", "ECS.endpoint_url", "ecs.ENDPOINT_URL", "services",
	"role_arn", "source_profile", "max_attempts", "ca_bundle", ".", "ecs.",
	"",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini *ini = ini_parse((const char *)data, size);
	size_t i, j;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		(void)ini_has_section(ini, sections[i]);
		for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
			(void)ini_get(ini, sections[i], keys[j]);
	}
	ini_free(ini);
	return 0;
}
