"""The kernel's caches on the mount: warm reads never reach the daemon,
yet freshness is what it was with a round trip per read — a write shows at
once, `refresh` at once, an outside change after cache_ttl — and a reader
keeps the version it opened, whatever happens meanwhile."""
import json
import os
import subprocess
import time

from helpers.ecsim import wait_for
from helpers.stats import stats

SVC = ("production-cluster", "services", "api")


def requests(mount):
    return stats(mount)["fuse_requests"]


def test_warm_reads_never_reach_the_daemon(emulator, mount_factory):
    m = mount_factory(options={"cache_ttl": 600})
    f = m.p(*SVC, "desired_count")
    assert m.read(*SVC, "desired_count") == "3\n"
    emulator.reset_calls()
    before = requests(m)
    t0 = time.monotonic()
    r = m.sh('for i in $(seq 500); do cat "%s" > /dev/null; done; cat "%s"' % (f, f))
    elapsed = time.monotonic() - t0
    assert r.stdout == "3\n"
    # Reading stats costs a lookup and a read; entries are looked up again
    # once a second: nothing else of the 501 opens and reads reached us.
    delta = requests(m) - before
    assert delta <= 4 + 3 * (elapsed + 1), (delta, elapsed)
    assert emulator.total_calls() == 0


def test_write_shows_at_once_in_every_file_of_the_folder(mount, emulator):
    for f in ("desired_count", "service.json", "stable"):
        mount.read(*SVC, f)  # cached by the kernel
    size_before = os.stat(mount.p(*SVC, "service.json")).st_size
    for value in ("12", "+1", "3"):
        mount.sh("echo %s > %s" % (value, "/".join(SVC + ("desired_count",))))
        want = {"12": 12, "+1": 13, "3": 3}[value]
        assert mount.read(*SVC, "desired_count") == "%d\n" % want
        assert json.loads(mount.read(*SVC, "service.json"))["desiredCount"] == want
        # sizes are exact at once too (wc -c and tail trust them)
        r = mount.sh("wc -c < %s" % "/".join(SVC + ("desired_count",)))
        assert int(r.stdout) == len("%d\n" % want)
    assert os.stat(mount.p(*SVC, "service.json")).st_size == \
        len(mount.read(*SVC, "service.json"))
    assert size_before > 0


def test_a_reader_keeps_the_version_it_opened(mount, emulator):
    path = mount.p(*SVC, "service.json")
    with open(path, "rb", buffering=0) as f:
        first = f.read(7)
        mount.sh("echo 9 > %s" % "/".join(SVC + ("desired_count",)))
        # a new open sees the write ...
        assert json.loads(mount.read(*SVC, "service.json"))["desiredCount"] == 9
        # ... while this reader goes on with the version it opened, chunk by chunk
        rest = b""
        while True:
            chunk = f.read(7)
            if not chunk:
                break
            rest += chunk
    old = json.loads(first + rest)
    assert old["desiredCount"] == 3
    fd = os.open(path, os.O_RDONLY)
    try:
        assert os.fstat(fd).st_size == len(mount.read(*SVC, "service.json"))
    finally:
        os.close(fd)


def test_refresh_and_ttl_reach_files_the_kernel_holds(emulator, mount_factory):
    m = mount_factory(options={"cache_ttl": 2})
    rel = ("development-cluster", "services", "api", "desired_count")
    held = open(m.p(*rel))  # an inode the kernel keeps
    try:
        assert m.read(*rel) == "1\n"
        emulator.aws("ecs", "update-service", "--cluster", "development-cluster",
                     "--service", "api", "--desired-count", "5")
        assert m.read(*rel) == "1\n"
        wait_for(lambda: m.read(*rel) == "5\n", timeout=8, what="TTL expiry")
        emulator.aws("ecs", "update-service", "--cluster", "development-cluster",
                     "--service", "api", "--desired-count", "6")
        m.sh("echo 1 > .ecsfs/refresh")
        assert m.read(*rel) == "6\n"
        # ls -l and stat agree with what cat shows
        assert os.stat(m.p(*rel)).st_size == 2
    finally:
        held.close()


def test_stats_and_journal_are_never_stale(mount):
    rel = "/".join(SVC + ("desired_count",))
    calls = stats(mount)["calls"]
    mount.sh("echo 4 > %s" % rel)
    assert "field=desired_count old=3 new=4 result=ok" in mount.read(".ecsfs", "journal")
    assert stats(mount)["calls"] > calls
    mount.sh("echo 5 > %s" % rel)
    assert "old=4 new=5 result=ok" in mount.read(".ecsfs", "journal").splitlines()[-1]


def test_listing_with_attributes_needs_no_lookup_per_entry(mount):
    d = mount.p(*SVC)
    os.listdir(d)
    before = stats(mount)["fuse_requests.lookup"]
    out = subprocess.run(["ls", "-l", d], capture_output=True, text=True, check=True).stdout
    assert "desired_count" in out and "service.json" in out
    # readdirplus gave the kernel every entry's attributes
    assert stats(mount)["fuse_requests.lookup"] - before <= 2
