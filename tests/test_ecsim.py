"""Tests of the ECS emulator itself (tests/ecsim): its wire protocol,
authentication, validation, admin API and faults.

They drive it the ways the rest of the suite does: the real AWS CLI, boto3,
raw signed HTTP on one keep-alive connection, and the admin API.  Time runs
20x (or faster) so the whole file stays quick.  The simulated scheduler is
tested in test_ecsim_scheduler.py.
"""

import http.client
import json
import signal
import subprocess
import time

import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from helpers.ecsim import (ACCESS_KEY, MAIN, PYTHON, SECRET_KEY, AwsCliError,
    Emulator, EmulatorError, load_model)
from helpers.ecsim_calls import DEV, PROD, describe, error_of

pytestmark = pytest.mark.emulator_only

TARGET = "AmazonEC2ContainerServiceV20141113."


@pytest.fixture(scope="module")
def ecs_spec():
    return load_model().Model()


# -- raw signed HTTP -------------------------------------------------------

class Raw:
    """Signed requests over one persistent HTTP connection."""

    def __init__(self, emu):
        self.emu = emu
        self.conn = http.client.HTTPConnection("127.0.0.1", emu.port,
            timeout=10)

    def request(self, op, body, access_key=ACCESS_KEY, secret=SECRET_KEY,
        sign=True, tamper=None, extra=None):
        data = body if isinstance(body, bytes) else \
            json.dumps(body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": TARGET + op}
        headers.update(extra or {})
        req = AWSRequest(method="POST", url=self.emu.url + "/", data=data,
            headers=headers)
        if sign:
            SigV4Auth(Credentials(access_key, secret), "ecs",
                self.emu.region).add_auth(req)
        if tamper is not None:
            data = tamper
        out = dict(req.headers.items())
        self.conn.request("POST", "/", body=data, headers=out)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, resp, json.loads(raw) if raw else None

    def close(self):
        self.conn.close()


# -- the AWS CLI -----------------------------------------------------------

def test_cli_describe_services_and_list(emulator, ecs_spec):
    out = emulator.aws("ecs", "describe-services", "--cluster", PROD,
        "--services", "api")
    assert out["failures"] == []
    svc = out["services"][0]
    assert svc["serviceArn"] == \
        "arn:aws:ecs:us-east-1:123456789012:service/production-cluster/api"
    assert svc["clusterArn"] == \
        "arn:aws:ecs:us-east-1:123456789012:cluster/production-cluster"
    assert (svc["status"], svc["desiredCount"], svc["runningCount"],
        svc["pendingCount"], svc["launchType"]) == \
        ("ACTIVE", 3, 3, 0, "FARGATE")
    assert svc["taskDefinition"].startswith(
        "arn:aws:ecs:us-east-1:123456789012:task-definition/api:")
    [dep] = svc["deployments"]
    assert (dep["status"], dep["rolloutState"], dep["runningCount"]) == \
        ("PRIMARY", "COMPLETED", 3)
    assert svc["events"], "seed services carry events"
    assert svc["events"][0]["message"] == \
        "(service api) has reached a steady state."

    clusters = emulator.aws("ecs", "list-clusters")["clusterArns"]
    assert sorted(c.rsplit("/", 1)[1] for c in clusters) == [DEV, PROD]

    emulator.reset_calls()
    out = emulator.aws("ecs", "list-services", "--cluster", PROD,
        "--page-size", "1")
    assert sorted(a.rsplit("/", 1)[1] for a in out["serviceArns"]) == \
        ["api", "web", "worker"]
    assert emulator.calls() == {"ListServices": 3}


def test_cli_update_stop_and_drain(emulator):
    out = emulator.aws("ecs", "update-service", "--cluster", DEV,
        "--service", "web", "--desired-count", "2")
    assert out["service"]["desiredCount"] == 2
    emulator.wait_for(lambda: emulator.state(DEV)["services"]["web"]
        ["running"] == 2, what="web scaled to 2")

    task = emulator.aws("ecs", "list-tasks", "--cluster", DEV,
        "--service-name", "api")["taskArns"][0]
    out = emulator.aws("ecs", "stop-task", "--cluster", DEV, "--task", task,
        "--reason", "stopped from the CLI")
    assert out["task"]["desiredStatus"] == "STOPPED"
    assert out["task"]["stoppedReason"] == "stopped from the CLI"
    tid = task.rsplit("/", 1)[1]
    emulator.wait_for(lambda: emulator.state(DEV)["tasks"][tid]["lastStatus"] ==
        "STOPPED", what="task stopped")

    inst = emulator.aws("ecs", "list-container-instances", "--cluster",
        PROD)["containerInstanceArns"][0]
    out = emulator.aws("ecs", "update-container-instances-state",
        "--cluster", PROD, "--container-instances", inst, "--status",
        "DRAINING")
    assert out["containerInstances"][0]["status"] == "DRAINING"
    assert out["failures"] == []


def test_cli_signature_errors(emulator):
    r = emulator.aws_raw("ecs", "list-clusters",
        env=emulator.env(AWS_SECRET_ACCESS_KEY="not-the-secret"))
    assert r.returncode != 0
    assert "InvalidSignatureException" in r.stderr
    assert "ecsimSecretKey" not in r.stderr
    r = emulator.aws_raw("ecs", "list-clusters",
        env=emulator.env(AWS_ACCESS_KEY_ID="AKIANOTKNOWN00000000"))
    assert "UnrecognizedClientException" in r.stderr
    assert "The security token included in the request is invalid" in \
        r.stderr
    with pytest.raises(AwsCliError):
        emulator.aws("ecs", "describe-services", "--cluster", "nope",
            "--services", "api")


def test_tls_with_generated_certificate(emulator_tls):
    emu = emulator_tls
    assert emu.url.startswith("https://127.0.0.1:")
    env = emu.env(AWS_CA_BUNDLE=None)
    out = emu.aws("ecs", "list-clusters", "--ca-bundle", emu.ca_file,
        env=env)
    assert len(out["clusterArns"]) == 2
    r = emu.aws_raw("ecs", "list-clusters", env=env)
    assert r.returncode != 0 and "SSL" in r.stderr
    svc = describe(emu.boto3(), PROD, "web")
    assert svc["runningCount"] == 2
    assert emu.calls()["ListClusters"] == 1


# -- authentication --------------------------------------------------------

def test_signature_and_credentials(emulator):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.boto3(secret_key="wrong").list_clusters()
    code, status, msg = error_of(e)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert msg.startswith("The request signature we calculated does not "
        "match the signature you provided.")

    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.boto3(access_key="AKIAUNKNOWNKEY000000").list_clusters()
    assert error_of(e)[:2] == ("UnrecognizedClientException", 403)

    emulator.add_credentials("ASIATEMPKEY000000001", "temp-secret",
        session_token="token-1")
    assert emulator.boto3(access_key="ASIATEMPKEY000000001",
        secret_key="temp-secret", session_token="token-1").list_clusters()
    for token in (None, "token-2"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            emulator.boto3(access_key="ASIATEMPKEY000000001",
                secret_key="temp-secret", session_token=token).list_clusters()
        assert error_of(e)[:2] == ("UnrecognizedClientException", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.boto3(session_token="unexpected").list_clusters()
    assert error_of(e)[0] == "UnrecognizedClientException"

    emulator.add_credentials("ASIATEMPKEY000000001", "temp-secret",
        session_token="token-1", expired=True)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.boto3(access_key="ASIATEMPKEY000000001",
            secret_key="temp-secret", session_token="token-1").list_clusters()
    assert error_of(e)[:2] == ("ExpiredTokenException", 403)

    raw = Raw(emulator)
    status, resp, body = raw.request("ListClusters", {}, sign=False)
    assert status == 403 and body["__type"].endswith(
        "#MissingAuthenticationTokenException")
    status, resp, body = raw.request("ListClusters", {"maxResults": 5},
        tamper=b'{"maxResults": 6}')
    assert status == 403
    assert body["__type"] == \
        "com.amazon.coral.service#InvalidSignatureException"
    assert "The Canonical String for this request should have been" in \
        body["message"]
    raw.close()


# -- wire protocol and validation ------------------------------------------

def test_wire_protocol_on_one_connection(emulator):
    raw = Raw(emulator)
    status, resp, body = raw.request("ListClusters", {})
    assert status == 200
    assert resp.getheader("Content-Type") == "application/x-amz-json-1.1"
    assert len(resp.getheader("x-amzn-RequestId")) == 36
    sock = raw.conn.sock
    assert len(body["clusterArns"]) == 2

    status, resp, body = raw.request("NoSuchOperation", {})
    assert status == 400
    assert body["__type"] == \
        "com.amazon.coral.service#UnknownOperationException"
    assert resp.getheader("x-amzn-ErrorType").startswith(
        "UnknownOperationException:")
    assert resp.getheader("x-amzn-RequestId")

    status, resp, body = raw.request("DescribeServices", {"cluster": PROD})
    assert status == 400 and body["__type"] == "InvalidParameterException"
    assert "Value null at 'services'" in body["message"]
    assert resp.getheader("x-amzn-ErrorType") == "InvalidParameterException"

    status, resp, body = raw.request("ListServices", {"cluster": PROD,
        "maxResults": "10"})
    assert status == 400 and body["__type"].endswith(
        "#SerializationException")
    status, resp, body = raw.request("ListServices", {"cluster": PROD,
        "maxresults": 10})
    assert status == 400 and body["__type"].endswith(
        "#SerializationException")
    assert "maxresults" in body["message"]
    status, resp, body = raw.request("DescribeServices", {"cluster": PROD,
        "services": "api"})
    assert status == 400 and body["__type"].endswith(
        "#SerializationException")
    status, resp, body = raw.request("ListTasks", {"cluster": PROD,
        "desiredStatus": "SLEEPING"})
    assert status == 400 and body["__type"] == "InvalidParameterException"
    status, resp, body = raw.request("ListClusters", b"{not json")
    assert status == 400 and body["__type"].endswith(
        "#SerializationException")
    status, resp, body = raw.request("DescribeServices", {"cluster": PROD,
        "services": ["web"]})
    assert status == 200 and body["services"][0]["serviceName"] == "web"
    assert raw.conn.sock is sock, "the connection was kept alive"
    raw.close()

    emulator.options(namespaced_errors=True)
    raw = Raw(emulator)
    status, resp, body = raw.request("DescribeServices", {"cluster": "nope",
        "services": ["api"]})
    assert body["__type"] == "com.amazonaws.ecs#ClusterNotFoundException"
    raw.close()


def test_batch_limits(emulator):
    c = emulator.boto3()
    cases = [
        (lambda: c.describe_services(cluster=PROD,
            services=["s%d" % i for i in range(11)]),
            "service names can have at most 10 items."),
        (lambda: c.describe_tasks(cluster=PROD,
            tasks=["t%d" % i for i in range(101)]), "at most 100 items"),
        (lambda: c.describe_clusters(clusters=["c%d" % i
            for i in range(101)]), "at most 100 items"),
        (lambda: c.describe_container_instances(cluster=PROD,
            containerInstances=["i%d" % i for i in range(101)]),
            "at most 100 items"),
        (lambda: c.update_container_instances_state(cluster=PROD,
            containerInstances=["i%d" % i for i in range(11)],
            status="DRAINING"), "at most 10 items"),
        (lambda: c.list_services(cluster=PROD, maxResults=101), "maxResults"),
        (lambda: c.list_tasks(cluster=PROD, maxResults=0), "maxResults"),
        (lambda: c.describe_services(cluster=PROD, services=[]), "empty"),
    ]
    for call, text in cases:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        code, status, msg = error_of(e)
        assert (code, status) == ("InvalidParameterException", 400), msg
        assert text in msg
    ten = c.describe_services(cluster=PROD, services=["api", "web", "worker"]
        + ["missing-%d" % i for i in range(7)])
    assert len(ten["services"]) == 3 and len(ten["failures"]) == 7


def test_list_services_pages(emulator):
    emulator.bulk_services(cluster="paged", count=25, prefix="p-")
    c = emulator.boto3()
    first = c.list_services(cluster="paged")
    assert len(first["serviceArns"]) == 10 and first["nextToken"]
    seen = list(first["serviceArns"])
    token = first["nextToken"]
    while token:
        page = c.list_services(cluster="paged", nextToken=token)
        seen += page["serviceArns"]
        token = page.get("nextToken")
    assert len(seen) == len(set(seen)) == 25
    full = c.list_services(cluster="paged", maxResults=100)
    assert "nextToken" not in full and full["serviceArns"] == seen
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.list_services(cluster="paged", nextToken="garbage")
    assert error_of(e)[0] == "InvalidParameterException"
    tasks = c.list_tasks(cluster="paged", maxResults=20)
    assert len(tasks["taskArns"]) == 20 and tasks["nextToken"]


def test_error_semantics(emulator):
    c = emulator.boto3()
    out = c.describe_services(cluster=PROD, services=["api", "ghost"])
    assert [s["serviceName"] for s in out["services"]] == ["api"]
    assert out["failures"] == [{"arn": "arn:aws:ecs:us-east-1:123456789012:"
        "service/production-cluster/ghost", "reason": "MISSING"}]
    for call in (lambda: c.describe_services(cluster="nope", services=["a"]),
        lambda: c.update_service(cluster="nope", service="api",
            desiredCount=1),
        lambda: c.list_services(cluster="nope"),
        lambda: c.list_tasks(cluster="nope")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert error_of(e)[:3] == ("ClusterNotFoundException", 400,
            "Cluster not found.")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.update_service(cluster=PROD, service="ghost", desiredCount=1)
    assert error_of(e)[0] == "ServiceNotFoundException"

    out = c.describe_tasks(cluster=PROD, tasks=["0" * 32])
    assert out["tasks"] == [] and out["failures"][0]["reason"] == "MISSING"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.stop_task(cluster=PROD, task="0" * 32)
    assert error_of(e)[::2] == ("InvalidParameterException",
        "The referenced task was not found.")
    task = c.list_tasks(cluster=PROD, serviceName="web")["taskArns"][0]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.stop_task(cluster=PROD, task=task, reason="x" * 256)
    assert error_of(e)[0] == "InvalidParameterException"
    out = c.update_container_instances_state(cluster=PROD,
        containerInstances=["f" * 32], status="DRAINING")
    assert out["failures"][0]["reason"] == "MISSING"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.delete_service(cluster=DEV, service="web")
    assert error_of(e)[0] == "InvalidParameterException"
    out = c.delete_service(cluster=DEV, service="web", force=True)
    assert out["service"]["status"] == "DRAINING"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.update_service(cluster=DEV, service="web", desiredCount=1)
    assert error_of(e)[0] == "ServiceNotActiveException"
    emulator.wait_for(lambda: describe(c, DEV, "web")["status"] ==
        "INACTIVE", what="web INACTIVE")
    assert [a.rsplit("/", 1)[1] for a in
        c.list_services(cluster=DEV)["serviceArns"]] == ["api"]
    assert c.describe_clusters(clusters=[DEV])["clusters"][0][
        "activeServicesCount"] == 1


# -- faults ----------------------------------------------------------------

def test_fault_latency(emulator):
    c = emulator.boto3()
    emulator.faults(latency_ms=300, actions=["ListClusters"])
    t0 = time.monotonic()
    c.list_clusters()
    slow = time.monotonic() - t0
    t0 = time.monotonic()
    c.describe_clusters(clusters=[PROD])
    fast = time.monotonic() - t0
    assert slow >= 0.3 and fast < 0.25
    emulator.faults()
    t0 = time.monotonic()
    c.list_clusters()
    assert time.monotonic() - t0 < 0.25


def test_fault_throttle_probability_is_reproducible(emulator, tmp_path):
    c = emulator.boto3()
    emulator.faults(throttle_probability=1.0, actions=["DescribeServices"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        describe(c, PROD, "api")
    assert error_of(e) == ("ThrottlingException", 400, "Rate exceeded")
    assert c.list_services(cluster=PROD)["serviceArns"]

    def pattern(emu):
        emu.faults(throttle_probability=0.5)
        client = emu.boto3()
        out = []
        for _ in range(24):
            try:
                client.list_clusters()
                out.append(".")
            except botocore.exceptions.ClientError as e:
                out.append("T" if error_of(e)[0] == "ThrottlingException"
                    else "?")
        return "".join(out)
    runs = []
    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        with Emulator(d, fault_seed=7) as emu:
            runs.append(pattern(emu))
            stats = emu.call_stats()
            assert stats["throttled"]["ListClusters"] == runs[-1].count("T")
    assert runs[0] == runs[1]
    assert 0 < runs[0].count("T") < 24 and "?" not in runs[0]
    stats = emulator.call_stats()
    assert stats["throttled"] == {"DescribeServices": 1}
    assert stats["errors"]["DescribeServices"] == {"ThrottlingException": 1}


def test_fault_token_buckets(emulator):
    cfg = emulator.faults(throttle_buckets=True)
    assert cfg["buckets"] == {"cluster_read": [50, 20],
        "service_read": [100, 20], "service_modify": [50, 5],
        "cluster_resource_read": [100, 20],
        "cluster_resource_modify": [100, 40],
        "taskdef_read": [50, 20], "taskdef_modify": [20, 1],
        "autoscaling_read": [20, 10], "autoscaling_modify": [10, 2],
        "logs_read": [25, 25], "logs_write": [50, 50]}
    raw = Raw(emulator)
    t0 = time.monotonic()
    ok = throttled = 0
    for _ in range(70):
        status, _, body = raw.request("ListClusters", {})
        if status == 200:
            ok += 1
        else:
            assert (status, body["__type"], body["message"]) == (400,
                "com.amazon.coral.availability#ThrottlingException",
                "Rate exceeded")
            throttled += 1
    elapsed = time.monotonic() - t0
    assert 50 <= ok <= 50 + int(20 * elapsed) + 1
    assert throttled == 70 - ok

    emulator.faults(throttle_buckets=True, buckets={"service_modify":
        [3, 10]})
    results = []
    for _ in range(5):
        status, _, _ = raw.request("UpdateService", {"cluster": DEV,
            "service": "api"})
        results.append(status)
    assert results[:3] == [200, 200, 200] and 400 in results[3:]
    status, _, _ = raw.request("DescribeServices", {"cluster": DEV,
        "services": ["api"]})
    assert status == 200, "other categories have their own bucket"
    time.sleep(0.25)
    status, _, _ = raw.request("UpdateService", {"cluster": DEV,
        "service": "api"})
    assert status == 200, "the bucket refilled"
    raw.close()


def test_fault_server_errors_and_deny(emulator):
    c = emulator.boto3()
    emulator.faults(error_5xx_probability=1.0, actions=["ListTasks"])
    codes = set()
    for _ in range(6):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            c.list_tasks(cluster=PROD)
        code, status, _ = error_of(e)
        assert status in (500, 503)
        codes.add((code, status))
    assert codes <= {("ServerException", 500),
        ("ServiceUnavailableException", 503)}
    assert c.list_clusters()["clusterArns"]

    emulator.faults(deny_actions=["UpdateService"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.update_service(cluster=PROD, service="api", desiredCount=4)
    code, status, msg = error_of(e)
    assert (code, status) == ("AccessDeniedException", 403)
    assert msg.startswith("User: arn:aws:iam::123456789012:user/ecsim is "
        "not authorized to perform: ecs:UpdateService on resource: ")
    assert describe(c, PROD, "api")["desiredCount"] == 3
    errors = emulator.call_stats()["errors"]
    assert sum(errors["ListTasks"].values()) == 6
    assert errors["UpdateService"] == {"AccessDeniedException": 1}


def test_fault_drop(emulator):
    emulator.faults(drop_probability=1.0, actions=["ListClusters"])
    raw = Raw(emulator)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw.request("ListClusters", {})
    raw.close()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        emulator.boto3().list_clusters()
    assert emulator.boto3().describe_clusters(clusters=[PROD])["clusters"]
    emulator.faults()
    assert emulator.boto3().list_clusters()["clusterArns"]
    stats = emulator.call_stats()
    assert stats["calls"]["ListClusters"] == 3
    assert stats["errors"]["ListClusters"] == {"ConnectionDropped": 2}


def test_wire_fault_unreadable_after_apply(emulator):
    c = emulator.boto3()
    emulator.wire_faults(unreadable_after_apply={"UpdateService": "cut"})
    raw = Raw(emulator)
    with pytest.raises(json.JSONDecodeError):   # a 200 answer, cut short
        raw.request("UpdateService", {"cluster": PROD, "service": "api",
            "desiredCount": 4})
    raw.close()
    assert describe(c, PROD, "api")["desiredCount"] == 4
    emulator.wire_faults(unreadable_after_apply={"UpdateService": "empty"})
    resp = c.update_service(cluster=PROD, service="api", desiredCount=5)
    assert "service" not in resp
    assert describe(c, PROD, "api")["desiredCount"] == 5
    assert emulator.calls()["UpdateService"] == 2
    assert "UpdateService" not in emulator.call_stats()["errors"]   # both 200
    with pytest.raises(EmulatorError, match="unreadable_after_apply must map"):
        emulator.wire_faults(unreadable_after_apply={"UpdateService": "garbled"})
    emulator.wire_faults()
    assert c.update_service(cluster=PROD, service="api",
        desiredCount=3)["service"]["desiredCount"] == 3


def test_call_counting_and_log(emulator):
    c = emulator.boto3()
    emulator.reset_calls()
    assert emulator.call_stats() == {"calls": {}, "total": 0,
        "throttled": {}, "errors": {}}
    assert emulator.log() == []
    t0 = time.time()
    describe(c, PROD, "api")
    describe(c, PROD, "web")
    c.list_services(cluster=PROD)
    with pytest.raises(botocore.exceptions.ClientError):
        c.describe_services(cluster="nope", services=["api"])
    assert emulator.calls() == {"DescribeServices": 3, "ListServices": 1}
    assert emulator.total_calls() == 4
    log = emulator.log()
    assert [(e["action"], e["status"], e["error"]) for e in log] == [
        ("DescribeServices", 200, None), ("DescribeServices", 200, None),
        ("ListServices", 200, None),
        ("DescribeServices", 400, "ClusterNotFoundException")]
    assert all(t0 - 1 <= e["t"] <= time.time() + 1 for e in log)
    emulator.reset_calls()
    assert emulator.total_calls() == 0


# -- scale, shapes and process behaviour ------------------------------------

def test_bulk_services(emulator):
    t0 = time.monotonic()
    out = emulator.bulk_services(cluster="big", count=1000)
    assert out["created"] == 1000 and time.monotonic() - t0 < 5
    c = emulator.boto3()
    emulator.reset_calls()
    arns = []
    for page in c.get_paginator("list_services").paginate(cluster="big",
        PaginationConfig={"PageSize": 100}):
        arns += page["serviceArns"]
    assert len(arns) == len(set(arns)) == 1000
    assert emulator.calls() == {"ListServices": 10}
    names = [a.rsplit("/", 1)[1] for a in arns[500:510]]
    t0 = time.monotonic()
    for _ in range(20):
        out = c.describe_services(cluster="big", services=names)
    per_call = (time.monotonic() - t0) / 20
    assert [s["serviceName"] for s in out["services"]] == names
    assert all(s["runningCount"] == 1 and s["deployments"][0][
        "rolloutState"] == "COMPLETED" for s in out["services"])
    assert per_call < 0.05
    cl = c.describe_clusters(clusters=["big"])["clusters"][0]
    assert (cl["activeServicesCount"], cl["runningTasksCount"]) == \
        (1000, 1000)


def test_responses_match_the_model(emulator, ecs_spec):
    c = emulator.boto3()
    raw = Raw(emulator)
    task = c.list_tasks(cluster=PROD, serviceName="worker")["taskArns"][0]
    inst = c.list_container_instances(cluster=PROD)["containerInstanceArns"]
    calls = [
        ("ListClusters", {}),
        ("DescribeClusters", {"clusters": [PROD, "nope"], "include":
            ["TAGS", "SETTINGS", "STATISTICS"]}),
        ("ListServices", {"cluster": PROD}),
        ("DescribeServices", {"cluster": PROD, "services": ["api", "web",
            "worker", "nope"], "include": ["TAGS"]}),
        ("ListTasks", {"cluster": PROD}),
        ("DescribeTasks", {"cluster": PROD, "tasks": [task, "nope"]}),
        ("ListContainerInstances", {"cluster": PROD}),
        ("DescribeContainerInstances", {"cluster": PROD,
            "containerInstances": inst}),
        ("DescribeTaskDefinition", {"taskDefinition": "api"}),
        ("UpdateService", {"cluster": PROD, "service": "web",
            "desiredCount": 3}),
        ("StopTask", {"cluster": PROD, "task": task}),
        ("UpdateContainerInstancesState", {"cluster": PROD,
            "containerInstances": inst[:1], "status": "DRAINING"}),
        ("RunTask", {"cluster": PROD, "taskDefinition": "worker",
            "launchType": "EC2"}),
    ]
    for op, params in calls:
        status, _, body = raw.request(op, params)
        assert status == 200, (op, body)
        assert ecs_spec.validate_output(op, body) == [], op
    raw.close()


def test_process_cli_and_sigterm(tmp_path):
    port_file = tmp_path / "port"
    proc = subprocess.Popen([PYTHON, MAIN, "--port", "0", "--port-file",
        str(port_file), "--seed", "empty", "--time-scale", "5"],
        cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(port_file.read_text())
        assert line == "ecsim: listening on http://127.0.0.1:%d\n" % port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/_ecsim/state")
        assert json.loads(conn.getresponse().read()) == {"clusters": {}}
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
