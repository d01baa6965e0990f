#!/usr/bin/python3
"""Benchmark: a cold `cat services/*/desired_count` under ECS's rate limits.

The emulator enforces ECS's token buckets (service read: 100 burst, then
20/s). One cluster of N services (default 2000) is read cold:

  - through ecsfs (default options: ECS's rates, paced client-side);
  - by boto3 (Debian's python3-boto3) listing the services, then
    describing them in batches of 10: sequentially, with 8 threads in
    "standard" retry mode, and with 8 threads in "adaptive" mode.

Each row shows the wall time, the API calls ECS saw, how many it throttled
and how many service reads failed, beside the floor: (calls - burst) /
refill, the least time ECS's bucket allows for the calls a reader needs.

Then the memory figures: 5 clusters x 1,000 services and 10,000 tasks read
through ecsfs (raised -o rate_... so that this part does not wait), the
daemon's VmRSS and peak; and what `ls` of a 5,000-service cluster costs.

    /usr/bin/python3 tests/bench_throttle.py [--services N] [--latency-ms MS]
                                             [--threads T] [--skip-memory]

Needs a build (ECSFS_BUILD_DIR, default ./build), root and /dev/fuse.
Stops by itself: every step has a time limit.
"""
import argparse
import concurrent.futures
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers.bench import bench_emulator, scratch_dir  # noqa: E402
from helpers.ecsim import Emulator  # noqa: E402
from helpers.mount import Mount  # noqa: E402

BURST, REFILL = 100, 20           # ECS's service read bucket (DESIGN §3)
CLUSTER = "bench"
STEP_TIMEOUT = 600
RAISED = {"rate_cluster_read": "1000:1000", "rate_service_read": "5000:5000",
          "rate_resource_read": "5000:5000"}


def throttled_total(emu):
    return sum(emu.call_stats()["throttled"].values())


def proc_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def run_ecsfs(emu, tmp, n):
    """Cold cat through a fresh mount; returns a result row."""
    d = tmp / "ecsfs-throttle"
    d.mkdir()
    m = Mount(d, emu).start()
    try:
        emu.faults(throttle_buckets=True, latency_ms=emu.bench_latency)
        emu.reset_calls()
        t0 = time.monotonic()
        r = subprocess.run(["bash", "-c", "cat %s/services/*/desired_count" % CLUSTER],
                           cwd=m.path, capture_output=True, text=True,
                           timeout=STEP_TIMEOUT)
        dt = time.monotonic() - t0
        values = r.stdout.split()
        stats = dict(l.split(" ", 1) for l in m.read(".ecsfs", "stats").splitlines())
        log = emu.log()
    finally:
        m.stop()
    calls = emu.call_stats()
    reads = [e for e in log if e["action"] in ("ListServices", "DescribeServices")]
    api_span = max(e["t"] for e in reads) - min(e["start"] for e in reads) if reads else 0
    return {
        "reader": "ecsfs (cat services/*/desired_count)",
        "seconds": dt,
        "calls": calls["total"],
        "service_read_calls": sum(v for k, v in calls["calls"].items()
                                  if k in ("ListServices", "DescribeServices")),
        "throttles": sum(calls["throttled"].values()),
        "failed": n - sum(1 for v in values if v == "1"),
        "stderr_lines": len(r.stderr.splitlines()),
        "waits": int(stats.get("category.service_read.waits", "0")),
        "wait_ms": int(stats.get("category.service_read.wait_ms", "0")),
        "api_seconds": api_span,
        "prefetched": int(stats.get("prefetched", "0")),
        "prefetch_used": int(stats.get("prefetch_used", "0")),
        "max_inflight": int(stats.get("store_max_inflight", "0")),
    }


def boto3_client(emu, mode, pool):
    import boto3
    import botocore.config
    cfg = botocore.config.Config(retries={"mode": mode}, max_pool_connections=pool)
    session = boto3.session.Session(aws_access_key_id=emu.access_key,
                                    aws_secret_access_key=emu.secret_key,
                                    region_name=emu.region)
    return session.client("ecs", endpoint_url=emu.url, config=cfg)


def run_boto3(emu, n, label, mode, threads):
    """list-services, then describe-services in batches of 10."""
    import botocore.exceptions
    client = boto3_client(emu, mode, max(threads, 1) + 2)
    emu.faults(throttle_buckets=True, latency_ms=emu.bench_latency)
    emu.reset_calls()
    t0 = time.monotonic()
    names, failed = [], 0
    try:
        for page in client.get_paginator("list_services").paginate(
                cluster=CLUSTER, PaginationConfig={"PageSize": 100}):
            names += [a.rsplit("/", 1)[1] for a in page["serviceArns"]]
    except botocore.exceptions.ClientError:
        failed = n
    batches = [names[i:i + 10] for i in range(0, len(names), 10)]

    def describe(batch):
        try:
            out = client.describe_services(cluster=CLUSTER, services=batch)
            return len(batch) - sum(1 for s in out["services"] if s["desiredCount"] == 1)
        except botocore.exceptions.ClientError:
            return len(batch)

    if threads <= 1:
        failed += sum(describe(b) for b in batches)
    else:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            failed += sum(pool.map(describe, batches, timeout=STEP_TIMEOUT))
    dt = time.monotonic() - t0
    calls = emu.call_stats()
    return {"reader": label, "seconds": dt, "calls": calls["total"],
            "service_read_calls": calls["total"],
            "throttles": sum(calls["throttled"].values()), "failed": failed}


def memory_phase(tmp, latency):
    """5 x 1,000 services and 10,000 tasks through ecsfs; RSS and ls cost."""
    (tmp / "emu-mem").mkdir()
    emu = Emulator(tmp / "emu-mem").start()
    out = {}
    try:
        clusters = ["mem%d" % i for i in range(5)]
        for c in clusters:
            emu.bulk_services(c, 1000, desired_count=2)
        emu.bulk_services("huge", 5000, desired_count=0)
        emu.faults(latency_ms=latency)
        d = tmp / "ecsfs-mem"
        d.mkdir()
        m = Mount(d, emu, options=RAISED).start()
        try:
            out["rss_start_kb"] = proc_kb(m.proc.pid, "VmRSS")
            t0 = time.monotonic()
            for c in clusters:
                r = subprocess.run(
                    ["bash", "-c", "cat %s/services/*/desired_count | wc -l; "
                     "cat %s/tasks/*/last_status | wc -l" % (c, c)],
                    cwd=m.path, capture_output=True, text=True, timeout=STEP_TIMEOUT)
                assert r.stdout.split() == ["1000", "2000"], r.stdout + r.stderr
            out["read_seconds"] = time.monotonic() - t0
            stats = dict(l.split(" ", 1) for l in m.read(".ecsfs", "stats").splitlines())
            out["cache_entries"] = int(stats["cache_entries"])
            out["rss_kb"] = proc_kb(m.proc.pid, "VmRSS")
            out["hwm_kb"] = proc_kb(m.proc.pid, "VmHWM")
            m.p("huge").is_dir()
            emu.reset_calls()
            t0 = time.monotonic()
            r = subprocess.run(["bash", "-c", "ls huge/services | wc -l"], cwd=m.path,
                               capture_output=True, text=True, timeout=STEP_TIMEOUT)
            out["ls_seconds"] = time.monotonic() - t0
            out["ls_entries"] = int(r.stdout)
            out["ls_calls"] = emu.calls()
        finally:
            m.stop()
    finally:
        emu.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=2000)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--skip-memory", action="store_true")
    a = ap.parse_args()

    rows = []
    with scratch_dir() as tmp:
        with bench_emulator(tmp, CLUSTER, a.services) as emu:
            emu.bench_latency = a.latency_ms
            rows.append(run_ecsfs(emu, tmp, a.services))
            rows.append(run_boto3(emu, a.services, "boto3 sequential, standard retries",
                                  "standard", 1))
            rows.append(run_boto3(emu, a.services, "boto3 %d threads, standard retries"
                                  % a.threads, "standard", a.threads))
            rows.append(run_boto3(emu, a.services, "boto3 %d threads, adaptive retries"
                                  % a.threads, "adaptive", a.threads))
        mem = None if a.skip_memory else memory_phase(tmp, a.latency_ms)

    needed = (a.services + 99) // 100 + (a.services + 9) // 10
    floor = max(0.0, (needed - BURST) / REFILL)
    print("\n%d services, service read bucket %d burst + %d/s, %d ms emulator latency"
          % (a.services, BURST, REFILL, a.latency_ms))
    print("floor: (%d calls - %d burst) / %d per s = %.2f s  "
          "(%d ListServices + %d DescribeServices)\n"
          % (needed, BURST, REFILL, floor, (a.services + 99) // 100,
             (a.services + 9) // 10))
    print("| reader | wall time (s) | x floor | API calls | throttled | failed reads |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %.2f | %.2f | %d | %d | %d |" % (
            r["reader"], r["seconds"], r["seconds"] / floor if floor else 0,
            r["calls"], r["throttles"], r["failed"]))
    e = rows[0]
    own_floor = max(0.0, (e["service_read_calls"] - BURST) / REFILL)
    print("\necsfs: %d service read calls (floor for them: %.2f s), %d token waits, "
          "%.1f s waited in all" % (e["service_read_calls"], own_floor,
                                    e["waits"], e["wait_ms"] / 1000))
    print("ecsfs: first service read call to last answer %.2f s (%.2fx its floor); "
          "the rest of the wall time is the mount's own work (the glob's stats, "
          "cat's opens and reads)" % (e["api_seconds"],
                                      e["api_seconds"] / own_floor if own_floor else 0))
    print("ecsfs read-ahead: prefetched %d, used %d, at most %d calls in flight"
          % (e["prefetched"], e["prefetch_used"], e["max_inflight"]))
    ok = e["failed"] == 0 and own_floor and e["seconds"] <= 1.15 * own_floor
    print("goal: no failed read, wall time <= 1.15x the floor: %d failed, %.2fx: %s"
          % (e["failed"], e["seconds"] / own_floor if own_floor else 0,
             "met" if ok else "NOT met"))
    if mem is not None:
        print("\nmemory: 5 clusters x 1,000 services + 10,000 tasks read in %.1f s, "
              "%d cache entries: VmRSS %.1f MB (peak %.1f MB, %.1f MB at mount)%s"
              % (mem["read_seconds"], mem["cache_entries"], mem["rss_kb"] / 1024,
                 mem["hwm_kb"] / 1024, mem["rss_start_kb"] / 1024,
                 "" if mem["hwm_kb"] < 64 * 1024 else "  ** over 64 MB **"))
        print("goal: 5,000 services (and 10,000 tasks) cached, read ahead, <= 64 MB: %s"
              % ("met" if mem["hwm_kb"] < 64 * 1024 else "NOT met"))
        print("ls of a 5,000-service cluster: %d entries in %.2f s, calls %s"
              % (mem["ls_entries"], mem["ls_seconds"], mem["ls_calls"]))
    print(json.dumps({"floor": floor, "rows": rows, "memory": mem}), file=sys.stderr)


if __name__ == "__main__":
    main()
