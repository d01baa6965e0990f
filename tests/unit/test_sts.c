/*
 * The pieces of STS, SSO and IMDS that need no server: reading AWS's XML
 * answers, the STS endpoint from the environment, the SSO cache name,
 * the metadata address.
 */
#include <stdlib.h>
#include <string.h>

#include "ecs/imds.h"
#include "ecs/sso.h"
#include "ecs/sts.h"
#include "tests/unit/check.h"

static const char assume_role_xml[] =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "    <SourceIdentity>Alice</SourceIdentity>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>\n"
    "      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
    "      <SessionToken>IQoJb3JpZ2luX2VjEOz////////// &amp; more</SessionToken>\n"
    "      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
    "    </Credentials>\n"
    "    <PackedPolicySize>6</PackedPolicySize>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";

static const char error_xml[] =
    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <Error>\n    <Type>Sender</Type>\n    <Code>AccessDenied</Code>\n"
    "    <Message>User: x is not authorized</Message>\n  </Error>\n"
    "  <RequestId>r-1</RequestId>\n</ErrorResponse>\n";

static void
test_xml(void)
{
	static const char *const names[] = { "AccessKeyId", "SecretAccessKey",
	    "SessionToken", "Expiration", "Arn", "Missing" };
	static const char *const enames[] = { "Code", "Message" };
	char *v[6];
	size_t i;

	CHECK_INT(sts_xml_values(assume_role_xml, strlen(assume_role_xml),
	    names, v, 6), 0);
	CHECK_STR(v[0], "ASIAIOSFODNN7EXAMPLE");
	CHECK_STR(v[1], "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	CHECK_STR(v[2], "IQoJb3JpZ2luX2VjEOz////////// & more");
	CHECK_STR(v[3], "2019-11-09T13:34:41Z");
	CHECK_STR(v[4], "arn:aws:sts::123456789012:assumed-role/demo/TestAR");
	CHECK(v[5] == NULL);
	for (i = 0; i < 6; i++)
		free(v[i]);

	CHECK_INT(sts_xml_values(error_xml, strlen(error_xml), enames, v, 2),
	    0);
	CHECK_STR(v[0], "AccessDenied");
	CHECK_STR(v[1], "User: x is not authorized");
	free(v[0]);
	free(v[1]);

	/* Not XML, or cut short: an error, not a crash. */
	CHECK_INT(sts_xml_values("{\"a\": 1}", 8, enames, v, 2), -1);
	CHECK_INT(sts_xml_values(error_xml, 40, enames, v, 2), -1);
	CHECK(v[0] == NULL && v[1] == NULL);
}

static void
test_endpoints(void)
{
	char *u;

	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_ENDPOINT_URL");
	u = sts_endpoint("eu-west-1");
	CHECK_STR(u, "https://sts.eu-west-1.amazonaws.com");
	free(u);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9/", 1);
	u = sts_endpoint("eu-west-1");
	CHECK_STR(u, "http://127.0.0.1:9");
	free(u);
	setenv("AWS_ENDPOINT_URL_STS", "https://sts.example", 1);
	u = sts_endpoint("eu-west-1");
	CHECK_STR(u, "https://sts.example");
	free(u);

	unsetenv("AWS_EC2_METADATA_DISABLED");
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	u = imds_endpoint();
	CHECK_STR(u, "http://169.254.169.254");
	free(u);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://[fd00:ec2::254]/", 1);
	u = imds_endpoint();
	CHECK_STR(u, "http://[fd00:ec2::254]");
	free(u);
	setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
	CHECK(imds_endpoint() == NULL);
}

static void
test_sso_cache_name(void)
{
	struct sso_profile s;
	char *p;

	memset(&s, 0, sizeof(s));
	setenv("HOME", "/home/op", 1);
	/* botocore's SSOTokenLoader: SHA-1 of the session name, else the start URL. */
	s.session = "my-sso";
	s.start_url = "https://d-abc.awsapps.com/start";
	p = sso_cache_path(&s);
	CHECK_STR(p, "/home/op/.aws/sso/cache/"
	    "0ad374308c5a4e22f723adf10145eafad7c4031c.json");
	free(p);
	s.session = NULL;
	s.start_url = "https://my-sso-portal.awsapps.com/start";
	p = sso_cache_path(&s);
	CHECK_STR(p, "/home/op/.aws/sso/cache/"
	    "c7aaaf71fcc8777ae2475525ed049d39fe16c484.json");
	free(p);
}

int
main(void)
{
	sts_init();
	test_xml();
	test_endpoints();
	test_sso_cache_name();
	return check_done();
}
