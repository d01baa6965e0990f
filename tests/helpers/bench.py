"""What the benchmarks (tests/bench_*.py) share: a scratch directory, and
an emulator holding one cluster of services named svc-0000, svc-0001, ..."""
import contextlib
import tempfile
from pathlib import Path

from helpers.ecsim import Emulator


@contextlib.contextmanager
def scratch_dir():
    """A temporary directory (a Path), removed on leaving."""
    with tempfile.TemporaryDirectory(prefix="ecsfs-bench-") as tmp:
        yield Path(tmp)


@contextlib.contextmanager
def bench_emulator(tmp, cluster, services):
    """An emulator in tmp/emu whose cluster holds that many services;
    stopped on leaving."""
    (tmp / "emu").mkdir()
    emu = Emulator(tmp / "emu").start()
    try:
        emu.bulk_services(cluster=cluster, count=services, prefix="svc-")
        yield emu
    finally:
        emu.stop()
