"""Watching the processes a test starts: where a process is blocked, how
long it takes to exit, and a Popen as another user.

    blocked_in_fuse(pid)        True while pid waits for a FUSE answer
    exit_within(proc, timeout)  seconds until proc exits (TimeoutError after timeout)
    popen_as(user, cmd, ...)    a Popen of cmd run as that user (the test runs as root)
    read_together(path, n)      n threads open and read path at the same moment
"""
import pwd
import subprocess
import threading
import time

# What /proc/PID/wchan says for a task waiting in the kernel's FUSE request
# code (fs/fuse/dev.c), across the kernels the tests run on.
FUSE_WCHANS = ("request_wait_answer", "fuse_simple_request", "fuse_wait_answer",
               "__fuse_simple_request", "fuse_request_")


def wchan(pid):
    """The kernel function pid sleeps in ("" when running or gone)."""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def blocked_in_fuse(pid):
    """True while pid is blocked in a FUSE request, waiting for the daemon."""
    w = wchan(pid)
    return any(w.startswith(p) for p in FUSE_WCHANS)


def exit_within(proc, timeout):
    """Waits for proc to exit; returns the seconds it took.  Raises
    TimeoutError (and leaves proc running) when it takes longer."""
    t0 = time.monotonic()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError("pid %d (%s) still running after %.1f s, blocked in %r"
                           % (proc.pid, proc.args, timeout, wchan(proc.pid))) from None
    return time.monotonic() - t0


def popen_as(user, cmd, **kw):
    """subprocess.Popen(cmd) run as user (name), with that user's group
    only; the caller must be root."""
    pw = pwd.getpwnam(user)
    return subprocess.Popen(cmd, user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], **kw)


def kill_all(procs):
    """SIGKILL every process of procs still running and reap them all."""
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


def read_together(path, n):
    """n threads that open and read path at once (after a barrier): the list
    of what each read, and the list of exceptions raised."""
    results, errors = [], []
    barrier = threading.Barrier(n)

    def reader():
        try:
            barrier.wait()
            with open(path) as f:
                results.append(f.read())
        except Exception as e:  # noqa: BLE001 - the caller reports them
            errors.append(e)
    threads = [threading.Thread(target=reader) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
