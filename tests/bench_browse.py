#!/usr/bin/python3
"""Benchmark: browsing a cluster of N services through ecsfs, beside the AWS CLI.

Prints a table of API calls and wall time for cold and warm `ls -l` and
`cat services/*/desired_count` over one cluster of N services (default
1000) with a fixed emulator latency per call (default 20 ms), and the same
data read with the AWS CLI: list-services, then describe-services in
batches of 10.

    /usr/bin/python3 tests/bench_browse.py [--services N] [--latency-ms MS]
                                           [--cli-batches K]

Needs a build (ECSFS_BUILD_DIR, default ./build), root and /dev/fuse.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers.bench import bench_emulator, scratch_dir  # noqa: E402
from helpers.mount import Mount  # noqa: E402


def timed(emu, fn):
    emu.reset_calls()
    t0 = time.monotonic()
    out = fn()
    dt = time.monotonic() - t0
    return out, emu.calls(), dt


def fmt_calls(calls):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(calls.items())) or "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--cli-batches", type=int, default=0,
                    help="describe-services batches the AWS CLI runs (0: all); "
                         "the CLI figures are scaled up to all batches when fewer")
    a = ap.parse_args()

    rows = []
    with scratch_dir() as tmp:
        with bench_emulator(tmp, "bench", a.services) as emu:
            emu.faults(latency_ms=a.latency_ms)
            m = Mount(tmp, emu, options={"cache_ttl": 600}).start()
            try:
                def sh(cmd):
                    return subprocess.run(["bash", "-c", cmd], cwd=m.path, check=True,
                                          capture_output=True, text=True).stdout
                ls = "ls -l bench/services > /dev/null"
                cat = "cat bench/services/*/desired_count | wc -l"
                for label, cmd in (("ecsfs ls -l services (cold)", ls),
                                   ("ecsfs ls -l services (warm)", ls),
                                   ("ecsfs cat */desired_count (cold)", cat),
                                   ("ecsfs cat */desired_count (warm)", cat)):
                    out, calls, dt = timed(emu, lambda: sh(cmd))
                    if "cat" in label:
                        assert int(out) == a.services, out
                    rows.append((label, sum(calls.values()), fmt_calls(calls), dt))
            finally:
                m.stop()

            # The AWS CLI: one list-services (it pages itself), then
            # describe-services in batches of 10, one process each.
            def cli_list():
                return emu.aws("ecs", "list-services", "--cluster", "bench",
                               "--page-size", "100")["serviceArns"]
            arns, calls, dt_list = timed(emu, cli_list)
            rows.append(("aws ecs list-services", sum(calls.values()), fmt_calls(calls),
                         dt_list))
            batches = [arns[i:i + 10] for i in range(0, len(arns), 10)]
            run = batches if a.cli_batches <= 0 else batches[:a.cli_batches]

            def cli_describe():
                n = 0
                for b in run:
                    n += len(emu.aws("ecs", "describe-services", "--cluster", "bench",
                                     "--services", *b)["services"])
                return n
            n, calls, dt = timed(emu, cli_describe)
            scale = len(batches) / len(run)
            label = "aws ecs describe-services x%d" % len(batches)
            if scale != 1:
                label += " (%d run, scaled)" % len(run)
            rows.append((label, int(sum(calls.values()) * scale), fmt_calls(
                {k: int(v * scale) for k, v in calls.items()}), dt * scale))
            rows.append(("aws total (list + describe)", int(rows[-1][1] + rows[-2][1]), "",
                         dt_list + dt * scale))

    print("\n%d services, %d ms emulator latency per call\n" % (a.services, a.latency_ms))
    print("| scenario | API calls | by action | wall time (s) |")
    print("|---|---:|---|---:|")
    for label, total, detail, dt in rows:
        print("| %s | %d | %s | %.2f |" % (label, total, detail, dt))
    print(json.dumps({"rows": [dict(zip(("scenario", "calls", "detail", "seconds"), r))
                               for r in rows]}), file=sys.stderr)


if __name__ == "__main__":
    main()
