"""Signals and interrupts (DESIGN §3 "Interrupts", §5).

The kernel turns every signal a caller catches into a FUSE interrupt, bash's
SIGCHLD included.  A signal that the caller catches and survives must never
fail a call; an interrupt stops work only when the caller is going away (a
fatal signal pending) or is blocked in a wait file with a signal other than
SIGCHLD, SIGWINCH, SIGURG or SIGCONT pending; a mutation that reached ECS is
never reported as failed.  Waits hold no request thread, and the daemon stops
cleanly on SIGTERM with waits open or calls being throttled.

Every bound here is generous (a loaded two-core machine): it separates
"released at once" from "released when the slow call ends", and "within
max_throttle_wait" from "a multiple of it".  What must be in flight is
checked (the emulator counted the call, the reader is blocked in FUSE)
rather than slept for.
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from helpers.ecsim import wait_for
from helpers.mount import Mount, is_mounted, sanitizer_lines
from helpers.procs import blocked_in_fuse, exit_within, kill_all, popen_as

PROD = "production-cluster"
DEV = "development-cluster"
SIG = "sig"          # a cluster of SERVICES services, s0000, s0001, ...
SERVICES = 6


def calls(emulator, action):
    return emulator.calls().get(action, 0)


def arrived(emulator, action, n=1, timeout=30):
    """Waits until the emulator has counted n calls of action (it counts a
    call when it arrives, before any injected latency)."""
    wait_for(lambda: calls(emulator, action) >= n, timeout=timeout,
             what="%d %s call(s) to arrive" % (n, action))


def waits_open(mount, timeout=20):
    """waits_open of .ecsfs/stats, read by a cat that may not hang the test."""
    r = subprocess.run(["cat", str(mount.p(".ecsfs", "stats"))], capture_output=True,
                       text=True, timeout=timeout)
    for line in r.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key == "waits_open":
            return int(value)
    return -1


def stop_daemon(mount, sig=signal.SIGTERM, timeout=15):
    """Sends sig to the daemon; returns (exit status, seconds to exit)."""
    t0 = time.monotonic()
    mount.proc.send_signal(sig)
    try:
        code = mount.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        mount.stop(check=False)
        pytest.fail("ecsfs still running %d s after %s:\n%s"
                    % (timeout, signal.Signals(sig).name, mount.log()[-3000:]))
    elapsed = time.monotonic() - t0
    assert not sanitizer_lines(mount.log()), mount.log()
    mount.proc = None
    mount._log.close()
    return code, elapsed


# -- (a) a pipeline step whose children end during calls -------------------------

STEP = r"""
set -uo pipefail
C=$MNT/sig
failures=0
writes=0
failed() { failures=$((failures + 1)); echo "FAILED: $*" >&2; }
# Children of this shell that end while it is in a call: bash catches
# SIGCHLD, so each one ending is an interrupt of that call.
kids() { sleep 0.05 & ( sleep 0.1 ) & sleep 0.2 & }
fresh() { echo 1 >"$MNT/.ecsfs/refresh"; }
for i in $(seq 0 $((SERVICES - 1))); do
  s=$(printf 's%04d' "$i")
  d=$C/services/$s
  fresh; kids
  [ -d "$d" ] || failed "[ -d $d ]"
  fresh; kids
  [ -s "$d/desired_count" ] || failed "[ -s $d/desired_count ]"
  fresh; kids
  if read -r v <"$d/desired_count"; then
    [ "$v" = 1 ] || failed "read $d/desired_count: '$v'"
  else
    failed "read <$d/desired_count"
  fi
  fresh; kids
  st=$(stat -c %F "$d/tasks") || failed "stat $d/tasks"
  [ "$st" = directory ] || failed "stat $d/tasks: '$st'"
  fresh
  r=$( sleep 0.05 & [ -d "$d/tasks" ] && echo yes ) || true
  [ "$r" = yes ] || failed "\$( [ -d $d/tasks ] ): '$r'"
  fresh; kids
  v=$(cat "$d/running_count") || failed "cat $d/running_count"
  [ "$v" = 1 ] || failed "cat $d/running_count: '$v'"
  fresh; kids
  names=("$C"/services/*)
  [ ${#names[@]} = "$SERVICES" ] || failed "glob services/*: ${names[*]}"
  n=$((i + 2))
  kids
  if [ $((i % 2)) = 0 ]; then
    printf '%s\n' "$n" >"$d/desired_count" && writes=$((writes + 1)) ||
      failed "printf $n > $d/desired_count"
  else
    echo "$n" >"$d/desired_count" && writes=$((writes + 1)) ||
      failed "echo $n > $d/desired_count"
  fi
  wait
done
echo "failures=$failures writes=$writes"
[ "$failures" -eq 0 ]
"""


def test_a_step_whose_children_end_during_calls_never_fails(emulator, mount_factory, tmp_path):
    """A bash step starting short-lived children around `[ -d ]`, `[ -s ]`,
    `read <`, `stat`, `cat`, a glob and `printf N > desired_count`, with every
    call 300 ms slow: nothing fails, each write reaches ECS exactly once and
    ECS holds what was written."""
    emulator.bulk_services(cluster=SIG, count=SERVICES, prefix="s", desired_count=1)
    m = mount_factory(options={"cache_ttl": 60})
    assert sorted(os.listdir(m.p(SIG, "services"))) == ["s%04d" % i for i in range(SERVICES)]
    emulator.faults(latency_ms=300)
    emulator.reset_calls()
    script = tmp_path / "step.sh"
    script.write_text(STEP)
    env = emulator.env(MNT=m.path, SERVICES=SERVICES)
    # As the delegate runs a step: bash FILE in a session of its own.
    r = subprocess.run(["bash", str(script)], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=600, start_new_session=True)
    assert r.returncode == 0 and "failures=0 writes=%d" % SERVICES in r.stdout, \
        "exit %d\n%s\n%s" % (r.returncode, r.stdout, r.stderr)
    assert "Interrupted system call" not in r.stderr
    got = emulator.calls()
    # The reads reached ECS (they were not served from a cache), so the
    # children ended while calls were on the wire.
    reads = got.get("DescribeServices", 0) + got.get("ListServices", 0)
    assert reads >= 2 * SERVICES, got
    # One write per service, each sent once.
    assert got.get("UpdateService", 0) == SERVICES, got
    emulator.faults()
    out = emulator.aws("ecs", "describe-services", "--cluster", SIG, "--services",
                       *["s%04d" % i for i in range(SERVICES)])
    desired = {s["serviceName"]: s["desiredCount"] for s in out["services"]}
    assert desired == {"s%04d" % i: i + 2 for i in range(SERVICES)}
    journal = m.read(".ecsfs", "journal")
    assert journal.count("result=ok") == SERVICES, journal


WRITES = r"""
set -u
C=$MNT/development-cluster/services
failures=0
for n in 2 3 4; do
  sleep 0.1 & ( sleep 0.3 ) & sleep 0.6 & ( sleep 1 ) &
  printf '%s\n' "$n" >"$C/api/desired_count" || { failures=$((failures + 1)); echo "FAILED: printf $n" >&2; }
  sleep 0.1 & ( sleep 0.3 ) & sleep 0.6 & ( sleep 1 ) &
  echo "+$n" >"$C/web/desired_count" || { failures=$((failures + 1)); echo "FAILED: echo +$n" >&2; }
  wait
done
echo "failures=$failures"
[ "$failures" -eq 0 ]
"""


def test_a_slow_write_is_not_reported_failed_when_the_writers_children_end(
        emulator, mount_factory, tmp_path):
    """UpdateService takes 1.5 s while the writing shell's children end: every
    write succeeds, reaches ECS once, and the journal says ok."""
    m = mount_factory(options={"cache_ttl": 60})
    assert m.read(DEV, "services", "web", "desired_count") == "1\n"
    emulator.faults(latency_ms=1500, actions=["UpdateService"])
    emulator.reset_calls()
    script = tmp_path / "writes.sh"
    script.write_text(WRITES)
    r = subprocess.run(["bash", str(script)], env=emulator.env(MNT=m.path), cwd=tmp_path,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                       start_new_session=True)
    sent = calls(emulator, "UpdateService")
    emulator.faults()
    out = emulator.aws("ecs", "describe-services", "--cluster", DEV, "--services", "api", "web")
    desired = {s["serviceName"]: s["desiredCount"] for s in out["services"]}
    assert r.returncode == 0 and "failures=0" in r.stdout, \
        "exit %d although ECS got %d UpdateService and holds %s:\n%s%s" % (
            r.returncode, sent, desired, r.stdout, r.stderr)
    assert sent == 6, emulator.calls()
    assert desired == {"api": 4, "web": 1 + 2 + 3 + 4}
    journal = m.read(".ecsfs", "journal")
    assert journal.count("result=ok") == 6, journal


# -- (b) Ctrl-C on a read whose call is slow ---------------------------------------

SLOW_MS = 20000   # the injected latency of the call a reader is stuck in
RELEASED_S = 8    # released at once, not when that call ends


def test_ctrl_c_releases_a_cat_of_a_slow_file(emulator, mount_factory):
    m = mount_factory()
    assert m.read(DEV, "status") == "ACTIVE\n"
    emulator.faults(latency_ms=SLOW_MS, actions=["DescribeServices"])
    emulator.reset_calls()
    cat = subprocess.Popen(["cat", str(m.p(DEV, "services", "api", "desired_count"))],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           start_new_session=True)
    try:
        arrived(emulator, "DescribeServices")
        wait_for(lambda: blocked_in_fuse(cat.pid), timeout=10, what="cat blocked in ecsfs")
        os.killpg(cat.pid, signal.SIGINT)   # what Ctrl-C at a terminal does
        took = exit_within(cat, RELEASED_S)
    finally:
        kill_all([cat])
    assert cat.returncode == -signal.SIGINT, cat.returncode
    assert took < RELEASED_S
    emulator.faults()
    # The mount stays usable. The describe that cat started goes on for the
    # others who may wait on it (web is in its batch) and ends within the
    # call's budget; after it, web reads from ECS again.
    def web():
        try:
            return m.read(DEV, "services", "web", "desired_count") == "1\n"
        except OSError:
            return False
    wait_for(web, timeout=SLOW_MS / 1000 + 30, what="web readable again")


# -- (c) a reader waiting on another reader's fetch --------------------------------

JOIN_MS = 12000


def two_readers(emulator, m):
    """Starts A, whose cat fetches production-cluster/services/api with the
    call slowed to JOIN_MS, and B, whose cat of another file of the same
    service waits on A's fetch; returns (A, B) once both block in ecsfs and
    ECS has seen the one call."""
    d = m.p(PROD, "services", "api")
    assert m.read(PROD, "services", "api", "desired_count") == "3\n"
    os.stat(d / "running_count")
    emulator.faults(latency_ms=JOIN_MS, actions=["DescribeServices"])
    m.sh("echo 1 > %s/refresh" % PROD)
    emulator.reset_calls()
    a = subprocess.Popen(["cat", str(d / "desired_count")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    arrived(emulator, "DescribeServices")
    b = subprocess.Popen(["cat", str(d / "running_count")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for(lambda: blocked_in_fuse(a.pid) and blocked_in_fuse(b.pid), timeout=10,
             what="both readers blocked in ecsfs")
    # B shares A's call: ECS has seen one.
    assert calls(emulator, "DescribeServices") == 1, emulator.calls()
    return a, b


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_reader_waiting_on_another_readers_fetch_can_go(emulator, mount_factory, sig):
    """B, waiting on A's fetch, is killed: B is released at once, and A still
    gets its result from the one call."""
    m = mount_factory(options={"cache_ttl": 120})
    a, b = two_readers(emulator, m)
    try:
        os.killpg(b.pid, sig)
        took = exit_within(b, RELEASED_S)
        out, err = a.communicate(timeout=JOIN_MS / 1000 + 60)
    finally:
        kill_all([a, b])
    assert b.returncode == -sig and took < RELEASED_S
    assert a.returncode == 0 and out == "3\n", (a.returncode, out, err)
    assert calls(emulator, "DescribeServices") == 1, emulator.calls()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_the_reader_whose_fetch_others_wait_on_can_go(emulator, mount_factory, sig):
    """A, whose fetch B waits on, is killed: A is released at once, and B
    still gets its result (from A's call or one of its own)."""
    m = mount_factory(options={"cache_ttl": 120})
    a, b = two_readers(emulator, m)
    try:
        os.killpg(a.pid, sig)
        took = exit_within(a, RELEASED_S)
        out, err = b.communicate(timeout=2 * JOIN_MS / 1000 + 60)
    finally:
        kill_all([a, b])
    assert a.returncode == -sig and took < RELEASED_S
    assert b.returncode == 0 and out == "3\n", (b.returncode, out, err)
    assert 1 <= calls(emulator, "DescribeServices") <= 2, emulator.calls()


# -- (d) wait files and the signals their readers get -------------------------------

@pytest.fixture
def never_stable(emulator, mount_factory):
    """A mount polling every 0.3 s, and development-cluster/services/web
    scaled to 4 in an emulator that barely moves: its wait never ends."""
    m = mount_factory(options={"wait_interval": 0.3, "wait_timeout": 300})
    emulator.time_scale(0.01)
    m.sh("echo 4 > %s/services/web/desired_count" % DEV)
    return m


def test_ctrl_c_releases_cat_of_a_wait(never_stable):
    m = never_stable
    p = subprocess.Popen(["cat", str(m.p(DEV, "services", "web", "wait"))],
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert "desired=4" in p.stdout.readline()
        os.killpg(p.pid, signal.SIGINT)
        took = exit_within(p, RELEASED_S)
    finally:
        kill_all([p])
    assert p.returncode == -signal.SIGINT and took < RELEASED_S
    wait_for(lambda: waits_open(m) == 0, timeout=20, what="the wait to be released")
    assert m.read(DEV, "services", "web", "desired_count") == "4\n"


PY_READER = r"""
import sys
f = open(sys.argv[1], "rb", buffering=0)
try:
    while True:
        line = f.readline()
        if not line:
            sys.exit(1)
        sys.stdout.write(line.decode())
        sys.stdout.flush()
except KeyboardInterrupt:
    print("released", flush=True)
    sys.exit(3)
"""


def test_a_python_reader_of_a_wait_is_released_by_keyboardinterrupt(never_stable):
    """Python catches SIGINT (KeyboardInterrupt): the wait returns EINTR at
    once and Python raises it, although the signal is caught."""
    m = never_stable
    p = subprocess.Popen([sys.executable, "-c", PY_READER,
                          str(m.p(DEV, "services", "web", "wait"))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert "desired=4" in p.stdout.readline()
        wait_for(lambda: blocked_in_fuse(p.pid), timeout=10, what="the reader blocked")
        os.killpg(p.pid, signal.SIGINT)
        took = exit_within(p, RELEASED_S)
        rest = p.stdout.read()
    finally:
        kill_all([p])
    assert p.returncode == 3 and "released" in rest, (p.returncode, rest, p.stderr.read())
    assert took < RELEASED_S
    wait_for(lambda: waits_open(m) == 0, timeout=20, what="the wait to be released")


BASH_WAIT_LOOP = r"""
n=0
while IFS= read -r line; do
  echo "$line"
  n=$((n + 1))
  # Children that end while the next read blocks: SIGCHLD for this shell.
  sleep 0.05 & ( sleep 0.1 ) &
done <"$MNT/development-cluster/services/api/wait"
wait
echo "lines=$n"
"""


@pytest.mark.parametrize("shell", [["bash"], ["bash", "--posix"]], ids=["bash", "sh-is-bash"])
def test_a_bash_loop_reading_a_wait_is_not_released_by_its_children(emulator,
                                                                     mount_factory, shell):
    """SIGCHLD is informational: a loop whose children end while its `read`
    is blocked in a wait reads the wait to its end.  Bash retries an
    interrupted read; bash as sh (POSIX mode, /bin/sh on Red Hat UBI and
    Amazon Linux delegates) does not, so there an EINTR ends the loop early."""
    m = mount_factory(options={"wait_interval": 0.3, "wait_timeout": 120})
    emulator.time_scale(1)
    m.sh("echo 3 > %s/services/api/desired_count" % DEV)
    r = subprocess.run(shell + ["-c", BASH_WAIT_LOOP], env=emulator.env(MNT=m.path),
                       capture_output=True, text=True, timeout=180, start_new_session=True)
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) >= 4, (r.returncode, r.stdout, r.stderr)
    assert lines[-2].endswith(" api stable"), r.stdout
    assert emulator.state(DEV)["services"]["api"]["running"] == 3


# -- (e) SIGTERM to the daemon with waits open -------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_with_waits_open_exits_and_releases_them(never_stable, sig):
    """SIGTERM or SIGINT to the daemon while readers block in waits: it
    unmounts and exits 0 promptly, and every reader gets an error."""
    m = never_stable
    readers = [subprocess.Popen(["cat", str(m.p(DEV, "services", "web", "wait"))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for _ in range(8)]
    try:
        wait_for(lambda: waits_open(m) == 8, timeout=30, what="8 open waits")
        wait_for(lambda: all(blocked_in_fuse(p.pid) for p in readers), timeout=10,
                 what="every reader blocked in its wait")
        code, took = stop_daemon(m, sig, timeout=15)
        assert code == 0, m.log()
        assert took < 10, "ecsfs took %.1f s to exit" % took
        assert not is_mounted(m.path)
        for p in readers:
            exit_within(p, 10)
    finally:
        kill_all(readers)
    # Each waiter learns that its wait ended without a verdict.
    for p in readers:
        assert p.returncode != 0, p.stderr.read()


# -- (f) another user's waits and root's reads ----------------------------------------

def timed_cats(path, n=15, timeout=30):
    """The median seconds of n runs of `cat path` (each must succeed)."""
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        r = subprocess.run(["cat", path], capture_output=True, text=True, timeout=timeout)
        times.append(time.monotonic() - t0)
        assert r.returncode == 0 and r.stdout == "3\n", (r.returncode, r.stdout, r.stderr)
    return statistics.median(times)


def test_another_users_waits_do_not_slow_roots_cached_reads(emulator):
    """nobody holds 64 wait files open on a mount with 16 request threads
    (-o allow_other): root's cat of a cached file stays about as fast as
    without them."""
    # The mount point must be reachable by nobody: not under pytest's 0700 tmp.
    top = Path(tempfile.mkdtemp(prefix="ecsfs-allow-other-"))
    top.chmod(0o755)
    m = Mount(top, emulator, options={"allow_other": True, "max_threads": 16,
                                      "wait_interval": 1, "wait_timeout": 600,
                                      "cache_ttl": 600})
    m.start()
    readers = []
    try:
        emulator.time_scale(0.01)
        m.sh("echo 5 > %s/services/web/desired_count" % DEV)
        path = str(m.p(PROD, "services", "api", "desired_count"))
        assert m.read(PROD, "services", "api", "desired_count") == "3\n"
        before = timed_cats(path)
        wait = str(m.p(DEV, "services", "web", "wait"))
        readers = [popen_as("nobody", ["cat", wait], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL) for _ in range(64)]
        try:
            wait_for(lambda: waits_open(m, timeout=60) == 64, timeout=90,
                     what="nobody's 64 open waits")
        except subprocess.TimeoutExpired:
            pytest.fail("root's cat of .ecsfs/stats blocked while nobody opened 64 waits")
        try:
            loaded = timed_cats(path, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("root's cat of a cached file blocked while nobody held 64 waits")
        kill_all(readers)
        wait_for(lambda: waits_open(m) == 0, timeout=30, what="the waits to be released")
        after = timed_cats(path)
    finally:
        kill_all(readers)
        m.stop()
        shutil.rmtree(top, ignore_errors=True)
    base = max(before, after)
    assert loaded < 5 * base, "median cat %.4f s with 64 waits open, %.4f s without" % (
        loaded, base)


# -- (g) sustained throttling ---------------------------------------------------------

THROTTLE_WAIT = 3


def test_sustained_throttling_fails_a_write_with_eagain_and_sigterm_still_stops(
        emulator, mount_factory):
    m = mount_factory(options={"max_throttle_wait": THROTTLE_WAIT, "cache_ttl": 120})
    f = "%s/services/api/desired_count" % DEV
    assert m.read(f) == "1\n"
    emulator.faults(throttle_probability=1.0)
    emulator.reset_calls()
    t0 = time.monotonic()
    r = m.sh("echo 4 > %s" % f, check=False, timeout=120)
    took = time.monotonic() - t0
    assert r.returncode != 0 and "Resource temporarily unavailable" in r.stderr, r
    # One bounded throttle wait, not one per attempt or per step of the write.
    assert took < 2 * THROTTLE_WAIT + 6, "the write failed after %.1f s" % took
    stats_now = emulator.call_stats()
    # Its first throttled call fails the write: the look at the service's
    # scaling range (DescribeScalableTargets) comes before UpdateService.
    sent = {a: n for a, n in stats_now["calls"].items()
            if a in ("UpdateService", "DescribeScalableTargets")}
    assert sum(sent.values()) >= 1, stats_now
    assert all(stats_now["throttled"].get(a, 0) == n for a, n in sent.items()), stats_now
    assert emulator.state(DEV)["services"]["api"]["desired"] == 1
    assert "result=" in m.read(".ecsfs", "journal")
    # A read is being throttled (its own category, so the client sends it)
    # when SIGTERM comes.
    m.sh("echo 1 > %s/refresh" % PROD)
    n = emulator.total_calls()
    rd = subprocess.Popen(["cat", str(m.p(PROD, "services", "web", "desired_count"))],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: emulator.total_calls() > n, timeout=30, what="the read's call")
        code, took = stop_daemon(m, signal.SIGTERM, timeout=30)
        exit_within(rd, 30)
    finally:
        kill_all([rd])
    assert code == 0 and took < 15, (code, took)
    assert not is_mounted(m.path)
    assert rd.returncode != 0
    assert emulator.state(DEV)["services"]["api"]["desired"] == 1
