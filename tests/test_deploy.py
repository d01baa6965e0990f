"""Deploying and rolling back task-definition revisions through the mount.

services/S/task_definition takes family:revision, an ARN or a family (its
latest ACTIVE revision), checked with DescribeTaskDefinition before
anything else is sent; services/S/rollback deploys the newest ACTIVE
revision older than the running one.  The real daemon on a real FUSE
mount, driven by shell commands; results are checked in the emulator's
state and call counts and with the AWS CLI.

The seed: development api runs api:4, production api api:3 (with the
circuit breaker and rollback), both web services web:2, worker worker:5;
failing-api:1 never starts.
"""
import os
import re
import subprocess

import pytest

from helpers.ecsim import wait_for
from helpers.mount import binary, write_raw

DEV = "development-cluster"
PROD = "production-cluster"
MUTATING = ("UpdateService", "StopTask", "UpdateContainerInstancesState",
            "RegisterScalableTarget", "RegisterTaskDefinition", "DeregisterTaskDefinition")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (\S+) (.*)$")


@pytest.fixture
def dmount(emulator, mount_factory):
    """A mount whose waits poll every 0.3 s."""
    return mount_factory(options={"wait_interval": 0.3, "wait_timeout": 90})


def svc_path(cluster, service, f):
    return "%s/services/%s/%s" % (cluster, service, f)


def running_td(emulator, cluster, service):
    return emulator.task_definition(cluster, service)


def cli_td(emulator, cluster, service):
    out = emulator.aws("ecs", "describe-services", "--cluster", cluster, "--services", service)
    return out["services"][0]["taskDefinition"].rsplit("/", 1)[1]


def td_arn(emulator, name):
    return emulator.boto3().describe_task_definition(
        taskDefinition=name)["taskDefinition"]["taskDefinitionArn"]


def deregister(emulator, name):
    emulator.boto3().deregister_task_definition(taskDefinition=name)


def mutating(emulator):
    c = emulator.calls()
    return {a: c[a] for a in MUTATING if c.get(a)}


def journal(mount, field):
    return [l for l in mount.read(".ecsfs", "journal").splitlines() if "field=%s " % field in l]


def wait_file(mount, cluster, service, timeout=120):
    r = subprocess.run(["cat", str(mount.p(svc_path(cluster, service, "wait")))],
                       capture_output=True, text=True, timeout=timeout)
    lines = r.stdout.splitlines()
    for l in lines:
        assert LINE.match(l), l
    return r, [LINE.match(l).group(2) for l in lines]


def tasks_on(emulator, cluster, service, td):
    """The running tasks of a service on revision td ("family:revision")."""
    tasks = emulator.state(cluster)["tasks"].values()
    return [t for t in tasks if t["service"] == service and t["lastStatus"] == "RUNNING" and
            t["taskDefinition"].endswith("/" + td)]


# -- deploy ------------------------------------------------------------------

def test_deploy_by_family_revision_then_wait(dmount, emulator):
    f = svc_path(DEV, "api", "task_definition")
    assert dmount.read(f) == "api:4\n"
    emulator.reset_calls()
    dmount.sh("echo api:3 > %s" % f)
    c = emulator.calls()
    assert c.get("DescribeTaskDefinition") == 1
    assert mutating(emulator) == {"UpdateService": 1}
    assert dmount.read(f) == "api:3\n"  # read-your-writes
    # The new PRIMARY deployment, as UpdateService returned it.
    deps = dmount.read(svc_path(DEV, "api", "deployments")).splitlines()
    assert len(deps) == 2 and deps[0].split()[1] == "PRIMARY", deps
    assert running_td(emulator, DEV, "api") == "api:3"
    assert cli_td(emulator, DEV, "api") == "api:3"
    j = journal(dmount, "task_definition")[-1]
    assert "op=UpdateService target=%s/services/api field=task_definition old=api:4 new=api:3 " \
        "result=ok" % DEV in j
    assert "request_id=-" not in j
    # The deployment it started is what wait verifies.
    r, lines = wait_file(dmount, DEV, "api")
    assert r.returncode == 0, r.stderr
    assert lines[-1] == "stable", r.stdout
    assert len(tasks_on(emulator, DEV, "api", "api:3")) == 1
    assert dmount.read(svc_path(DEV, "api", "stable")) == "true\n"


def test_deploy_by_arn_and_of_another_family(dmount, emulator):
    arn = td_arn(emulator, "web:1")
    dmount.sh("echo %s > %s" % (arn, svc_path(DEV, "web", "task_definition")))
    assert running_td(emulator, DEV, "web") == "web:1"
    assert dmount.read(svc_path(DEV, "web", "task_definition")) == "web:1\n"
    assert "old=web:2 new=web:1 result=ok" in journal(dmount, "task_definition")[-1]
    # ECS lets a service run another family's revision; so does the mount.
    dmount.sh("printf api:2 > %s" % svc_path(DEV, "web", "task_definition"))
    assert cli_td(emulator, DEV, "web") == "api:2"
    r, lines = wait_file(dmount, DEV, "web")
    assert r.returncode == 0 and lines[-1] == "stable", r.stdout + r.stderr


def test_deploy_by_family_takes_its_latest_active_revision(dmount, emulator):
    dmount.sh("echo api > %s" % svc_path(PROD, "api", "task_definition"))
    assert running_td(emulator, PROD, "api") == "api:4"
    assert "old=api:3 new=api:4 result=ok" in journal(dmount, "task_definition")[-1]
    # With api:4 deregistered, the family means api:3 (development runs api:4 still).
    deregister(emulator, "api:4")
    emulator.reset_calls()
    dmount.sh("echo api > %s" % svc_path(DEV, "api", "task_definition"))
    assert mutating(emulator) == {"UpdateService": 1}
    assert running_td(emulator, DEV, "api") == "api:3"
    assert "old=api:4 new=api:3 result=ok" in journal(dmount, "task_definition")[-1]


def test_deploying_the_running_revision_sends_nothing(dmount, emulator):
    """A pipeline that runs again deploys nothing: the journal says unchanged."""
    emulator.reset_calls()
    dmount.sh("echo api:4 > %s" % svc_path(DEV, "api", "task_definition"))
    dmount.sh("echo %s > %s" % (td_arn(emulator, "web:2"), svc_path(DEV, "web",
                                                                     "task_definition")))
    assert mutating(emulator) == {}
    j = journal(dmount, "task_definition")
    assert "old=api:4 new=api:4 result=unchanged" in j[-2]
    assert "old=web:2 new=web:2 result=unchanged" in j[-1]
    assert len(emulator.service(DEV, "api")["deployments"]) == 1


def test_the_commands_deploy_too(emulator, tmp_path):
    r = subprocess.run([str(binary()), "tee", svc_path(DEV, "api", "task_definition")],
                       input="api:2\n", capture_output=True, text=True, env=emulator.env(),
                       cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert running_td(emulator, DEV, "api") == "api:2"


# -- rollback ----------------------------------------------------------------

def test_rollback_deploys_the_previous_active_revision(dmount, emulator):
    f = svc_path(DEV, "api", "rollback")
    assert dmount.read(f) == ""
    assert oct(os.stat(dmount.p(f)).st_mode & 0o777) == "0o644"
    emulator.reset_calls()
    dmount.sh("echo 1 > %s" % f)
    c = emulator.calls()
    assert c.get("ListTaskDefinitions", 0) >= 1
    assert mutating(emulator) == {"UpdateService": 1}
    assert running_td(emulator, DEV, "api") == "api:3"
    assert dmount.read(svc_path(DEV, "api", "task_definition")) == "api:3\n"
    j = journal(dmount, "rollback")[-1]
    assert "op=UpdateService target=%s/services/api field=rollback old=api:4 new=api:3 " \
        "result=ok" % DEV in j
    # INACTIVE revisions are skipped: api:2 is deregistered, so api:1 is next.
    deregister(emulator, "api:2")
    dmount.sh("echo again | tee %s > /dev/null" % f)
    assert cli_td(emulator, DEV, "api") == "api:1"
    assert "old=api:3 new=api:1 result=ok" in journal(dmount, "rollback")[-1]
    r, lines = wait_file(dmount, DEV, "api")
    assert r.returncode == 0 and lines[-1] == "stable", r.stdout + r.stderr
    assert len(tasks_on(emulator, DEV, "api", "api:1")) == 1


def test_rollback_without_an_older_revision_is_einval(dmount, emulator):
    f = svc_path(DEV, "web", "rollback")
    dmount.sh("echo 1 > %s" % f)
    assert running_td(emulator, DEV, "web") == "web:1"
    before = [d["id"] for d in emulator.service(DEV, "web")["deployments"]]
    emulator.reset_calls()
    r = dmount.sh("echo 1 > %s" % f, check=False)
    assert r.returncode != 0 and "Invalid argument" in r.stderr
    assert mutating(emulator) == {}
    assert running_td(emulator, DEV, "web") == "web:1"
    assert [d["id"] for d in emulator.service(DEV, "web")["deployments"]] == before
    j = journal(dmount, "rollback")[-1]
    assert "old=web:1" in j and "result=invalid" in j
    assert "no ACTIVE revision of web older than web:1" in j
    assert "no ACTIVE revision of web older than web:1" in dmount.log()


# -- refused revisions -------------------------------------------------------

BAD_SYNTAX = [b"\n", b"api:", b":3", b"api:0", b"api:03", b"api:-1", b"api:1.5", b"api 3",
              b"api:3:4", b"ap/i:3", b"api:3 ", b" api:3", b"api:3\n\n", b"api\x00:3",
              b"api:99999999999", b"a" * 256, b"api:3\r\n", b"\xff", b"api;3",
              b"arn:aws:ecs:us-east-1:1234:task-definition/api:3",
              b"arn:aws:ecs:us-east-1:123456789012:task-definition/api",
              b"arn:aws:ecs:us-east-1:123456789012:service/api:3",
              b"arn:aws:s3:us-east-1:123456789012:task-definition/api:3",
              b"arn:aws:ecs:us-east-1:123456789012:task-definition/", b"x" * 5000]


def test_bad_task_definition_values_are_einval_with_no_call(dmount, emulator):
    path = dmount.p(svc_path(DEV, "api", "task_definition"))
    assert dmount.read(svc_path(DEV, "api", "task_definition")) == "api:4\n"
    before = emulator.service(DEV, "api")
    emulator.reset_calls()
    for data in BAD_SYNTAX:
        assert write_raw(path, data) == 22, data
    assert emulator.total_calls() == 0
    assert emulator.service(DEV, "api")["taskDefinition"] == before["taskDefinition"]
    lines = journal(dmount, "task_definition")
    assert sum("result=invalid" in l for l in lines) >= len(BAD_SYNTAX) - 1
    # rollback takes any line of text, and nothing else.
    path = dmount.p(svc_path(DEV, "api", "rollback"))
    for data in (b"\x00", b"1\x00", b"\x1b[1m", b"\xff", b"two\nlines", b"bell\x07"):
        assert write_raw(path, data) == 22, data
    assert emulator.total_calls() == 0
    assert dmount.read(svc_path(DEV, "api", "task_definition")) == "api:4\n"


@pytest.mark.parametrize("value", ["api:99", "nope", "nope:1", "inactive"])
def test_unknown_or_inactive_revision_is_einval_after_one_describe(dmount, emulator, value):
    if value == "inactive":
        deregister(emulator, "api:2")
        value = "api:2"
    dmount.read(svc_path(DEV, "api", "task_definition"))
    before = emulator.service(DEV, "api")
    before_ids = [d["id"] for d in before["deployments"]]
    emulator.reset_calls()
    r = dmount.sh("echo %s > %s" % (value, svc_path(DEV, "api", "task_definition")),
                  check=False)
    assert r.returncode != 0 and "Invalid argument" in r.stderr
    assert emulator.calls() == {"DescribeTaskDefinition": 1}
    after = emulator.service(DEV, "api")
    assert after["taskDefinition"] == before["taskDefinition"]
    assert [d["id"] for d in after["deployments"]] == before_ids
    j = journal(dmount, "task_definition")[-1]
    assert "old=api:4" in j
    if value == "api:2":
        assert "result=invalid" in j and "is INACTIVE" in j
    else:
        assert "result=ClientException" in j and "task definition %s:" % value in j
    assert cli_td(emulator, DEV, "api") == "api:4"


# -- dry run -----------------------------------------------------------------

def test_dry_run_checks_and_reads_but_sends_nothing(emulator, mount_factory):
    m = mount_factory(options={"dry_run": True})
    emulator.reset_calls()
    m.sh("echo api:2 > %s" % svc_path(DEV, "api", "task_definition"))
    m.sh("echo 1 > %s" % svc_path(PROD, "api", "rollback"))
    c = emulator.calls()
    assert c.get("DescribeTaskDefinition") == 1 and c.get("ListTaskDefinitions", 0) >= 1
    assert mutating(emulator) == {}
    assert running_td(emulator, DEV, "api") == "api:4"
    assert running_td(emulator, PROD, "api") == "api:3"
    assert m.read(svc_path(DEV, "api", "task_definition")) == "api:4\n"
    assert "old=api:4 new=api:2 result=dry-run" in journal(m, "task_definition")[-1]
    assert "old=api:3 new=api:2 result=dry-run" in journal(m, "rollback")[-1]
    # Validation still refuses in a dry run.
    r = m.sh("echo api:99 > %s" % svc_path(DEV, "api", "task_definition"), check=False)
    assert r.returncode != 0 and "Invalid argument" in r.stderr
    # Each dry run starts from what runs: web:2 -> web:1 both times.
    m.sh("echo 1 > %s; echo 1 > %s" % (svc_path(DEV, "web", "rollback"),
                                        svc_path(DEV, "web", "rollback")))
    assert all("old=web:2 new=web:1 result=dry-run" in l
               for l in journal(m, "rollback")[-2:])
    assert mutating(emulator) == {}


# -- verification ------------------------------------------------------------

def test_wait_after_a_failing_revision_is_eio(dmount, emulator):
    """The circuit breaker rolls failing-api:1 back: the deploy's wait fails."""
    dmount.sh("echo failing-api:1 > %s" % svc_path(PROD, "api", "task_definition"))
    assert "old=api:3 new=failing-api:1 result=ok" in journal(dmount, "task_definition")[-1]
    r, lines = wait_file(dmount, PROD, "api")
    assert r.returncode != 0 and "Input/output error" in r.stderr, r.stdout
    assert lines[-1].startswith("failed: rollout FAILED"), r.stdout
    wait_for(lambda: running_td(emulator, PROD, "api") == "api:3", timeout=60,
             what="the rollback to api:3")
    assert not tasks_on(emulator, PROD, "api", "failing-api:1")
    # The service's file shows what ECS rolled back to.
    dmount.sh("echo 1 > %s/refresh" % PROD)
    assert dmount.read(svc_path(PROD, "api", "task_definition")) == "api:3\n"
