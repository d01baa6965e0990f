/*
 * Inside the credential chain: running a profile's credential_process
 * command, and reading the JSON credentials documents that it and the
 * container credentials endpoint return. Used by ecs/creds.c only.
 */
#ifndef ECS_CREDS_PROCESS_H
#define ECS_CREDS_PROCESS_H

#include <stddef.h>
#include <time.h>

#include "ecs/creds.h"
#include "ecs/err.h"

/*
 * Runs cmd through /bin/sh -c (stdin /dev/null, 30 s at most) and reads
 * its stdout as a credential_process document (Version 1). Returns 0, or
 * -1 with err (ECS_E_CREDS) naming what (e.g. "credential_process
 * (profile dev)") and quoting the first line of the command's stderr;
 * never anything from stdout.
 */
int creds_process_run(const char *cmd, const char *what, struct creds *out,
    struct ecs_error *err);
/*
 * Reads a JSON credentials object: AccessKeyId, SecretAccessKey, the
 * session token under token_key, an optional ISO 8601 Expiration and,
 * when want_version is set, "Version": 1. Returns 0, or -1 with err
 * (ECS_E_CREDS) that names what and quotes no value but the Expiration.
 */
int creds_parse_json(const char *text, size_t len, const char *token_key,
    int want_version, const char *what, struct creds *out,
    struct ecs_error *err);
/* Parses an ISO 8601 time ("2026-11-26T14:03:05Z", fractions and offsets allowed). */
int creds_parse_time(const char *s, time_t *out);

#endif
