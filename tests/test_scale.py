"""ecsfs on a big account: listing cost, memory, and the cache's bound.

The emulator holds thousands of services and tasks; the mount is given
raised rates (-o rate_..., as for an account with raised limits) so that
the tests measure the daemon rather than ECS's default buckets.
"""
import threading
import time

import pytest

from helpers.stats import stats

RAISED = {"rate_cluster_read": "1000:1000", "rate_service_read": "5000:5000",
          "rate_resource_read": "5000:5000"}
RSS_LIMIT_KB = 64 * 1024


def proc_status(mount, key):
    """A "VmRSS"-style line of the daemon's /proc status, in kB."""
    with open("/proc/%d/status" % mount.proc.pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def sanitized(mount):
    """Whether the daemon runs under AddressSanitizer, whose shadow memory
    and quarantine make its RSS say nothing about ecsfs's own."""
    with open("/proc/%d/maps" % mount.proc.pid) as f:
        return "libasan" in f.read()


def test_ls_of_5000_services_costs_50_list_calls(emulator, mount_factory):
    emulator.bulk_services("huge", 5000)
    m = mount_factory()
    assert m.p("huge").is_dir()
    emulator.reset_calls()
    r = m.sh("ls huge/services")
    names = r.stdout.split()
    assert len(names) == 5000 and names[0] == "svc-0000" and names[-1] == "svc-4999"
    # maxResults 100: 50 pages, and nothing else (no Describe for a plain ls).
    assert emulator.calls() == {"ListServices": 50}
    # Within the TTL, the listing costs nothing more.
    emulator.reset_calls()
    assert len(m.sh("ls huge/services").stdout.split()) == 5000
    assert emulator.calls() == {}


def test_rss_of_5_clusters_1000_services_10000_tasks(emulator, mount_factory):
    clusters = ["c%d" % i for i in range(5)]
    for c in clusters:
        emulator.bulk_services(c, 1000, desired_count=2)
    m = mount_factory(options=RAISED)
    for c in clusters:
        r = m.sh("cat %s/services/*/desired_count | sort | uniq -c; "
                 "cat %s/tasks/*/last_status | sort | uniq -c" % (c, c))
        assert r.stdout.split() == ["1000", "2", "2000", "RUNNING"], r.stdout
        assert r.stderr == ""
    calls = emulator.calls()
    # Listed in pages of 100 (tasks: those running, and one page of the
    # stopped ones, so that an id in neither costs no call), described in
    # batches of 10 and 100, most of them read ahead of the reader.
    assert calls["ListServices"] == 50 and calls["DescribeServices"] == 500
    assert calls["ListTasks"] == 100 + 5 and calls["DescribeTasks"] == 100
    st = stats(m)
    # Read-ahead fetched nothing that was not read.
    assert st["prefetched"] > 10000 and st["prefetched"] == st["prefetch_used"]
    # Everything read is still cached: 15,000 objects and their listings.
    assert st["cache_entries"] >= 15000
    assert st["cache_evictions"] == 0
    if sanitized(m):
        pytest.skip("RSS under AddressSanitizer is not ecsfs's; the rest was checked")
    rss, peak = proc_status(m, "VmRSS"), proc_status(m, "VmHWM")
    assert peak < RSS_LIMIT_KB, (
        "ecsfs holds %.1f MB (peak %.1f MB) with %d cache entries; "
        "the bound is 64 MB" % (rss / 1024, peak / 1024, st["cache_entries"]))


def test_cache_max_bounds_memory_during_a_big_find(emulator, mount_factory):
    cache_max = 500
    emulator.bulk_services("huge", 1000)
    m = mount_factory(options=dict(RAISED, cache_max=cache_max))
    seen = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen.append(stats(m)["cache_entries"])
            time.sleep(0.02)

    w = threading.Thread(target=watch)
    w.start()
    try:
        find = m.sh("find huge -name desired_count -o -name last_status", timeout=300)
        grep = m.sh("grep -r DRAINING huge/services", check=False, timeout=300)
    finally:
        done.set()
        w.join()
    found = find.stdout.split()
    assert len([p for p in found if p.endswith("/desired_count")]) == 1000
    assert len([p for p in found if p.endswith("/last_status")]) == 1000
    # Nothing is draining; grep read every file without an error.
    assert grep.returncode == 1 and grep.stderr == ""
    assert len(seen) > 10
    assert max(seen) <= cache_max
    st = stats(m)
    assert st["cache_entries"] <= cache_max
    assert st["cache_evictions"] > 0
    if not sanitized(m):
        assert proc_status(m, "VmHWM") < RSS_LIMIT_KB
