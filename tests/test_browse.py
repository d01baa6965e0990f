"""Browsing ECS through the mount: the read-only tree, against the emulator.

Every test mounts the real daemon with FUSE and drives it with real shell
commands; results are checked against the emulator's state, its call
counts, and the AWS CLI's view of the same emulator.
"""
import json
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

from helpers.ecsim import wait_for
from helpers.procs import read_together
from helpers.stats import stats


def names(mount, *parts):
    return sorted(os.listdir(mount.p(*parts)))


def calls_of(emulator, *actions):
    c = emulator.calls()
    return {a: c.get(a, 0) for a in actions}


def require_interruptible_store(mount):
    """Skips unless the front end hands the store its interrupted callback:
    the store's threads make every fetch, and only that callback lets a
    reader who gives up stop waiting for one."""
    if not stats(mount).get("store_interruptible"):
        pytest.skip("the front end passes no interrupted callback to the store")


def describe_calls(emulator):
    c = emulator.calls()
    return {a: n for a, n in c.items() if a.startswith("Describe")}


# -- the tree ---------------------------------------------------------------

def test_root_lists_clusters_and_meta(mount):
    assert names(mount) == [".ecsfs", "development-cluster", "production-cluster"]
    assert names(mount, ".ecsfs") == ["dry_run", "endpoint", "identity", "journal", "refresh",
                                      "region", "stats", "version"]
    assert mount.read(".ecsfs", "version").startswith("ecsfs ")
    assert mount.read(".ecsfs", "region") == "us-east-1\n"
    assert mount.read(".ecsfs", "endpoint") == mount.emulator.url + "\n"
    assert mount.read(".ecsfs", "dry_run") == "0\n"


def test_cluster_files_match_aws_cli(mount, emulator):
    cli = emulator.aws("ecs", "describe-clusters", "--clusters", "production-cluster")
    c = cli["clusters"][0]
    d = ("production-cluster",)
    assert sorted(os.listdir(mount.p(*d))) == sorted([
        "status", "arn", "running_tasks_count", "pending_tasks_count",
        "active_services_count", "registered_container_instances_count", "cluster.json",
        "refresh", "services", "tasks", "container_instances"])
    assert mount.read(*d, "status") == c["status"] + "\n"
    assert mount.read(*d, "arn") == c["clusterArn"] + "\n"
    assert mount.read(*d, "active_services_count") == "%d\n" % c["activeServicesCount"]
    assert mount.read(*d, "registered_container_instances_count") == \
        "%d\n" % c["registeredContainerInstancesCount"]
    assert json.loads(mount.read(*d, "cluster.json"))["clusterArn"] == c["clusterArn"]
    for kind in ("services", "tasks", "container_instances"):
        assert stat.S_ISDIR(os.stat(mount.p(*d, kind)).st_mode)


def test_services_match_aws_cli(mount, emulator):
    cli = emulator.aws("ecs", "describe-services", "--cluster", "production-cluster",
                       "--services", "api", "web", "worker")
    assert names(mount, "production-cluster", "services") == ["api", "web", "worker"]
    for svc in cli["services"]:
        d = ("production-cluster", "services", svc["serviceName"])
        listed = names(mount, *d)
        assert listed == sorted(["desired_count", "running_count", "pending_count", "status",
                                 "launch_type", "task_definition", "deployments", "events",
                                 "restart", "stable", "service.json", "tasks"])
        assert mount.read(*d, "desired_count") == "%d\n" % svc["desiredCount"]
        assert mount.read(*d, "running_count") == "%d\n" % svc["runningCount"]
        assert mount.read(*d, "pending_count") == "%d\n" % svc["pendingCount"]
        assert mount.read(*d, "status") == svc["status"] + "\n"
        assert mount.read(*d, "launch_type") == svc["launchType"] + "\n"
        assert mount.read(*d, "task_definition") == \
            svc["taskDefinition"].rsplit("/", 1)[1] + "\n"
        assert mount.read(*d, "stable") == "true\n"
        deps = mount.read(*d, "deployments").splitlines()
        assert len(deps) == len(svc["deployments"]) == 1
        f = deps[0].split()
        dep = svc["deployments"][0]
        assert f[:6] == [dep["id"], dep["status"], dep["rolloutState"],
                         str(dep["desiredCount"]), str(dep["pendingCount"]),
                         str(dep["runningCount"])]
        assert f[6].endswith("Z") and "T" in f[6]
        events = mount.read(*d, "events").splitlines()
        assert [e.split(" ", 1)[1] for e in events] == [e["message"] for e in svc["events"]]
        # service.json is the API object: same members and values as the CLI sees
        # (the CLI turns epoch timestamps into ISO strings, so compare the rest).
        obj = json.loads(mount.read(*d, "service.json"))
        assert set(obj) == set(svc)
        for k in ("serviceArn", "serviceName", "clusterArn", "desiredCount", "runningCount",
                  "taskDefinition", "launchType", "status"):
            assert obj[k] == svc[k]


def test_tasks_and_symlinks(mount, emulator):
    arns = emulator.aws("ecs", "list-tasks", "--cluster", "production-cluster")["taskArns"]
    ids = sorted(a.rsplit("/", 1)[1] for a in arns)
    assert names(mount, "production-cluster", "tasks") == ids
    tasks = emulator.aws("ecs", "describe-tasks", "--cluster", "production-cluster",
                         "--tasks", *ids)["tasks"]
    by_id = {t["taskArn"].rsplit("/", 1)[1]: t for t in tasks}
    for tid, t in by_id.items():
        d = ("production-cluster", "tasks", tid)
        assert mount.read(*d, "last_status") == t["lastStatus"] + "\n"
        assert mount.read(*d, "desired_status") == t["desiredStatus"] + "\n"
        assert mount.read(*d, "group") == t["group"] + "\n"
        assert mount.read(*d, "launch_type") == t["launchType"] + "\n"
        assert mount.read(*d, "task_definition") == \
            t["taskDefinitionArn"].rsplit("/", 1)[1] + "\n"
        assert mount.read(*d, "started_at").endswith("Z\n")
        assert mount.read(*d, "stopped_at") == "\n"
        lines = mount.read(*d, "containers").splitlines()
        assert [l.split()[0] for l in lines] == [c["name"] for c in t["containers"]]
        assert json.loads(mount.read(*d, "task.json"))["taskArn"] == t["taskArn"]
        link = mount.p(*d, "container_instance")
        if t["launchType"] == "EC2":
            ci = t["containerInstanceArn"].rsplit("/", 1)[1]
            assert "container_instance" in os.listdir(mount.p(*d))
            assert os.readlink(link) == "../../container_instances/" + ci
            assert os.path.isdir(link)
        else:
            assert "container_instance" not in os.listdir(mount.p(*d))
            assert not os.path.lexists(link)
    # services/S/tasks/ holds symlinks to the service's tasks.
    worker = [tid for tid, t in by_id.items() if t["group"] == "service:worker"]
    assert len(worker) == 5
    assert names(mount, "production-cluster", "services", "worker", "tasks") == sorted(worker)
    for tid in worker:
        p = mount.p("production-cluster", "services", "worker", "tasks", tid)
        assert os.readlink(p) == "../../../tasks/" + tid
        assert os.path.realpath(p) == str(mount.p("production-cluster", "tasks", tid))
        assert mount.read("production-cluster", "services", "worker", "tasks", tid,
                          "last_status") == "RUNNING\n"


def test_container_instances(mount, emulator):
    arns = emulator.aws("ecs", "list-container-instances",
                        "--cluster", "production-cluster")["containerInstanceArns"]
    ids = sorted(a.rsplit("/", 1)[1] for a in arns)
    assert names(mount, "production-cluster", "container_instances") == ids
    cis = emulator.aws("ecs", "describe-container-instances", "--cluster", "production-cluster",
                       "--container-instances", *ids)["containerInstances"]
    total = 0
    for ci in cis:
        cid = ci["containerInstanceArn"].rsplit("/", 1)[1]
        d = ("production-cluster", "container_instances", cid)
        assert mount.read(*d, "status") == ci["status"] + "\n"
        assert mount.read(*d, "ec2_instance_id") == ci["ec2InstanceId"] + "\n"
        assert mount.read(*d, "agent_connected") == \
            ("true\n" if ci["agentConnected"] else "false\n")
        assert mount.read(*d, "running_tasks_count") == "%d\n" % ci["runningTasksCount"]
        assert mount.read(*d, "pending_tasks_count") == "%d\n" % ci["pendingTasksCount"]
        tasks = names(mount, *d, "tasks")
        assert len(tasks) == ci["runningTasksCount"] + ci["pendingTasksCount"]
        total += len(tasks)
        for tid in tasks:
            assert os.readlink(mount.p(*d, "tasks", tid)) == "../../../tasks/" + tid
        assert json.loads(mount.read(*d, "container_instance.json"))["ec2InstanceId"] == \
            ci["ec2InstanceId"]
    assert total == 5


def test_every_file_reads_the_same_every_way(mount, tmp_path):
    """cat, head -c, wc -c, stat, cp, tail, Python read and jq all agree."""
    files = mount.sh("find . -type f | sort").stdout.split()
    assert len(files) > 100
    # .ecsfs/stats counts the very reads below, so it differs between reads.
    files.remove("./.ecsfs/stats")
    for rel in files:
        p = mount.p(rel)
        whole = subprocess.run(["cat", p], capture_output=True, check=True).stdout
        assert os.stat(p).st_size == len(whole), rel
        assert int(subprocess.run(["wc", "-c"], stdin=open(p, "rb"), capture_output=True,
                                  check=True).stdout) == len(whole), rel
        assert int(subprocess.run(["wc", "-c", p], capture_output=True, check=True)
                   .stdout.split()[0]) == len(whole), rel
        assert subprocess.run(["head", "-c", "3", p], capture_output=True,
                              check=True).stdout == whole[:3], rel
        assert subprocess.run(["tail", "-c", "5", p], capture_output=True,
                              check=True).stdout == whole[-5:], rel
        with open(p, "rb") as f:
            assert f.read() == whole, rel
        with open(p, "rb") as f:  # small chunks see one version
            chunks = b"".join(iter(lambda: f.read(7), b""))
        assert chunks == whole, rel
        dst = tmp_path / "copy"
        shutil.copyfile(p, dst)
        subprocess.run(["cp", p, dst], check=True)
        assert dst.read_bytes() == whole, rel
        if rel.endswith(".json"):
            jq = subprocess.run(["jq", ".", p], capture_output=True, check=True).stdout
            assert json.loads(jq) == json.loads(whole), rel


def test_grep_recursive(mount):
    r = mount.sh("grep -r ACTIVE production-cluster/ | sort")
    lines = r.stdout.splitlines()
    assert "production-cluster/status:ACTIVE" in lines
    for s in ("api", "web", "worker"):
        assert "production-cluster/services/%s/status:ACTIVE" % s in lines
    r = mount.sh("grep -rl RUNNING production-cluster/tasks | wc -l")
    assert int(r.stdout) >= 10


def test_ls_recursive_and_find_do_not_fail(mount):
    r = mount.sh("ls -lR . > /dev/null")
    assert r.stderr == ""
    r = mount.sh("find . | wc -l")
    assert int(r.stdout) > 150


def test_missing_names_are_enoent(mount, emulator):
    for rel in ("nope-cluster", "production-cluster/services/nope",
                "production-cluster/tasks/0123456789abcdef0123456789abcdef",
                "production-cluster/container_instances/nope",
                "production-cluster/services/api/nope", "production-cluster/nope",
                ".ecsfs/nope", "nope-cluster/services/api/desired_count"):
        with pytest.raises(FileNotFoundError):
            os.stat(mount.p(rel))
    # Negatively cached: asking again costs nothing.
    emulator.reset_calls()
    for _ in range(3):
        assert not os.path.exists(mount.p("production-cluster", "services", "ghost"))
        assert not os.path.exists(mount.p("ghost-cluster"))
        mount.sh("sleep 1.1")  # past the kernel's own 1 s negative entry
    c = emulator.calls()
    assert c.get("DescribeServices", 0) <= 1 and c.get("DescribeClusters", 0) <= 1, c


def test_read_only_files_refuse_writes(mount, emulator):
    emulator.reset_calls()
    for rel in ("production-cluster/services/api/running_count",
                "production-cluster/status", ".ecsfs/version"):
        r = mount.sh("echo 1 > %s" % rel, check=False)
        assert r.returncode != 0
        assert "Permission denied" in r.stderr
    assert not any(k for k in emulator.calls() if not k.startswith(("Describe", "List")))
    mode = os.stat(mount.p("production-cluster", "services", "api", "running_count")).st_mode
    assert stat.S_IMODE(mode) == 0o444
    assert stat.S_IMODE(os.stat(mount.p("production-cluster", "refresh")).st_mode) == 0o644
    assert mount.read("production-cluster", "refresh") == ""


# -- API-call budget --------------------------------------------------------

@pytest.fixture
def big(emulator, mount_factory):
    emulator.bulk_services(cluster="big", count=250, prefix="svc-")
    m = mount_factory(options={"cache_ttl": 60})
    emulator.reset_calls()
    return m


def test_ls_services_costs_list_calls_only(big, emulator):
    listed = names(big, "big", "services")
    assert len(listed) == 250
    c = emulator.calls()
    assert c.get("ListServices") == 3, c
    assert not describe_calls(emulator), c
    # ls -l of the folder stats every service folder: still no describe.
    big.sh("ls -l big/services > /dev/null")
    assert not describe_calls(emulator), emulator.calls()


def test_cold_glob_costs_n_over_10_describes(big, emulator):
    r = big.sh("cat big/services/*/desired_count")
    assert r.stdout.split() == ["1"] * 250
    c = emulator.calls()
    assert c.get("DescribeServices", 0) <= 25, c
    assert c.get("ListServices", 0) <= 3, c
    emulator.reset_calls()
    r = big.sh("cat big/services/*/desired_count")
    assert r.stdout.split() == ["1"] * 250
    assert emulator.total_calls() == 0, emulator.calls()


def test_concurrent_readers_share_one_call(big, emulator):
    path = big.p("big", "services", "svc-0100", "desired_count")
    results, errors = read_together(path, 32)
    assert not errors
    assert results == ["1\n"] * 32
    assert emulator.calls().get("DescribeServices") == 1, emulator.calls()


def test_ls_l_of_one_service_costs_one_batch(big, emulator):
    big.sh("ls -l big/services/svc-0042 > /dev/null")
    c = emulator.calls()
    assert c.get("DescribeServices", 0) <= 1, c
    assert c.get("ListServices", 0) <= 3, c


def test_find_cat_describes_each_object_once(mount, emulator):
    emulator.reset_calls()
    mount.sh("find . -type f -exec cat {} + > /dev/null")
    c = emulator.calls()
    # Two clusters (one DescribeClusters), 3 + 2 services (one batch each
    # cluster), 10 + 2 tasks (one batch each), 3 instances (one batch).
    assert c.get("DescribeClusters") == 1, c
    assert c.get("DescribeServices") == 2, c
    assert c.get("DescribeTasks") == 2, c
    assert c.get("DescribeContainerInstances") == 1, c


# -- freshness and failure --------------------------------------------------

def test_outside_change_shows_after_ttl_or_refresh(emulator, mount_factory):
    # The TTL is long enough for an AWS CLI run on a loaded machine (it
    # takes a second or more to start) to end inside it.
    m = mount_factory(options={"cache_ttl": 6})
    svc = ("development-cluster", "services", "api", "desired_count")
    assert m.read(*svc) == "1\n"
    emulator.boto3().update_service(cluster="development-cluster", service="api",
                                    desiredCount=4)
    assert m.read(*svc) == "1\n"  # still cached
    wait_for(lambda: m.read(*svc) == "4\n", timeout=20, what="TTL expiry")
    emulator.aws("ecs", "update-service", "--cluster", "development-cluster",
                 "--service", "api", "--desired-count", "2")
    m.sh("echo 1 > development-cluster/refresh")
    assert m.read(*svc) == "2\n"
    emulator.aws("ecs", "update-service", "--cluster", "development-cluster",
                 "--service", "api", "--desired-count", "3")
    m.sh("echo 1 > .ecsfs/refresh")
    assert m.read(*svc) == "3\n"


def test_deleted_service_disappears_after_ttl(emulator, mount_factory):
    m = mount_factory(options={"cache_ttl": 2})
    assert "web" in names(m, "development-cluster", "services")
    assert m.read("development-cluster", "services", "web", "status") == "ACTIVE\n"
    emulator.aws("ecs", "update-service", "--cluster", "development-cluster",
                 "--service", "web", "--desired-count", "0")
    emulator.aws("ecs", "delete-service", "--cluster", "development-cluster",
                 "--service", "web", "--force")
    wait_for(lambda: "web" not in names(m, "development-cluster", "services"), timeout=30,
             what="web gone from the listing")
    wait_for(lambda: not os.path.exists(m.p("development-cluster", "services", "web",
                                                "desired_count")),
             timeout=30, what="web gone")


def test_endpoint_down_serves_stale_then_fails_then_recovers(emulator, mount_factory):
    m = mount_factory(options={"cache_ttl": 1, "stale_ttl": 6, "timeout": 2,
                               "connect_timeout": 1})
    f = ("production-cluster", "services", "api", "desired_count")
    assert m.read(*f) == "3\n"
    emulator.faults(drop_probability=1.0)
    m.sh("sleep 1.5")  # past the TTL: the value is stale now
    assert m.read(*f) == "3\n"  # served stale
    wait_for(lambda: m.sh("cat production-cluster/services/api/desired_count",
                          check=False).returncode != 0, timeout=10, what="stale_ttl expiry")
    r = m.sh("cat production-cluster/services/api/desired_count", check=False)
    assert "Input/output error" in r.stderr
    # The mount stays usable: cached or local things still answer.
    assert m.read(".ecsfs", "region") == "us-east-1\n"
    emulator.faults()
    wait_for(lambda: m.sh("cat production-cluster/services/api/desired_count",
                          check=False).stdout == "3\n", timeout=10, what="recovery")


def test_black_hole_endpoint_fails_within_timeout(emulator, mount_factory):
    """An endpoint that accepts connections and never answers (SIGSTOPped)."""
    m = mount_factory(options={"timeout": 2, "connect_timeout": 1, "stale_ttl": 0})
    os.kill(emulator.proc.pid, 19)  # SIGSTOP
    try:
        r = m.sh("time -p cat production-cluster/services/api/desired_count", check=False)
        assert r.returncode != 0
        assert "Connection timed out" in r.stderr or "Input/output error" in r.stderr
        real = float([l for l in r.stderr.splitlines() if l.startswith("real")][0].split()[1])
        assert real < 6, r.stderr
        assert m.read(".ecsfs", "version").startswith("ecsfs")
    finally:
        os.kill(emulator.proc.pid, 18)  # SIGCONT
    # A failing endpoint is left alone for a moment, then tried again.
    wait_for(lambda: m.sh("cat production-cluster/services/api/desired_count",
                          check=False).stdout == "3\n", timeout=10, what="recovery")


@pytest.mark.parametrize("how", ["throttled", "black-hole"])
def test_ctrl_c_releases_a_reader_waiting_for_ecs(emulator, mount_factory, how):
    """A reader that gives up stops waiting for a rate token or a response."""
    m = mount_factory(options={"timeout": 30, "max_throttle_wait": 30, "stale_ttl": 0})
    require_interruptible_store(m)
    if how == "throttled":
        emulator.faults(throttle_probability=1.0)
    else:
        os.kill(emulator.proc.pid, 19)  # SIGSTOP: connections hang
    try:
        p = subprocess.Popen(["cat", str(m.p("production-cluster", "services", "api",
                                             "desired_count"))],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        assert p.poll() is None  # still waiting
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)
        released = time.monotonic() - t0
        assert released < 3, released
        assert "interrupted" in m.log() or how == "black-hole"
    finally:
        if how != "throttled":
            os.kill(emulator.proc.pid, 18)
        emulator.faults()
    # The mount keeps serving.
    wait_for(lambda: m.sh("cat production-cluster/services/api/desired_count",
                          check=False).stdout == "3\n", timeout=15, what="recovery")
