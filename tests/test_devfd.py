"""An unprivileged mount: `ecsfs /dev/fd/N` on a connection a privileged helper made.

tests/helpers/fusefd.py opens /dev/fuse and mounts it with mount(2)
(fd=N,rootmode=40000,user_id=,group_id=), as an init container or a CSI
driver does; ecsfs then runs as nobody with every capability cleared and
no way to gain one, and the tree works through it.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from helpers import fusefd
from helpers.mount import binary, is_mounted, sanitizer_lines

NOBODY = 65534
DROP = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/fuse")
                                or shutil.which("setpriv") is None,
                                reason="needs root, /dev/fuse and setpriv for the helper")


@pytest.fixture
def mnt():
    # A folder nobody can reach (pytest's tmp_path is private to root).
    d = tempfile.mkdtemp(prefix="ecsfs-devfd-")
    os.chmod(d, 0o755)
    yield os.path.join(d, "mnt")
    if is_mounted(os.path.join(d, "mnt")):
        fusefd.umount(os.path.join(d, "mnt"))
    shutil.rmtree(d, ignore_errors=True)


def nobody_env(emulator, mnt):
    """The emulator's environment, with files nobody may look at."""
    home = os.path.dirname(mnt)
    return emulator.env(HOME=home, AWS_CONFIG_FILE=os.path.join(home, "aws-config-absent"),
                        AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "aws-creds-absent"))


def as_nobody(script):
    return subprocess.run(DROP + ["bash", "-c", script], capture_output=True, text=True,
                          timeout=60)


def test_unprivileged_daemon_on_a_handed_over_descriptor(emulator, mnt, tmp_path):
    os.mkdir(mnt)
    fd = fusefd.open_and_mount(mnt, NOBODY, NOBODY, allow_other=True)
    log = open(tmp_path / "ecsfs.log", "wb")
    try:
        proc = subprocess.Popen(DROP + [str(binary()), "-f", "-o", "wait_interval=0.3",
                                        "/dev/fd/%d" % fd],
                                pass_fds=(fd,), env=nobody_env(emulator, mnt), stdout=log,
                                stderr=subprocess.STDOUT)
    finally:
        os.close(fd)  # the daemon holds the only descriptor now
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(mnt, "production-cluster")):
            assert proc.poll() is None, (tmp_path / "ecsfs.log").read_text()
            assert time.monotonic() < deadline, "the tree did not answer"
            time.sleep(0.05)
        # The daemon is nobody, with no capability at all.
        status = open("/proc/%d/status" % proc.pid).read()
        assert "\nUid:\t%d\t%d\t%d\t%d\n" % ((NOBODY,) * 4) in status
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert "%s:\t0000000000000000" % cap in status, status
        assert sorted(os.listdir(mnt)) == [".ecsfs", "development-cluster",
                                           "production-cluster"]
        f = "development-cluster/services/api/desired_count"
        r = as_nobody("cd %s && cat %s && echo 3 > %s && cat %s && "
                      "cat development-cluster/services/api/wait | tail -1" % (mnt, f, f, f))
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[:2] == ["1", "3"] and lines[2].endswith(" api stable")
        assert emulator.aws("ecs", "describe-services", "--cluster", "development-cluster",
                            "--services", "api")["services"][0]["desiredCount"] == 3
        journal = open(os.path.join(mnt, ".ecsfs", "journal")).read()
        assert "uid=%d" % NOBODY in journal and "result=ok" in journal
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        log.close()
        fusefd.umount(mnt)
    text = (tmp_path / "ecsfs.log").read_text(errors="replace")
    assert code == 0, text
    assert not sanitizer_lines(text), text
    assert "mounted /dev/fd/" in text


def test_helper_script_runs_the_pattern(emulator, mnt, tmp_path):
    """The helper as a program: mount, run the dropped daemon, unmount at its end."""
    os.mkdir(mnt)
    helper = os.path.join(os.path.dirname(fusefd.__file__), "fusefd.py")
    proc = subprocess.Popen(["/usr/bin/python3", helper, "--uid", str(NOBODY), "--gid",
                             str(NOBODY), "--allow-other", mnt, "--"] + DROP +
                            [str(binary()), "-f", "/dev/fd/FUSEFD"], env=nobody_env(emulator, mnt),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(mnt, "production-cluster", "status")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert open(os.path.join(mnt, "production-cluster", "status")).read() == "ACTIVE\n"
    finally:
        # The daemon's parent is the helper; SIGTERM the daemon, the helper unmounts.
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        for pid in out.stdout.split():
            os.kill(int(pid), signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    assert not is_mounted(mnt)
