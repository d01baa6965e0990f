"""Sanitizer reports fail the test that caused them.

tests/run.sh runs the suite a second time in an AddressSanitizer and
UndefinedBehaviorSanitizer build with ASAN_OPTIONS/UBSAN_OPTIONS log_path
pointing into $ECSFS_SANITIZER_LOGS, so that reports from any process (the
daemon, ecscall, sigv4_cli) land there as files. After each test, any new
file there fails that test with its content.
"""
import os

import pytest


def _reports(d):
    try:
        return {f for f in os.listdir(d)}
    except FileNotFoundError:
        return set()


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    d = os.environ.get("ECSFS_SANITIZER_LOGS")
    if not d:
        yield
        return
    before = _reports(d)
    yield
    new = sorted(_reports(d) - before)
    if new:
        text = []
        for f in new:
            with open(os.path.join(d, f), errors="replace") as fh:
                text.append("== %s\n%s" % (f, fh.read()))
        pytest.fail("sanitizer reports:\n" + "\n".join(text), pytrace=False)
