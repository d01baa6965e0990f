"""Starting and stopping the real ecsfs daemon on a real FUSE mount.

A Mount runs the built binary in the foreground (-f) as a subprocess,
waits until the kernel shows the mount (or the daemon exits early), and on
stop unmounts with fusermount3, waits for the daemon to exit and fails if
it printed sanitizer reports or crashed.
"""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SANITIZER_RE = re.compile(
    r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
    r"WARNING: ThreadSanitizer|SUMMARY: UndefinedBehaviorSanitizer)")


def build_dir():
    """The meson build directory the tests run against."""
    d = Path(os.environ.get("ECSFS_BUILD_DIR", REPO / "build"))
    if not (d / "fs" / "ecsfs").exists():
        raise RuntimeError(f"ecsfs is not built in {d}: run `bash tests/run.sh` "
                           f"or `meson setup {d} && ninja -C {d}`")
    return d


def write_raw(path, data, offset=0):
    """One write(2) of data at offset; returns the errno or 0."""
    fd = os.open(path, os.O_WRONLY)
    try:
        if offset:
            os.pwrite(fd, data, offset)
        else:
            os.write(fd, data)
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def binary(name="ecsfs"):
    """Path of a built program: ecsfs, ecscall, sigv4_cli."""
    d = build_dir()
    for sub in ("fs", "tests"):
        p = d / sub / name
        if p.exists():
            return p
    raise RuntimeError(f"{name} is not built in {d}")


def sanitizer_lines(text):
    return [l for l in text.splitlines() if SANITIZER_RE.search(l)]


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4 and fields[4].replace("\\040", " ") == path:
                return True
    return False


class Mount:
    """One ecsfs mount of an emulator, at tmp_path/mnt."""

    def __init__(self, tmp_path, emulator, options=None, env=None, args=None, cwd=None):
        self.tmp = Path(tmp_path)
        self.emulator = emulator
        self.path = self.tmp / "mnt"
        self.options = dict(options or {})
        self.extra_env = dict(env or {})
        self.extra_args = list(args or [])
        self.cwd = cwd
        self.proc = None
        self.log_path = self.tmp / "ecsfs.log"
        self._log = None

    def command(self):
        opts = []
        for k, v in self.options.items():
            if v is True:
                opts.append(k)
            elif v is not None and v is not False:
                opts.append(f"{k}={v}")
        cmd = [str(binary()), "-f"]
        if opts:
            cmd += ["-o", ",".join(opts)]
        return cmd + self.extra_args + [str(self.path)]

    def env(self):
        e = self.emulator.env() if self.emulator is not None else dict(os.environ)
        for k, v in self.extra_env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def start(self, timeout=15):
        self.path.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), env=self.env(), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=self.cwd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ecsfs exited with {self.proc.returncode}:\n{self.log()}")
            if is_mounted(self.path):
                return self
            time.sleep(0.02)
        self.stop(check=False)
        raise RuntimeError(f"ecsfs did not mount within {timeout}s:\n{self.log()}")

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, check=True):
        """Unmounts and waits for the daemon; with check, fails on crashes or sanitizer output."""
        if self.proc is None:
            return
        if is_mounted(self.path):
            subprocess.run(["fusermount3", "-u", str(self.path)], capture_output=True)
            if is_mounted(self.path):
                subprocess.run(["fusermount3", "-u", "-z", str(self.path)], capture_output=True)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            if check:
                raise AssertionError(f"ecsfs did not exit after unmount:\n{self.log()}")
        if self._log:
            self._log.close()
        code = self.proc.returncode
        self.proc = None
        if check:
            bad = sanitizer_lines(self.log())
            assert not bad, "sanitizer output from ecsfs:\n" + self.log()
            assert code == 0, f"ecsfs exited with {code}:\n{self.log()}"

    def p(self, *parts):
        return self.path.joinpath(*parts)

    def read(self, *parts):
        return self.p(*parts).read_text()

    def sh(self, script, check=True, timeout=120):
        """Runs a shell script in the mount's folder; returns CompletedProcess."""
        r = subprocess.run(["bash", "-c", script], cwd=self.path, capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"`{script}` exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r
