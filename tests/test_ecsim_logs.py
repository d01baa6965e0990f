"""Tests of the emulator's CloudWatch Logs (tests/ecsim/logs.py): log
groups, streams and events through the AWS CLI, GetLogEvents' tokens, and
the lines the simulated containers write while their tasks run.
"""

import json
import time

import pytest
from botocore.exceptions import ClientError

from helpers.ecsim import AwsCliError, wait_for
from helpers.ecsim_calls import (DEV, PROD, a_task, cli_error, error_of,
    tasks_of)

pytestmark = pytest.mark.emulator_only


def logs(emulator, *args):
    return emulator.aws("logs", *args)


@pytest.mark.emulator(log_interval=0.5)
def test_container_log_grows(emulator):
    tid = a_task(emulator, DEV, "api")
    stream = emulator.log_stream(tid, "api")
    emulator.reset_calls()
    first = logs(emulator, "get-log-events", "--log-group-name", "/ecs/api",
        "--log-stream-name", stream)
    msgs = [e["message"] for e in first["events"]]
    assert msgs[0].startswith("api: starting public.ecr.aws/example/api:")
    assert msgs[0].endswith("in task %s" % tid)
    stamps = [e["timestamp"] for e in first["events"]]
    assert stamps == sorted(stamps)
    assert first["nextForwardToken"].startswith("f/")
    assert first["nextBackwardToken"].startswith("b/")

    def more():
        r = logs(emulator, "get-log-events", "--log-group-name", "/ecs/api",
            "--log-stream-name", stream, "--next-token",
            first["nextForwardToken"])
        return r if r["events"] else None
    later = wait_for(more, 20, 0.3, what="new log lines")
    assert all(e["message"].startswith("api: working, tick ")
        for e in later["events"])
    assert later["events"][0]["timestamp"] >= stamps[-1]
    assert later["nextForwardToken"] != first["nextForwardToken"]
    assert emulator.calls()["GetLogEvents"] >= 2
    assert set(emulator.calls()) == {"GetLogEvents"}


@pytest.mark.emulator(log_interval=0)
def test_forward_token_at_the_end_answers_nothing_new(emulator):
    group, stream = "/test/app", "one"
    logs(emulator, "create-log-group", "--log-group-name", group)
    logs(emulator, "create-log-stream", "--log-group-name", group,
        "--log-stream-name", stream)
    t = int(time.time() * 1000)
    logs(emulator, "put-log-events", "--log-group-name", group,
        "--log-stream-name", stream, "--log-events", json.dumps([
        {"timestamp": t + i, "message": "line %d" % i} for i in range(5)]))
    r = logs(emulator, "get-log-events", "--log-group-name", group,
        "--log-stream-name", stream)
    assert [e["message"] for e in r["events"]] == ["line %d" % i
        for i in range(5)]
    token = r["nextForwardToken"]
    again = logs(emulator, "get-log-events", "--log-group-name", group,
        "--log-stream-name", stream, "--next-token", token)
    assert again["events"] == [] and again["nextForwardToken"] == token
    emulator.put_log_events(group, stream, ["line 5", "line 6"], t + 5)
    new = logs(emulator, "get-log-events", "--log-group-name", group,
        "--log-stream-name", stream, "--next-token", token)
    assert [e["message"] for e in new["events"]] == ["line 5", "line 6"]

    c = emulator.client("logs")
    where = {"logGroupName": group, "logStreamName": stream}
    latest = c.get_log_events(limit=2, **where)
    assert [e["message"] for e in latest["events"]] == ["line 5", "line 6"]
    back = c.get_log_events(limit=2, nextToken=latest["nextBackwardToken"],
        **where)
    assert [e["message"] for e in back["events"]] == ["line 3", "line 4"]
    head = c.get_log_events(limit=3, startFromHead=True, **where)
    assert [e["message"] for e in head["events"]] == ["line 0", "line 1",
        "line 2"]
    window = c.get_log_events(startTime=t + 2, endTime=t + 4, **where)
    assert [e["message"] for e in window["events"]] == ["line 2", "line 3"]
    streams = logs(emulator, "describe-log-streams", "--log-group-name",
        group)["logStreams"]
    assert [(s["logStreamName"], s["firstEventTimestamp"],
        s["lastEventTimestamp"]) for s in streams] == [(stream, t, t + 6)]


def test_logs_refusals(emulator):
    emulator.reset_calls()
    with pytest.raises(AwsCliError) as e:
        logs(emulator, "get-log-events", "--log-group-name", "/nosuch",
            "--log-stream-name", "x")
    assert cli_error(e).endswith("(ResourceNotFoundException) when calling "
        "the GetLogEvents operation: The specified log group does not "
        "exist.")
    c = emulator.client("logs")
    cases = [
        (c.get_log_events, {"logGroupName": "/ecs/api", "logStreamName":
            "ecs/api/nosuch"}, "ResourceNotFoundException",
            "The specified log stream does not exist."),
        (c.get_log_events, {"logGroupName": "/ecs/api", "logStreamName":
            "x", "limit": 10001}, "InvalidParameterException",
            "less than or equal to 10000"),
        (c.get_log_events, {"logGroupName": "/ecs/api", "logStreamName":
            "x", "nextToken": "f/abc"}, "ResourceNotFoundException",
            "The specified log stream does not exist."),
        (c.create_log_group, {"logGroupName": "/ecs/api"},
            "ResourceAlreadyExistsException",
            "The specified log group already exists"),
        (c.create_log_group, {"logGroupName": "bad:name"},
            "InvalidParameterException", "regular expression pattern"),
        (c.create_log_stream, {"logGroupName": "/nosuch", "logStreamName":
            "x"}, "ResourceNotFoundException",
            "The specified log group does not exist."),
        (c.create_log_stream, {"logGroupName": "/ecs/api", "logStreamName":
            "a:b"}, "InvalidParameterException",
            "regular expression pattern"),
        (c.put_log_events, {"logGroupName": "/ecs/api", "logStreamName":
            "nosuch", "logEvents": [{"timestamp": 1, "message": "x"}]},
            "ResourceNotFoundException",
            "The specified log stream does not exist."),
        (c.describe_log_streams, {"logGroupName": "/ecs/api",
            "logStreamNamePrefix": "ecs/", "orderBy": "LastEventTime"},
            "InvalidParameterException", "Cannot order by LastEventTime"),
    ]
    for call, params, code, message in cases:
        with pytest.raises(ClientError) as e:
            call(**params)
        got = error_of(e)
        assert got[:2] == (code, 400) and message in got[2], params
    logs(emulator, "create-log-stream", "--log-group-name", "/ecs/api",
        "--log-stream-name", "manual")
    with pytest.raises(ClientError) as e:
        c.put_log_events(logGroupName="/ecs/api", logStreamName="manual",
            logEvents=[{"timestamp": 20, "message": "b"},
            {"timestamp": 10, "message": "a"}])
    assert "chronological order" in error_of(e)[2]
    with pytest.raises(ClientError) as e:
        c.get_log_events(logGroupName="/ecs/api", logStreamName="manual",
            nextToken="f/abc")
    assert error_of(e) == ("InvalidParameterException", 400,
        "The specified nextToken is invalid.")
    assert emulator.log_events("/ecs/api", "manual") == []
    errors = emulator.call_stats()["errors"]
    assert errors["GetLogEvents"] == {"ResourceNotFoundException": 3,
        "InvalidParameterException": 2}
    assert emulator.log_streams()["/ecs/api"] == sorted(["manual"] + [
        emulator.log_stream(t, "api") for c_ in (PROD, DEV)
        for t in tasks_of(emulator, c_, "api")])


def test_container_without_awslogs_has_no_stream(emulator):
    tid = a_task(emulator, PROD, "worker")
    streams = logs(emulator, "describe-log-streams", "--log-group-name",
        "/ecs/worker", "--log-stream-name-prefix", "ecs/")["logStreams"]
    names = {s["logStreamName"] for s in streams}
    assert "ecs/worker/%s" % tid in names
    assert not any("/metrics/" in n for n in names)
    assert len(names) == 5
    with pytest.raises(AwsCliError) as e:
        logs(emulator, "get-log-events", "--log-group-name", "/ecs/worker",
            "--log-stream-name", "ecs/metrics/%s" % tid)
    assert "(ResourceNotFoundException)" in cli_error(e)
    all_streams = emulator.log_streams()
    assert not any("/metrics/" in s for names in all_streams.values()
        for s in names)


def test_stopped_task_writes_a_stop_line(emulator):
    tid = a_task(emulator, DEV, "web")
    emulator.aws("ecs", "stop-task", "--cluster", DEV, "--task", tid,
        "--reason", "testing the stop line")
    stream = emulator.log_stream(tid, "web")

    def stopped():
        ev = emulator.log_events("/ecs/web", stream)
        return ev if ev and "stopping" in ev[-1]["message"] else None
    events = wait_for(stopped, 20, 0.1, what="the stop line")
    assert events[-1]["message"] == \
        "web: stopping (testing the stop line), exit code 143"
    # The replacement task has a stream of its own.
    new = wait_for(lambda: [t for t in tasks_of(emulator, DEV, "web")
        if t != tid and tasks_of(emulator, DEV, "web")[t]["lastStatus"] ==
        "RUNNING"], 20, what="the replacement task")
    got = logs(emulator, "get-log-events", "--log-group-name", "/ecs/web",
        "--log-stream-name", emulator.log_stream(new[0], "web"))
    assert got["events"][0]["message"].startswith("web: starting ")
