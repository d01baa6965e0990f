"""Container logs: tasks/T/logs/CONTAINER on the mount (and the commands).

A task's logs/ folder lists the containers of its task definition that log
with the awslogs driver (with a stream prefix); each file holds the latest
-o log_lines events of the stream PREFIX/CONTAINER/TASK_ID, oldest first,
`TIME MESSAGE` per event, and grows as events arrive, so that `tail -f`
follows it.  Every test mounts the real daemon, drives it with shell
commands, and checks what it shows against the emulator's CloudWatch Logs
(through the AWS CLI) and its call counts.  Bounds are generous: growth
must show within seconds, not at once.
"""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from helpers.ecsim import wait_for
from helpers.mount import binary, sanitizer_lines
from helpers.procs import blocked_in_fuse, exit_within, kill_all

PROD = "production-cluster"
DEV = "development-cluster"
GROW_S = 30       # new events show in a follower within this
RELEASED_S = 8    # a reader that goes away is released within this


# -- what the emulator says --------------------------------------------------

def first_task(emulator, cluster, service):
    arns = emulator.boto3().list_tasks(cluster=cluster, serviceName=service)["taskArns"]
    return sorted(a.rsplit("/", 1)[1] for a in arns)[0]


def task_definitions(emulator, cluster, tids):
    """{task id: its TaskDefinition}, as boto3 describes them."""
    ecs = emulator.boto3()
    tasks = ecs.describe_tasks(cluster=cluster, tasks=list(tids))["tasks"]
    tds = {}
    for arn in {t["taskDefinitionArn"] for t in tasks}:
        tds[arn] = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    return {t["taskArn"].rsplit("/", 1)[1]: tds[t["taskDefinitionArn"]] for t in tasks}


def streams_of(emulator, cluster, tid, td=None):
    """{container: (group, stream)} of the task's awslogs containers with a
    prefix, and the names of all its containers."""
    td = td or task_definitions(emulator, cluster, [tid])[tid]
    out = {}
    for c in td["containerDefinitions"]:
        lc = c.get("logConfiguration") or {}
        o = lc.get("options") or {}
        if lc.get("logDriver") == "awslogs" and o.get("awslogs-group") and \
                o.get("awslogs-stream-prefix"):
            out[c["name"]] = (o["awslogs-group"], "%s/%s/%s" % (
                o["awslogs-stream-prefix"], c["name"], tid))
    return out, [c["name"] for c in td["containerDefinitions"]]


def one_stream(emulator, cluster=PROD, service="api"):
    """(task id, group, stream) of the first task of a one-container service."""
    tid = first_task(emulator, cluster, service)
    (group, stream), = streams_of(emulator, cluster, tid)[0].values()
    return tid, group, stream


def cli_events(emulator, group, stream, limit=10000):
    """The latest events as `aws logs get-log-events` returns them."""
    return emulator.aws("logs", "get-log-events", "--log-group-name", group,
                        "--log-stream-name", stream, "--no-start-from-head",
                        "--limit", str(limit))["events"]


def iso_ms(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + \
        ".%03dZ" % (ms % 1000)


def lines_of(events):
    """What a log file shows for events."""
    return "".join("%s %s%s" % (iso_ms(e["timestamp"]), e["message"],
                                "" if e["message"].endswith("\n") else "\n")
                   for e in events)


def calls(emulator, *actions):
    c = emulator.calls()
    return {a: c.get(a, 0) for a in actions}


def api_log(mount, tid, container="api"):
    return mount.p(PROD, "tasks", tid, "logs", container)


def now_ms():
    return int(time.time() * 1000)


class Follower:
    """`tail -f FILE` with its output collected by a thread."""

    def __init__(self, path, *args):
        self.proc = subprocess.Popen(["tail", *args, "-f", str(path)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.out = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.out.append(line)

    def text(self):
        return "".join(self.out)

    def stop(self):
        kill_all([self.proc])
        self.thread.join(timeout=10)
        return self.proc.stderr.read()


# -- the folder ----------------------------------------------------------------

@pytest.mark.emulator(log_interval=0)
def test_logs_lists_the_awslogs_containers_only(mount, emulator):
    seen_without = False
    for cluster in (PROD, DEV):
        tids = sorted(os.listdir(mount.p(cluster, "tasks")))
        tds = task_definitions(emulator, cluster, tids)
        for tid in tids:
            assert "logs" in os.listdir(mount.p(cluster, "tasks", tid))
            assert os.path.isdir(mount.p(cluster, "tasks", tid, "logs"))
            want, every = streams_of(emulator, cluster, tid, tds[tid])
            assert sorted(os.listdir(mount.p(cluster, "tasks", tid, "logs"))) == sorted(want)
            for name in set(every) - set(want):
                # A container without awslogs has no entry, even by name.
                seen_without = True
                assert not os.path.exists(mount.p(cluster, "tasks", tid, "logs", name))
                r = mount.sh("cat %s/tasks/%s/logs/%s" % (cluster, tid, name), check=False)
                assert r.returncode == 1 and "No such file or directory" in r.stderr
    assert seen_without, "the seed has no container without awslogs to check"
    tid = first_task(emulator, PROD, "api")
    assert not os.path.exists(mount.p(PROD, "tasks", tid, "logs", "nosuch"))


@pytest.mark.emulator(log_interval=0)
def test_listing_logs_twice_costs_one_describe_task_definition(mount_factory, emulator):
    m = mount_factory(options={"cache_ttl": 60})
    tid = first_task(emulator, PROD, "api")
    before = sorted(os.listdir(m.p(PROD, "tasks", tid)))
    emulator.reset_calls()
    # A task folder's listing costs nothing more: logs/ is a fixed folder.
    assert sorted(os.listdir(m.p(PROD, "tasks", tid))) == before
    assert calls(emulator, "DescribeTaskDefinition", "GetLogEvents") == \
        {"DescribeTaskDefinition": 0, "GetLogEvents": 0}
    emulator.reset_calls()
    assert os.listdir(m.p(PROD, "tasks", tid, "logs")) == ["api"]
    assert os.listdir(m.p(PROD, "tasks", tid, "logs")) == ["api"]
    m.sh("ls -l %s/tasks/%s/logs/ >/dev/null; stat %s/tasks/%s/logs/api >/dev/null"
         % (PROD, tid, PROD, tid))
    # Lookups, stats and listings read the task definition, once; no Logs call.
    got = emulator.calls()
    assert got.get("DescribeTaskDefinition") == 1 and "GetLogEvents" not in got, got


# -- content -------------------------------------------------------------------

@pytest.mark.emulator(log_interval=0)
def test_content_is_the_streams_events_as_the_aws_cli_sees_them(mount, emulator):
    tid, group, stream = one_stream(emulator)
    t0 = now_ms() - 60000
    emulator.put_log_events(group, stream, ["GET /health 200", "ends with its newline\n",
                                            "two\nlines", "", "last"], timestamp=t0)
    got = mount.read(PROD, "tasks", tid, "logs", "api")
    events = cli_events(emulator, group, stream)
    assert len(events) >= 6      # the container's start line and the five
    assert got == lines_of(events)
    lines = got.splitlines(keepends=True)
    assert lines[-1] == iso_ms(t0 + 4) + " last\n"
    assert iso_ms(t0 + 1) + " ends with its newline\n" in lines
    assert iso_ms(t0 + 2) + " two\n" in lines and "lines\n" in lines
    assert iso_ms(t0 + 3) + " \n" in lines
    # Its size is exact, as every file's.
    assert os.stat(api_log(mount, tid)).st_size == len(got.encode())
    assert subprocess.run(["wc", "-c"], stdin=open(api_log(mount, tid)), capture_output=True,
                          text=True).stdout.strip() == str(len(got.encode()))


@pytest.mark.emulator(log_interval=0)
def test_log_lines_keeps_the_latest_events(mount_factory, emulator):
    m = mount_factory(options={"log_lines": 5})
    tid, group, stream = one_stream(emulator)
    emulator.put_log_events(group, stream, ["event %02d" % i for i in range(20)])
    emulator.reset_calls()
    got = m.read(PROD, "tasks", tid, "logs", "api")
    # One call, which asked for the latest five only (the stream has 21).
    assert calls(emulator, "GetLogEvents") == {"GetLogEvents": 1}
    assert got == lines_of(cli_events(emulator, group, stream, limit=5))
    assert [l.split(" ", 1)[1] for l in got.splitlines()] == \
        ["event %02d" % i for i in range(15, 20)]


@pytest.mark.emulator(log_interval=0)
def test_cat_twice_within_the_ttl_costs_one_call_then_only_what_is_new(mount_factory,
                                                                       emulator):
    m = mount_factory(options={"cache_ttl": 3})
    tid, group, stream = one_stream(emulator)
    emulator.reset_calls()
    first = m.read(PROD, "tasks", tid, "logs", "api")
    assert m.read(PROD, "tasks", tid, "logs", "api") == first
    assert calls(emulator, "GetLogEvents") == {"GetLogEvents": 1}
    emulator.put_log_events(group, stream, ["after the first read"])
    # After the TTL, the next read asks for what came after: one call.
    def grown():
        return m.read(PROD, "tasks", tid, "logs", "api")
    got = wait_for(lambda: "after the first read" in grown() and grown(), timeout=GROW_S,
                   interval=0.5, what="the new event in the file")
    assert calls(emulator, "GetLogEvents") == {"GetLogEvents": 2}
    # The second call brought the new event only: appended, nothing twice.
    assert got.startswith(first) and got.count("\n") == first.count("\n") + 1
    assert got == lines_of(cli_events(emulator, group, stream))


@pytest.mark.emulator(log_interval=0)
def test_a_stream_not_created_yet_is_an_empty_file(mount_factory, emulator):
    m = mount_factory(options={"cache_ttl": 1})
    before = set(os.listdir(m.p(DEV, "tasks")))
    # Time nearly stopped: a new task stays PROVISIONING, its containers unstarted.
    emulator.time_scale(0.001)
    m.sh("echo 2 > %s/services/api/desired_count" % DEV)
    new = wait_for(lambda: set(a.rsplit("/", 1)[1] for a in emulator.boto3().list_tasks(
        cluster=DEV)["taskArns"]) - before, timeout=30, what="a new task")
    tid, = new
    streams, _ = streams_of(emulator, DEV, tid)
    (group, stream), = streams.values()
    r = emulator.aws_raw("logs", "get-log-events", "--log-group-name", group,
                         "--log-stream-name", stream)
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr
    wait_for(lambda: tid in os.listdir(m.p(DEV, "tasks")), timeout=30, what="the task listed")
    assert os.listdir(m.p(DEV, "tasks", tid, "logs")) == ["api"]
    r = m.sh("cat %s/tasks/%s/logs/api" % (DEV, tid))
    assert r.stdout == "" and r.stderr == ""
    # Once the container runs, the same file shows what it writes.
    emulator.time_scale(20)
    wait_for(lambda: m.read(DEV, "tasks", tid, "logs", "api") != "", timeout=GROW_S,
             interval=0.5, what="the container's first line")
    assert m.read(DEV, "tasks", tid, "logs", "api") == lines_of(
        cli_events(emulator, group, stream))


# -- growth --------------------------------------------------------------------

@pytest.mark.emulator(log_interval=0)
def test_tail_f_follows_new_events(mount_factory, emulator):
    m = mount_factory(options={"cache_ttl": 1})
    tid, group, stream = one_stream(emulator)
    emulator.put_log_events(group, stream, ["before tail %d" % i for i in range(3)])
    f = Follower(api_log(m, tid))
    try:
        wait_for(lambda: "before tail 2" in f.text(), timeout=GROW_S, interval=0.1,
                 what="tail's first lines")
        assert f.text() == lines_of(cli_events(emulator, group, stream)[-10:])
        for n in range(3):
            emulator.put_log_events(group, stream, ["batch %d line %d" % (n, i)
                                                   for i in range(2)])
            wait_for(lambda: "batch %d line 1" % n in f.text(), timeout=GROW_S,
                     interval=0.1, what="batch %d in tail -f" % n)
        # What tail shows is the stream, line for line: nothing doubled or lost.
        assert f.text() == lines_of(cli_events(emulator, group, stream)[-16:])
    finally:
        err = f.stop()
    assert "truncated" not in err and "error" not in err, err


@pytest.mark.emulator(log_interval=1.0)
def test_tail_f_follows_the_containers_own_lines(mount_factory, emulator):
    m = mount_factory(options={"cache_ttl": 1})
    tid, group, stream = one_stream(emulator, DEV, "web")
    path = m.p(DEV, "tasks", tid, "logs", "web")
    f = Follower(path, "-n", "+1")
    try:
        wait_for(lambda: "tick" in f.text(), timeout=GROW_S, interval=0.2,
                 what="a line the container wrote")
        seen = f.text().count("\n")
        wait_for(lambda: f.text().count("\n") >= seen + 3, timeout=GROW_S, interval=0.2,
                 what="three more lines")
    finally:
        err = f.stop()
    assert "truncated" not in err, err
    shown = f.text()
    events = cli_events(emulator, group, stream)
    # Everything tail printed is the stream's, in its order.
    assert lines_of(events).startswith(shown), (shown, events)


@pytest.mark.emulator(log_interval=0)
def test_a_full_view_starts_afresh_and_its_holder_keeps_following(mount_factory, emulator):
    """log_lines 3: past four times that, the next lookup starts a new inode
    with the latest three events, and a reader holding the old one keeps
    reading everything that comes."""
    m = mount_factory(options={"log_lines": 3, "cache_ttl": 1})
    tid, group, stream = one_stream(emulator)
    path = api_log(m, tid)
    with open(path) as held:
        first = held.read()
        assert first == lines_of(cli_events(emulator, group, stream, limit=3))
        emulator.put_log_events(group, stream, ["burst %02d" % i for i in range(15)])
        more = wait_for(lambda: held.read(), timeout=GROW_S, interval=0.5,
                        what="the burst in the held file")
        while "burst 14" not in more:
            time.sleep(0.5)
            more += held.read()
        assert [l.split(" ", 1)[1] for l in more.splitlines()] == \
            ["burst %02d" % i for i in range(15)]
        # A new lookup (past the entry timeout) gets a new inode: the latest three.
        def fresh():
            return os.stat(path).st_ino != os.fstat(held.fileno()).st_ino
        wait_for(fresh, timeout=10, interval=0.3, what="a new inode for the path")
        assert m.read(PROD, "tasks", tid, "logs", "api") == \
            lines_of(cli_events(emulator, group, stream, limit=3))
        emulator.put_log_events(group, stream, ["after 1", "after 2"])
        later = wait_for(lambda: held.read(), timeout=GROW_S, interval=0.5,
                         what="new events in the held file")
        while "after 2" not in later:
            time.sleep(0.5)
            later += held.read()
        assert [l.split(" ", 1)[1] for l in later.splitlines()] == ["after 1", "after 2"]
    # The new inode grows too: the three it started with and the two since.
    wait_for(lambda: m.read(PROD, "tasks", tid, "logs", "api") ==
             lines_of(cli_events(emulator, group, stream, limit=5)), timeout=GROW_S,
             interval=0.5, what="the new inode following too")


# -- failures and interrupts -----------------------------------------------------

@pytest.mark.emulator(log_interval=0)
def test_a_refused_get_log_events_is_eacces_with_the_aws_message_in_the_log(mount,
                                                                            emulator):
    tid = first_task(emulator, PROD, "api")
    emulator.faults(deny_actions=["GetLogEvents"])
    assert os.listdir(mount.p(PROD, "tasks", tid, "logs")) == ["api"]
    r = mount.sh("cat %s/tasks/%s/logs/api" % (PROD, tid), check=False)
    assert r.returncode == 1 and "Permission denied" in r.stderr, r
    log = mount.log()
    # The AWS code and message reach the log; no secret does.
    assert "AccessDeniedException" in log and "User: arn:aws:iam::" in log, log
    assert emulator.secret_key not in log
    assert calls(emulator, "GetLogEvents") == {"GetLogEvents": 1}


@pytest.mark.emulator(log_interval=0)
def test_a_failing_logs_endpoint_serves_what_is_held_or_fails_within_seconds(
        mount_factory, emulator):
    m = mount_factory(options={"cache_ttl": 1, "timeout": 4})
    api = first_task(emulator, PROD, "api")
    web = first_task(emulator, PROD, "web")
    held = m.read(PROD, "tasks", api, "logs", "api")
    assert held != ""
    emulator.faults(error_5xx_probability=1.0, actions=["GetLogEvents"])
    time.sleep(1.5)     # past the TTL: the next read asks again
    t0 = time.monotonic()
    assert m.read(PROD, "tasks", api, "logs", "api") == held
    assert time.monotonic() - t0 < 8
    # A file never read has nothing to fall back on: an error, soon.
    t0 = time.monotonic()
    r = m.sh("cat %s/tasks/%s/logs/web" % (PROD, web), check=False)
    assert r.returncode == 1 and "Input/output error" in r.stderr, r
    assert time.monotonic() - t0 < 15
    emulator.faults()
    wait_for(lambda: m.sh("cat %s/tasks/%s/logs/web" % (PROD, web), check=False)
             .returncode == 0, timeout=GROW_S, interval=0.5, what="web's log readable again")


@pytest.mark.emulator(log_interval=0)
def test_ctrl_c_releases_a_cat_of_a_slow_log(mount, emulator):
    tid = first_task(emulator, PROD, "api")
    assert os.listdir(mount.p(PROD, "tasks", tid, "logs")) == ["api"]
    emulator.faults(latency_ms=20000, actions=["GetLogEvents"])
    emulator.reset_calls()
    cat = subprocess.Popen(["cat", str(api_log(mount, tid))], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for(lambda: calls(emulator, "GetLogEvents")["GetLogEvents"] == 1, timeout=30,
                 what="the GetLogEvents call")
        wait_for(lambda: blocked_in_fuse(cat.pid), timeout=10, what="cat blocked in ecsfs")
        os.killpg(cat.pid, signal.SIGINT)
        took = exit_within(cat, RELEASED_S)
    finally:
        kill_all([cat])
    assert cat.returncode == -signal.SIGINT and took < RELEASED_S


PY_READER = r"""
import signal, sys
got = []
signal.signal(signal.SIGUSR1, lambda *a: got.append(1))
with open(sys.argv[1]) as f:
    data = f.read()
sys.stdout.write(data)
sys.stderr.write("signals %d\n" % len(got))
"""


@pytest.mark.emulator(log_interval=0)
def test_a_reader_that_survives_its_signals_gets_its_data(mount, emulator):
    tid, group, stream = one_stream(emulator)
    assert os.listdir(mount.p(PROD, "tasks", tid, "logs")) == ["api"]
    emulator.faults(latency_ms=3000, actions=["GetLogEvents"])
    emulator.reset_calls()
    p = subprocess.Popen([sys.executable, "-c", PY_READER, str(api_log(mount, tid))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: blocked_in_fuse(p.pid), timeout=30, what="the reader blocked")
        for _ in range(5):
            p.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
        out, err = p.communicate(timeout=60)
    finally:
        kill_all([p])
    assert p.returncode == 0, err
    assert "signals 0" not in err, err
    emulator.faults()
    assert out == lines_of(cli_events(emulator, group, stream))


# -- the commands ------------------------------------------------------------------

@pytest.mark.emulator(log_interval=0)
def test_the_commands_list_and_cat_logs_as_the_mount_shows_them(mount, emulator):
    tid, group, stream = one_stream(emulator)
    emulator.put_log_events(group, stream, ["from the commands"])
    env = emulator.env()

    def ecsfs(*args):
        r = subprocess.run([str(binary()), *args], env=env, capture_output=True, text=True,
                           timeout=90)
        assert not sanitizer_lines(r.stderr), r.stderr
        return r

    r = ecsfs("ls", "%s/tasks/%s/logs" % (PROD, tid))
    assert r.returncode == 0 and r.stdout == "api\n", r
    r = ecsfs("cat", "%s/tasks/%s/logs/api" % (PROD, tid))
    assert r.returncode == 0, r
    assert r.stdout == lines_of(cli_events(emulator, group, stream, limit=1000))
    assert r.stdout == mount.read(PROD, "tasks", tid, "logs", "api")
    r = ecsfs("cat", "%s/tasks/%s/logs/nosuch" % (PROD, tid))
    assert r.returncode == 1 and "No such file or directory" in r.stderr
