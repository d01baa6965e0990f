"""Client-side pacing within ECS's rate limits, through the mount.

The emulator enforces ECS's token buckets (small ones, so that the tests
are quick) and the mount is given the same numbers with -o rate_...; the
emulator's request log then shows what ECS would have seen.
"""
import errno
import os
import threading
import time

import pytest

from helpers.mount import Mount
from helpers.stats import stats

SERVICE_READ = ("ListServices", "DescribeServices")
PROD_CLUSTER = "production-cluster"
CATEGORIES = ("cluster_read", "service_read", "service_modify", "resource_read",
              "resource_modify", "taskdef_read", "autoscaling_read", "autoscaling_modify",
              "logs_read")


def log_of(emulator, actions):
    return sorted((e for e in emulator.log() if e["action"] in actions),
                  key=lambda e: e["t"])


def worst_excess(times, burst, refill):
    """How many requests more than the refill allows, at worst, in any
    stretch that starts once the first `burst` requests are spent."""
    worst = 0.0
    for i in range(burst, len(times)):
        for j in range(i + 1, len(times)):
            worst = max(worst, (j - i) - refill * (times[j] - times[i]))
    return worst


def test_64_parallel_readers_stay_under_the_refill(emulator, mount_factory):
    burst, refill, count, nreaders = 10, 5, 300, 64
    emulator.bulk_services("big", count)
    emulator.faults(throttle_buckets=True, buckets={"service_read": [burst, refill]})
    m = mount_factory(options={"rate_service_read": "%d:%d" % (burst, refill)})
    barrier = threading.Barrier(nreaders)
    values, failed = {}, []

    def reader(k):
        barrier.wait()
        for name in names[k::nreaders]:
            try:
                values[name] = m.read("big", "services", name, "desired_count")
            except OSError as e:
                failed.append((name, e))

    # As `ls big/services | xargs -P 64 -n 1 cat` would: list, then read.
    t0 = time.monotonic()
    names = sorted(os.listdir(m.p("big", "services")))
    assert names == ["svc-%04d" % i for i in range(count)]
    threads = [threading.Thread(target=reader, args=(k,)) for k in range(nreaders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.monotonic() - t0
    assert not any(t.is_alive() for t in threads)

    # Not one read failed, and every value is ECS's.
    assert failed == []
    assert values == {n: "1\n" for n in names}
    log = log_of(emulator, SERVICE_READ)
    assert [e for e in log if e["status"] != 200] == []
    assert emulator.call_stats()["throttled"] == {}
    calls = len(log)
    assert emulator.calls()["ListServices"] == 3
    assert calls >= 3 + count // 10
    # Once the burst was spent, ECS never saw more than the refill (one
    # request of leeway for the log's timestamps, taken at the answers).
    times = [e["t"] for e in log]
    assert worst_excess(times, burst, refill) <= 1.0
    # And no slower than it has to be: the floor is (calls - burst) / refill.
    floor = (calls - burst) / refill
    assert floor * 0.9 <= elapsed <= floor * 1.3 + 1.0, (calls, floor, elapsed)

    st = stats(m)
    assert st["category.service_read.burst"] == burst
    assert st["category.service_read.refill"] == refill
    assert st["category.service_read.waits"] >= calls - burst
    assert st["category.service_read.wait_ms"] > 0
    assert st["category.service_read.throttles"] == 0
    assert st["category.service_read.busy"] == 0
    assert st["category.service_read.rate_cuts"] == 0
    assert st["category.service_read.requests"] == calls
    assert st["errors.throttled"] == 0 and st["errors.busy"] == 0


def spend_service_modify(emulator, n):
    """Another tool of the account spends n UpdateService tokens."""
    other = emulator.boto3()
    for _ in range(n):
        other.update_service(cluster="development-cluster", service="api", desiredCount=1)


@pytest.mark.parametrize("how", ["bucket-spent-by-another-tool", "random-throttles"])
def test_write_under_throttling_lands_exactly_once(emulator, mount_factory, how):
    f = "production-cluster/services/web/desired_count"
    if how == "bucket-spent-by-another-tool":
        emulator.faults(throttle_buckets=True, buckets={"service_modify": [2, 1]})
        m = mount_factory(options={"rate_service_modify": "2:1"})
        assert m.read(f) == "2\n"
        spend_service_modify(emulator, 2)
    else:
        m = mount_factory()
        assert m.read(f) == "2\n"
        emulator.faults(throttle_probability=0.75, actions=["UpdateService"])
    emulator.reset_calls()

    # Relative, so that a second landing would show: 2 + 3, never 2 + 6.
    m.sh("echo +3 > %s" % f)

    updates = log_of(emulator, ("UpdateService",))
    throttled = [e for e in updates if e["error"] == "ThrottlingException"]
    landed = [e for e in updates if e["status"] == 200]
    assert len(throttled) >= 1
    assert len(landed) == 1 and len(updates) == len(throttled) + 1
    assert updates[-1]["status"] == 200
    svc = emulator.aws("ecs", "describe-services", "--cluster", "production-cluster",
                       "--services", "web")["services"][0]
    assert svc["desiredCount"] == 5
    assert m.read(f) == "5\n"
    lines = [l for l in m.read(".ecsfs", "journal").splitlines()
             if "field=desired_count" in l]
    assert len(lines) == 1 and "old=2 new=5 result=ok" in lines[0]
    st = stats(m)
    assert st["category.service_modify.throttles"] == len(throttled)
    assert st["category.service_modify.rate_cuts"] >= 1
    assert st["category.service_modify.busy"] == 0
    assert st["api_calls.UpdateService"] == len(updates)


def test_eagain_after_max_throttle_wait(emulator, mount_factory):
    bound = 3.0
    m = mount_factory(options={"max_throttle_wait": bound})
    emulator.faults(throttle_probability=1.0)
    emulator.reset_calls()

    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        m.read("production-cluster", "services", "api", "desired_count")
    elapsed = time.monotonic() - t0
    assert e.value.errno == errno.EAGAIN
    # It retried, paced, until the next token would have been past the
    # bound (at the slowest rate, 0.5/s, a token is 2 s away), not longer.
    assert bound - 2.2 <= elapsed <= bound + 1.0, elapsed
    attempts = log_of(emulator, ("ListClusters",))
    assert len(attempts) >= 4
    assert all(a["error"] == "ThrottlingException" for a in attempts)
    gaps = [b["t"] - a["t"] for a, b in zip(attempts, attempts[1:])]
    assert all(g >= 0.04 for g in gaps), gaps      # paced, not hammering
    assert gaps[-1] > gaps[0]                        # and slowing down

    # The shell sees the same.
    r = m.sh("cat production-cluster/services/api/desired_count", check=False)
    assert r.returncode == 1
    assert "Resource temporarily unavailable" in r.stderr

    st = stats(m)
    assert st["errors.busy"] >= 2
    assert st["category.cluster_read.busy"] >= 2
    assert st["category.cluster_read.rate_cuts"] >= 3
    assert st["category.cluster_read.rate"] < 20

    # Once ECS answers again, so does the mount, without a remount. The
    # category was throttled for longer than the bound, so reads fail at
    # once until a probe (one per period of the cut rate, 2 s at 0.5/s)
    # finds ECS answering again.
    emulator.faults()
    t0 = time.monotonic()

    def read_ok():
        try:
            return m.read("production-cluster", "services", "api",
                          "desired_count")
        except BlockingIOError:
            return None

    assert emulator.wait_for(read_ok, timeout=bound + 3.0, interval=0.1,
                             what="a read after ECS recovered") == "3\n"
    assert time.monotonic() - t0 < bound + 3.0


@pytest.mark.parametrize("option,value", [
    *(("rate_service_read", v) for v in ("abc", "100", "0:20", "100:0", "100:-1", "1.5:20",
                                         "100:20:1", "100:1e3")),
    # The other services' categories are parsed the same way.
    *(("rate_" + c, "5:0") for c in ("taskdef_read", "autoscaling_read",
                                     "autoscaling_modify", "logs_read"))])
def test_bad_rate_option_fails_the_mount_in_one_line(emulator, tmp_path, option, value):
    m = Mount(tmp_path, emulator, options={option: value})
    with pytest.raises(RuntimeError):
        m.start()
    lines = m.log().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(
        "ecsfs: bad %s '%s': want BURST:REFILL" % (option, value)), m.log()
    assert emulator.total_calls() == 0


def test_rates_and_figures_per_category(emulator, mount_factory):
    m = mount_factory(options={"rate_service_read": "7:3.5",
                               "rate_resource_modify": "1000:250.25",
                               "rate_autoscaling_modify": "3:0.5",
                               "rate_logs_read": "12:6"})
    st = stats(m)
    # ECS's and CloudWatch Logs' published rates, Application Auto
    # Scaling's conservative defaults, and the options given.
    expect = {"cluster_read": (50, 20), "service_read": (7, 3.5),
              "service_modify": (50, 5), "resource_read": (100, 20),
              "resource_modify": (1000, 250.25), "taskdef_read": (50, 20),
              "autoscaling_read": (20, 10), "autoscaling_modify": (3, 0.5),
              "logs_read": (12, 6)}
    for cat in CATEGORIES:
        burst, refill = expect[cat]
        assert st["category.%s.burst" % cat] == burst
        assert st["category.%s.refill" % cat] == refill
        assert st["category.%s.rate" % cat] == refill
        assert 0 < st["category.%s.tokens" % cat] <= burst
        for key in ("queued", "waits", "wait_ms", "max_wait_ms", "busy", "rate_cuts",
                    "throttles", "requests"):
            assert st["category.%s.%s" % (cat, key)] == 0, key
    # Seven service reads go at once; the eighth waits for the refill.
    emulator.bulk_services("big", 80)
    m.sh("cat big/services/*/desired_count > /dev/null")
    st = stats(m)
    assert st["category.service_read.requests"] == 9
    assert st["category.service_read.waits"] >= 2
    assert st["category.service_read.wait_ms"] >= 250
    # Read-ahead queues up to the store's 8 calls in flight of a category at
    # once, served in turn at the refill rate: the last waits 8 intervals.
    assert st["category.service_read.max_wait_ms"] <= 8 * 1000 / 3.5 + 50


def test_sustained_throttling_bounds_what_a_writer_sees(emulator, mount_factory):
    # One `echo N > desired_count` is several calls (lookups, the update),
    # and used to wait up to max_throttle_wait for each of them, again and
    # again. Now, once a category has been throttled without a break for
    # max_throttle_wait, its calls fail at once (EAGAIN) until ECS takes
    # one of them again.
    bound = 5.0
    f = "production-cluster/services/web/desired_count"
    m = mount_factory(options={"max_throttle_wait": bound})
    assert m.read(f) == "2\n"
    emulator.faults(throttle_probability=1.0)

    t0 = time.monotonic()
    r = m.sh("echo 4 > %s" % f, check=False)
    first = time.monotonic() - t0
    assert r.returncode != 0
    assert "Resource temporarily unavailable" in r.stderr, r.stderr
    # Five categories could each take the bound once; in practice fewer.
    assert first <= 5 * bound + 3.0, first

    # Throttled for longer than the bound: every write fails at once.
    time.sleep(max(0.0, t0 + bound + 0.5 - time.monotonic()))
    for _ in range(3):
        t1 = time.monotonic()
        r = m.sh("echo 4 > %s" % f, check=False)
        took = time.monotonic() - t1
        assert r.returncode != 0
        assert "Resource temporarily unavailable" in r.stderr, r.stderr
        assert took < bound * 0.3, took
    st = stats(m)
    assert st["errors.busy"] >= 4
    assert st["category.service_modify.busy"] >= 3
    assert emulator.state(PROD_CLUSTER)["services"]["web"]["desired"] == 2

    # ECS recovers: a probe notices, and the write goes through, once.
    emulator.faults()
    emulator.reset_calls()

    def write_ok():
        return m.sh("echo 4 > %s" % f, check=False).returncode == 0

    emulator.wait_for(write_ok, timeout=bound + 5.0, interval=0.2,
                      what="a write after ECS recovered")
    assert m.read(f) == "4\n"
    updates = log_of(emulator, ("UpdateService",))
    assert len([e for e in updates if e["status"] == 200]) == 1
