"""The commands: `ecsfs ls|cat|tee PATH...` on the tree without FUSE.

The real binary against the emulator; results are checked in the
emulator's state and call counts, with the AWS CLI, and against what the
same paths show on a real mount.
"""
import os
import re
import stat
import subprocess
import time

import pytest

from helpers.mount import binary, sanitizer_lines
from test_write import BAD, MUTATING, PROD, mutating_calls, targets

DEV = "development-cluster"


def ecsfs(emulator, *args, input=b"", env=None, timeout=90):
    """Runs `ecsfs ARGS` with the emulator's environment; a CompletedProcess (bytes)."""
    e = emulator.env(**(env or {}))
    r = subprocess.run([str(binary()), *args], env=e, input=input, capture_output=True,
                       timeout=timeout)
    assert not sanitizer_lines(r.stderr.decode(errors="replace")), r.stderr
    return r


def out(r):
    return r.stdout.decode()


def err(r):
    return r.stderr.decode()


def desired(emulator, cluster):
    return {s: v["desired"] for s, v in emulator.state(cluster)["services"].items()}


# -- ls ----------------------------------------------------------------------

def test_ls_root_cluster_and_services(emulator):
    clusters = sorted(a.split("/")[-1] for a in
                      emulator.aws("ecs", "list-clusters")["clusterArns"])
    for args in ((), (".",), ("/",)):
        r = ecsfs(emulator, "ls", *args)
        assert r.returncode == 0 and err(r) == ""
        assert out(r).splitlines() == clusters  # .ecsfs is hidden, as from ls(1)
    r = ecsfs(emulator, "ls", PROD)
    assert r.returncode == 0
    assert {"services", "tasks", "container_instances", "status", "cluster.json",
            "refresh"} <= set(out(r).splitlines())
    svcs = sorted(a.split("/")[-1] for a in emulator.aws(
        "ecs", "list-services", "--cluster", PROD)["serviceArns"])
    r = ecsfs(emulator, "ls", PROD + "/services")
    assert out(r).splitlines() == svcs
    r = ecsfs(emulator, "ls", PROD + "/services/api")
    names = out(r).splitlines()
    assert "desired_count" in names and "wait" not in names  # unlisted, as on the mount
    # Several folders: headers and a blank line between, as ls(1) prints them.
    r = ecsfs(emulator, "ls", DEV + "/services", PROD + "/services")
    assert out(r) == "%s/services:\napi\nweb\n\n%s/services:\n%s\n" % (
        DEV, PROD, "\n".join(svcs))


def test_ls_matches_the_mount(emulator, mount):
    for rel in ("", PROD, PROD + "/services", PROD + "/services/api", ".ecsfs",
                PROD + "/services/worker/tasks", PROD + "/container_instances",
                PROD + "/services/api/desired_count"):
        r = ecsfs(emulator, "ls", rel or ".")
        want = subprocess.run(["ls", rel or "."], capture_output=True, text=True,
                              cwd=mount.path, env={"LC_ALL": "C"}).stdout
        assert out(r) == want, rel


# -- cat ---------------------------------------------------------------------

def test_cat_one_many_and_globs(emulator, mount):
    f = PROD + "/services/api/desired_count"
    want = emulator.aws("ecs", "describe-services", "--cluster", PROD,
                        "--services", "api")["services"][0]["desiredCount"]
    r = ecsfs(emulator, "cat", f)
    assert r.returncode == 0 and out(r) == "%d\n" % want
    files = [PROD + "/services/api/status", PROD + "/status", PROD + "/services/web/launch_type",
             PROD + "/services/api/task_definition", ".ecsfs/region", ".ecsfs/version",
             PROD + "/services/api/service.json", PROD + "/cluster.json"]
    r = ecsfs(emulator, "cat", *files)
    assert r.returncode == 0
    assert out(r) == "".join(mount.read(p) for p in files)
    r = ecsfs(emulator, "cat", "%s/services/*/desired_count" % PROD)
    assert out(r) == "".join(mount.read(PROD, "services", s, "desired_count")
                             for s in ("api", "web", "worker"))
    r = ecsfs(emulator, "cat", "*/services/[aw]?[bi]/running_count")
    assert r.returncode == 0 and len(out(r).splitlines()) == 4
    tasks = sorted(emulator.state(PROD)["tasks"])
    r = ecsfs(emulator, "cat", PROD + "/tasks/*/last_status")
    assert len(out(r).splitlines()) == len(tasks)


def test_cat_folders_links_and_missing_paths(emulator):
    r = ecsfs(emulator, "cat", PROD + "/services", PROD + "/status")
    assert r.returncode == 1
    assert err(r) == "ecsfs: %s/services: Is a directory\n" % PROD
    assert out(r) == "ACTIVE\n"
    for missing in (PROD + "/services/nope/desired_count", "no-such-cluster/status",
                    PROD + "/services/api/nope", PROD + "/tasks/0123/last_status"):
        r = ecsfs(emulator, "cat", missing)
        assert r.returncode == 1 and r.stdout == b""
        assert err(r) == "ecsfs: %s: No such file or directory\n" % missing


def test_links_read_as_the_folders_they_point_at(emulator):
    arns = emulator.aws("ecs", "list-tasks", "--cluster", PROD, "--service-name",
                        "api")["taskArns"]
    tids = sorted(a.split("/")[-1] for a in arns)
    r = ecsfs(emulator, "ls", "%s/services/api/tasks" % PROD)
    assert out(r).splitlines() == tids
    link = "%s/services/api/tasks/%s" % (PROD, tids[0])
    r = ecsfs(emulator, "cat", link)
    assert r.returncode == 1 and err(r) == "ecsfs: %s: Is a directory\n" % link


def test_a_glob_that_matches_nothing_runs_nothing(emulator):
    emulator.reset_calls()
    r = ecsfs(emulator, "tee", DEV + "/services/api/desired_count",
              DEV + "/services/nope*/desired_count", input=b"4\n")
    assert r.returncode == 1
    assert err(r) == "ecsfs: %s/services/nope*/desired_count: No such file or directory\n" % DEV
    assert mutating_calls(emulator) == {}
    assert desired(emulator, DEV) == {"api": 1, "web": 1}


# -- tee ---------------------------------------------------------------------

def test_tee_over_a_glob_is_one_update_per_match(emulator):
    emulator.reset_calls()
    r = ecsfs(emulator, "tee", "%s/services/*/desired_count" % DEV, input=b"3\n")
    assert r.returncode == 0 and out(r) == "3\n" and err(r) == ""
    assert mutating_calls(emulator) == {"UpdateService": 2}
    for s in ("api", "web"):
        assert emulator.aws("ecs", "describe-services", "--cluster", DEV, "--services",
                            s)["services"][0]["desiredCount"] == 3
    r = ecsfs(emulator, "tee", "%s/services/api/desired_count" % DEV, input=b"+2\n")
    assert r.returncode == 0 and desired(emulator, DEV)["api"] == 5
    r = ecsfs(emulator, "tee", "%s/services/api/restart" % DEV, input=b"1\n")
    assert r.returncode == 0 and mutating_calls(emulator) == {"UpdateService": 4}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_through_tee_sends_nothing(emulator, kind):
    path = targets(emulator)[kind]
    before = emulator.state(PROD)
    emulator.reset_calls()
    for data in BAD[kind]:
        r = ecsfs(emulator, "tee", path, input=data)
        if data == b"":
            assert r.returncode == 0, err(r)  # nothing to write, as with tee(1)
            continue
        assert r.returncode == 1, (kind, data)
        assert err(r) == "ecsfs: %s: Invalid argument\n" % path, (kind, data)
    assert mutating_calls(emulator) == {}
    after = emulator.state(PROD)
    assert {s: v["desired"] for s, v in after["services"].items()} == \
        {s: v["desired"] for s, v in before["services"].items()}
    assert {i: v["status"] for i, v in after["instances"].items()} == \
        {i: v["status"] for i, v in before["instances"].items()}


def test_read_only_files_folders_and_ro(emulator):
    emulator.reset_calls()
    for path, why in ((PROD + "/services/api/running_count", "Permission denied"),
                      (PROD + "/services/api/wait", "Permission denied"),
                      (PROD + "/services", "Is a directory")):
        r = ecsfs(emulator, "tee", path, input=b"1\n")
        assert r.returncode == 1 and err(r) == "ecsfs: %s: %s\n" % (path, why)
    r = ecsfs(emulator, "-o", "ro", "tee", PROD + "/services/api/desired_count", input=b"1\n")
    assert r.returncode == 1 and "Read-only file system" in err(r)
    assert mutating_calls(emulator) == {}


@pytest.mark.parametrize("where", ["before", "after"])
def test_dry_run_sends_nothing_and_journals(emulator, tmp_path, where):
    journal = tmp_path / "journal.log"
    opts = ["-o", "dry_run,journal=%s" % journal]
    args = opts + ["tee", DEV + "/services/*/desired_count"] if where == "before" else \
        ["tee", DEV + "/services/*/desired_count"] + opts
    emulator.reset_calls()
    r = ecsfs(emulator, *args, input=b"7\n")
    assert r.returncode == 0, err(r)
    assert mutating_calls(emulator) == {}
    assert desired(emulator, DEV) == {"api": 1, "web": 1}
    lines = journal.read_text().splitlines()
    assert len(lines) == 2 and all("result=dry-run" in l and "new=7" in l for l in lines)


def test_journal_file(emulator, tmp_path):
    journal = tmp_path / "audit" / "journal.log"
    journal.parent.mkdir()
    for n in (2, 0):
        r = ecsfs(emulator, "-o", "journal=%s" % journal, "tee",
                  DEV + "/services/api/desired_count", input=b"%d\n" % n)
        assert r.returncode == 0, err(r)
    r = ecsfs(emulator, "tee", DEV + "/services/api/desired_count", "-o",
              "journal=%s" % journal, input=b"abc\n")
    assert r.returncode == 1
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    lines = journal.read_text().splitlines()
    assert len(lines) == 3
    assert "old=1 new=2 result=ok" in lines[0] and "old=2 new=0 result=ok" in lines[1]
    assert "result=invalid" in lines[2]
    assert all(re.search(r"uid=%d pid=\d+ comm=ecsfs (principal=\S+ )?op=UpdateService "
                         r"target=development-cluster/services/api" % os.getuid(), l)
               for l in lines)
    assert emulator.secret_key not in journal.read_text()
    # A journal that cannot be opened is an error before anything is sent.
    emulator.reset_calls()
    r = ecsfs(emulator, "-o", "journal=%s" % (tmp_path / "no" / "dir"), "tee",
              DEV + "/services/api/desired_count", input=b"1\n")
    assert r.returncode == 1 and "No such file or directory" in err(r)
    assert mutating_calls(emulator) == {}


# -- wait --------------------------------------------------------------------

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (\S+) (.*)$")


def test_wait_success_streams_and_exits_0(emulator):
    ecsfs(emulator, "tee", PROD + "/services/web/desired_count", input=b"4\n")
    r = ecsfs(emulator, "-o", "wait_interval=0.3", "cat", PROD + "/services/web/wait")
    assert r.returncode == 0, err(r)
    lines = [LINE.match(l).groups() for l in out(r).splitlines()]
    assert lines[-1] == ("web", "stable")
    assert re.match(r"desired=4 running=\d pending=\d deployments=1", lines[0][1])
    assert emulator.state(PROD)["services"]["web"]["running"] == 4


def test_wait_timeout_is_etimedout(emulator):
    emulator.time_scale(0.01)
    ecsfs(emulator, "tee", DEV + "/services/web/desired_count", input=b"4\n")
    t0 = time.monotonic()
    r = ecsfs(emulator, "cat", DEV + "/services/web/wait", "-o",
              "wait_interval=0.2,wait_timeout=1.5")
    assert time.monotonic() - t0 < 15
    assert r.returncode == 1
    assert err(r) == "ecsfs: %s/services/web/wait: Connection timed out\n" % DEV
    assert out(r).splitlines()[-1].endswith(" web timeout after 1.5s")


def test_wait_failure_is_eio(emulator):
    emulator.aws("ecs", "update-service", "--cluster", PROD, "--service", "api",
                 "--task-definition", "failing-api")
    r = ecsfs(emulator, "-o", "wait_interval=0.3", "cat", PROD + "/services/api/wait")
    assert r.returncode == 1
    assert err(r) == "ecsfs: %s/services/api/wait: Input/output error\n" % PROD
    assert " api failed: rollout FAILED" in out(r).splitlines()[-1]


# -- configuration and credentials ---------------------------------------------

def test_configuration_and_credential_errors(emulator):
    f = PROD + "/services/api/desired_count"
    r = ecsfs(emulator, "cat", f, env={"AWS_REGION": None, "AWS_DEFAULT_REGION": None})
    assert r.returncode == 1 and r.stdout == b""
    assert len(err(r).splitlines()) == 1 and "AWS_REGION" in err(r)
    r = ecsfs(emulator, "cat", f, env={"AWS_ACCESS_KEY_ID": None,
                                        "AWS_SECRET_ACCESS_KEY": None})
    assert r.returncode == 1 and len(err(r).splitlines()) == 1 and "credentials" in err(r)
    r = ecsfs(emulator, "-o", "cache_ttl=abc", "cat", f)
    assert r.returncode == 1 and "cache_ttl" in err(r) and len(err(r).splitlines()) == 1
    r = ecsfs(emulator, "cat", "-x", f)
    assert r.returncode == 1 and "-x" in err(r)
    # Wrong keys: the call is refused, the path fails with EACCES, no secret shows.
    emulator.reset_calls()
    r = ecsfs(emulator, "tee", f, input=b"9\n",
              env={"AWS_SECRET_ACCESS_KEY": "wrongwrongwrongwrongwrongwrongwrong0000"})
    assert r.returncode == 1
    assert err(r) == "ecsfs: %s: Permission denied\n" % f
    assert "wrongwrong" not in err(r)
    assert mutating_calls(emulator) == {}


def test_help_names_the_commands(emulator):
    r = ecsfs(emulator, "ls", "--help")
    assert r.returncode == 0 and "ls|cat|tee" in out(r) and "-o journal=FILE" in out(r)


def test_mount_and_commands_share_a_journal_file(emulator, mount_factory, tmp_path):
    journal = tmp_path / "journal.log"
    m = mount_factory(options={"journal": str(journal)})
    m.sh("echo 2 > %s/services/api/desired_count" % DEV)
    r = ecsfs(emulator, "-o", "journal=%s" % journal, "tee",
              DEV + "/services/web/desired_count", input=b"3\n")
    assert r.returncode == 0, err(r)
    m.sh("echo abc > %s/services/api/desired_count" % DEV, check=False)
    lines = journal.read_text().splitlines()
    assert [re.search(r"comm=(\S+)", l).group(1) for l in lines] == ["bash", "ecsfs", "bash"]
    assert "target=%s/services/api field=desired_count old=1 new=2 result=ok" % DEV in lines[0]
    assert "target=%s/services/web field=desired_count old=1 new=3 result=ok" % DEV in lines[1]
    assert "result=invalid" in lines[2]
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    assert m.read(".ecsfs", "journal").splitlines() == [lines[0], lines[2]]
