"""A wall clock that steps (set by hand, or by NTP) changes no deadline:
waits poll on schedule and time out on time, whatever the clock says."""
import os
import subprocess
import time

from helpers.mount import build_dir

DEV = "development-cluster"


def test_waits_keep_their_schedule_when_the_wall_clock_steps(emulator, mount_factory):
    shim = build_dir() / "tests" / "libclockstep.so"
    asan = os.environ.get("ASAN_OPTIONS", "")
    # Four minutes ahead: within what SigV4 accepts, far beyond the test.
    m = mount_factory(options={"wait_interval": 0.3, "wait_timeout": 6}, env={
        "LD_PRELOAD": str(shim),
        "ECSFS_CLOCKSTEP_AFTER_MS": "2500",
        "ECSFS_CLOCKSTEP_SECONDS": "240",
        "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0",
    })
    emulator.time_scale(0.01)  # nothing converges during the test
    m.sh("echo 4 > %s/services/web/desired_count" % DEV)
    t0 = time.monotonic()
    r = subprocess.run(["cat", str(m.p(DEV, "services", "web", "wait"))],
                       capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - t0
    lines = r.stdout.splitlines()
    assert r.returncode != 0 and "Connection timed out" in r.stderr, (r.stdout, r.stderr)
    assert lines[-1].endswith("timeout after 6s"), lines
    # The wall clock jumped during the wait (its lines show it) ...
    stamps = [l.split()[0] for l in lines]
    assert stamps[-1][11:16] != stamps[0][11:16], stamps
    # ... and polls went on every 0.3 s across the step, and it ended on time.
    assert len(lines) >= 10, lines
    assert elapsed < 6 + 20, elapsed


def test_names_that_are_not_text_are_missing_without_a_call(mount, emulator):
    emulator.reset_calls()
    base = os.fsencode(str(mount.p("production-cluster")))
    for folder in (b"tasks", b"container_instances", b"services"):
        for bad in (b"\xff", b"ab\xc3", b"\xed\xa0\x80x", b"a\x01b"):
            p = base + b"/" + folder + b"/" + bad
            try:
                os.stat(p)
            except FileNotFoundError:
                pass
            else:
                raise AssertionError("%r exists" % p)
    assert not any(k.startswith("Describe") for k in emulator.calls()), emulator.calls()
