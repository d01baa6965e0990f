"""The ecsfs daemon as a program: options, start-up errors, ways of mounting,
signals."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from helpers.mount import Mount, binary, is_mounted, sanitizer_lines


def run_ecsfs(*args, env=None, timeout=20):
    return subprocess.run([str(binary()), *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def option_table():
    """(name, default) of every ecsfs option, from the README's table."""
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    rows = re.findall(r"^\| `-o (\w+)(?:=\w+)?` \|\s*([^|]*?)\s*\|", readme, re.M)
    return [(n, d.strip()) for n, d in rows]


def test_help_lists_every_option_with_its_default():
    r = run_ecsfs("--help")
    assert r.returncode == 0
    opts = option_table()
    assert len(opts) >= 12
    for name, default in opts:
        line = [l for l in r.stdout.splitlines() if re.search(r"-o %s\b" % name, l)]
        assert line, "--help does not list %s" % name
        if default:
            assert "(default: %s)" % default in line[0], line[0]
    for fuse_opt in ("-f", "-d", "-s", "allow_other", "auto_unmount"):
        assert fuse_opt in r.stdout


def test_version():
    r = run_ecsfs("--version")
    assert r.returncode == 0
    assert re.match(r"ecsfs \d+\.\d+\.\d+", r.stdout)


@pytest.mark.parametrize("opt", ["cache_ttl=abc", "cache_ttl=-1", "cache_ttl=1e999",
                                 "timeout=0", "connect_timeout=0", "max_threads=0",
                                 "wait_interval=0", "wait_timeout=0", "max_attempts=0",
                                 "max_throttle_wait=0", "cache_max=-5", "max_threads=1.5",
                                 "rate_service_read=abc", "rate_service_modify=5",
                                 "endpoint=http://127.0.0.1:99999", "endpoint=http://[::1",
                                 "endpoint=ftp://example.com"])
def test_bad_option_value(tmp_path, emulator, opt):
    (tmp_path / "mnt").mkdir()
    r = run_ecsfs("-f", "-o", opt, str(tmp_path / "mnt"), env=emulator.env())
    assert r.returncode == 1
    assert opt.split("=")[0] in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not is_mounted(tmp_path / "mnt")


def test_no_region_is_a_one_line_error(tmp_path, emulator):
    env = emulator.env(AWS_REGION=None, AWS_DEFAULT_REGION=None)
    (tmp_path / "mnt").mkdir()
    r = run_ecsfs("-f", str(tmp_path / "mnt"), env=env)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "region" in lines[0] and "AWS_REGION" in lines[0]
    assert not is_mounted(tmp_path / "mnt")


def test_no_credentials_is_a_one_line_error(tmp_path, emulator):
    env = emulator.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    (tmp_path / "mnt").mkdir()
    r = run_ecsfs("-f", str(tmp_path / "mnt"), env=env)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "credentials" in lines[0]
    assert emulator.secret_key not in r.stderr


def test_source_argument_and_options(tmp_path, emulator):
    m = Mount(tmp_path, emulator, options={"region": "us-east-1",
                                           "endpoint": emulator.url, "cache_ttl": 5},
              args=["ecsfs"])
    m.start()
    try:
        assert "production-cluster" in os.listdir(m.path)
    finally:
        m.stop()


def in_mount_namespace(tmp_path, emulator, script):
    """Runs script as root in a private mount namespace in which ecsfs is
    installed in /usr/local/sbin, where mount(8) looks for helpers, so that
    the test installs nothing on the machine."""
    bindir = tmp_path / "sbin"
    bindir.mkdir()
    (bindir / "ecsfs").symlink_to(binary())
    full = "set -e\nmount --bind %s /usr/local/sbin\n%s" % (bindir, script)
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                           full], env=emulator.env(), capture_output=True, text=True,
                          timeout=60)


def test_mount_t_fuse_ecsfs(tmp_path, emulator):
    """mount -t fuse.ecsfs: what /etc/fstab and systemd mount units run."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = in_mount_namespace(tmp_path, emulator, f"""
mount -t fuse.ecsfs ecsfs {mnt} -o region=us-east-1,endpoint={emulator.url},cache_ttl=5
grep -q 'ecsfs {mnt} fuse.ecsfs' /proc/self/mounts
cat {mnt}/production-cluster/services/api/desired_count
pid=$(pgrep -f "^ecsfs ecsfs {mnt} ")
fusermount3 -u {mnt}
for i in $(seq 50); do kill -0 $pid 2>/dev/null || exit 0; sleep 0.1; done
echo "ecsfs still running after unmount" >&2; exit 1
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "3\n"


def test_fstab_line(tmp_path, emulator):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    fstab = tmp_path / "fstab"
    fstab.write_text("ecsfs %s fuse.ecsfs noauto,region=us-east-1,endpoint=%s 0 0\n"
                     % (mnt, emulator.url))
    r = in_mount_namespace(tmp_path, emulator, f"""
mount -T {fstab} {mnt}
ls {mnt}/development-cluster/services
umount {mnt}
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["api", "web"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_unmounts_cleanly(tmp_path, emulator, sig):
    m = Mount(tmp_path, emulator).start()
    assert os.listdir(m.path)
    m.proc.send_signal(sig)
    assert m.proc.wait(timeout=10) == 0
    assert not is_mounted(m.path)
    assert not sanitizer_lines(m.log())
    m.proc = None


def test_foreground_logs_to_stderr(tmp_path, emulator):
    m = Mount(tmp_path, emulator).start()
    try:
        assert "mounted " in m.log()
        assert "endpoint " + emulator.url in m.log()
        assert emulator.secret_key not in m.log()
    finally:
        m.stop()
    assert "unmounted" in m.log()


def test_background_daemon_logs_to_syslog(tmp_path, emulator):
    """Without -f the daemon detaches and logs to syslog (/dev/log)."""
    sock_path = tmp_path / "log.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(10)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    # In a private mount namespace /dev/log is our socket, whether or not
    # the machine runs a syslog daemon.
    script = f"""
set -e
created=
[ -e /dev/log ] || {{ touch /dev/log; created=1; }}
mount --bind {sock_path} /dev/log
{binary()} -o region=us-east-1 {mnt}
echo 5 > {mnt}/development-cluster/services/api/desired_count
fusermount3 -u {mnt}
sleep 0.5
umount /dev/log
[ -z "$created" ] || rm -f /dev/log
"""
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
                       env=emulator.env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and r.stdout == ""
    lines = []
    while True:
        try:
            lines.append(sock.recv(65536).decode())
        except socket.timeout:
            break
        if any("unmounted" in l for l in lines):
            break
    sock.close()
    text = "\n".join(lines)
    assert re.search(r"ecsfs\[\d+\]: mounted ", text), text
    assert "journal: " in text and "field=desired_count old=1 new=5 result=ok" in text
    assert emulator.secret_key not in text


def test_no_session_token_or_secret_in_logs_after_a_signature_error(tmp_path, emulator):
    token = "FwoGZXIvYXdzEXAMPLETOKEN" + "S3CR3T" * 20
    emulator.add_credentials("ASIAECSIMSESSIONKEY1", "sessionSecretExample0123456789abcdEFGH",
                             session_token=token)
    # The right key and token with a wrong secret: AWS answers with the
    # canonical request it expected, which holds the token.
    env = {"AWS_ACCESS_KEY_ID": "ASIAECSIMSESSIONKEY1",
           "AWS_SECRET_ACCESS_KEY": "wrongSecretExample0123456789abcdEFGHIJKL",
           "AWS_SESSION_TOKEN": token}
    m = Mount(tmp_path, emulator, env=env).start()
    try:
        r = m.sh("ls production-cluster", check=False)
        assert r.returncode != 0 and "Permission denied" in r.stderr
        journal = m.read(".ecsfs", "journal")
        r = m.sh("echo 1 > development-cluster/services/api/desired_count", check=False)
        assert r.returncode != 0
        journal = m.read(".ecsfs", "journal")
    finally:
        m.stop()
    text = m.log() + journal
    assert "InvalidSignatureException" in text
    assert "S3CR3T" not in text and "FwoGZXIv" not in text
    assert env["AWS_SECRET_ACCESS_KEY"] not in text


def test_relative_paths_keep_working_after_mounting(tmp_path, emulator_tls):
    """The daemon moves to / once mounted: relative AWS_CA_BUNDLE, config
    file and credential_process paths are taken from where it started."""
    emu = emulator_tls
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(emu.ca_file, work / "ca.pem")
    (work / "creds.sh").write_text(
        "#!/bin/sh\necho run >> runs\nprintf '{\"Version\": 1, \"AccessKeyId\": \"%s\", "
        "\"SecretAccessKey\": \"%s\", \"Expiration\": \"%s\"}'\n"
        % (emu.access_key, emu.secret_key,
           time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 12))))
    (work / "creds.sh").chmod(0o700)
    (work / "aws-config").write_text("[profile rel]\nregion = us-east-1\n"
                                     "credential_process = ./creds.sh\n")
    env = {"AWS_CA_BUNDLE": "ca.pem", "AWS_CONFIG_FILE": "aws-config", "AWS_PROFILE": "rel",
           "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
    m = Mount(tmp_path, emu, env=env, cwd=work).start()
    try:
        assert m.read("production-cluster", "services", "api", "desired_count") == "3\n"
        assert os.readlink("/proc/%d/cwd" % m.proc.pid) == "/"
        # Credentials that live 12 s are refreshed at half their life: a
        # call after that runs the relative command again, from the
        # directory ecsfs started in.
        time.sleep(7)
        m.sh("echo 1 > .ecsfs/refresh")
        assert m.read("production-cluster", "services", "web", "desired_count") == "2\n"
    finally:
        m.stop()
    assert len((work / "runs").read_text().split()) >= 2


def pids_of(argv0_suffix, arg):
    """Pids whose command is a program ending in argv0_suffix with arg among its arguments."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].decode(errors="replace").endswith(argv0_suffix) and \
                arg.encode() in argv:
            found.append(int(d))
    return found


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_quickstart_stop_from_inside_the_mount_names_what_holds_it(tmp_path):
    """`quickstart.sh stop` from a shell whose working directory is in the
    mount does not detach the mount behind that shell's back (leaving the
    daemon running): it names the processes holding it and how to release
    it, and the demo keeps working until they let go."""
    demo = tmp_path / "demo"
    mnt = demo / "mnt"
    script = os.path.join(os.path.dirname(__file__), "..", "examples", "quickstart.sh")
    script = os.path.realpath(script)
    env = dict(os.environ, ECSFS_DEMO_DIR=str(demo), ECSFS_BUILD_DIR=str(binary().parents[1]))
    holder = None
    r = subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=300,
                       cwd=tmp_path)
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        assert is_mounted(mnt)
        daemons = pids_of("ecsfs", str(mnt))
        assert len(daemons) == 1, daemons
        emulator_pid = int((demo / "ecsim.pid").read_text())
        # A process with a file of the mount open, and a shell inside it.
        holder = subprocess.Popen(["sleep", "300"], stdin=open(mnt / ".ecsfs" / "version"),
                                  cwd=tmp_path)
        r = subprocess.run(["bash", "-c", 'echo "shell=$$"; cd "$1/production-cluster" && '
                            'bash "$2" stop; echo "status=$?"', "sh", str(mnt), script],
                           env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        shell = re.search(r"shell=(\d+)", r.stdout).group(1)
        assert "status=1" in r.stdout, r.stdout + r.stderr
        err = r.stderr
        assert "cannot unmount %s" % mnt in err, err
        assert re.search(r"pid %s bash .*cwd \(%s/production-cluster\)" % (shell, mnt), err), err
        assert re.search(r"pid %d sleep 300 .*fd 0 \(%s/.ecsfs/version\)" % (holder.pid, mnt),
                         err), err
        assert "cd out of %s" % mnt in err and "quickstart.sh stop" in err, err
        # Nothing was pulled away: the demo still works.
        assert is_mounted(mnt) and alive(daemons[0]) and alive(emulator_pid)
        assert (mnt / "production-cluster" / "services" / "api" / "desired_count").read_text() \
            == "3\n"
        holder.kill()
        holder.wait()
        r = subprocess.run(["bash", script, "stop"], env=env, capture_output=True, text=True,
                           timeout=120, cwd=tmp_path)
        assert r.returncode == 0 and "ecsfs demo stopped" in r.stdout, r.stdout + r.stderr
        assert not is_mounted(mnt)
        deadline = time.monotonic() + 15
        while (alive(daemons[0]) or alive(emulator_pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(daemons[0]), "ecsfs still running after stop"
        assert not alive(emulator_pid), "the emulator still running after stop"
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait()
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", "-z", str(mnt)], capture_output=True)
        pid_file = demo / "ecsim.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
