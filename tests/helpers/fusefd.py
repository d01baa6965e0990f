#!/usr/bin/python3
"""The privileged half of an unprivileged mount (libfuse's /dev/fd/N convention).

Opens /dev/fuse, mounts it on MOUNTPOINT with mount(2)
(fd=N,rootmode=40000,user_id=UID,group_id=GID), then runs COMMAND with the
descriptor inherited and every "/dev/fd/FUSEFD" in it replaced by
"/dev/fd/N" — typically `setpriv --reuid U ... ecsfs -f /dev/fd/FUSEFD`.
What an init container or a CSI driver does for a pod:

    fusefd.py --uid 1000 --gid 1000 /mnt/ecs -- \\
        setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=-all \\
        --bounding-set=-all ecsfs -f /dev/fd/FUSEFD

It waits for COMMAND, unmounts (lazily) and exits with its status.
"""
import argparse
import ctypes
import os
import subprocess
import sys

MNT_DETACH = 2
MS_NOSUID = 2
MS_NODEV = 4
_libc = ctypes.CDLL(None, use_errno=True)


def open_and_mount(mountpoint, uid, gid, allow_other=False, fsname="ecsfs"):
    """Opens /dev/fuse and mounts it on mountpoint; returns the descriptor."""
    fd = os.open("/dev/fuse", os.O_RDWR)
    opts = "fd=%d,rootmode=40000,user_id=%d,group_id=%d,default_permissions" % (fd, uid, gid)
    if allow_other:
        opts += ",allow_other"
    rc = _libc.mount(fsname.encode(), os.fsencode(mountpoint), b"fuse.ecsfs",
                     ctypes.c_ulong(MS_NOSUID | MS_NODEV), opts.encode())
    if rc != 0:
        e = ctypes.get_errno()
        os.close(fd)
        raise OSError(e, "mount %s: %s" % (mountpoint, os.strerror(e)))
    return fd


def umount(mountpoint):
    """Detaches the mount; 0 or the errno."""
    if _libc.umount2(os.fsencode(mountpoint), MNT_DETACH) != 0:
        return ctypes.get_errno()
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--uid", type=int, required=True)
    p.add_argument("--gid", type=int, required=True)
    p.add_argument("--allow-other", action="store_true")
    p.add_argument("mountpoint")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    cmd = [c for c in a.command if c != "--"] if a.command[:1] == ["--"] else a.command
    fd = open_and_mount(a.mountpoint, a.uid, a.gid, a.allow_other)
    cmd = [c.replace("/dev/fd/FUSEFD", "/dev/fd/%d" % fd) for c in cmd]
    try:
        rc = subprocess.call(cmd, pass_fds=(fd,))
    finally:
        os.close(fd)
        umount(a.mountpoint)
    return rc


if __name__ == "__main__":
    sys.exit(main())
