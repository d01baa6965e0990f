"""What the emulator's tests share: the example seed's cluster names, the
parts of a botocore ClientError, one service described, the X-Amz-Target
prefixes of the three services, and one request signed for any of them."""

import http.client
import json

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from helpers.ecsim import ACCESS_KEY, SECRET_KEY

PROD = "production-cluster"
DEV = "development-cluster"

ECS = "AmazonEC2ContainerServiceV20141113."
AAS = "AnyScaleFrontendService."
LOGS = "Logs_20140328."
DIM = "ecs:service:DesiredCount"


def error_of(excinfo):
    """(code, HTTP status, message) of a botocore ClientError (or of
    pytest's ExceptionInfo holding one)."""
    resp = getattr(excinfo, "value", excinfo).response
    return (resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"],
        resp["Error"].get("Message", ""))


def describe(client, cluster, name):
    return client.describe_services(cluster=cluster,
        services=[name])["services"][0]


def rid(cluster, service):
    """The Application Auto Scaling resource id of an ECS service."""
    return "service/%s/%s" % (cluster, service)


def cli_error(excinfo):
    """What the AWS CLI said when it failed (pytest's ExceptionInfo of an
    AwsCliError): "An error occurred (Code) when calling ...: message"."""
    return excinfo.value.stderr.strip()


def td_name(arn):
    """"family:revision" of a task-definition ARN."""
    return arn.rsplit("/", 1)[1]


def signed(emu, target, body, service):
    """(status, parsed body) of one request to X-Amz-Target target, signed
    for service ("ecs", "application-autoscaling", "logs" or any other)."""
    data = json.dumps(body).encode()
    req = AWSRequest(method="POST", url=emu.url + "/", data=data, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": target})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service,
        emu.region).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        conn.request("POST", "/", body=data, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    return resp.status, json.loads(raw) if raw else None


def tasks_of(emu, cluster, service):
    """{task id: state dump} of a service's tasks desired RUNNING."""
    return {tid: t for tid, t in emu.state(cluster)["tasks"].items()
        if t["service"] == service and t["desiredStatus"] == "RUNNING"}


def a_task(emu, cluster, service):
    """The id of one of a service's tasks (the first by id)."""
    return sorted(tasks_of(emu, cluster, service))[0]
