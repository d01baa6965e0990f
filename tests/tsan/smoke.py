#!/usr/bin/env python3
"""Daemon smoke test for the ThreadSanitizer build (tests/tsan/run.sh).

Mounts the ecsfs of $ECSFS_BUILD_DIR (built with -fsanitize=thread) on a
private emulator, runs bursts of concurrent cat, ls and echo writes through
the mount, a refresh and a cache that expires under the readers, then
unmounts. Any "WARNING: ThreadSanitizer" in the daemon's output, a crash or
a non-zero exit (TSan exits 66 after a report) fails it.

    ECSFS_BUILD_DIR=build-tsan python3 tests/tsan/smoke.py [ROUNDS]
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.ecsim import Emulator  # noqa: E402
from helpers.mount import Mount  # noqa: E402

HERE = Path(__file__).resolve().parent

# One round: every job in the background at once, then wait for them all.
# Reads and writes fail the round only through the daemon's output: an
# EAGAIN from pacing or an ENOENT of a task that just stopped is fine here.
BURST = r"""
p=production-cluster d=development-cluster
for i in 1 2 3 4; do
	cat $p/services/*/desired_count $p/services/*/running_count >/dev/null 2>&1 &
	cat $p/services/*/service.json $p/cluster.json >/dev/null 2>&1 &
	ls -lR $p >/dev/null 2>&1 &
	cat $p/tasks/*/last_status $p/tasks/*/containers >/dev/null 2>&1 &
	cat $p/container_instances/*/status >/dev/null 2>&1 &
	cat .ecsfs/stats .ecsfs/journal .ecsfs/identity >/dev/null 2>&1 &
	cat $d/services/*/deployments $d/services/*/events $d/services/*/stable >/dev/null 2>&1 &
done
echo 2 > $d/services/api/desired_count 2>/dev/null &
echo +1 > $d/services/web/desired_count 2>/dev/null &
echo -1 > $d/services/web/desired_count 2>/dev/null &
echo 1 > $d/services/api/restart 2>/dev/null &
echo 1 > $d/refresh 2>/dev/null &
echo 1 > .ecsfs/dry_run 2>/dev/null &
echo 3 > $p/services/web/desired_count 2>/dev/null &
echo 0 > .ecsfs/dry_run 2>/dev/null &
echo 1 > .ecsfs/refresh 2>/dev/null &
# Blocking readers: the poller thread, and interrupts when timeout kills them.
timeout 2 cat $d/services/api/wait $d/services/web/wait >/dev/null 2>&1 &
timeout 1 cat $p/services/worker/wait >/dev/null 2>&1 &
ci=$(ls $p/container_instances | head -1)
if [ -n "$ci" ]; then
	echo DRAINING > $p/container_instances/$ci/status 2>/dev/null
	timeout 2 cat $p/container_instances/$ci/wait >/dev/null 2>&1 &
	sleep 0.5
	echo ACTIVE > $p/container_instances/$ci/status 2>/dev/null &
fi
wait
ls $p/services/api/tasks/ $d/tasks >/dev/null
"""


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    supp = HERE / "suppressions.txt"
    tsan = os.environ.get("TSAN_OPTIONS", "")
    tsan = ("halt_on_error=0 second_deadlock_stack=1 print_suppressions=1 "
            "suppressions=%s %s"
            % (supp, tsan)).strip()
    with tempfile.TemporaryDirectory(prefix="ecsfs-tsan-") as tmp:
        emu = Emulator(tmp, time_scale=50.0).start()
        m = Mount(tmp, emu, options={"cache_ttl": 1, "negative_ttl": 1, "wait_interval": 0.2},
                  env={"TSAN_OPTIONS": tsan})
        started = time.monotonic()
        failure = None
        try:
            m.start(timeout=60)
            for _ in range(rounds):
                m.sh(BURST, timeout=300)
                time.sleep(1.1)     # past the cache TTL: the next round refetches
            # Unmounts; fails on sanitizer lines in the log or a non-zero exit.
            m.stop()
        except (AssertionError, RuntimeError) as e:
            failure = str(e)
        finally:
            m.stop(check=False)
            emu.stop()
        took = time.monotonic() - started
        log = m.log()
        if failure is None and ("WARNING: ThreadSanitizer" in log or
                                "ThreadSanitizer: reported" in log):
            failure = "ThreadSanitizer output from ecsfs:\n" + log
        # The burst must have reached the API, or it tested nothing.
        ops = {op: log.count("op=%s " % op) for op in
               ("UpdateService", "UpdateContainerInstancesState")}
        if failure is None and not all(ops.values()):
            failure = "the burst made no writes through the mount (%s):\n%s" % (ops, log)
        if failure is not None:
            sys.stderr.write("tsan smoke: FAILED: %s\n" % failure)
            return 1
        # What the suppressions hid, so that a stale one shows.
        matched = [l.strip() for l in log.splitlines()
                   if "Matched" in l or l.strip().split(" ")[-1].startswith(
                       ("race:", "race_top:", "called_from_lib:"))]
        for l in matched:
            print("tsan smoke: " + l)
        print("tsan smoke: %d rounds in %.0f s, %d UpdateService and %d "
              "UpdateContainerInstancesState writes, no reports"
              % (rounds, took, ops["UpdateService"], ops["UpdateContainerInstancesState"]))
        return 0


if __name__ == "__main__":
    sys.exit(main())
