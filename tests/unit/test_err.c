/*
 * Unit tests for ecs/err.c: the AWS code mapping, the parsing of JSON 1.1
 * error responses in the forms AWS sends them, and the error helpers;
 * also the operation table of ecs/ops.c and ecs_arn_name() of ecs/api.c.
 */
#include <string.h>

#include "ecs/api.h"
#include "ecs/err.h"
#include "ecs/ops.h"
#include "tests/unit/check.h"

static const struct {
	const char	*aws_code;
	long		 status;
	enum ecs_code	 want;
} map_cases[] = {
	{ "ClusterNotFoundException", 400, ECS_E_NOTFOUND },
	{ "ServiceNotFoundException", 400, ECS_E_NOTFOUND },
	{ "ServiceNotActiveException", 400, ECS_E_NOTACTIVE },
	{ "AccessDeniedException", 400, ECS_E_ACCESS },
	{ "AccessDenied", 403, ECS_E_ACCESS },
	{ "UnrecognizedClientException", 400, ECS_E_ACCESS },
	{ "InvalidSignatureException", 403, ECS_E_ACCESS },
	{ "ExpiredTokenException", 400, ECS_E_ACCESS },
	{ "MissingAuthenticationToken", 403, ECS_E_ACCESS },
	{ "IncompleteSignature", 403, ECS_E_ACCESS },
	{ "InvalidParameterException", 400, ECS_E_INVALID },
	{ "ClientException", 400, ECS_E_INVALID },
	{ "ValidationException", 400, ECS_E_INVALID },
	/* Application Auto Scaling and CloudWatch Logs. */
	{ "ObjectNotFoundException", 400, ECS_E_NOTFOUND },
	{ "ResourceNotFoundException", 400, ECS_E_NOTFOUND },
	{ "ConcurrentUpdateException", 400, ECS_E_AWS },
	{ "InvalidNextTokenException", 400, ECS_E_AWS },
	{ "ServiceUnavailableException", 503, ECS_E_SERVER },
	{ "ThrottlingException", 400, ECS_E_THROTTLED },
	{ "Throttling", 400, ECS_E_THROTTLED },
	{ "TooManyRequestsException", 429, ECS_E_THROTTLED },
	{ "RequestLimitExceeded", 503, ECS_E_THROTTLED },
	{ "ServerException", 500, ECS_E_SERVER },
	{ "ServiceUnavailable", 503, ECS_E_SERVER },
	{ "", 502, ECS_E_SERVER },
	{ NULL, 500, ECS_E_SERVER },
	{ "ClusterContainsServicesException", 400, ECS_E_AWS },
	{ "LimitExceededException", 400, ECS_E_AWS },
	{ "clusternotfoundexception", 400, ECS_E_AWS },
	{ "", 429, ECS_E_THROTTLED },
	{ "", 403, ECS_E_ACCESS },
	{ "", 400, ECS_E_PROTOCOL },
	{ "", 404, ECS_E_PROTOCOL },
};

#define ID "3c5e1d2a-1111-2222-3333-444455556666"

static const struct {
	const char	*name;
	long		 status;
	const char	*body;
	const char	*error_type;
	const char	*request_id;
	enum ecs_code	 want_code;
	const char	*want_aws_code;
	const char	*want_message;	/* exact, or NULL to skip */
	const char	*want_in_message; /* a substring, or NULL to skip */
} parse_cases[] = {
	{ "namespaced __type", 400,
	    "{\"__type\":\"com.amazonaws.ecs#ClusterNotFoundException\","
	    "\"message\":\"Cluster not found.\"}", NULL, ID,
	    ECS_E_NOTFOUND, "ClusterNotFoundException", "Cluster not found.", NULL },
	{ "plain __type", 400,
	    "{\"__type\":\"ServiceNotActiveException\",\"message\":\"Service was not ACTIVE.\"}",
	    NULL, ID, ECS_E_NOTACTIVE, "ServiceNotActiveException",
	    "Service was not ACTIVE.", NULL },
	{ "capital Message", 400,
	    "{\"__type\":\"ThrottlingException\",\"Message\":\"Rate exceeded\"}",
	    NULL, ID, ECS_E_THROTTLED, "ThrottlingException", "Rate exceeded", NULL },
	{ "a signature error keeps its first paragraph only (no headers, no token)", 403,
	    "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\","
	    "\"message\":\"The request signature we calculated does not match the signature "
	    "you provided.\\n\\nThe Canonical String for this request should have been\\n'POST\\n/"
	    "\\n\\nhost:ecs\\nx-amz-security-token:FwoGZXIvYXdzSECRETTOKEN\\n'\"}", NULL, ID,
	    ECS_E_ACCESS, "InvalidSignatureException",
	    "The request signature we calculated does not match the signature you provided.",
	    NULL },
	{ "a token header in a one-paragraph message is cut too", 403,
	    "{\"__type\":\"InvalidSignatureException\",\"message\":\"bad: "
	    "x-amz-security-token:FwoGZXIvYXdzSECRETTOKEN\"}", NULL, ID,
	    ECS_E_ACCESS, "InvalidSignatureException", "bad:", NULL },
	{ "message wins over Message", 400,
	    "{\"__type\":\"ClientException\",\"message\":\"lower\",\"Message\":\"upper\"}",
	    NULL, "", ECS_E_INVALID, "ClientException", "lower", NULL },
	{ "signature error from the body", 403,
	    "{\"__type\":\"InvalidSignatureException\",\"message\":\"The request "
	    "signature we calculated does not match the signature you provided.\"}",
	    NULL, ID, ECS_E_ACCESS, "InvalidSignatureException", NULL,
	    "does not match" },
	{ "header only, with the coral URL", 400, "",
	    "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/",
	    ID, ECS_E_THROTTLED, "ThrottlingException", NULL, "ThrottlingException" },
	{ "header with a namespace", 400, "{}",
	    "com.amazonaws.ecs#ServiceNotFoundException", ID, ECS_E_NOTFOUND,
	    "ServiceNotFoundException", NULL, NULL },
	{ "body wins over header", 400,
	    "{\"__type\":\"UnrecognizedClientException\",\"message\":\"bad token\"}",
	    "ThrottlingException", ID, ECS_E_ACCESS, "UnrecognizedClientException",
	    "bad token", NULL },
	{ "JSON without a code, header has it", 400, "{\"message\":\"m\"}",
	    "AccessDeniedException", ID, ECS_E_ACCESS, "AccessDeniedException", "m",
	    NULL },
	{ "HTML 502", 502, "<html><body>502 Bad Gateway</body></html>", NULL, "",
	    ECS_E_SERVER, "", NULL, "502 Bad Gateway" },
	{ "empty 503", 503, "", NULL, "", ECS_E_SERVER, "", NULL, "503" },
	{ "empty 400", 400, "", NULL, "", ECS_E_PROTOCOL, "", NULL, "400" },
	{ "text 400", 400, "not json\r\nat all", NULL, "", ECS_E_PROTOCOL, "", NULL,
	    "not json  at all" },
	{ "JSON array", 400, "[1,2]", NULL, "", ECS_E_PROTOCOL, "", NULL, NULL },
	{ "unknown code", 400,
	    "{\"__type\":\"com.amazonaws.ecs#PlatformUnknownException\",\"message\":\"x\"}",
	    NULL, ID, ECS_E_AWS, "PlatformUnknownException", "x", NULL },
	{ "server exception", 500,
	    "{\"__type\":\"ServerException\",\"message\":\"internal\"}", NULL, ID,
	    ECS_E_SERVER, "ServerException", "internal", NULL },
	{ "no message: code and status", 400,
	    "{\"__type\":\"ClientException\"}", NULL, ID, ECS_E_INVALID,
	    "ClientException", "HTTP 400 ClientException", NULL },
	{ "control characters in the message", 400,
	    "{\"__type\":\"ClientException\",\"message\":\"a\\nb\\tc\"}", NULL, "",
	    ECS_E_INVALID, "ClientException", "a b c", NULL },
	{ "no request id", 400, "{\"__type\":\"ClientException\",\"message\":\"m\"}",
	    NULL, NULL, ECS_E_INVALID, "ClientException", "m", NULL },
	{ "DescribeTaskDefinition of a revision that does not exist", 400,
	    "{\"__type\":\"ClientException\",\"message\":\"Unable to describe task "
	    "definition.\"}", NULL, ID, ECS_E_INVALID, "ClientException",
	    "Unable to describe task definition.", NULL },
	{ "Application Auto Scaling: Message, namespaced", 400,
	    "{\"__type\":\"com.amazonaws.applicationautoscaling#ValidationException\","
	    "\"Message\":\"Maximum capacity cannot be less than minimum capacity\"}",
	    NULL, ID, ECS_E_INVALID, "ValidationException",
	    "Maximum capacity cannot be less than minimum capacity", NULL },
	{ "Application Auto Scaling: no such target", 400,
	    "{\"__type\":\"ObjectNotFoundException\",\"Message\":\"No scalable "
	    "target found\"}", NULL, ID, ECS_E_NOTFOUND, "ObjectNotFoundException",
	    "No scalable target found", NULL },
	{ "Application Auto Scaling: throttled", 400,
	    "{\"__type\":\"ThrottlingException\",\"Message\":\"Rate exceeded\"}",
	    NULL, ID, ECS_E_THROTTLED, "ThrottlingException", "Rate exceeded", NULL },
	{ "CloudWatch Logs: no such stream", 400,
	    "{\"__type\":\"ResourceNotFoundException\",\"message\":\"The specified "
	    "log stream does not exist.\"}", NULL, ID, ECS_E_NOTFOUND,
	    "ResourceNotFoundException", "The specified log stream does not exist.",
	    NULL },
	{ "CloudWatch Logs: throttled", 400,
	    "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
	    NULL, ID, ECS_E_THROTTLED, "ThrottlingException", "Rate exceeded", NULL },
	{ "CloudWatch Logs: denied", 400,
	    "{\"__type\":\"AccessDeniedException\",\"message\":\"User is not "
	    "authorized to perform: logs:GetLogEvents\"}", NULL, ID, ECS_E_ACCESS,
	    "AccessDeniedException", NULL, "logs:GetLogEvents" },
};

/* Checks ecs_code_from_aws() against the table. */
static void
test_map(void)
{
	size_t i;

	for (i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
		enum ecs_code got = ecs_code_from_aws(map_cases[i].aws_code,
		    map_cases[i].status);

		if (got != map_cases[i].want)
			fprintf(stderr, "map case %zu (%s, %ld)\n", i,
			    map_cases[i].aws_code ? map_cases[i].aws_code : "NULL",
			    map_cases[i].status);
		CHECK_INT(got, map_cases[i].want);
	}
}

/* Checks ecs_error_parse() against the table. */
static void
test_parse(void)
{
	struct ecs_error err;
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const char *body = parse_cases[i].body;
		int before = check_failed;

		memset(&err, 0x5a, sizeof(err));
		ecs_error_parse(parse_cases[i].status, body, strlen(body),
		    parse_cases[i].error_type, parse_cases[i].request_id, &err);
		CHECK_INT(err.code, parse_cases[i].want_code);
		CHECK_INT(err.http_status, parse_cases[i].status);
		CHECK_STR(err.aws_code, parse_cases[i].want_aws_code);
		CHECK_STR(err.request_id, parse_cases[i].request_id != NULL ?
		    parse_cases[i].request_id : "");
		CHECK(err.message[0] != '\0');
		CHECK(strchr(err.message, '\n') == NULL);
		if (parse_cases[i].want_message != NULL)
			CHECK_STR(err.message, parse_cases[i].want_message);
		if (parse_cases[i].want_in_message != NULL)
			CHECK(strstr(err.message, parse_cases[i].want_in_message) != NULL);
		if (check_failed != before)
			fprintf(stderr, "  in parse case \"%s\" (message [%s])\n",
			    parse_cases[i].name, err.message);
	}
}

/* Edge cases of parsing: NULL body, bodies longer than the fields. */
static void
test_parse_edges(void)
{
	static const char prefix[] = "{\"__type\":\"ClientException\",\"message\":\"";
	struct ecs_error err;
	char big[4096];

	ecs_error_parse(500, NULL, 0, NULL, NULL, &err);
	CHECK_INT(err.code, ECS_E_SERVER);
	CHECK_STR(err.aws_code, "");

	memset(big, 'x', sizeof(big));
	memcpy(big, prefix, strlen(prefix));
	memcpy(big + sizeof(big) - 3, "\"}", 2);
	big[sizeof(big) - 1] = '\0';
	ecs_error_parse(400, big, strlen(big), NULL, NULL, &err);
	CHECK_INT(err.code, ECS_E_INVALID);
	CHECK_INT(strlen(err.message), sizeof(err.message) - 1);

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ecs_error_parse(400, "", 0, big, big, &err);
	CHECK_INT(strlen(err.aws_code), sizeof(err.aws_code) - 1);
	CHECK_INT(strlen(err.request_id), sizeof(err.request_id) - 1);
	CHECK_INT(err.code, ECS_E_AWS);

	/* An AWS code never carries a control character into a log line. */
	ecs_error_parse(400, "{\"__type\":\"ns#Evil\\nforged line\"}", 33, NULL, NULL, &err);
	CHECK_STR(err.aws_code, "Evil forged line");
	CHECK(strchr(err.message, '\n') == NULL);
	ecs_error_parse(400, "", 0, "Bad\r\x01" "Code:http://x", NULL, &err);
	CHECK_STR(err.aws_code, "Bad  Code");
}

/* ecs_error_set, ecs_error_clear and ecs_strerror. */
static void
test_helpers(void)
{
	struct ecs_error err;
	int i;

	memset(&err, 0x5a, sizeof(err));
	ecs_error_clear(&err);
	CHECK_INT(err.code, ECS_OK);
	CHECK_INT(err.http_status, 0);
	CHECK_STR(err.aws_code, "");
	CHECK_STR(err.message, "");
	CHECK_STR(err.request_id, "");

	strcpy(err.aws_code, "ClientException");
	strcpy(err.request_id, ID);
	ecs_error_set(&err, ECS_E_INVALID, "bad value %d for %s", 42, "desired_count");
	CHECK_INT(err.code, ECS_E_INVALID);
	CHECK_STR(err.message, "bad value 42 for desired_count");
	CHECK_STR(err.aws_code, "ClientException");
	CHECK_STR(err.request_id, ID);

	CHECK_STR(ecs_strerror(ECS_OK), "ok");
	CHECK_STR(ecs_strerror(ECS_E_NOTFOUND), "not found");
	CHECK_STR(ecs_strerror(ECS_E_THROTTLED), "throttled");
	CHECK_STR(ecs_strerror((enum ecs_code)999), "unknown error");
	for (i = ECS_OK; i <= ECS_E_INTERNAL; i++) {
		const char *s = ecs_strerror((enum ecs_code)i);

		CHECK(s != NULL && *s != '\0' && strcmp(s, "unknown error") != 0);
	}
}

/*
 * The operation table: seventeen operations, the right categories and
 * services; the service table: the names the SDKs use.
 */
static void
test_ops(void)
{
	const struct ecs_op *op;
	int n = 0, mutating = 0;

	for (op = ecs_ops; op->name != NULL; op++) {
		n++;
		mutating += op->mutating;
		CHECK(ecs_op_find(op->name) == op);
	}
	CHECK_INT(n, 17);
	CHECK_INT(mutating, 4);
	CHECK(ecs_op_find("DeleteCluster") == NULL);
	CHECK(ecs_op_find(NULL) == NULL);
	CHECK_INT(ecs_op_find("ListClusters")->category, ECS_CAT_CLUSTER_READ);
	CHECK_INT(ecs_op_find("DescribeServices")->category, ECS_CAT_SERVICE_READ);
	CHECK_INT(ecs_op_find("UpdateService")->category, ECS_CAT_SERVICE_MODIFY);
	CHECK_INT(ecs_op_find("UpdateService")->mutating, 1);
	CHECK_INT(ecs_op_find("DescribeContainerInstances")->category,
	    ECS_CAT_RESOURCE_READ);
	CHECK_INT(ecs_op_find("StopTask")->category, ECS_CAT_RESOURCE_MODIFY);
	CHECK_INT(ecs_op_find("UpdateContainerInstancesState")->mutating, 1);
	CHECK_STR(ecs_category_name(ECS_CAT_SERVICE_READ), "service_read");
	CHECK_STR(ecs_category_name(ECS_CAT_RESOURCE_MODIFY), "resource_modify");
	CHECK_INT(ecs_op_find("DescribeTaskDefinition")->category,
	    ECS_CAT_TASKDEF_READ);
	CHECK_INT(ecs_op_find("ListTaskDefinitions")->service, ECS_SVC_ECS);
	CHECK_INT(ecs_op_find("DescribeScalableTargets")->category,
	    ECS_CAT_AUTOSCALING_READ);
	CHECK_INT(ecs_op_find("DescribeScalingPolicies")->service,
	    ECS_SVC_AUTOSCALING);
	CHECK_INT(ecs_op_find("RegisterScalableTarget")->category,
	    ECS_CAT_AUTOSCALING_MODIFY);
	CHECK_INT(ecs_op_find("RegisterScalableTarget")->mutating, 1);
	CHECK_INT(ecs_op_find("GetLogEvents")->category, ECS_CAT_LOGS_READ);
	CHECK_INT(ecs_op_find("GetLogEvents")->service, ECS_SVC_LOGS);
	CHECK_STR(ecs_category_name(ECS_CAT_TASKDEF_READ), "taskdef_read");
	CHECK_STR(ecs_category_name(ECS_CAT_AUTOSCALING_READ), "autoscaling_read");
	CHECK_STR(ecs_category_name(ECS_CAT_AUTOSCALING_MODIFY),
	    "autoscaling_modify");
	CHECK_STR(ecs_category_name(ECS_CAT_LOGS_READ), "logs_read");
	CHECK_STR(ecs_services[ECS_SVC_ECS].target_prefix,
	    "AmazonEC2ContainerServiceV20141113.");
	CHECK_STR(ecs_services[ECS_SVC_AUTOSCALING].target_prefix,
	    "AnyScaleFrontendService.");
	CHECK_STR(ecs_services[ECS_SVC_AUTOSCALING].signing_name,
	    "application-autoscaling");
	CHECK_STR(ecs_services[ECS_SVC_LOGS].target_prefix, "Logs_20140328.");
	CHECK_STR(ecs_services[ECS_SVC_LOGS].signing_name, "logs");
	/* Every operation's service is one the client can call. */
	for (op = ecs_ops; op->name != NULL; op++)
		CHECK(ecs_services[op->service].target_prefix != NULL &&
		    ecs_services[op->service].option != NULL);
}

/* ecs_arn_name() on the ARN forms ECS returns. */
static void
test_arn_name(void)
{
	static const struct {
		const char *arn, *want;
	} cases[] = {
		{ "arn:aws:ecs:us-east-1:123456789012:cluster/production-cluster",
		    "production-cluster" },
		{ "arn:aws:ecs:us-east-1:123456789012:service/production-cluster/api", "api" },
		{ "arn:aws:ecs:us-east-1:123456789012:service/api", "api" },
		{ "arn:aws:ecs:us-east-1:123456789012:task/production-cluster/"
		    "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef" },
		{ "arn:aws:ecs:us-east-1:123456789012:container-instance/c/ab12", "ab12" },
		{ "api", "api" },
		{ "", "" },
		{ "arn:aws:ecs:us-east-1:123456789012:service/c/", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(ecs_arn_name(cases[i].arn), cases[i].want);
	CHECK(ecs_arn_name(NULL) == NULL);
}

int
main(void)
{
	test_map();
	test_parse();
	test_parse_edges();
	test_helpers();
	test_ops();
	test_arn_name();
	return check_done();
}
