"""State verification through the mount: `stable`, and the blocking `wait`
files of services and container instances, against the emulator's simulated
scheduler."""
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from helpers.ecsim import wait_for

PROD = "production-cluster"
DEV = "development-cluster"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (\S+) (.*)$")


@pytest.fixture
def wmount(emulator, mount_factory):
    """A mount that polls waits every 0.3 s."""
    return mount_factory(options={"wait_interval": 0.3, "wait_timeout": 60})


def cat(mount, rel, timeout=90):
    return subprocess.run(["cat", str(mount.p(rel))], capture_output=True, text=True,
                          timeout=timeout)


def parse(out):
    lines = out.splitlines()
    for l in lines:
        assert LINE.match(l), l
    return [LINE.match(l).groups() for l in lines]


def wait_ok(mount, rel, last):
    """Reads the wait file rel to its end, which must be a success whose last
    line says last; returns the output and its parsed lines."""
    r = cat(mount, rel)
    assert r.returncode == 0, r.stderr
    lines = parse(r.stdout)
    assert lines[-1][1] == last, r.stdout
    return r.stdout, lines


def test_stable_never_blocks(wmount, emulator):
    assert wmount.read(PROD, "services", "api", "stable") == "true\n"
    wmount.sh("echo 6 > %s/services/api/desired_count" % PROD)
    assert wmount.read(PROD, "services", "api", "stable") == "false\n"
    emulator.wait_steady(PROD, "api", timeout=30)
    wmount.sh("echo 1 > %s/refresh" % PROD)
    assert wmount.read(PROD, "services", "api", "stable") == "true\n"


def test_wait_is_not_listed_but_opens_by_name(wmount):
    d = wmount.p(PROD, "services", "api")
    assert "wait" not in os.listdir(d)
    st = os.stat(d / "wait")
    assert st.st_size == 0 and oct(st.st_mode & 0o777) == "0o444"
    ci = os.listdir(wmount.p(PROD, "container_instances"))[0]
    assert "wait" not in os.listdir(wmount.p(PROD, "container_instances", ci))
    # Nothing that walks the tree blocks.
    r = wmount.sh("timeout 60 grep -r RUNNING . > /dev/null; timeout 60 ls -R . > /dev/null;"
                  "timeout 60 find . -type f -exec cat {} + > /dev/null; echo done")
    assert r.stdout.strip() == "done"


def test_scale_up_then_wait_streams_progress(wmount, emulator):
    emulator.time_scale(5)
    wmount.sh("echo 5 > %s/services/api/desired_count" % DEV)
    out, lines = wait_ok(wmount, "%s/services/api/wait" % DEV, "stable")
    assert all(name == "api" for name, _ in lines)
    progress = [rest for _, rest in lines[:-1]]
    assert len(progress) >= 2, out
    assert re.match(r"desired=5 running=\d pending=\d deployments=1 rollout=\w+", progress[0])
    assert any(not p.startswith("desired=5 running=5") for p in progress), out
    assert progress[-1].startswith("desired=5 running=5 pending=0 deployments=1")
    assert emulator.state(DEV)["services"]["api"]["running"] == 5


def test_restart_then_wait(wmount, emulator):
    emulator.time_scale(10)
    wmount.sh("echo 1 > %s/services/web/restart" % PROD)
    out, lines = wait_ok(wmount, "%s/services/web/wait" % PROD, "stable")
    assert any("deployments=2" in rest for _, rest in lines), out
    assert "deployments=1 rollout=COMPLETED" in lines[-2][1]
    assert len(emulator.state(PROD)["services"]["web"]["deployments"]) == 1


def test_failed_rollout_fails_with_eio(wmount, emulator):
    """A circuit-breaker rollback is not success: EIO, and stable stays false."""
    emulator.aws("ecs", "update-service", "--cluster", PROD, "--service", "api",
                 "--task-definition", "failing-api")
    r = cat(wmount, "%s/services/api/wait" % PROD)
    assert r.returncode != 0
    assert "Input/output error" in r.stderr
    lines = parse(r.stdout)
    assert lines[-1][1].startswith("failed: rollout FAILED"), r.stdout
    wmount.sh("echo 1 > %s/refresh" % PROD)
    assert wmount.read(PROD, "services", "api", "stable") == "false\n"
    deps = wmount.read(PROD, "services", "api", "deployments")
    assert " FAILED " in deps


def test_wait_timeout_is_etimedout(emulator, mount_factory):
    m = mount_factory(options={"wait_interval": 0.2, "wait_timeout": 1.5})
    emulator.time_scale(0.01)  # nothing converges during the test
    m.sh("echo 4 > %s/services/web/desired_count" % DEV)
    t0 = time.monotonic()
    r = cat(m, "%s/services/web/wait" % DEV)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0 and "Connection timed out" in r.stderr
    lines = parse(r.stdout)
    # wait_timeout=1.5 reads as it was given, not rounded down
    assert lines[-1][1] == "timeout after 1.5s"
    assert all(rest.startswith("desired=4") for _, rest in lines[:-1])
    assert elapsed < 15


def test_interrupted_wait_is_released_at_once(emulator, mount_factory):
    m = mount_factory(options={"wait_interval": 0.2, "wait_timeout": 300})
    emulator.time_scale(0.01)
    m.sh("echo 4 > %s/services/web/desired_count" % DEV)
    p = subprocess.Popen(["cat", str(m.p(DEV, "services", "web", "wait"))],
                         stdout=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    assert "desired=4" in first
    assert "waits_open 1\n" in m.read(".ecsfs", "stats")
    p.send_signal(signal.SIGINT)
    # At once, as against never (wait_timeout is 300 s); generous for a loaded machine.
    p.wait(timeout=15)
    wait_for(lambda: "waits_open 0\n" in m.read(".ecsfs", "stats"), timeout=15,
             what="the wait to be released")
    # The daemon keeps serving.
    assert m.read(DEV, "services", "web", "desired_count") == "4\n"


def test_many_open_waits_do_not_stop_the_mount(emulator, mount_factory):
    m = mount_factory(options={"wait_interval": 0.5, "wait_timeout": 300})
    emulator.time_scale(0.01)
    m.sh("echo 3 > %s/services/api/desired_count" % DEV)
    procs = [subprocess.Popen(["cat", str(m.p(DEV, "services", "api", "wait"))],
                              stdout=subprocess.DEVNULL) for _ in range(40)]
    try:
        wait_for(lambda: "waits_open 40\n" in m.read(".ecsfs", "stats"), timeout=60,
                 what="40 open waits")
        # Other requests are served while all of them block.
        r = m.sh("cat %s/services/*/desired_count; ls %s/tasks | wc -l" % (PROD, PROD),
                 timeout=60)
        assert r.stdout.split()[:3] == ["3", "2", "5"]
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
    wait_for(lambda: "waits_open 0\n" in m.read(".ecsfs", "stats"), timeout=30,
             what="every wait released")


def test_ten_waiters_in_a_cluster_share_one_describe_per_poll(emulator, mount_factory):
    emulator.bulk_services(cluster="w", count=10, prefix="s", desired_count=2, running=False)
    emulator.time_scale(1)
    m = mount_factory(options={"wait_interval": 1, "wait_timeout": 120})
    names = sorted(os.listdir(m.p("w", "services")))
    assert len(names) == 10
    emulator.reset_calls()
    outs = {}

    def run(p):
        outs[p] = subprocess.run(["cat", os.path.join(p, "wait")], capture_output=True,
                                 text=True, timeout=120)
    paths = [str(m.p("w", "services", n)) for n in names]
    threads = [threading.Thread(target=run, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    polls = max(len(o.stdout.splitlines()) - 1 for o in outs.values())
    for p, o in outs.items():
        assert o.returncode == 0, (p, o.stderr)
        assert o.stdout.splitlines()[-1].endswith(" stable")
    describes = emulator.calls().get("DescribeServices", 0)
    assert polls >= 2
    # One DescribeServices per poll for all ten, not one per waiter.
    assert describes <= polls + 2, (describes, polls)


def test_drain_wait_streams_until_no_task_runs(wmount, emulator):
    emulator.time_scale(5)
    st = emulator.state(PROD)
    ci = max(st["instances"], key=lambda i: st["instances"][i]["running"])
    r = cat(wmount, "%s/container_instances/%s/wait" % (PROD, ci))
    assert r.returncode != 0 and "Invalid argument" in r.stderr  # not DRAINING
    wmount.sh("echo DRAINING > %s/container_instances/%s/status" % (PROD, ci))
    out, lines = wait_ok(wmount, "%s/container_instances/%s/wait" % (PROD, ci),
                         "drained")
    assert all(name == ci for name, _ in lines)
    assert lines[-2][1] == "status=DRAINING running=0 pending=0"
    counts = [int(re.search(r"running=(\d+)", rest).group(1)) for _, rest in lines[:-1]]
    assert counts[0] > 0
    assert emulator.state(PROD)["instances"][ci]["running"] == 0


def test_wait_several_services(wmount, emulator):
    emulator.time_scale(10)
    wmount.sh("echo 2 | tee %s/services/*/desired_count > /dev/null" % DEV)
    r = wmount.sh("cat %s/services/{api,web}/wait" % DEV, timeout=90)
    lines = parse(r.stdout)
    finals = [(n, rest) for n, rest in lines if rest == "stable"]
    assert finals == [("api", "stable"), ("web", "stable")]


def test_a_poll_in_flight_does_not_undo_a_write(emulator, mount_factory):
    """A wait's poll that started before a write must not put the older
    state back in the cache (read-your-writes)."""
    m = mount_factory(options={"wait_interval": 0.2, "wait_timeout": 60, "cache_ttl": 60})
    emulator.time_scale(0.01)  # the service stays unstable
    emulator.faults(response_delay_ms=700, actions=["DescribeServices"])
    f = "%s/services/web/desired_count" % DEV
    m.sh("echo 3 > %s" % f)
    p = subprocess.Popen(["cat", str(m.p(DEV, "services", "web", "wait"))],
                         stdout=subprocess.DEVNULL)
    try:
        seen = []
        for n in (5, 6, 7):
            # A poll is in flight: the emulator has counted it (on arrival)
            # and holds its answer for 700 ms.
            k = emulator.calls().get("DescribeServices", 0)
            wait_for(lambda: emulator.calls().get("DescribeServices", 0) > k, timeout=20,
                     what="a poll to be in flight")
            m.sh("echo %d > %s" % (n, f))
            deadline = time.monotonic() + 1.6
            while time.monotonic() < deadline:
                seen.append((n, m.read(f)))
                time.sleep(0.1)
        assert all(got == "%d\n" % n for n, got in seen), seen
    finally:
        p.kill()
        p.wait()


def test_wait_works_in_single_threaded_mode(emulator, mount_factory):
    """A blocked wait holds no request thread: with -s (one thread) the
    mount still serves other readers while a wait blocks."""
    m = mount_factory(options={"wait_interval": 0.2, "wait_timeout": 60}, args=["-s"])
    emulator.time_scale(0.05)
    m.sh("echo 3 > %s/services/web/desired_count" % DEV)
    p = subprocess.Popen(["cat", str(m.p(DEV, "services", "web", "wait"))],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert "desired=3" in p.stdout.readline()
        # the one thread is free: other files read while the wait blocks
        assert m.read(DEV, "services", "api", "stable") == "true\n"
        assert m.read(DEV, "services", "web", "desired_count") == "3\n"
        emulator.time_scale(50)
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0 and out.rstrip().endswith("web stable")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
