#!/usr/bin/python3
"""Benchmark: a cold `cat services/*/desired_count` of 400 services, every
API call 50 ms slower (the emulator's latency), through ecsfs beside the
best one-process boto3 script (ListServices by 100, DescribeServices by 10,
one call after the other).

Each row: wall time, the API calls the emulator saw (by action), and the
ratio to boto3's time. Goal: ecsfs at most 0.5x boto3's time (stretch
0.25x) with no more calls. ecsfs is mounted afresh for every run, so
nothing is cached; boto3's time excludes its interpreter start and imports.

    /usr/bin/python3 tests/bench_cold.py [--services N] [--latency-ms MS]
                                         [--runs R]

Needs a build (ECSFS_BUILD_DIR, default ./build), root and /dev/fuse.
Not part of the test run.
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers.bench import bench_emulator, scratch_dir  # noqa: E402
from helpers.mount import Mount  # noqa: E402

CLUSTER = "bench"


def run_ecsfs(emu, tmp, n, i):
    d = tmp / ("ecsfs-%d" % i)
    d.mkdir()
    m = Mount(d, emu).start()
    try:
        emu.reset_calls()
        t0 = time.monotonic()
        r = subprocess.run(["bash", "-c", "cat %s/services/*/desired_count" % CLUSTER],
                           cwd=m.path, capture_output=True, text=True, timeout=600)
        dt = time.monotonic() - t0
        stats = dict(l.split(" ", 1) for l in m.read(".ecsfs", "stats").splitlines())
    finally:
        m.stop()
    assert r.stdout.split() == ["1"] * n, r.stderr
    return dt, emu.calls(), stats


def run_boto3(emu, n):
    import boto3
    import botocore.config
    session = boto3.session.Session(aws_access_key_id=emu.access_key,
                                    aws_secret_access_key=emu.secret_key,
                                    region_name=emu.region)
    client = session.client("ecs", endpoint_url=emu.url,
                            config=botocore.config.Config(retries={"mode": "standard"}))
    client.list_clusters()          # connection and signer warmed up
    emu.reset_calls()
    t0 = time.monotonic()
    names = []
    for page in client.get_paginator("list_services").paginate(
            cluster=CLUSTER, PaginationConfig={"PageSize": 100}):
        names += [a.rsplit("/", 1)[1] for a in page["serviceArns"]]
    counts = []
    for i in range(0, len(names), 10):
        out = client.describe_services(cluster=CLUSTER, services=names[i:i + 10])
        counts += [s["desiredCount"] for s in out["services"]]
    dt = time.monotonic() - t0
    assert counts == [1] * n
    return dt, emu.calls()


def fmt_calls(c):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(c.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=400)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()

    ecsfs, boto = [], []
    with scratch_dir() as tmp:
        with bench_emulator(tmp, CLUSTER, a.services) as emu:
            emu.faults(latency_ms=a.latency_ms)
            for i in range(a.runs):
                ecsfs.append(run_ecsfs(emu, tmp, a.services, i))
                boto.append(run_boto3(emu, a.services))
    e_t = statistics.median(r[0] for r in ecsfs)
    b_t = statistics.median(r[0] for r in boto)
    e_calls, b_calls = ecsfs[-1][1], boto[-1][1]
    st = ecsfs[-1][2]
    print("\n%d services, +%d ms emulator latency per call, median of %d cold runs\n"
          % (a.services, a.latency_ms, a.runs))
    print("| reader | wall time (s) | x boto3 | API calls | by action |")
    print("|---|---:|---:|---:|---|")
    print("| ecsfs: cat services/*/desired_count (fresh mount) | %.2f | %.2f | %d | %s |"
          % (e_t, e_t / b_t, sum(e_calls.values()), fmt_calls(e_calls)))
    print("| boto3: ListServices by 100, DescribeServices by 10, sequential | %.2f | 1.00 | "
          "%d | %s |" % (b_t, sum(b_calls.values()), fmt_calls(b_calls)))
    print("\necsfs runs: %s s; boto3 runs: %s s"
          % (", ".join("%.2f" % r[0] for r in ecsfs), ", ".join("%.2f" % r[0] for r in boto)))
    print("ecsfs read-ahead: prefetched %s, used %s, %s read-ahead calls, "
          "at most %s calls in flight"
          % (st.get("prefetched", "?").strip(), st.get("prefetch_used", "?").strip(),
             st.get("prefetch_calls", "?").strip(), st.get("store_max_inflight", "?").strip()))
    describe_e = sum(v for k, v in e_calls.items() if k != "ListClusters")
    print("goal: <= 0.50x (stretch 0.25x) with no more calls: %.2fx, %d calls "
          "(+%d ListClusters, which the mount needs to find the cluster) vs %d: %s"
          % (e_t / b_t, describe_e, e_calls.get("ListClusters", 0), sum(b_calls.values()),
             "met" if e_t / b_t <= 0.5 and describe_e <= sum(b_calls.values()) else "NOT met"))


if __name__ == "__main__":
    main()
