"""Cold reads at the API's parallel speed: the store's own threads and its
read-ahead, through the real mount, counted and timed by the emulator.

Every fetch a reader needs runs on the store's threads; a reader waits for
it on the cache, so that one who goes away (SIGKILL) fails nobody else.
When the misses of one listing look like a scan, the batches that follow
are described ahead of the reader, a few calls at once, through the
client's pacer. The call counts below are exact or bounded; no assertion
depends on how fast the machine is.
"""
import collections
import os
import signal
import subprocess
import time

import pytest

from helpers.ecsim import wait_for
from helpers.procs import read_together
from helpers.stats import stats

N = 400                 # services in the "big" cluster
BATCH = 10              # DescribeServices
INFLIGHT = 8            # the store's bound per throttling category
SERVICE_READ = {"ListServices", "DescribeServices"}


@pytest.fixture
def big(emulator, mount_factory):
    """A mount of an emulator whose "big" cluster holds 400 services."""
    emulator.bulk_services(cluster="big", count=N, prefix="svc-")
    m = mount_factory(options={"cache_ttl": 120})
    emulator.reset_calls()
    return m


def svc(i):
    return "big/services/svc-%04d/desired_count" % i


def waste(mount):
    st = stats(mount)
    return st["prefetched"] - st["prefetch_used"]


def most_in_flight(log, actions):
    """The most calls of actions the emulator was working on at once."""
    edges = []
    for e in log:
        if e["action"] in actions:
            edges.append((e["start"], 1))
            edges.append((e["t"], -1))
    edges.sort(key=lambda x: (x[0], x[1]))
    now = most = 0
    for _, d in edges:
        now += d
        most = max(most, now)
    return most


def test_ls_costs_list_calls_only(big, emulator):
    assert len(big.sh("ls big/services").stdout.split()) == N
    assert big.sh("ls -l big/services | wc -l").stdout.strip() == str(N + 1)
    assert emulator.calls() == {"ListClusters": 1, "ListServices": 4}
    assert stats(big)["prefetched"] == 0


def test_a_single_read_costs_one_call(big, emulator):
    big.sh("ls big/services > /dev/null")
    emulator.reset_calls()
    assert big.read(svc(200)) == "1\n"
    assert emulator.calls() == {"DescribeServices": 1}
    # Its batch held the nine names after it; a repeat costs nothing.
    emulator.reset_calls()
    for i in range(200, 210):
        assert big.read(svc(i)) == "1\n"
    assert emulator.calls() == {}
    assert stats(big)["prefetched"] == 0


def test_an_explicit_path_lists_first(big, emulator):
    assert big.read(svc(123)) == "1\n"
    # The cluster, its services (to fill the batch with siblings), one batch.
    assert emulator.calls() == {"ListClusters": 1, "ListServices": 4, "DescribeServices": 1}
    emulator.reset_calls()
    assert big.sh("cat big/services/svc-012[3-9]/desired_count "
                  "big/services/svc-013[0-2]/desired_count").stdout == "1\n" * 10
    assert emulator.calls() == {}
    # A name absent from the fresh listing costs nothing.
    assert not os.path.exists(big.p("big", "services", "svc-9999"))
    assert emulator.calls() == {}


def test_30_explicit_paths_cost_at_most_9_calls(big, emulator):
    """A script reading 30 paths in listing order, each its own cat."""
    script = "\n".join("cat %s" % svc(i) for i in range(30))
    assert big.sh(script).stdout == "1\n" * 30
    c = emulator.calls()
    assert sum(c.values()) <= 9, c
    assert waste(big) <= BATCH


def test_a_full_scan_wastes_nothing(big, emulator):
    r = big.sh("cat big/services/*/desired_count")
    assert r.stdout == "1\n" * N and r.stderr == ""
    c = emulator.calls()
    assert c == {"ListClusters": 1, "ListServices": 4, "DescribeServices": N // BATCH}, c
    st = stats(big)
    assert st["prefetched"] > N / 2         # most of it came by read-ahead
    assert st["prefetched"] == st["prefetch_used"]
    emulator.reset_calls()
    assert big.sh("cat big/services/*/desired_count").stdout == "1\n" * N
    assert emulator.calls() == {}


def test_a_partial_scan_wastes_at_most_one_batch(big, emulator):
    """A glob over 30 of the 400. bash stats its matches in reverse listing
    order, and the first miss cannot know which way the next goes: its
    batch takes the names after it. Reading without read-ahead costs 4
    calls here (that one, then three batches going down); read-ahead may
    add one call beyond the glob's end, no more."""
    big.sh("ls big/services > /dev/null")
    emulator.reset_calls()
    r = big.sh("cat big/services/svc-01[0-2]?/desired_count")
    assert r.stdout == "1\n" * 30
    c = emulator.calls()
    assert c.get("DescribeServices", 0) <= 4 + 1, c
    # In names: that one batch, and the part of the last batch read ahead
    # that lies past the glob's end.
    assert waste(big) < 2 * BATCH


def test_a_long_partial_scan_wastes_at_most_the_window(big, emulator):
    big.sh("ls big/services > /dev/null")
    emulator.reset_calls()
    r = big.sh("cat big/services/svc-0[0-1]??/desired_count")
    assert r.stdout == "1\n" * 200
    c = emulator.calls()
    assert c.get("DescribeServices", 0) <= 200 // BATCH + INFLIGHT, c
    assert waste(big) <= INFLIGHT * BATCH


def test_in_flight_bound_and_pacer_rate_hold(emulator, mount_factory):
    burst, rate = 20, 40.0
    emulator.bulk_services(cluster="big", count=N, prefix="svc-")
    m = mount_factory(options={"cache_ttl": 120, "rate_service_read": "%d:%g" % (burst, rate)})
    emulator.faults(latency_ms=100)
    emulator.reset_calls()
    r = m.sh("cat big/services/*/desired_count", timeout=300)
    assert r.stdout == "1\n" * N
    log = [e for e in emulator.log() if e["action"] in SERVICE_READ]
    assert len(log) == 4 + N // BATCH
    assert most_in_flight(log, SERVICE_READ) <= INFLIGHT
    assert stats(m)["store_max_inflight"] <= INFLIGHT
    # The client's bucket: in any stretch of time, no more calls reached
    # ECS than its burst plus its refill over that stretch (a late request
    # only makes the count smaller, so this cannot fail on a slow machine;
    # a request held up before sending may bunch with later ones, hence
    # half a second of refill as a margin).
    starts = sorted(e["start"] for e in log)
    for i in range(len(starts)):
        for j in range(i, len(starts)):
            assert j - i + 1 <= burst + rate * (starts[j] - starts[i] + 0.5), (i, j)


def test_32_concurrent_readers_cost_one_call(big, emulator):
    emulator.faults(latency_ms=300)
    path = big.p("big", "services", "svc-0100", "desired_count")
    big.sh("ls big/services > /dev/null")
    emulator.reset_calls()
    results, errors = read_together(path, 32)
    assert not errors and results == ["1\n"] * 32
    assert emulator.calls() == {"DescribeServices": 1}


def test_killing_one_reader_of_a_scan_fails_nobody_else(big, emulator):
    emulator.faults(latency_ms=150)
    glob = "big/services/*/desired_count"
    victim = subprocess.Popen(["bash", "-c", "exec cat " + glob], cwd=big.path,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    other = subprocess.Popen(["bash", "-c", "exec cat " + glob], cwd=big.path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: emulator.calls().get("DescribeServices", 0) >= 3, timeout=60,
             what="the scan under way")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    out, err = other.communicate(timeout=300)
    assert other.returncode == 0 and err == ""
    assert out == "1\n" * N
    # The victim's fetches went on for the other scan: nothing twice.
    assert emulator.calls().get("DescribeServices") == N // BATCH


@pytest.mark.parametrize("killed", ["first", "waiter"])
def test_killing_a_reader_waiting_for_a_fetch_fails_nobody_else(big, emulator, killed):
    big.sh("ls big/services > /dev/null")
    emulator.faults(latency_ms=2000)
    emulator.reset_calls()
    waits = stats(big)["cache_waits"]
    # The kernel holds back parallel lookups in one folder, so the waiters
    # read siblings in the same batch.
    first = subprocess.Popen(["cat", str(big.p(svc(300)))], stdout=subprocess.PIPE,
                             text=True)
    wait_for(lambda: emulator.calls().get("DescribeServices", 0) == 1, timeout=30,
             what="the fetch under way")
    second = subprocess.Popen(["cat", str(big.p(svc(301)))], stdout=subprocess.PIPE,
                              text=True)
    third = subprocess.Popen(["cat", str(big.p(svc(302)))], stdout=subprocess.PIPE,
                             text=True)
    wait_for(lambda: stats(big)["cache_waits"] >= waits + 3, timeout=30,
             what="three readers waiting")
    victim, others = (first, [second, third]) if killed == "first" else \
        (second, [first, third])
    t0 = time.monotonic()
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    released = time.monotonic() - t0
    for p in others:
        out, _ = p.communicate(timeout=30)
        assert p.returncode == 0 and out == "1\n"
    assert emulator.calls() == {"DescribeServices": 1}
    if stats(big).get("store_interruptible"):
        # It left at once, not when the fetch ended.
        assert stats(big)["cache_interrupted_waits"] >= 1, released


# -- tasks and container instances --------------------------------------------

def test_tasks_scan_reads_ahead(emulator, mount_factory):
    emulator.bulk_services(cluster="t", count=300, prefix="svc-", desired_count=2)
    m = mount_factory(options={"cache_ttl": 120})
    m.sh("ls t/tasks > /dev/null")
    emulator.reset_calls()
    r = m.sh("cat t/tasks/*/last_status | sort | uniq -c")
    assert r.stdout.split() == ["600", "RUNNING"]
    c = emulator.calls()
    assert c == {"DescribeTasks": 6}, c
    assert waste(m) == 0


def test_a_task_absent_from_the_listings_costs_no_call(mount, emulator):
    ids = mount.sh("ls production-cluster/tasks").stdout.split()
    assert len(ids) == 10
    emulator.reset_calls()
    for _ in range(3):
        assert not os.path.exists(mount.p("production-cluster", "tasks",
                                          "0123456789abcdef0123456789abcdef"))
    assert emulator.total_calls() == 0, emulator.calls()


def test_a_stopped_task_stays_readable(mount, emulator):
    tid = mount.sh("ls production-cluster/tasks").stdout.split()[0]
    emulator.boto3().stop_task(cluster="production-cluster", task=tid, reason="test")
    mount.sh("echo 1 > production-cluster/refresh")
    assert tid not in mount.sh("ls production-cluster/tasks").stdout.split()
    assert mount.read("production-cluster", "tasks", tid, "desired_status") == "STOPPED\n"
    assert mount.read("production-cluster", "tasks", tid, "stopped_reason") == "test\n"


def test_instances_read_once_per_batch(mount, emulator):
    mount.sh("ls production-cluster/container_instances > /dev/null")
    emulator.reset_calls()
    r = mount.sh("cat production-cluster/container_instances/*/status")
    assert r.stdout.split() == ["ACTIVE"] * 3
    assert emulator.calls() == {"DescribeContainerInstances": 1}
