#!/usr/bin/python3
"""Benchmark: a warm open+read+close of one attribute file, ecsfs beside
the floor a low-level FUSE filesystem can reach and a tmpfs file.

Mounts tests/bench/minfs (libfuse low-level API, no-open, page cache,
day-long entry and attribute timeouts) and ecsfs on the emulator (cache_ttl
an hour, so that no API call happens while measuring), puts "3\\n" in a
file on a private tmpfs, warms each file once, then runs
tests/bench/readloop over the three in one run and prints one table:
median ns per open+read+close and the ratio to minfs.

    /usr/bin/python3 tests/bench_warm.py [--iterations N] [--rounds R]

Needs a build (ECSFS_BUILD_DIR, default ./build), root and /dev/fuse.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers.bench import scratch_dir  # noqa: E402
from helpers.ecsim import Emulator  # noqa: E402
from helpers.mount import Mount, build_dir, is_mounted  # noqa: E402

# The seed names production-cluster's API service "api".
ECSFS_FILE = "production-cluster/services/api/desired_count"


def program(name):
    p = build_dir() / "tests" / "bench" / name
    if not p.exists():
        sys.exit("bench_warm: %s is not built (ninja -C %s)" % (p, build_dir()))
    return p


class Minfs:
    """tests/bench/minfs mounted at a folder, in the foreground."""

    def __init__(self, path, log):
        self.path = Path(path)
        self.log = log
        self.proc = None

    def start(self, timeout=10):
        self.path.mkdir(parents=True, exist_ok=True)
        # -d: libfuse logs every request, so that the run can show that
        # none reached minfs while measuring.
        self.proc = subprocess.Popen([str(program("minfs")), "-d",
            str(self.path)], stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not is_mounted(self.path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit("bench_warm: minfs did not mount")
            time.sleep(0.02)
        return self

    def requests(self):
        """How many requests minfs has answered so far."""
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace").count(
            "unique: ")

    def stop(self):
        if is_mounted(self.path):
            subprocess.run(["fusermount3", "-u", str(self.path)],
                capture_output=True)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def tmpfs_file(tmp):
    """A file holding "3\\n" on a tmpfs mounted for the run; (path, folder)."""
    d = tmp / "tmpfs"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "bench", str(d)],
        check=True)
    (d / "desired_count").write_text("3\n")
    return d / "desired_count", d


def readloop(paths, iterations, rounds):
    """{path: (median_ns, min_ns)} from one readloop run over paths."""
    r = subprocess.run([str(program("readloop")), "-n", str(iterations),
        "-r", str(rounds), *map(str, paths)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench_warm: readloop failed: %s" % r.stderr)
    out = {}
    for line in r.stdout.splitlines():
        path, median, low, _ = line.rsplit(" ", 3)
        out[path] = (int(median), int(low))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=10000,
                    help="open+read+close per round (default 10000)")
    ap.add_argument("--rounds", type=int, default=7,
                    help="rounds per file; the median is reported (default 7)")
    a = ap.parse_args()

    with scratch_dir() as tmp:
        (tmp / "emu").mkdir()
        tfile, tdir = tmpfs_file(tmp)
        emu = Emulator(tmp / "emu").start()
        log = open(tmp / "minfs.log", "wb")
        mfs = Minfs(tmp / "minfs", log)
        m = None
        try:
            mfs.start()
            m = Mount(tmp, emu, options={"cache_ttl": 3600}).start()
            files = [("tmpfs", "desired_count", tfile),
                     ("minfs", "desired_count", mfs.path / "desired_count"),
                     ("ecsfs", ECSFS_FILE, m.path / ECSFS_FILE)]
            for _, _, p in files:
                assert p.read_text() == "3\n", (p, p.read_text())
            emu.reset_calls()
            before = mfs.requests()
            got = readloop([p for _, _, p in files], a.iterations, a.rounds)
            calls = emu.calls()
            minfs_requests = mfs.requests() - before
        finally:
            if m is not None:
                m.stop()
            mfs.stop()
            log.close()
            emu.stop()
            subprocess.run(["umount", str(tdir)], capture_output=True)

    floor = got[str(files[1][2])][0]
    print("\nwarm open+read+close, %d iterations x %d rounds (median ns/op)\n"
          % (a.iterations, a.rounds))
    print("| filesystem | file | ns/op (median) | ns/op (best round) | vs minfs |")
    print("|---|---|---:|---:|---:|")
    rows = []
    for fs, name, p in files:
        median, low = got[str(p)]
        rows.append({"fs": fs, "file": name, "ns_median": median,
                     "ns_min": low, "ratio_to_minfs": median / floor})
        print("| %s | %s | %d | %d | %.2f |" % (fs, name, median, low,
              median / floor))
    ecsfs = rows[2]["ns_median"]
    print("\necsfs/minfs: %.1fx; while measuring, API calls: %s; requests "
          "reaching minfs: %d" % (ecsfs / floor, ", ".join("%s %d" % kv
          for kv in sorted(calls.items())) or "none", minfs_requests))
    sys.stdout.flush()
    print(json.dumps({"rows": rows, "api_calls": calls,
                      "minfs_requests": minfs_requests}), file=sys.stderr)


if __name__ == "__main__":
    main()
