"""List pagination against a server that never stops handing out
nextTokens: ecs/api.c must end every listing, through the ecscall
program and the emulator's repeat_next_token and endless_next_token
faults.
"""

import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROD = "production-cluster"

# (ecscall command, the List action it pages through)
LISTINGS = [
    (["list-clusters"], "ListClusters"),
    (["list-services", PROD], "ListServices"),
    (["list-tasks", PROD], "ListTasks"),
    (["list-container-instances", PROD], "ListContainerInstances"),
]


def ecscall(emulator, *args, env=None, timeout=60):
    """Run ecscall; a CompletedProcess with .elapsed in seconds."""
    p = Path(os.environ.get("ECSFS_BUILD_DIR", REPO / "build")) / \
        "tests" / "ecscall"
    if not p.exists():
        pytest.fail("ecscall is not built: %s" % p)
    t0 = time.monotonic()
    r = subprocess.run([str(p), *args],
        env=env if env is not None else emulator.env(),
        capture_output=True, text=True, timeout=timeout)
    r.elapsed = time.monotonic() - t0
    assert "runtime error:" not in r.stderr
    assert "Sanitizer" not in r.stderr
    return r


@pytest.mark.parametrize("args,action", LISTINGS)
def test_repeated_token_ends_the_listing(emulator, args, action):
    emulator.faults(repeat_next_token=[action])
    r = ecscall(emulator, *args, timeout=30)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("ecscall: protocol"), r.stderr
    assert "page 2 repeats the nextToken of an earlier page" in r.stderr
    # The first token is followed once; its repetition ends the listing.
    assert emulator.calls() == {action: 2}


def test_endless_tokens_stop_at_the_page_limit(emulator):
    emulator.faults(endless_next_token=["ListServices"])
    r = ecscall(emulator, "list-services", PROD,
        env=emulator.env(ECSFS_LIST_MAX_PAGES="30"), timeout=60)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("ecscall: protocol"), r.stderr
    assert "still a nextToken after 30 pages" in r.stderr
    assert emulator.calls() == {"ListServices": 30}


def test_endless_tokens_stop_at_the_time_budget(emulator):
    emulator.faults(endless_next_token=["ListTasks"], latency_ms=100)
    r = ecscall(emulator, "list-tasks", PROD,
        env=emulator.env(ECSFS_LIST_BUDGET_MS="1000"), timeout=60)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("ecscall: timed out"), r.stderr
    assert "the listing took more than 1 s" in r.stderr
    assert r.elapsed < 5
    assert 5 <= emulator.calls()["ListTasks"] <= 15


def test_normal_paging_still_works(emulator):
    emulator.bulk_services(cluster="big", count=250)
    emulator.reset_calls()
    r = ecscall(emulator, "list-services", "big")
    assert r.returncode == 0, r.stderr
    assert emulator.calls() == {"ListServices": 3}
