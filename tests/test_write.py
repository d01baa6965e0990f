"""Operating ECS through the mount: control files, dry run, journal, errors.

The real daemon on a real FUSE mount, driven by shell commands; results are
checked in the emulator's state and call counts and with the AWS CLI.
"""
import os
import re
import shutil
import stat
import subprocess
import tempfile

import pytest

from helpers.aws_cli import cli_desired, cli_target
from helpers.ecsim import wait_for
from helpers.mount import Mount, write_raw

MUTATING = ("UpdateService", "StopTask", "UpdateContainerInstancesState", "CreateService",
            "DeleteService", "RunTask")

DEV = "development-cluster/services"
PROD = "production-cluster"
REPO = os.path.join(os.path.dirname(__file__), "..")


def mutating_calls(emulator):
    c = emulator.calls()
    return {a: c[a] for a in MUTATING if c.get(a)}


def svc_state(emulator, cluster, name):
    return emulator.state(cluster)["services"][name]


def journal_lines(mount):
    return mount.read(".ecsfs", "journal").splitlines()


# -- desired_count ----------------------------------------------------------

def test_scale_up_down_zero_and_back(mount, emulator):
    f = "development-cluster/services/api/desired_count"
    for n in (3, 1, 0, 2):
        mount.sh("echo %d > %s" % (n, f))
        assert mount.read(f) == "%d\n" % n  # read-your-writes, at once
        assert cli_desired(emulator, "development-cluster", "api") == n
    wait_for(lambda: svc_state(emulator, "development-cluster", "api")["running"] == 2,
             timeout=20, what="api to run 2 tasks")
    assert emulator.calls().get("UpdateService") == 4


def test_relative_writes(mount, emulator):
    f = "production-cluster/services/web/desired_count"
    mount.sh("echo +3 > %s" % f)
    assert cli_desired(emulator, PROD, "web") == 5
    mount.sh("echo -1 > %s" % f)
    assert cli_desired(emulator, PROD, "web") == 4
    mount.sh("echo -100 > %s" % f)  # clamped at zero, as scale_down expects
    assert cli_desired(emulator, PROD, "web") == 0
    assert mount.read(f) == "0\n"
    # Relative to ECS's value, not a cached one: change it behind the mount.
    emulator.boto3().update_service(cluster=PROD, service="web", desiredCount=7)
    mount.sh("echo +1 > %s" % f)
    assert cli_desired(emulator, PROD, "web") == 8
    j = [l for l in journal_lines(mount) if "field=desired_count" in l]
    assert "old=2 new=5 result=ok" in j[0]
    assert "old=0 new=0" not in j[2] and "old=4 new=0 result=ok" in j[2]
    assert "old=7 new=8 result=ok" in j[3]


def test_append_and_python_writes_are_commands_too(mount, emulator):
    f = "development-cluster/services/api/desired_count"
    mount.sh("echo 4 >> %s" % f)
    assert cli_desired(emulator, "development-cluster", "api") == 4
    mount.sh("echo +1 | tee -a %s > /dev/null" % f)
    assert cli_desired(emulator, "development-cluster", "api") == 5
    with open(mount.p(f), "w") as fh:
        fh.write("2")
    assert cli_desired(emulator, "development-cluster", "api") == 2
    assert mount.read(f) == "2\n"


def test_size_is_right_at_once_after_a_write(mount):
    f = "production-cluster/services/api/desired_count"
    assert os.stat(mount.p(f)).st_size == 2
    mount.sh("echo 12 > %s" % f)
    assert os.stat(mount.p(f)).st_size == 3
    r = mount.sh("wc -c < %s; cat %s" % (f, f))
    assert r.stdout.split() == ["3", "12"]


def test_tee_over_services_costs_one_update_each(mount, emulator):
    emulator.reset_calls()
    mount.sh("echo 0 | tee %s/*/desired_count > /dev/null" % DEV)
    assert mutating_calls(emulator) == {"UpdateService": 2}
    for s in ("api", "web"):
        assert cli_desired(emulator, "development-cluster", s) == 0
    emulator.reset_calls()
    mount.sh("for s in api web; do echo 1 > %s/$s/desired_count; done" % DEV)
    assert mutating_calls(emulator) == {"UpdateService": 2}


def test_writes_to_different_services_run_in_parallel(emulator, mount_factory):
    """Four background writers against a slow endpoint overlap at the emulator."""
    emulator.faults(latency_ms=800, actions=["UpdateService"])
    m = mount_factory()
    m.sh("cat %s/services/*/desired_count > /dev/null" % PROD)
    emulator.reset_calls()
    m.sh("for s in api web worker; do echo 1 > %s/services/$s/desired_count & done; "
         "echo 0 > %s/api/desired_count & wait" % (PROD, DEV))
    times = sorted(e["t"] for e in emulator.log() if e["action"] == "UpdateService")
    assert len(times) == 4
    # Serialised, the arrivals would be >= 800 ms apart.
    assert times[-1] - times[0] < 0.8, times


def test_concurrent_relative_writes_lose_no_update(emulator, mount_factory):
    """Ten `echo +1` at once from 10 give 20: each reads ECS's value after the last update.

    The kernel serialises direct writes to one file unless the mount asks for
    parallel direct writes; the mount's per-object lock keeps this true either way.
    """
    f = "%s/services/web/desired_count" % PROD
    emulator.boto3().update_service(cluster=PROD, service="web", desiredCount=10)
    # A slow UpdateService widens the read-modify-write window of each writer.
    emulator.faults(latency_ms=300, actions=["UpdateService"])
    m = mount_factory()
    emulator.reset_calls()
    m.sh("pids=; for i in $(seq 10); do (echo +1 > %s) & pids=\"$pids $!\"; done; "
         "rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc" % f)
    assert cli_desired(emulator, PROD, "web") == 20
    assert mutating_calls(emulator) == {"UpdateService": 10}
    assert m.read(f) == "20\n"
    j = [l for l in journal_lines(m) if "field=desired_count" in l]
    steps = sorted((int(re.search(r" old=(\d+)", l).group(1)),
                    int(re.search(r" new=(\d+)", l).group(1))) for l in j)
    assert steps == [(n, n + 1) for n in range(10, 20)]
    assert all("result=ok" in l for l in j)


def test_plus_and_minus_zero_send_nothing(mount, emulator):
    f = "%s/services/web/desired_count" % PROD
    assert mount.read(f) == "2\n"
    emulator.reset_calls()
    mount.sh("echo +0 > %s && echo -0 > %s" % (f, f))
    assert mutating_calls(emulator) == {}
    j = [l for l in journal_lines(mount) if "field=desired_count" in l]
    assert len(j) == 2 and all("old=2 new=2 result=unchanged" in l for l in j)
    # A relative change that ECS's value makes a no-op sends nothing either.
    mount.sh("echo 0 > %s && echo -3 > %s" % (f, f))
    assert mutating_calls(emulator) == {"UpdateService": 1}
    assert "old=0 new=0 result=unchanged" in journal_lines(mount)[-1]
    assert cli_desired(emulator, PROD, "web") == 0


# -- a mutation whose answer is lost ----------------------------------------

LOST_ACTION = {"desired_count": "UpdateService", "restart": "UpdateService",
               "stop": "StopTask", "status": "UpdateContainerInstancesState"}


def write_of(emulator, kind):
    """(path under the cluster, data, file read first, old deployment ids) of a write of kind."""
    st = emulator.state(PROD)
    tid = sorted(t for t, v in st["tasks"].items() if v["desiredStatus"] == "RUNNING")[0]
    ci = sorted(st["instances"])[0]
    old_deps = {d["id"] for d in st["services"]["api"]["deployments"]}
    path, data, shown = {
        "desired_count": ("services/api/desired_count", "7", "desired_count"),
        "restart": ("services/api/restart", "1", "deployments"),
        "stop": ("tasks/%s/stop" % tid, "lost answer", "desired_status"),
        "status": ("container_instances/%s/status" % ci, "DRAINING", "status"),
    }[kind]
    return path, data, os.path.join(os.path.dirname(path), shown), old_deps


def check_applied(emulator, m, kind, path, old_deps):
    """The write of kind to path is in ECS, as the AWS CLI and the mount see it;
    returns the restart's new deployment id (else None)."""
    st = emulator.state(PROD)
    name = path.split("/")[1]
    if kind == "desired_count":
        assert cli_desired(emulator, PROD, "api") == 7
        assert m.read(PROD, "services", "api", "desired_count") == "7\n"
    elif kind == "restart":
        deps = m.read(PROD, "services", "api", "deployments").splitlines()
        new_dep = deps[0].split()[0]
        assert deps[0].split()[1] == "PRIMARY" and new_dep not in old_deps
        cli = emulator.aws("ecs", "describe-services", "--cluster", PROD, "--services", "api")
        assert cli["services"][0]["deployments"][0]["id"] == new_dep
        return new_dep
    elif kind == "stop":
        assert st["tasks"][name]["desiredStatus"] == "STOPPED"
        assert m.read(PROD, "tasks", name, "desired_status") == "STOPPED\n"
    else:
        assert st["instances"][name]["status"] == "DRAINING"
        assert m.read(PROD, "container_instances", name, "status") == "DRAINING\n"
    return None


@pytest.mark.parametrize("kind", sorted(LOST_ACTION))
def test_a_lost_answer_is_checked_against_the_state(emulator, mount_factory, kind):
    """ECS applies the change but its answer comes after the budget: the write succeeds."""
    action = LOST_ACTION[kind]
    m = mount_factory(options={"timeout": 2})
    path, data, first, old_deps = write_of(emulator, kind)
    m.read(PROD, first)
    emulator.faults(response_delay_ms=6000, actions=[action])
    emulator.reset_calls()
    m.sh("echo '%s' > %s/%s" % (data, PROD, path))
    assert mutating_calls(emulator) == {action: 1}
    new_dep = check_applied(emulator, m, kind, path, old_deps)
    j = [l for l in journal_lines(m) if "op=%s" % action in l][-1]
    assert "result=ok" in j and "the answer was lost" in j, j
    if kind == "restart":
        assert "new=%s result=ok" % new_dep in j


@pytest.mark.parametrize("form", ["cut", "empty"])
@pytest.mark.parametrize("kind", sorted(LOST_ACTION))
def test_an_unreadable_success_is_a_success(emulator, mount_factory, kind, form):
    """ECS applies the change and answers 200, but the answer is cut short or
    lacks what it must hold: the write succeeds, sent once, checked by a describe."""
    action = LOST_ACTION[kind]
    m = mount_factory()
    path, data, first, old_deps = write_of(emulator, kind)
    m.read(PROD, first)
    emulator.wire_faults(unreadable_after_apply={action: form})
    emulator.reset_calls()
    m.sh("echo '%s' > %s/%s" % (data, PROD, path))
    assert mutating_calls(emulator) == {action: 1}
    emulator.wire_faults()
    new_dep = check_applied(emulator, m, kind, path, old_deps)
    j = [l for l in journal_lines(m) if "op=%s" % action in l][-1]
    assert "result=ok" in j and "the answer could not be read" in j, j
    assert "shows the change applied" in j, j
    if kind == "restart":
        assert "new=%s result=ok" % new_dep in j


@pytest.mark.parametrize("kind", sorted(LOST_ACTION))
def test_an_unreadable_success_holds_while_the_writers_children_end(emulator, mount_factory,
                                                                    kind):
    """As a pipeline step writes: the shell's children end (SIGCHLD, an interrupt of the
    call) during the 300 ms the mutation is on the wire, then its answer is cut short:
    still one mutation, and a success."""
    action = LOST_ACTION[kind]
    m = mount_factory()
    path, data, first, old_deps = write_of(emulator, kind)
    m.read(PROD, first)
    emulator.wire_faults(unreadable_after_apply={action: "cut"})
    emulator.faults(latency_ms=300, actions=[action])
    emulator.reset_calls()
    m.sh("sleep 0.05 & ( sleep 0.1 ) & sleep 0.2 & "
         "echo '%s' > %s/%s; rc=$?; wait; exit $rc" % (data, PROD, path))
    assert mutating_calls(emulator) == {action: 1}
    emulator.wire_faults()
    emulator.faults()
    check_applied(emulator, m, kind, path, old_deps)
    j = [l for l in journal_lines(m) if "op=%s" % action in l][-1]
    assert "result=ok" in j and "the answer could not be read" in j, j


def test_an_unreadable_success_that_cannot_be_checked_is_still_a_success(emulator,
                                                                          mount_factory):
    """Answered 200 unreadably and the describe after it refused: ECS said it made
    the change, so the write succeeds and the journal says what is known."""
    m = mount_factory()
    f = "%s/services/api/desired_count" % PROD
    assert m.read(f) == "3\n"
    emulator.wire_faults(unreadable_after_apply={"UpdateService": "cut"})
    emulator.faults(deny_actions=["DescribeServices"])
    emulator.reset_calls()
    m.sh("echo 6 > %s" % f)
    assert mutating_calls(emulator) == {"UpdateService": 1}
    j = [l for l in journal_lines(m) if "field=desired_count" in l][-1]
    assert "old=3 new=6 result=ok" in j, j
    assert "ECS accepted the change (HTTP 200) but the answer could not be read" in j, j
    assert "a fresh describe failed (User: " in j, j
    assert "is not authorized to perform: ecs:DescribeServices" in j, j
    emulator.faults()
    emulator.wire_faults()
    assert cli_desired(emulator, PROD, "api") == 6


def test_a_lost_answer_that_cannot_be_checked_is_etimedout(emulator, mount_factory):
    """The call is held before ECS applies it: the state cannot tell, so the write says so."""
    m = mount_factory(options={"timeout": 2})
    f = "%s/services/api/desired_count" % PROD
    assert m.read(f) == "3\n"
    emulator.faults(latency_ms=8000, actions=["UpdateService"])
    r = m.sh("echo 6 > %s" % f, check=False)
    assert r.returncode != 0 and "Connection timed out" in r.stderr, r.stderr
    j = [l for l in journal_lines(m) if "field=desired_count" in l][-1]
    assert "old=3 new=6 result=unknown" in j and "may still be applied" in j, j
    # Which was right: ECS applies it later.
    wait_for(lambda: svc_state(emulator, PROD, "api")["desired"] == 6, timeout=30,
             what="the held UpdateService to be applied")


# -- restart, stop, drain ---------------------------------------------------

def test_restart_rolls_the_tasks(mount, emulator):
    before = {t for t, v in emulator.state(PROD)["tasks"].items()
              if v["service"] == "api" and v["desiredStatus"] == "RUNNING"}
    old_dep = svc_state(emulator, PROD, "api")["deployments"][0]["id"]
    mount.sh("echo 1 > %s/services/api/restart" % PROD)
    deps = mount.read(PROD, "services", "api", "deployments").splitlines()
    assert len(deps) == 2 and deps[0].split()[1] == "PRIMARY"
    assert deps[0].split()[0] != old_dep
    assert mount.read(PROD, "services", "api", "stable") == "false\n"
    cli = emulator.aws("ecs", "describe-services", "--cluster", PROD, "--services", "api")
    assert cli["services"][0]["deployments"][0]["id"] == deps[0].split()[0]
    emulator.wait_steady(PROD, "api", timeout=30)
    after = {t for t, v in emulator.state(PROD)["tasks"].items()
             if v["service"] == "api" and v["desiredStatus"] == "RUNNING"}
    assert len(after) == 3 and not (after & before)
    assert mount.read(PROD, "services", "api", "restart") == ""
    j = [l for l in journal_lines(mount) if "field=restart" in l][0]
    assert "old=%s new=%s result=ok" % (old_dep, deps[0].split()[0]) in j


def test_stop_replaces_the_task(mount, emulator):
    tid = sorted(t for t, v in emulator.state(PROD)["tasks"].items()
                 if v["service"] == "web")[0]
    mount.sh("echo 'rotating credentials' > %s/tasks/%s/stop" % (PROD, tid))
    assert mount.read(PROD, "tasks", tid, "desired_status") == "STOPPED\n"
    t = emulator.state(PROD)["tasks"][tid]
    assert t["desiredStatus"] == "STOPPED" and t["stoppedReason"] == "rotating credentials"
    cli = emulator.aws("ecs", "describe-tasks", "--cluster", PROD, "--tasks", tid)
    assert cli["tasks"][0]["stoppedReason"] == "rotating credentials"

    def replaced():
        running = [k for k, v in emulator.state(PROD)["tasks"].items()
                   if v["service"] == "web" and v["lastStatus"] == "RUNNING"]
        return len(running) == 2 and tid not in running
    wait_for(replaced, timeout=20, what="a replacement task")


def test_stop_reason_is_limited_in_characters_not_bytes(mount, emulator):
    tasks = sorted(t for t, v in emulator.state(PROD)["tasks"].items()
                   if v["desiredStatus"] == "RUNNING")
    reason = "\u00e9" * 129  # 258 bytes
    with open(mount.p(PROD, "tasks", tasks[0], "stop"), "w", encoding="utf-8") as fh:
        fh.write(reason + "\n")
    assert emulator.state(PROD)["tasks"][tasks[0]]["stoppedReason"] == reason
    cli = emulator.aws("ecs", "describe-tasks", "--cluster", PROD, "--tasks", tasks[0])
    assert cli["tasks"][0]["stoppedReason"] == reason
    emulator.reset_calls()
    path = mount.p(PROD, "tasks", tasks[1], "stop")
    assert write_raw(path, ("\u00e9" * 256).encode()) == 22
    assert write_raw(path, ("\u20ac" * 256 + "\n").encode()) == 22
    assert mutating_calls(emulator) == {}
    assert write_raw(path, ("\u20ac" * 255 + "\n").encode()) == 0
    assert emulator.state(PROD)["tasks"][tasks[1]]["stoppedReason"] == "\u20ac" * 255


def test_drain_moves_tasks_off_the_instance(mount, emulator):
    st = emulator.state(PROD)
    ci = max(st["instances"], key=lambda i: st["instances"][i]["running"])
    assert st["instances"][ci]["running"] > 0
    mount.sh("echo DRAINING > %s/container_instances/%s/status" % (PROD, ci))
    assert mount.read(PROD, "container_instances", ci, "status") == "DRAINING\n"
    cli = emulator.aws("ecs", "describe-container-instances", "--cluster", PROD,
                       "--container-instances", ci)
    assert cli["containerInstances"][0]["status"] == "DRAINING"

    def drained():
        s = emulator.state(PROD)
        on = [t for t, v in s["tasks"].items()
              if v["instance"] == ci and v["desiredStatus"] == "RUNNING"]
        worker = [t for t, v in s["tasks"].items()
                  if v["service"] == "worker" and v["lastStatus"] == "RUNNING"]
        return not on and s["instances"][ci]["running"] == 0 and len(worker) == 5
    wait_for(drained, timeout=30, what="the drain")
    mount.sh("echo ACTIVE > %s/container_instances/%s/status" % (PROD, ci))
    assert emulator.state(PROD)["instances"][ci]["status"] == "ACTIVE"


# -- errors, dry run, permissions -------------------------------------------

def test_access_denied_is_eacces_with_the_aws_message(mount, emulator):
    emulator.faults(deny_actions=["UpdateService"])
    r = mount.sh("echo 4 > %s/api/desired_count" % DEV, check=False)
    assert r.returncode != 0 and "Permission denied" in r.stderr
    assert cli_desired(emulator, "development-cluster", "api") == 1
    j = journal_lines(mount)[-1]
    assert "result=AccessDeniedException" in j
    assert "is not authorized to perform: ecs:UpdateService" in j
    assert "request_id=-" not in j
    assert "is not authorized to perform: ecs:UpdateService" in mount.log()
    assert emulator.secret_key not in mount.read(".ecsfs", "journal") + mount.log()


def test_deleted_service_write_is_enoent(mount, emulator):
    mount.read("development-cluster", "services", "web", "desired_count")
    emulator.boto3().delete_service(cluster="development-cluster", service="web", force=True)
    r = mount.sh("echo 2 > %s/web/desired_count" % DEV, check=False)
    assert r.returncode != 0 and "No such file or directory" in r.stderr
    assert "result=ServiceNotActiveException" in journal_lines(mount)[-1]


@pytest.mark.parametrize("how", ["option", "file"])
def test_dry_run_sends_nothing(emulator, mount_factory, how):
    m = mount_factory(options={"dry_run": how == "option"})
    if how == "file":
        assert m.read(".ecsfs", "dry_run") == "0\n"
        m.sh("echo 1 > .ecsfs/dry_run")
    assert m.read(".ecsfs", "dry_run") == "1\n"
    before = {c: emulator.state(c) for c in ("development-cluster", PROD)}
    tid = sorted(emulator.state(PROD)["tasks"])[0]
    ci = sorted(emulator.state(PROD)["instances"])[0]
    emulator.reset_calls()
    m.sh("echo 0 | tee %s/*/desired_count > /dev/null" % DEV)
    m.sh("echo +2 > %s/services/api/desired_count" % PROD)
    m.sh("echo 1 > %s/services/worker/restart" % PROD)
    m.sh("echo bye > %s/tasks/%s/stop" % (PROD, tid))
    m.sh("echo DRAINING > %s/container_instances/%s/status" % (PROD, ci))
    assert mutating_calls(emulator) == {}
    # Reads keep showing the real state.
    assert m.read(DEV, "api", "desired_count") == "1\n"
    assert m.read(PROD, "services", "api", "desired_count") == "3\n"
    assert m.read(PROD, "container_instances", ci, "status") == "ACTIVE\n"
    after = {c: emulator.state(c) for c in ("development-cluster", PROD)}
    for c in ("development-cluster", PROD):
        for s, v in before[c]["services"].items():
            assert after[c]["services"][s]["desired"] == v["desired"]
    j = [l for l in journal_lines(m) if "result=dry-run" in l]
    assert len(j) == 6
    assert any("target=development-cluster/services/web field=desired_count old=1 new=0" in l
               for l in j)
    assert any("target=production-cluster/services/api field=desired_count old=3 new=5" in l
               for l in j)
    assert any("field=stop old=RUNNING new=STOPPED" in l for l in j)
    assert any("field=status old=ACTIVE new=DRAINING" in l for l in j)
    # A missing target still fails in a dry run.
    r = m.sh("echo 1 > %s/services/nope/desired_count" % PROD, check=False)
    assert r.returncode != 0
    m.sh("echo 0 > .ecsfs/dry_run")
    m.sh("echo 2 > %s/api/desired_count" % DEV)
    assert mutating_calls(emulator) == {"UpdateService": 1}


def test_modes_and_owner(mount):
    def mode(rel):
        return stat.S_IMODE(os.stat(mount.p(rel)).st_mode)
    assert mode(DEV + "/api/desired_count") == 0o644
    assert mode(DEV + "/api/restart") == 0o644
    assert mode(DEV + "/api/running_count") == 0o444
    tid = os.listdir(mount.p(PROD, "tasks"))[0]
    assert mode(PROD + "/tasks/%s/stop" % tid) == 0o644
    ci = os.listdir(mount.p(PROD, "container_instances"))[0]
    assert mode(PROD + "/container_instances/%s/status" % ci) == 0o644
    assert os.stat(mount.p(DEV, "api", "desired_count")).st_uid == os.getuid()


def test_other_users_get_eacces_from_the_kernel(emulator):
    d = tempfile.mkdtemp(prefix="ecsfs-other-")
    os.chmod(d, 0o755)
    m = Mount(d, emulator, options={"allow_other": True}).start()
    try:
        emulator.reset_calls()
        f = m.p(DEV, "api", "desired_count")
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "sh", "-c", "cat %s && echo 5 > %s" % (f, f)],
                           capture_output=True, text=True)
        assert r.stdout == "1\n", r.stderr
        assert r.returncode != 0 and "Permission denied" in r.stderr
        assert mutating_calls(emulator) == {}
    finally:
        m.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_read_only_mount_gives_erofs(emulator, mount_factory):
    m = mount_factory(options={"ro": True})
    emulator.reset_calls()
    for rel in (DEV + "/api/desired_count", DEV + "/api/restart", ".ecsfs/dry_run",
                ".ecsfs/refresh"):
        r = m.sh("echo 1 > %s" % rel, check=False)
        assert r.returncode != 0 and "Read-only file system" in r.stderr, rel
    assert mutating_calls(emulator) == {}
    assert m.read(DEV, "api", "desired_count") == "1\n"


# -- bad input ----------------------------------------------------------------

COMMON_BAD = [b"", b"\n", b"-", b"+", b"abc", b"1.5", b"1e3", b"5 5", b" 5", b"5 ", b"0x10",
              b"2147483648", b"99999999999", b"1\x002", b"\x00", b"5\n\n", b"--1", b"+-1",
              b"\xff\xfe", b"5\r\n", b"\xd9\xa5", b"1" * 5000]

BAD = {
    "desired_count": COMMON_BAD,
    "status": [b"", b"\n", b"draining", b"Active", b"DRAINING ", b" ACTIVE", b"INACTIVE",
               b"DEREGISTERING", b"ACTIVE\n\n", b"DRAIN", b"DRAINING\x00", b"0", b"1",
               b"ACTIVE,DRAINING", b"\xff", b"DRAINING" * 600],
    "stop": [b"", b"\n", b"x" * 256, b"bad\x00nul", b"two\nlines", b"\x1b[31mred",
             b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"tab\x07bell", b"x" * 5000,
             b"\r\n", b"ok\r", b"\x7f", b"\xe2\x82"],
    "restart": [b"\x00", b"1\x00", b"\x1b", b"\xff", b"two\nlines", b"x" * 5000,
                b"\xc3", b"bell\x07", b"\r", b"\x7f\n", b"\xf8\x88\x80\x80\x80",
                b"a\x00b\n", b"\x01", b"\xed\xb0\x80", b"\xe0\x80\x80"],
    "dry_run": [b"", b"2", b"yes", b"true", b"01", b"1 ", b" 1", b"-1", b"1\n\n", b"\x00",
                b"on", b"0x1", b"1.0", b"11", b"\xff"],
}


def targets(emulator):
    tid = sorted(t for t, v in emulator.state(PROD)["tasks"].items()
                 if v["desiredStatus"] == "RUNNING")[0]
    ci = sorted(emulator.state(PROD)["instances"])[0]
    return {
        "desired_count": "%s/services/api/desired_count" % PROD,
        "status": "%s/container_instances/%s/status" % (PROD, ci),
        "stop": "%s/tasks/%s/stop" % (PROD, tid),
        "restart": "%s/services/api/restart" % PROD,
        "dry_run": ".ecsfs/dry_run",
    }


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_is_einval_and_changes_nothing(mount, emulator, kind):
    path = mount.p(targets(emulator)[kind])
    before = emulator.state(PROD)
    emulator.reset_calls()
    for data in BAD[kind]:
        if data == b"":
            # write(2) of nothing never reaches the daemon; the shell's
            # `printf '' > f` truncates only, which is a no-op.
            assert write_raw(path, data) == 0
            continue
        assert write_raw(path, data) == 22, (kind, data)
    # At an offset, and a command split over two writes (whose first part
    # is not a whole command): every piece fails.
    first, rest = {"desired_count": (b"+", b"3"), "status": (b"DRAI", b"NING"),
                   "stop": (b"\n", b"reason"), "restart": (b"\x00", b"1"),
                   "dry_run": (b"t", b"1")}[kind]
    assert write_raw(path, first + rest, offset=1) == 22
    fd = os.open(path, os.O_WRONLY)
    try:
        with pytest.raises(OSError) as e:
            os.write(fd, first)
        assert e.value.errno == 22
        with pytest.raises(OSError) as e:
            os.pwrite(fd, rest, len(first))
        assert e.value.errno == 22
    finally:
        os.close(fd)
    assert mutating_calls(emulator) == {}
    after = emulator.state(PROD)
    assert {s: v["desired"] for s, v in after["services"].items()} == \
        {s: v["desired"] for s, v in before["services"].items()}
    assert {i: v["status"] for i, v in after["instances"].items()} == \
        {i: v["status"] for i, v in before["instances"].items()}
    assert mount.read(".ecsfs", "dry_run") == "0\n"
    assert sum("result=invalid" in l for l in journal_lines(mount)) >= len(BAD[kind]) - 1
    r = mount.sh("echo abc > %s" % targets(emulator)[kind], check=False) \
        if kind not in ("stop", "restart") else None
    if r is not None:
        assert "Invalid argument" in r.stderr


def test_bad_input_corpus_is_big_enough():
    for kind, values in BAD.items():
        assert len(set(values)) >= 15, kind


# -- the after-hours example ------------------------------------------------

def test_after_hours_script(mount, emulator, tmp_path):
    script = os.path.join(REPO, "examples", "after-hours.sh")
    state = tmp_path / "counts"
    emulator.boto3().update_service(cluster="development-cluster", service="web",
                                    desiredCount=2)
    mount.sh("echo 1 > development-cluster/refresh")
    emulator.reset_calls()
    r = subprocess.run([script, "down", str(mount.path), "development-cluster", str(state)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert state.read_text() == "api 1\nweb 2\n"
    assert mutating_calls(emulator) == {"UpdateService": 2}
    st = emulator.state("development-cluster")["services"]
    assert st["api"]["desired"] == 0 and st["web"]["desired"] == 0
    # A second evening run keeps the counts.
    r = subprocess.run([script, "down", str(mount.path), "development-cluster", str(state)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and state.read_text() == "api 1\nweb 2\n"
    r = subprocess.run([script, "up", str(mount.path), "development-cluster", str(state)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert cli_desired(emulator, "development-cluster", "api") == 1
    assert cli_desired(emulator, "development-cluster", "web") == 2
    wait_for(lambda: emulator.state("development-cluster")["services"]["web"]["running"] == 2,
             timeout=20, what="web back up")


def test_after_hours_with_a_scalable_target(mount, emulator, tmp_path):
    """api's Application Auto Scaling minimum is 1: the evening run lowers it to 0
    first (or the scaler would bring api back), the morning run restores it."""
    script = os.path.join(REPO, "examples", "after-hours.sh")
    state = tmp_path / "counts"
    emulator.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/development-cluster/api",
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=3)
    emulator.reset_calls()
    r = subprocess.run([script, "down", str(mount.path), "development-cluster", str(state)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "development-cluster/api: autoscaling min 1 -> 0 before scaling to 0" in r.stdout
    assert state.read_text() == "api 1 1\nweb 1\n"
    calls = emulator.calls()
    assert mutating_calls(emulator) == {"UpdateService": 2}
    assert calls.get("RegisterScalableTarget") == 1, calls
    assert cli_target(emulator, "development-cluster", "api")["MinCapacity"] == 0
    emulator.wait_scaler_passes()
    st = emulator.state("development-cluster")["services"]
    assert st["api"]["desired"] == 0 and st["web"]["desired"] == 0
    wait_for(lambda: emulator.state("development-cluster")["services"]["api"]["running"] == 0,
             timeout=30, what="api down")
    # A second evening run keeps the counts and the saved minimum.
    r = subprocess.run([script, "down", str(mount.path), "development-cluster", str(state)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and state.read_text() == "api 1 1\nweb 1\n", r.stderr
    emulator.reset_calls()
    r = subprocess.run([script, "up", str(mount.path), "development-cluster", str(state)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "development-cluster/api: autoscaling min 0 -> 1 restored after scaling to 1" in \
        r.stdout
    assert emulator.calls().get("RegisterScalableTarget") == 1
    assert cli_target(emulator, "development-cluster", "api")["MinCapacity"] == 1
    assert cli_desired(emulator, "development-cluster", "api") == 1
    assert cli_desired(emulator, "development-cluster", "web") == 1
    emulator.wait_scaler_passes()
    assert svc_state(emulator, "development-cluster", "api")["desired"] == 1


def test_after_hours_changes_nothing_when_the_scaling_range_cannot_be_read(emulator,
                                                                          mount_factory,
                                                                          tmp_path):
    """Application Auto Scaling does not answer: the evening run cannot tell whether a
    minimum would bring the services back, so it stops before any change."""
    mount = mount_factory(options={"max_attempts": 2, "timeout": 5})
    script = os.path.join(REPO, "examples", "after-hours.sh")
    state = tmp_path / "counts"
    emulator.faults(drop_probability=1.0, actions=["DescribeScalableTargets"])
    emulator.reset_calls()
    r = subprocess.run([script, "down", str(mount.path), "development-cluster", str(state)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "cannot tell whether auto scaling keeps it up: Input/output error" in r.stderr, \
        r.stderr
    assert mutating_calls(emulator) == {} and not emulator.calls().get("RegisterScalableTarget")
    assert not state.exists() and list(tmp_path.glob("counts.*")) == []
    emulator.faults()
    st = emulator.state("development-cluster")["services"]
    assert st["api"]["desired"] == 1 and st["web"]["desired"] == 1


def test_the_tree_refuses_new_and_removed_entries(mount, emulator):
    emulator.reset_calls()
    svc = "%s/api" % DEV
    for cmd, msg in (("echo x > %s/newfile" % svc, "Permission denied"),
                     ("mkdir %s/d" % svc, "Permission denied"),
                     ("rm %s/desired_count" % svc, "Permission denied"),
                     ("rmdir %s/tasks" % svc, "Permission denied"),
                     ("mv %s/restart %s/r2" % (svc, svc), "Permission denied"),
                     ("chmod 600 %s/desired_count" % svc, "Operation not permitted"),
                     ("ln -s x %s/link" % svc, "")):
        r = mount.sh(cmd, check=False)
        assert r.returncode != 0, cmd
        assert msg in r.stderr, (cmd, r.stderr)
    # touch of an existing file is harmless.
    mount.sh("touch %s/desired_count" % svc)
    assert mount.read(svc, "desired_count") == "1\n"
    assert mutating_calls(emulator) == {}
