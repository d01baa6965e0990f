"""Emulator processes forked from a server that has imported the emulator.

Starting tests/ecsim/main.py afresh costs most of a second of CPU, nearly
all of it importing botocore (whose signer checks every request): the suite
starts an emulator for almost every test, so that was a fifth of the
suite's CPU. Instead, each test process keeps one multiprocessing fork
server that has imported the emulator once; every Emulator is a fresh fork
of it, running main.main() with its own arguments, directory and log, and
no state from any other.

start(argv, cwd, log_path) returns an object shaped like subprocess.Popen
(pid, poll, wait, send_signal, terminate, kill, returncode).
"""

import multiprocessing
import multiprocessing.forkserver
import os
import random
import subprocess
import sys
import time

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ECSIM_DIR = os.path.join(TESTS_DIR, "ecsim")

_context = None


def _ctx():
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        # The server imports the emulator (helpers/ecsim_preload.py): what
        # every emulator forked from it then has loaded. It imports before
        # it is told this process's sys.path, so it finds tests/helpers
        # through PYTHONPATH, set for its start only.
        ctx.set_forkserver_preload(["helpers.ecsim_preload"])
        old = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = TESTS_DIR + (os.pathsep + old if old else "")
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            if old is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = old
        _context = ctx
    return _context


def emulator_main():
    """tests/ecsim/main.py as a module, imported on first use."""
    if ECSIM_DIR not in sys.path:
        sys.path.insert(0, ECSIM_DIR)
    import main
    return main


def _run(argv, cwd, log_path):
    """The emulator's process: output to log_path, in cwd, then main()."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.chdir(cwd)
    random.seed()  # a fork shares the server's generator state
    sys.exit(emulator_main().main(argv))


class Process:
    """A forked emulator, driven like a subprocess.Popen."""

    def __init__(self, proc):
        self._proc = proc
        self.pid = proc.pid

    @property
    def returncode(self):
        return self._proc.exitcode

    def poll(self):
        return self._proc.exitcode

    def wait(self, timeout=None):
        self._proc.join(timeout)
        if self._proc.exitcode is None:
            raise subprocess.TimeoutExpired("ecsim", timeout)
        return self._proc.exitcode

    def send_signal(self, sig):
        # Only while it runs: once reaped, its pid may be another process's.
        if self._proc.exitcode is None:
            os.kill(self.pid, sig)

    def terminate(self):
        self._proc.terminate()

    def kill(self):
        self._proc.kill()


def start(argv, cwd, log_path):
    """Fork an emulator running main.main(argv); a Process."""
    proc = _ctx().Process(target=_run, args=(list(argv), cwd, log_path),
        name="ecsim", daemon=True)
    proc.start()
    return Process(proc)


def wait_started(proc, path, timeout):
    """Wait until path exists (the emulator's port file) or proc exits;
    True when it exists."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
