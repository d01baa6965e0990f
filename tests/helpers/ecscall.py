"""Running ecscall, the client's test program (tests/ecscall.c): one call
through ecs/, its output checked for sanitizer reports and for secrets."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from helpers.ecsim import SECRET_KEY

REPO = Path(__file__).resolve().parents[2]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
    "runtime error:", "WARNING: ThreadSanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer")


def ecscall_path():
    d = Path(os.environ.get("ECSFS_BUILD_DIR", REPO / "build"))
    p = d / "tests" / "ecscall"
    if not p.exists():
        pytest.fail("ecscall is not built: %s does not exist (build with "
            "`meson setup %s && ninja -C %s tests/ecscall`, or set "
            "ECSFS_BUILD_DIR)" % (p, d, d))
    return p


def run(emulator, *args, env=None, timeout=60, secrets=()):
    """Run ecscall; a CompletedProcess with .elapsed in seconds."""
    t0 = time.monotonic()
    r = subprocess.run([str(ecscall_path()), *args],
        env=env if env is not None else emulator.env(),
        capture_output=True, text=True, timeout=timeout)
    r.elapsed = time.monotonic() - t0
    out = r.stdout + r.stderr
    for mark in SANITIZER_MARKS:
        assert mark not in out, "sanitizer report from ecscall %s:\n%s" % (
            " ".join(args), r.stderr)
    for secret in (SECRET_KEY, *secrets):
        assert secret not in out, "a secret leaked into the output"
    return r


def ok(emulator, *args, **kw):
    """Run ecscall, require success, return its parsed JSON output."""
    r = run(emulator, *args, **kw)
    assert r.returncode == 0, "ecscall %s failed (%d): %s" % (" ".join(args),
        r.returncode, r.stderr)
    return json.loads(r.stdout)


def stats_of(stderr):
    """The "key value" lines --stats wrote."""
    out = {}
    for line in stderr.splitlines():
        key, sep, val = line.partition(" ")
        if sep and val.isdigit():
            out[key] = int(val)
    return out
