"""Integration tests of ecs/ (client, http, sigv4, config, creds, api)
through the ecscall program, against the ECS emulator.

Every run gets its environment from emulator.env(), so the host's ~/.aws is
never read, and every run's output is checked for sanitizer reports and for
the secret key.
"""

import json
import socket
import stat
import subprocess
import threading
import time

import pytest

from helpers.ecscall import ecscall_path, ok, run, stats_of
from helpers.ecsim import SECRET_KEY

PROD = "production-cluster"
DEV = "development-cluster"


def names(arns):
    return sorted(a.rsplit("/", 1)[1] for a in arns)


# -- signatures accepted: ecscall sees what the AWS CLI sees ---------------

def test_clusters_match_aws_cli(emulator):
    mine = ok(emulator, "list-clusters")["clusterArns"]
    cli = emulator.aws("ecs", "list-clusters")["clusterArns"]
    assert sorted(mine) == sorted(cli)
    assert names(mine) == [DEV, PROD]

    mine = ok(emulator, "describe-clusters", PROD, DEV, "no-such-cluster")
    cli = emulator.aws("ecs", "describe-clusters", "--clusters", PROD, DEV,
        "no-such-cluster")
    keys = ("clusterArn", "clusterName", "status", "activeServicesCount",
        "registeredContainerInstancesCount")
    assert [{k: c[k] for k in keys} for c in mine["clusters"]] == \
        [{k: c[k] for k in keys} for c in cli["clusters"]]
    by_name = {c["clusterName"]: c for c in mine["clusters"]}
    assert by_name[PROD]["activeServicesCount"] == 3
    assert by_name[DEV]["activeServicesCount"] == 2
    assert [f["reason"] for f in mine["failures"]] == ["MISSING"]
    assert mine["failures"] == cli["failures"]


def test_services_match_aws_cli(emulator):
    mine = ok(emulator, "list-services", PROD)["serviceArns"]
    cli = emulator.aws("ecs", "list-services", "--cluster", PROD)
    assert sorted(mine) == sorted(cli["serviceArns"])
    assert names(mine) == ["api", "web", "worker"]

    mine = ok(emulator, "describe-services", PROD, "api", "web", "worker",
        "ghost")
    cli = emulator.aws("ecs", "describe-services", "--cluster", PROD,
        "--services", "api", "web", "worker", "ghost")
    keys = ("serviceArn", "serviceName", "status", "desiredCount",
        "launchType", "taskDefinition")
    assert [{k: s[k] for k in keys} for s in mine["services"]] == \
        [{k: s[k] for k in keys} for s in cli["services"]]
    desired = {s["serviceName"]: s["desiredCount"] for s in mine["services"]}
    assert desired == {"api": 3, "web": 2, "worker": 5}
    assert mine["failures"] == cli["failures"]
    assert mine["failures"][0]["reason"] == "MISSING"
    assert mine["failures"][0]["arn"].endswith("/ghost")

    dev = ok(emulator, "describe-services", DEV, "api", "web")["services"]
    assert {s["serviceName"]: s["desiredCount"] for s in dev} == \
        {"api": 1, "web": 1}


def test_tasks_and_instances_match_aws_cli(emulator):
    mine = ok(emulator, "list-tasks", PROD, "worker")["taskArns"]
    cli = emulator.aws("ecs", "list-tasks", "--cluster", PROD,
        "--service-name", "worker")["taskArns"]
    assert sorted(mine) == sorted(cli)
    assert len(mine) == 5
    everything = ok(emulator, "list-tasks", PROD)["taskArns"]
    assert set(mine) < set(everything)

    ids = names(mine)
    tasks = ok(emulator, "describe-tasks", PROD, *ids)
    assert tasks["failures"] == []
    assert sorted(t["taskArn"] for t in tasks["tasks"]) == sorted(mine)
    assert {t["group"] for t in tasks["tasks"]} == {"service:worker"}
    assert {t["launchType"] for t in tasks["tasks"]} == {"EC2"}

    insts = ok(emulator, "list-container-instances", PROD)
    cli = emulator.aws("ecs", "list-container-instances", "--cluster", PROD)
    assert sorted(insts["containerInstanceArns"]) == \
        sorted(cli["containerInstanceArns"])
    ids = names(insts["containerInstanceArns"])
    desc = ok(emulator, "describe-container-instances", PROD, *ids)
    cli = emulator.aws("ecs", "describe-container-instances", "--cluster",
        PROD, "--container-instances", *ids)
    assert sorted((i["containerInstanceArn"], i["ec2InstanceId"])
        for i in desc["containerInstances"]) == \
        sorted((i["containerInstanceArn"], i["ec2InstanceId"])
        for i in cli["containerInstances"])
    running = sum(i["runningTasksCount"] for i in desc["containerInstances"])
    assert running == 5
    active = ok(emulator, "list-container-instances", PROD, "ACTIVE")
    assert sorted(active["containerInstanceArns"]) == \
        sorted(insts["containerInstanceArns"])


def test_raw_call_and_stats(emulator):
    emulator.reset_calls()
    r = run(emulator, "--stats", "DescribeServices",
        json.dumps({"cluster": PROD, "services": ["api"]}))
    assert r.returncode == 0, r.stderr
    resp = json.loads(r.stdout)
    assert [s["serviceName"] for s in resp["services"]] == ["api"]
    assert r.stdout.startswith("{\n  "), "output is not pretty-printed"
    st = stats_of(r.stderr)
    assert st["calls"] == 1
    assert st["attempts"] == 1
    assert st["retries"] == 0
    assert st["api_calls.DescribeServices"] == 1
    assert st["api_calls.ListClusters"] == 0
    assert st["category.service_read.requests"] == 1
    assert st["errors.not_found"] == 0
    assert emulator.calls() == {"DescribeServices": 1}


def test_usage_errors(emulator):
    assert run(emulator).returncode == 2
    assert run(emulator, "no-such-command").returncode == 2
    assert run(emulator, "list-services").returncode == 2
    assert run(emulator, "describe-services", PROD).returncode == 2
    assert run(emulator, "ListClusters", "{not json").returncode == 2
    assert run(emulator, "ListClusters", "[1]").returncode == 2
    assert run(emulator, "-t", "abc", "list-clusters").returncode == 2
    assert emulator.total_calls() == 0


# -- pagination and batching -----------------------------------------------

def test_list_pages_and_describe_batches(emulator):
    emulator.bulk_services(cluster="big", count=250)
    emulator.reset_calls()
    arns = ok(emulator, "list-services", "big")["serviceArns"]
    assert len(arns) == 250 == len(set(arns))
    assert emulator.calls() == {"ListServices": 3}

    emulator.reset_calls()
    some = names(arns)[:25]
    r = run(emulator, "--stats", "describe-services", "big", *some)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert sorted(s["serviceName"] for s in got["services"]) == some
    assert got["failures"] == []
    assert emulator.calls() == {"DescribeServices": 3}
    assert stats_of(r.stderr)["api_calls.DescribeServices"] == 3

    emulator.reset_calls()
    tasks = ok(emulator, "list-tasks", "big")["taskArns"]
    assert len(tasks) == 250
    assert emulator.calls() == {"ListTasks": 3}
    emulator.reset_calls()
    desc = ok(emulator, "describe-tasks", "big", *names(tasks))
    assert sorted(t["taskArn"] for t in desc["tasks"]) == sorted(tasks)
    assert emulator.calls() == {"DescribeTasks": 3}


# -- authentication errors -------------------------------------------------

def test_wrong_secret_is_an_access_error(emulator):
    wrong = "WrongSecret0123456789abcdefghijklmnopqrs"
    r = run(emulator, "list-clusters",
        env=emulator.env(AWS_SECRET_ACCESS_KEY=wrong, AWS_MAX_ATTEMPTS=5),
        secrets=(wrong,))
    assert r.returncode == 1
    assert r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line
    assert line.startswith("ecscall: access denied: InvalidSignatureException: ")
    assert "(request id " in line
    assert emulator.calls() == {"ListClusters": 1}


def test_unknown_key_is_an_access_error(emulator):
    r = run(emulator, "list-services", PROD, env=emulator.env(
        AWS_ACCESS_KEY_ID="AKIAUNKNOWNKEY000000"))
    assert r.returncode == 1
    assert "access denied: UnrecognizedClientException" in r.stderr
    assert emulator.calls() == {"ListServices": 1}


def test_expired_env_credentials_are_refreshed_once(emulator):
    emulator.add_credentials("AKIAEXPIREDKEY000001", "expiredSecret0001",
        session_token="tok-expired", expired=True)
    env = emulator.env(AWS_ACCESS_KEY_ID="AKIAEXPIREDKEY000001",
        AWS_SECRET_ACCESS_KEY="expiredSecret0001",
        AWS_SESSION_TOKEN="tok-expired")
    r = run(emulator, "list-clusters", env=env,
        secrets=("expiredSecret0001", "tok-expired"))
    assert r.returncode == 1
    assert "access denied: ExpiredTokenException" in r.stderr
    # One refresh of the credentials, one retry, then the error is final.
    assert emulator.calls() == {"ListClusters": 2}


# -- retries -----------------------------------------------------------------

def run_series(emulator, env):
    """A series of calls that must all succeed; returns the summed --stats."""
    total = {}
    for args in (["list-clusters"], ["list-services", PROD],
        ["describe-services", PROD, "api", "web", "worker"],
        ["list-tasks", PROD], ["list-container-instances", PROD],
        ["describe-clusters", PROD, DEV], ["list-services", DEV],
        ["describe-services", DEV, "api", "web"],
        ["list-tasks", DEV, "api"], ["list-clusters"]):
        r = run(emulator, "--stats", *args, env=env)
        assert r.returncode == 0, "%s: %s" % (args, r.stderr)
        json.loads(r.stdout)
        for k, v in stats_of(r.stderr).items():
            total[k] = total.get(k, 0) + v
    return total


def test_retries_throttling(emulator):
    emulator.faults(throttle_probability=0.5)
    emulator.reset_calls()
    st = run_series(emulator, emulator.env(AWS_MAX_ATTEMPTS=12))
    rec = emulator.call_stats()
    throttled = sum(rec["throttled"].values())
    assert throttled >= 3
    assert rec["total"] == 10 + throttled
    assert st["retries"] == throttled == st["throttles"]
    assert st["attempts"] == rec["total"]
    assert st["calls"] == 10


def test_retries_server_errors(emulator):
    emulator.faults(error_5xx_probability=0.5)
    emulator.reset_calls()
    st = run_series(emulator, emulator.env(AWS_MAX_ATTEMPTS=12))
    rec = emulator.call_stats()
    codes = {}
    for per_action in rec["errors"].values():
        for code, n in per_action.items():
            codes[code] = codes.get(code, 0) + n
    assert set(codes) <= {"ServerException", "ServiceUnavailableException"}
    failed = sum(codes.values())
    assert failed >= 3
    assert rec["total"] == 10 + failed
    assert st["retries"] == failed
    assert st["throttles"] == 0


def test_retries_everything_at_once(emulator):
    emulator.faults(throttle_probability=0.3, error_5xx_probability=0.3,
        drop_probability=0.2)
    emulator.reset_calls()
    st = run_series(emulator, emulator.env(AWS_MAX_ATTEMPTS=12))
    rec = emulator.call_stats()
    failed = sum(sum(c.values()) for c in rec["errors"].values())
    dropped = sum(c.get("ConnectionDropped", 0)
        for c in rec["errors"].values())
    assert sum(rec["throttled"].values()) > 0
    assert dropped > 0
    assert failed > dropped
    assert rec["total"] == 10 + failed
    # libcurl itself resends a request once, on a new connection, when a
    # kept-alive connection closes without answering; only a dropped
    # connection can cause that, so the client's own count may fall short
    # of the emulator's by at most the number of drops.
    assert 0 <= rec["total"] - st["attempts"] <= dropped
    assert st["retries"] == st["attempts"] - 10


def test_one_attempt_fails_at_once(emulator):
    emulator.faults(throttle_probability=1.0)
    r = run(emulator, "list-clusters", env=emulator.env(AWS_MAX_ATTEMPTS=1))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: throttled: ThrottlingException: ")
    assert r.elapsed < 2
    assert emulator.calls() == {"ListClusters": 1}

    # Server errors and connection errors are bounded by max_attempts ...
    emulator.faults(error_5xx_probability=1.0)
    emulator.reset_calls()
    r = run(emulator, "-a", "3", "list-clusters",
        env=emulator.env(AWS_MAX_ATTEMPTS=1))
    assert r.returncode == 1
    assert "after 3 attempts" in r.stderr
    assert emulator.calls() == {"ListClusters": 3}

    # ... throttling, paced, by the time a token may be waited for: the call
    # fails with busy (EAGAIN in the mount) once the wait would pass it.
    emulator.faults(throttle_probability=1.0)
    emulator.reset_calls()
    r = run(emulator, "-a", "3", "-w", "1500", "list-clusters",
        env=emulator.env(AWS_MAX_ATTEMPTS=1))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: busy"), r.stderr
    assert r.elapsed < 5
    assert emulator.calls()["ListClusters"] >= 3


def test_client_errors_are_not_retried(emulator):
    env = emulator.env(AWS_MAX_ATTEMPTS=12)
    r = run(emulator, "list-services", "no-such-cluster", env=env)
    assert r.returncode == 1
    assert r.stderr.startswith(
        "ecscall: not found: ClusterNotFoundException: ")
    assert emulator.calls() == {"ListServices": 1}

    emulator.reset_calls()
    r = run(emulator, "DescribeServices", json.dumps({"cluster": PROD,
        "services": ["s%d" % i for i in range(11)]}), env=env)
    assert r.returncode == 1
    assert "invalid argument: InvalidParameterException" in r.stderr
    assert emulator.calls() == {"DescribeServices": 1}

    emulator.reset_calls()
    emulator.faults(deny_actions=["ListClusters"])
    r = run(emulator, "list-clusters", env=env)
    assert r.returncode == 1
    assert "access denied: AccessDeniedException" in r.stderr
    assert emulator.calls() == {"ListClusters": 1}


# -- transport failures and time budgets ----------------------------------

def test_unreachable_endpoint_fails_within_budget(emulator):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = run(emulator, "-e", "http://127.0.0.1:%d" % port, "-t", "2000",
        "--stats", "list-clusters")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: unreachable: ")
    assert r.elapsed < 3.0
    st = stats_of(r.stderr)
    assert st["attempts"] >= 2, "connection errors must be retried"
    assert st["errors.unreachable"] == 1


def test_black_hole_endpoint_times_out_within_budget(emulator):
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)
    try:
        url = "http://127.0.0.1:%d" % hole.getsockname()[1]
        r = run(emulator, "-e", url, "-t", "2000", "list-clusters")
        assert r.returncode == 1
        assert r.stderr.startswith("ecscall: timed out: ")
        assert 1.8 < r.elapsed < 3.0
    finally:
        hole.close()


def test_slow_emulator_times_out_within_budget(emulator):
    emulator.faults(latency_ms=1500)
    r = run(emulator, "-t", "400", "list-clusters")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: timed out: ")
    assert r.elapsed < 1.2


def test_latency_with_concurrent_calls(emulator):
    emulator.faults(latency_ms=400)
    emulator.reset_calls()
    results = [None] * 12

    def one(i):
        results[i] = run(emulator, "describe-services", PROD, "api", "web",
            "worker")

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for r in results:
        assert r.returncode == 0, r.stderr
        assert len(json.loads(r.stdout)["services"]) == 3
    assert emulator.calls() == {"DescribeServices": 12}
    assert elapsed < 12 * 0.4 / 2, "calls did not overlap"


# -- configuration and credentials ----------------------------------------

def write_private(path, text):
    path.write_text(text)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return path


def env_without_keys(emulator, **extra):
    return emulator.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
        AWS_SESSION_TOKEN=None, **extra)


def test_profile_files(emulator, tmp_path):
    emulator.add_credentials("AKIAPROFILEKEY000001", "profileSecret0001")
    config = write_private(tmp_path / "config",
        "[default]\nregion = eu-west-1\n\n"
        "[profile dev]\nregion = us-east-1\n")
    creds = write_private(tmp_path / "credentials",
        "[default]\naws_access_key_id = AKIANOTKNOWN00000000\n"
        "aws_secret_access_key = nope\n\n"
        "[dev]\naws_access_key_id = AKIAPROFILEKEY000001\n"
        "aws_secret_access_key = profileSecret0001\n")
    base = dict(AWS_CONFIG_FILE=config, AWS_SHARED_CREDENTIALS_FILE=creds,
        AWS_REGION=None, AWS_DEFAULT_REGION=None)
    secrets = ("profileSecret0001",)

    got = ok(emulator, "list-clusters",
        env=env_without_keys(emulator, AWS_PROFILE="dev", **base),
        secrets=secrets)
    assert names(got["clusterArns"]) == [DEV, PROD]
    got = ok(emulator, "-p", "dev", "list-services", PROD,
        env=env_without_keys(emulator, **base), secrets=secrets)
    assert names(got["serviceArns"]) == ["api", "web", "worker"]

    # The default profile: wrong region and an unknown key.
    r = run(emulator, "list-clusters", env=env_without_keys(emulator, **base))
    assert r.returncode == 1
    assert "access denied" in r.stderr

    # Environment keys win over the profile's.
    got = ok(emulator, "-p", "dev", "list-clusters", env=emulator.env(**base))
    assert len(got["clusterArns"]) == 2


def test_credential_process(emulator, tmp_path):
    emulator.add_credentials("ASIAPROCESSKEY000001", "processSecret0001",
        session_token="process-token-0001")
    script = tmp_path / "creds.sh"
    script.write_text("#!/bin/sh\ncat <<'EOF'\n" + json.dumps({
        "Version": 1, "AccessKeyId": "ASIAPROCESSKEY000001",
        "SecretAccessKey": "processSecret0001",
        "SessionToken": "process-token-0001",
        "Expiration": "2099-01-01T00:00:00Z"}) + "\nEOF\n")
    script.chmod(0o755)
    config = write_private(tmp_path / "config",
        "[profile proc]\nregion = us-east-1\ncredential_process = %s\n"
        % script)
    env = env_without_keys(emulator, AWS_CONFIG_FILE=config,
        AWS_PROFILE="proc", AWS_REGION=None, AWS_DEFAULT_REGION=None)
    got = ok(emulator, "describe-services", PROD, "api", env=env,
        secrets=("processSecret0001", "process-token-0001"))
    assert got["services"][0]["serviceName"] == "api"
    assert emulator.calls() == {"DescribeServices": 1}


def test_credential_process_refresh_after_expired_token(emulator, tmp_path):
    emulator.add_credentials("ASIAOLDKEY0000000001", "oldSecret0001",
        session_token="old-token", expired=True)
    emulator.add_credentials("ASIANEWKEY0000000001", "newSecret0001",
        session_token="new-token")
    counter = tmp_path / "runs"
    script = tmp_path / "creds.py"
    script.write_text("""#!/usr/bin/python3
import json, os
path = %r
n = int(open(path).read()) if os.path.exists(path) else 0
open(path, "w").write(str(n + 1))
key, secret, token = (("ASIAOLDKEY0000000001", "oldSecret0001", "old-token")
    if n == 0 else ("ASIANEWKEY0000000001", "newSecret0001", "new-token"))
print(json.dumps({"Version": 1, "AccessKeyId": key, "SecretAccessKey": secret,
    "SessionToken": token, "Expiration": "2099-01-01T00:00:00Z"}))
""" % str(counter))
    script.chmod(0o755)
    config = write_private(tmp_path / "config",
        "[default]\nregion = us-east-1\ncredential_process = %s\n" % script)
    env = env_without_keys(emulator, AWS_CONFIG_FILE=config)
    got = ok(emulator, "list-clusters", env=env,
        secrets=("oldSecret0001", "newSecret0001", "old-token", "new-token"))
    assert len(got["clusterArns"]) == 2
    assert emulator.calls() == {"ListClusters": 2}
    assert counter.read_text() == "2"


def test_missing_configuration_exits_3(emulator, tmp_path):
    r = run(emulator, "list-clusters", env=env_without_keys(emulator))
    assert r.returncode == 3
    assert r.stderr.startswith("ecscall: ")
    r = run(emulator, "list-clusters", env=emulator.env(AWS_REGION=None,
        AWS_DEFAULT_REGION=None))
    assert r.returncode == 3
    assert emulator.total_calls() == 0


def test_tls_endpoint_with_ca_bundle(emulator_tls):
    emu = emulator_tls
    assert emu.url.startswith("https://")
    got = ok(emu, "list-clusters", env=emu.env())
    assert names(got["clusterArns"]) == [DEV, PROD]
    got = ok(emu, "describe-services", PROD, "api", "web", env=emu.env())
    assert len(got["services"]) == 2

    # Without the test CA the certificate is not trusted.
    r = run(emu, "-t", "3000", "list-clusters",
        env=emu.env(AWS_CA_BUNDLE=None))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: unreachable: ")
    assert "certificate" in r.stderr.lower()
    # It would fail the same way again: one attempt, not the whole budget.
    assert "attempts" not in r.stderr, r.stderr


# -- a caller going away, shutdown, and mutations on the wire ---------------

def desired(emulator, cluster, service):
    return emulator.boto3().describe_services(cluster=cluster,
        services=[service])["services"][0]["desiredCount"]


def update(count):
    return json.dumps({"cluster": PROD, "service": "web",
        "desiredCount": count})


def test_read_stops_when_its_caller_goes_away(emulator):
    emulator.faults(latency_ms=4000, actions=["ListClusters"])
    r = run(emulator, "--interrupt-after", "300", "list-clusters")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: interrupted: "), r.stderr
    assert "may have been applied" not in r.stderr
    assert r.elapsed < 2.5, r.elapsed
    assert emulator.calls() == {"ListClusters": 1}


def test_mutation_on_the_wire_waits_for_its_answer(emulator):
    # The caller goes away while ECS works on the update: the answer
    # still comes, once, and the write is reported as it landed.
    emulator.faults(response_delay_ms=1500, actions=["UpdateService"])
    emulator.reset_calls()
    r = run(emulator, "--interrupt-after", "200", "UpdateService", update(4))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["service"]["desiredCount"] == 4
    assert r.elapsed >= 1.4
    assert emulator.calls() == {"UpdateService": 1}
    assert desired(emulator, PROD, "web") == 4


def test_mutation_before_the_wire_stops_when_its_caller_goes_away(emulator):
    # Throttled: the retry waits for a token, and nothing is on the wire
    # while it does, so the caller going away ends it.
    emulator.faults(throttle_probability=1.0, actions=["UpdateService"])
    r = run(emulator, "-a", "5", "-w", "20000", "--interrupt-after", "500",
        "UpdateService", update(4))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: interrupted: "), r.stderr
    assert "may have been applied" not in r.stderr
    assert r.elapsed < 3.0, r.elapsed
    assert desired(emulator, PROD, "web") == 2


def test_mutation_without_an_answer_is_not_resent(emulator):
    # Carried out, then the connection drops: a read would be retried,
    # a mutation must not be (it may have landed, and it did).
    emulator.wire_faults(drop_after_apply=["UpdateService"])
    emulator.reset_calls()
    r = run(emulator, "-a", "5", "UpdateService", update(4))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: unreachable: "), r.stderr
    assert r.stderr.rstrip().endswith("(may have been applied)"), r.stderr
    assert emulator.calls() == {"UpdateService": 1}
    emulator.wire_faults()
    assert desired(emulator, PROD, "web") == 4

    emulator.wire_faults(drop_after_apply=["DescribeServices"])
    emulator.reset_calls()
    r = run(emulator, "-a", "3", "describe-services", PROD, "web")
    assert r.returncode == 1
    assert "may have been applied" not in r.stderr
    assert emulator.calls()["DescribeServices"] >= 3


def test_mutation_answered_unreadably_is_applied_and_not_resent(emulator):
    # Carried out and answered 200, but the answer is cut short: the call
    # fails (there is nothing to return) and says the change was made.
    emulator.wire_faults(unreadable_after_apply={"UpdateService": "cut"})
    emulator.reset_calls()
    r = run(emulator, "-a", "5", "UpdateService", update(4))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: protocol error: HTTP 200 response is not JSON"), \
        r.stderr
    assert r.stderr.rstrip().endswith("(applied: answered 200)"), r.stderr
    assert "may have been applied" not in r.stderr
    assert emulator.calls() == {"UpdateService": 1}
    emulator.wire_faults()
    assert desired(emulator, PROD, "web") == 4

    # A read answered so is no more than a protocol error.
    emulator.wire_faults(unreadable_after_apply={"DescribeServices": "cut"})
    r = run(emulator, "-a", "3", "describe-services", PROD, "web")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: protocol error: "), r.stderr
    assert "applied" not in r.stderr, r.stderr


def test_mutation_timing_out_is_not_resent(emulator):
    emulator.faults(response_delay_ms=3000, actions=["StopTask"])
    task = names(ok(emulator, "list-tasks", PROD, "web")["taskArns"])[0]
    emulator.reset_calls()
    r = run(emulator, "-t", "1000", "-a", "5", "StopTask",
        json.dumps({"cluster": PROD, "task": task, "reason": "test"}))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: timed out: "), r.stderr
    assert "(may have been applied)" in r.stderr
    assert r.elapsed < 2.5
    assert emulator.calls() == {"StopTask": 1}


def test_mutation_that_cannot_have_been_sent_is_retried(emulator):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = run(emulator, "-e", "http://127.0.0.1:%d" % port, "-t", "2000",
        "-a", "4", "--stats", "UpdateService", update(4))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: unreachable: ")
    assert "may have been applied" not in r.stderr
    assert stats_of(r.stderr)["attempts"] >= 2


@pytest.mark.parametrize("where", ["response", "token", "backoff", "mutation"])
def test_shutdown_ends_a_call_at_once(emulator, where):
    args = ["--shutdown-after", "400"]
    if where == "response":
        emulator.faults(latency_ms=5000)
        args += ["-t", "20000", "list-clusters"]
    elif where == "token":
        emulator.faults(throttle_probability=1.0)
        args += ["-a", "5", "-w", "30000", "list-clusters"]
    elif where == "backoff":
        emulator.faults(error_5xx_probability=1.0)
        args += ["-a", "1000", "-t", "30000", "list-clusters"]
    else:
        emulator.faults(response_delay_ms=5000, actions=["UpdateService"])
        args += ["-t", "20000", "UpdateService", update(4)]
    r = run(emulator, *args)
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: interrupted: "), r.stderr
    assert "client shut down" in r.stderr
    assert r.elapsed < 1.6, r.elapsed
    assert ("(may have been applied)" in r.stderr) == (where == "mutation")


def test_sigterm_shuts_the_client_down_within_a_second(emulator):
    emulator.faults(latency_ms=10000)
    p = subprocess.Popen([str(ecscall_path()), "-t", "30000", "list-clusters"],
        env=emulator.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    emulator.wait_for(lambda: emulator.calls().get("ListClusters"), timeout=10)
    t0 = time.monotonic()
    p.terminate()
    out, err = p.communicate(timeout=10)
    elapsed = time.monotonic() - t0
    assert p.returncode == 1, err
    assert err.startswith("ecscall: interrupted: ") and "client shut down" in err
    # At once (a few ms when idle), not after the 10 s answer; the bound
    # leaves room for a loaded machine.
    assert elapsed < 2.0, elapsed


def test_echoed_credentials_are_redacted(emulator):
    token = "IQoJb3JpZ2luX2VjEXAMPLEtokenVALUE0123456789abcdefSESSION"
    secret = "SessionSecretKey0123456789abcdefghijKLMN"
    emulator.add_credentials("ASIASESSIONKEY000001", secret,
        session_token=token)
    emulator.wire_faults(echo_credentials=True)
    env = emulator.env(AWS_ACCESS_KEY_ID="ASIASESSIONKEY000001",
        AWS_SECRET_ACCESS_KEY=secret, AWS_SESSION_TOKEN=token)
    r = run(emulator, "list-clusters", env=env, secrets=(token, secret,
        token.upper(), token.lower(), secret.lower(), secret.upper(),
        token[:24], secret[:24]))
    assert r.returncode == 1
    assert "IncompleteSignatureException" in r.stderr
    assert "X-AMZ-SECURITY-TOKEN:<redacted>" in r.stderr
    assert "token <redacted> (<redacted>)" in r.stderr
    assert "signed with <redacted> (<redacted>)" in r.stderr

    # What the echo looks like without a session token.
    r = run(emulator, "list-clusters", secrets=(SECRET_KEY.lower(),))
    assert r.returncode == 1
    assert "signed with <redacted> (<redacted>)" in r.stderr


def test_interrupted_token_wait_gives_the_token_back(emulator):
    # Eleven services are two DescribeServices calls; at one token per 2 s
    # the second waits for its token, and its caller goes away meanwhile:
    # the token it was promised goes back to the pacer, unused.
    r = run(emulator, "-R", "service_read=1:0.5", "--interrupt-after", "500",
        "--stats", "describe-services", PROD, *["s%d" % i for i in range(11)])
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: interrupted: "), r.stderr
    assert r.elapsed < 2.0
    st = stats_of(r.stderr)
    assert st["category.service_read.requests"] == 1
    assert st["category.service_read.waits"] == 1
    assert st["category.service_read.queued"] == 0
    assert emulator.calls() == {"DescribeServices": 1}


def test_mutation_whose_connect_timed_out_is_retried(emulator):
    # A listener whose backlog is full: SYNs go unanswered, so connecting
    # times out and nothing can have been sent; such a mutation is retried.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port = full.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(s)
        time.sleep(0.2)
        r = run(emulator, "-e", "http://127.0.0.1:%d" % port, "-c", "300",
            "-t", "5000", "-a", "3", "--stats", "UpdateService", update(4))
        assert r.returncode == 1
        assert r.stderr.startswith("ecscall: timed out: "), r.stderr
        # libcurl words a connect that ran out of time either way.
        assert "Failed to connect" in r.stderr or "Connection timeout" in r.stderr, r.stderr
        assert "may have been applied" not in r.stderr
        assert stats_of(r.stderr)["attempts"] == 3
    finally:
        for s in fillers:
            s.close()
        full.close()
