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


def request_kinds(mount):
    return {k: v for k, v in stats(mount).items() if k.startswith("fuse_requests.")}


def test_warm_reads_never_reach_the_daemon(emulator, mount_factory):
    m = mount_factory(options={"cache_ttl": 600})
    f = m.p(*SVC, "desired_count")
    assert m.read(*SVC, "desired_count") == "3\n"
    emulator.reset_calls()
    kinds = request_kinds(m)
    t0 = time.monotonic()
    r = m.sh('for i in $(seq 500); do cat "%s" > /dev/null; done; cat "%s"' % (f, f))
    elapsed = time.monotonic() - t0
    assert r.stdout == "3\n"
    # Reading stats costs a few requests, and the four entries of the path
    # are looked up again once a second: nothing else of the 501 opens and
    # reads reached the daemon.
    after = request_kinds(m)
    delta = {k: after[k] - kinds[k] for k in after if after[k] != kinds[k]}
    assert sum(delta.values()) <= 12 + 6 * (elapsed + 1) and sum(delta.values()) < 60, \
        (delta, elapsed)
    assert delta.get("fuse_requests.read", 0) <= 4, delta
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
    # A TTL well beyond what one AWS CLI call takes on a loaded machine.
    m = mount_factory(options={"cache_ttl": 8})
    rel = ("development-cluster", "services", "api", "desired_count")
    held = open(m.p(*rel))  # an inode the kernel keeps
    try:
        assert m.read(*rel) == "1\n"
        emulator.aws("ecs", "update-service", "--cluster", "development-cluster",
                     "--service", "api", "--desired-count", "5")
        assert m.read(*rel) == "1\n"
        wait_for(lambda: m.read(*rel) == "5\n", timeout=20, what="TTL expiry")
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


def test_what_was_written_never_shows_as_the_content(mount, emulator):
    """A write whose result renders the same, or that sends nothing (+0, a
    dry run, an invalid value), leaves no written bytes in the kernel's
    cache: reads show ECS's state."""
    rel = "/".join(SVC + ("desired_count",))
    assert mount.read(*SVC, "desired_count") == "3\n"
    mount.sh("printf +0 > %s" % rel)
    assert mount.read(*SVC, "desired_count") == "3\n"
    mount.sh("echo 3 > %s" % rel)
    assert mount.read(*SVC, "desired_count") == "3\n"
    r = mount.sh("printf 'x\\n' > %s" % rel, check=False)
    assert r.returncode != 0
    assert mount.read(*SVC, "desired_count") == "3\n"
    mount.sh("echo 1 > .ecsfs/dry_run; echo 7 > %s" % rel)
    assert mount.read(*SVC, "desired_count") == "3\n"
    mount.sh("echo 0 > .ecsfs/dry_run")
    # the same file held open across a write reads ECS's state too
    with open(mount.p(*SVC, "desired_count"), "r+") as f:
        f.write("+0\n")
        f.flush()
        f.seek(0)
        assert f.read() == "3\n"


def stat_while_waiting(emulator, mount_factory, interval, timeout, pause):
    """Blocks `cat` in a wait that never ends while this process stats its
    open file through /proc/PID/fd, pausing `pause` seconds between rounds.
    Returns (cat's exit code, its output lines, its stderr, stats made)."""
    m = mount_factory(options={"wait_interval": interval, "wait_timeout": timeout})
    emulator.time_scale(0.01)  # nothing converges during the test
    m.sh("echo 4 > development-cluster/services/web/desired_count")
    p = subprocess.Popen(["cat", str(m.p("development-cluster", "services", "web", "wait"))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    made = 0
    try:
        t0 = time.monotonic()
        while p.poll() is None and time.monotonic() - t0 < 30:
            try:
                fds = os.listdir("/proc/%d/fd" % p.pid)
            except OSError:
                break
            for fd in fds:
                try:
                    os.stat("/proc/%d/fd/%s" % (p.pid, fd))
                    made += 1
                except OSError:
                    pass
            time.sleep(pause)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "\x00" not in out, out
    return p.returncode, out.splitlines(), err, made


def test_a_stat_of_an_open_wait_does_not_end_it(emulator, mount_factory):
    """lsof, or stat of /proc/PID/fd/N, while a reader blocks in a wait
    file, must not make the reader see an early end."""
    code, lines, err, _ = stat_while_waiting(emulator, mount_factory, 0.3, 5, 0.01)
    assert code != 0 and "Connection timed out" in err, (lines, err)
    assert lines[-1].endswith("timeout after 5s"), lines


def test_stats_without_pause_while_a_reader_waits_never_cut_its_output(emulator, mount_factory):
    """Another process stats the reader's open wait file as fast as it can
    (a monitoring loop, `watch lsof`): every progress line still reaches the
    reader, none is cut or zero-filled, and the wait ends with its own last
    line and error."""
    code, lines, err, made = stat_while_waiting(emulator, mount_factory, 0.1, 2, 0)
    assert code != 0 and "Connection timed out" in err, (lines, err)
    assert lines and lines[-1].endswith("timeout after 2s"), lines
    # A line per poll for two seconds at 0.1 s: far more than a few.
    assert len(lines) >= 5, lines
    assert all(" web " in line for line in lines), lines
    assert made > 100
