/*
 * The one error type of everything below fs/. Every ecs_* call that can
 * fail fills a struct ecs_error; fs/errmap.c is the only place that turns
 * an ecs_code into an errno.
 */
#ifndef ECS_ERR_H
#define ECS_ERR_H

#include <stddef.h>

enum ecs_code {
	ECS_OK = 0,
	ECS_E_INVALID,		/* bad input, InvalidParameter, Client, Validation exceptions */
	ECS_E_NOTFOUND,		/* ClusterNotFound, ServiceNotFound, ResourceNotFound, ObjectNotFound, MISSING */
	ECS_E_NOTACTIVE,	/* ServiceNotActiveException */
	ECS_E_ACCESS,		/* AccessDenied, UnrecognizedClient, InvalidSignature, ExpiredToken */
	ECS_E_THROTTLED,	/* ThrottlingException after every retry */
	ECS_E_TIMEOUT,		/* the call's time budget ran out */
	ECS_E_UNREACHABLE,	/* connection refused, DNS, dropped connection after retries */
	ECS_E_SERVER,		/* HTTP 5xx after retries */
	ECS_E_PROTOCOL,		/* a response that is not what the ECS API sends */
	ECS_E_AWS,		/* any other error AWS returned */
	ECS_E_CONFIG,		/* no region, bad endpoint, unreadable configuration */
	ECS_E_CREDS,		/* no credentials found, credential_process failed */
	ECS_E_BUSY,		/* waiting for a rate-limit token would exceed the bound */
	ECS_E_INTERRUPTED,	/* the caller gave up (its FUSE request was interrupted) */
	ECS_E_INTERNAL,		/* a bug or an impossible state */
	ECS_E_RANGE,		/* a value outside the range the account enforces (auto scaling) */
};

/*
 * What a call did. On failure code says what went wrong and the other
 * fields say what AWS (or the transport) said; on success code is ECS_OK
 * and request_id is the id of the last request sent, for the journal.
 * Fixed-size so that it can live on the stack and be copied.
 */
struct ecs_error {
	enum ecs_code	code;
	long		http_status;	/* 0 when no response was received */
	char		aws_code[64];	/* e.g. "ServiceNotFoundException", or "" */
	char		message[512];	/* human-readable, never a secret */
	char		request_id[80];	/* x-amzn-RequestId, or "" */
	/*
	 * Set when a mutating request was sent and no answer came back (the
	 * budget ran out, the connection dropped): it may have been applied.
	 */
	int		maybe_applied;
	/*
	 * Set when a mutating request was answered with success (2xx) but the
	 * answer could not be used (not JSON, or without what it must hold):
	 * ECS made the change.
	 */
	int		applied;
};

void ecs_error_clear(struct ecs_error *err);
/* Sets code and a printf-style message; leaves aws_code/request_id alone. */
void ecs_error_set(struct ecs_error *err, enum ecs_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A short constant name for a code, e.g. "not found". */
const char *ecs_strerror(enum ecs_code code);
/* Maps an AWS error code (without the "...#" prefix) and HTTP status to an ecs_code. */
enum ecs_code ecs_code_from_aws(const char *aws_code, long http_status);
/*
 * Parses an AWS JSON 1.1 error response: body {"__type": "ns#Code",
 * "message": "..."} (or "Message"), falling back to the x-amzn-ErrorType
 * header (error_type, may be NULL) and to the HTTP status. Fills every
 * field of err. Never fails: an unparsable body gives ECS_E_PROTOCOL or a
 * code from the status.
 */
void ecs_error_parse(long http_status, const char *body, size_t body_len,
    const char *error_type, const char *request_id, struct ecs_error *err);

#endif
