/*
 * The ecs_error type: setting and clearing it, naming its codes, mapping
 * AWS error codes onto them and parsing AWS JSON 1.1 error responses.
 */
#include "ecs/err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

static const char *const code_names[] = {
	[ECS_OK] = "ok",
	[ECS_E_INVALID] = "invalid argument",
	[ECS_E_NOTFOUND] = "not found",
	[ECS_E_NOTACTIVE] = "not active",
	[ECS_E_ACCESS] = "access denied",
	[ECS_E_THROTTLED] = "throttled",
	[ECS_E_TIMEOUT] = "timed out",
	[ECS_E_UNREACHABLE] = "unreachable",
	[ECS_E_SERVER] = "server error",
	[ECS_E_PROTOCOL] = "protocol error",
	[ECS_E_AWS] = "aws error",
	[ECS_E_CONFIG] = "configuration error",
	[ECS_E_CREDS] = "credentials error",
	[ECS_E_BUSY] = "busy",
	[ECS_E_INTERRUPTED] = "interrupted",
	[ECS_E_INTERNAL] = "internal error",
};

/*
 * AWS error codes with a meaning of their own, of every service ecsfs
 * calls (ECS, Application Auto Scaling, CloudWatch Logs, STS); the rest
 * are ECS_E_AWS. DescribeTaskDefinition answers an unknown revision with
 * ClientException: an invalid argument for whoever wrote it.
 */
static const struct {
	const char	*aws_code;
	enum ecs_code	 code;
} aws_codes[] = {
	{ "ClusterNotFoundException", ECS_E_NOTFOUND },
	{ "ServiceNotFoundException", ECS_E_NOTFOUND },
	{ "ResourceNotFoundException", ECS_E_NOTFOUND },	/* also CloudWatch Logs' */
	{ "ObjectNotFoundException", ECS_E_NOTFOUND },	/* Application Auto Scaling's */
	{ "ServiceNotActiveException", ECS_E_NOTACTIVE },
	{ "AccessDeniedException", ECS_E_ACCESS },
	{ "AccessDenied", ECS_E_ACCESS },
	{ "UnrecognizedClientException", ECS_E_ACCESS },
	{ "InvalidSignatureException", ECS_E_ACCESS },
	{ "SignatureDoesNotMatch", ECS_E_ACCESS },
	{ "InvalidClientTokenId", ECS_E_ACCESS },
	{ "ExpiredTokenException", ECS_E_ACCESS },
	{ "ExpiredToken", ECS_E_ACCESS },
	{ "MissingAuthenticationToken", ECS_E_ACCESS },
	{ "MissingAuthenticationTokenException", ECS_E_ACCESS },
	{ "IncompleteSignature", ECS_E_ACCESS },
	{ "IncompleteSignatureException", ECS_E_ACCESS },
	{ "InvalidParameterException", ECS_E_INVALID },
	{ "ClientException", ECS_E_INVALID },
	{ "ValidationException", ECS_E_INVALID },	/* Application Auto Scaling's */
	{ "ThrottlingException", ECS_E_THROTTLED },
	{ "Throttling", ECS_E_THROTTLED },
	{ "ThrottledException", ECS_E_THROTTLED },
	{ "RequestThrottled", ECS_E_THROTTLED },
	{ "RequestThrottledException", ECS_E_THROTTLED },
	{ "TooManyRequestsException", ECS_E_THROTTLED },
	{ "RequestLimitExceeded", ECS_E_THROTTLED },
	{ "SlowDown", ECS_E_THROTTLED },
};

void
ecs_error_clear(struct ecs_error *err)
{
	memset(err, 0, sizeof(*err));
	err->code = ECS_OK;
}

void
ecs_error_set(struct ecs_error *err, enum ecs_code code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

const char *
ecs_strerror(enum ecs_code code)
{
	if ((size_t)code >= sizeof(code_names) / sizeof(code_names[0]) ||
	    code_names[code] == NULL)
		return "unknown error";
	return code_names[code];
}

enum ecs_code
ecs_code_from_aws(const char *aws_code, long http_status)
{
	size_t i;

	if (aws_code != NULL && *aws_code != '\0') {
		for (i = 0; i < sizeof(aws_codes) / sizeof(aws_codes[0]); i++)
			if (strcmp(aws_code, aws_codes[i].aws_code) == 0)
				return aws_codes[i].code;
	}
	if (http_status >= 500 && http_status <= 599)
		return ECS_E_SERVER;
	if (aws_code != NULL && *aws_code != '\0')
		return ECS_E_AWS;
	/* No code at all: all that is left is the status. */
	if (http_status == 429)
		return ECS_E_THROTTLED;
	if (http_status == 401 || http_status == 403)
		return ECS_E_ACCESS;
	return ECS_E_PROTOCOL;
}

/*
 * Copies up to size - 1 bytes of text into dst as one printable line:
 * control characters become spaces, so that a body cannot break a log line.
 */
static void
copy_line(char *dst, size_t size, const char *src, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < size; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[n++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/*
 * Copies an AWS error code into dst, dropping a "namespace#" prefix and a
 * ":http://..." suffix (the x-amzn-ErrorType form) and surrounding blanks.
 */
static void
copy_aws_code(char *dst, size_t size, const char *src)
{
	const char *p, *end;
	size_t len;

	end = strchr(src, ':');
	if (end == NULL)
		end = src + strlen(src);
	for (p = end; p > src; p--)
		if (p[-1] == '#') {
			src = p;
			break;
		}
	while (src < end && isspace((unsigned char)*src))
		src++;
	while (end > src && isspace((unsigned char)end[-1]))
		end--;
	len = (size_t)(end - src);
	/* No control character reaches a log line or the journal. */
	copy_line(dst, size, src, len);
}

/*
 * How much of an AWS message to keep: its first paragraph. A signature
 * error goes on with the canonical request AWS expected, which holds the
 * request's headers, X-Amz-Security-Token among them; that must never
 * reach a log or the journal.
 */
static size_t
message_length(const char *msg, size_t len)
{
	static const char *const cuts[] = { "\n\n", "The Canonical String",
	    "x-amz-security-token", "X-Amz-Security-Token", NULL };
	const char *hit;
	size_t i;

	for (i = 0; cuts[i] != NULL; i++)
		if ((hit = memmem(msg, len, cuts[i], strlen(cuts[i]))) != NULL)
			len = (size_t)(hit - msg);
	return len;
}

void
ecs_error_parse(long http_status, const char *body, size_t body_len,
    const char *error_type, const char *request_id, struct ecs_error *err)
{
	json_t *root = NULL, *v;
	int parsed = 0;

	ecs_error_clear(err);
	err->http_status = http_status;
	if (request_id != NULL)
		copy_line(err->request_id, sizeof(err->request_id), request_id,
		    strlen(request_id));

	if (body != NULL && body_len > 0) {
		root = json_loadb(body, body_len, 0, NULL);
		if (root != NULL && json_is_object(root)) {
			parsed = 1;
			v = json_object_get(root, "__type");
			if (v == NULL)
				v = json_object_get(root, "code");
			if (json_is_string(v))
				copy_aws_code(err->aws_code, sizeof(err->aws_code),
				    json_string_value(v));
			v = json_object_get(root, "message");
			if (!json_is_string(v))
				v = json_object_get(root, "Message");
			if (json_is_string(v))
				copy_line(err->message, sizeof(err->message),
				    json_string_value(v), message_length(json_string_value(v),
				    json_string_length(v)));
		}
	}
	if (err->aws_code[0] == '\0' && error_type != NULL)
		copy_aws_code(err->aws_code, sizeof(err->aws_code), error_type);

	err->code = ecs_code_from_aws(err->aws_code, http_status);
	if (err->message[0] != '\0')
		goto done;
	if (!parsed && body != NULL && body_len > 0) {
		/* Not JSON: say what came back instead. */
		char snippet[160];

		copy_line(snippet, sizeof(snippet), body, body_len);
		snprintf(err->message, sizeof(err->message),
		    "unexpected HTTP %ld response: %s", http_status, snippet);
	} else if (err->aws_code[0] != '\0')
		snprintf(err->message, sizeof(err->message), "HTTP %ld %s",
		    http_status, err->aws_code);
	else
		snprintf(err->message, sizeof(err->message),
		    "HTTP %ld with no error code", http_status);
done:
	json_decref(root);
}
