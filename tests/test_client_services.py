"""Integration tests of ecs/ against the emulator's other services: task
definitions (ECS), Application Auto Scaling and CloudWatch Logs, through the
ecscall program.

The emulator checks every request's signature with botocore's signer for
the service its X-Amz-Target names (a request signed for another service
gets 403 InvalidSignatureException), so an answer means the request went
to the right service, signed with that service's name.  Each service has
its own endpoint; retries, throttling, the mutation rule and interrupts
hold for them as for ECS.
"""

import json
import socket

from helpers.ecscall import ok, run, stats_of

PROD = "production-cluster"
API = "service/%s/api" % PROD


def dead_url():
    """An http URL on which nothing listens."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d" % port


def revisions(arns):
    return [int(a.rsplit(":", 1)[1]) for a in arns]


def api_task(emulator):
    """The id of a running task of production api."""
    tasks = emulator.state(PROD)["tasks"]
    return sorted(t for t, v in tasks.items() if v["service"] == "api")[0]


# -- each operation reaches its service --------------------------------------

def test_each_operation_reaches_its_service_signed_for_it(emulator):
    task = api_task(emulator)
    emulator.reset_calls()
    td = ok(emulator, "describe-task-definition", "api:3")["taskDefinition"]
    assert (td["family"], td["revision"], td["status"]) == ("api", 3, "ACTIVE")
    arns = ok(emulator, "list-task-definitions", "api")["taskDefinitionArns"]
    assert revisions(arns) == [1, 2, 3, 4]
    ok(emulator, "register-scalable-target", API, "1", "4")
    targets = ok(emulator, "describe-scalable-targets", PROD + "/api")["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == \
        [(API, 1, 4)]
    assert ok(emulator, "describe-scaling-policies", API)["ScalingPolicies"] == []
    logs = ok(emulator, "get-log-events", "/ecs/api", "ecs/api/" + task, "5")
    assert 1 <= len(logs["events"]) <= 5 and logs["nextForwardToken"]
    assert emulator.calls() == {"DescribeTaskDefinition": 1, "ListTaskDefinitions": 1,
                                "RegisterScalableTarget": 1, "DescribeScalableTargets": 1,
                                "DescribeScalingPolicies": 1, "GetLogEvents": 1}

    # What botocore sees of the same emulator.
    aas = emulator.client("application-autoscaling")
    cli = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[API])
    assert [t["ResourceId"] for t in cli["ScalableTargets"]] == [API]
    # The container may log a line between the two calls: ours comes first.
    mine = ok(emulator, "get-log-events", "/ecs/api", "ecs/api/" + task)["events"]
    cli = emulator.client("logs").get_log_events(logGroupName="/ecs/api",
        logStreamName="ecs/api/" + task, startFromHead=False)["events"]
    assert mine and cli[:len(mine)] == mine


# -- task definitions ---------------------------------------------------------

def register_td(emulator, family):
    emulator.aws("ecs", "register-task-definition", "--family", family,
        "--container-definitions", json.dumps([{"name": family, "image": "x:1",
            "memory": 128, "essential": True}]))


def test_task_definitions_of_exactly_one_family_oldest_first(emulator):
    # "api-extra" starts with "api": ListTaskDefinitions' familyPrefix may
    # answer it, the typed call leaves it out.
    register_td(emulator, "api-extra")
    emulator.aws("ecs", "deregister-task-definition", "--task-definition", "api:2")
    emulator.reset_calls()
    arns = ok(emulator, "list-task-definitions", "api")["taskDefinitionArns"]
    assert revisions(arns) == [1, 3, 4]
    assert all(":task-definition/api:" in a for a in arns)
    arns = ok(emulator, "list-task-definitions", "api", "INACTIVE")["taskDefinitionArns"]
    assert revisions(arns) == [2]
    assert revisions(ok(emulator, "list-task-definitions", "api-extra")[
        "taskDefinitionArns"]) == [1]
    assert emulator.calls() == {"ListTaskDefinitions": 3}
    # An INACTIVE revision is described, with its status.
    assert ok(emulator, "describe-task-definition", "api:2")["taskDefinition"][
        "status"] == "INACTIVE"


def test_an_unknown_task_definition_is_an_invalid_argument(emulator):
    emulator.reset_calls()
    r = run(emulator, "describe-task-definition", "api:99")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: invalid argument: ClientException: "
                               "task definition api:99: "), r.stderr
    assert emulator.calls() == {"DescribeTaskDefinition": 1}


# -- Application Auto Scaling -------------------------------------------------

def test_scalable_targets_in_batches_of_fifty(emulator):
    names = emulator.bulk_services("big", 60)["services"]
    for i, name in enumerate(names):
        emulator.register_target("big", name, min=0, max=3 + i)
    ids = ["big/" + n for n in names]
    emulator.reset_calls()
    got = ok(emulator, "describe-scalable-targets", *ids)["ScalableTargets"]
    assert sorted(t["ResourceId"] for t in got) == sorted("service/" + i for i in ids)
    assert emulator.calls() == {"DescribeScalableTargets": 2}
    # Every target of the namespace: pages of 50.
    emulator.reset_calls()
    got = ok(emulator, "describe-scalable-targets")["ScalableTargets"]
    assert len(got) == 60
    assert emulator.calls() == {"DescribeScalableTargets": 2}


def test_register_scalable_target_changes_only_what_it_is_given(emulator):
    emulator.register_target(PROD, "api", min=2, max=6)
    ok(emulator, "register-scalable-target", API, "-", "-", "true")
    t = emulator.target(PROD, "api")
    assert (t["MinCapacity"], t["MaxCapacity"]) == (2, 6)
    assert t["SuspendedState"] == {"DynamicScalingInSuspended": True,
                                   "DynamicScalingOutSuspended": True,
                                   "ScheduledScalingSuspended": True}
    ok(emulator, "register-scalable-target", API, "0", "-", "false")
    t = emulator.target(PROD, "api")
    assert (t["MinCapacity"], t["MaxCapacity"]) == (0, 6)
    assert not any(t["SuspendedState"].values())
    # Application Auto Scaling's own refusal: EINVAL's code, its message kept.
    emulator.reset_calls()
    r = run(emulator, "register-scalable-target", API, "7", "-")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: invalid argument: ValidationException: "), r.stderr
    assert emulator.calls() == {"RegisterScalableTarget": 1}
    assert emulator.target(PROD, "api")["MinCapacity"] == 0


# -- CloudWatch Logs ---------------------------------------------------------

def test_log_events_latest_then_what_follows(emulator):
    emulator.put_log_events("/test/app", "s1", ["line %d" % i for i in range(30)])
    emulator.reset_calls()
    got = ok(emulator, "get-log-events", "/test/app", "s1", "10")
    assert [e["message"] for e in got["events"]] == ["line %d" % i for i in range(20, 30)]
    token = got["nextForwardToken"]
    emulator.put_log_events("/test/app", "s1", ["new %d" % i for i in range(5)])
    got = ok(emulator, "get-log-events", "/test/app", "s1", "10", token)
    assert [e["message"] for e in got["events"]] == ["new %d" % i for i in range(5)]
    # Nothing new: no events, the same token again.
    again = ok(emulator, "get-log-events", "/test/app", "s1", "10", got["nextForwardToken"])
    assert again["events"] == [] and again["nextForwardToken"] == got["nextForwardToken"]
    assert emulator.calls() == {"GetLogEvents": 3}

    r = run(emulator, "get-log-events", "/test/app", "no-such-stream")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: not found: ResourceNotFoundException: "), r.stderr


# -- endpoints ---------------------------------------------------------------

def test_each_service_goes_to_its_own_endpoint(emulator):
    task = api_task(emulator)
    env = emulator.env()
    del env["AWS_ENDPOINT_URL"]
    base = dict(env, AWS_MAX_ATTEMPTS="1", AWS_ENDPOINT_URL_ECS=dead_url(),
                AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING=dead_url(),
                AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=dead_url())
    calls = {
        "ECS": ("list-clusters",),
        "APPLICATION_AUTO_SCALING": ("describe-scalable-targets",),
        "CLOUDWATCH_LOGS": ("get-log-events", "/ecs/api", "ecs/api/" + task, "1"),
    }
    for live in calls:
        e = dict(base, **{"AWS_ENDPOINT_URL_" + live: emulator.url})
        emulator.reset_calls()
        for svc, args in calls.items():
            r = run(emulator, "-t", "3000", *args, env=e)
            if svc == live:
                assert r.returncode == 0, (live, r.stderr)
            else:
                assert r.returncode == 1 and r.stderr.startswith("ecscall: unreachable: "), \
                    (live, svc, r.stderr)
        assert sum(emulator.calls().values()) == 1, (live, emulator.calls())
    # -o endpoint is ECS's alone.
    e = dict(base, AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING=emulator.url)
    r = run(emulator, "-e", emulator.url, "describe-scalable-targets", env=e)
    assert r.returncode == 0, r.stderr
    r = run(emulator, "-e", emulator.url, "-t", "3000", "get-log-events", "/ecs/api",
            "ecs/api/" + task, env=e)
    assert r.returncode == 1 and r.stderr.startswith("ecscall: unreachable: "), r.stderr


# -- retries, throttling, mutations, interrupts --------------------------------

def test_throttling_of_the_other_services_is_retried_and_counted(emulator):
    emulator.put_log_events("/test/app", "s1", ["x"])
    emulator.register_target(PROD, "api", min=1, max=3)
    emulator.faults(throttle_probability=0.5,
                    actions=["DescribeScalableTargets", "GetLogEvents", "ListTaskDefinitions"])
    emulator.reset_calls()
    env = emulator.env(AWS_MAX_ATTEMPTS="12")
    st = {}
    for args in [("describe-scalable-targets",), ("get-log-events", "/test/app", "s1"),
                 ("list-task-definitions", "web")] * 4:
        r = run(emulator, "--stats", *args, env=env)
        assert r.returncode == 0, r.stderr
        for k, v in stats_of(r.stderr).items():
            st[k] = st.get(k, 0) + v
    rec = emulator.call_stats()
    throttled = sum(rec["throttled"].values())
    assert throttled >= 3
    assert rec["total"] == 12 + throttled
    assert st["retries"] == throttled == st["throttles"]
    for cat, op in (("autoscaling_read", "DescribeScalableTargets"),
                    ("logs_read", "GetLogEvents"), ("taskdef_read", "ListTaskDefinitions")):
        assert st["category.%s.requests" % cat] == rec["calls"][op]
        assert st["category.%s.throttles" % cat] == rec["throttled"].get(op, 0)
        assert st["api_calls." + op] == rec["calls"][op]


def test_throttled_without_end_fails_fast_as_busy(emulator):
    emulator.put_log_events("/test/app", "s1", ["x"])
    emulator.faults(throttle_probability=1.0, actions=["GetLogEvents"])
    emulator.reset_calls()
    r = run(emulator, "-w", "1500", "get-log-events", "/test/app", "s1",
            env=emulator.env(AWS_MAX_ATTEMPTS="3"))
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: busy"), r.stderr
    assert "logs_read" in r.stderr
    assert r.elapsed < 8
    assert emulator.calls()["GetLogEvents"] >= 2


def test_register_scalable_target_without_an_answer_is_not_resent(emulator):
    emulator.register_target(PROD, "api", min=1, max=3)
    emulator.wire_faults(drop_after_apply=["RegisterScalableTarget"])
    emulator.reset_calls()
    r = run(emulator, "-a", "5", "register-scalable-target", API, "0", "-")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: unreachable: "), r.stderr
    assert r.stderr.rstrip().endswith("(may have been applied)"), r.stderr
    assert emulator.calls() == {"RegisterScalableTarget": 1}
    emulator.wire_faults()
    assert emulator.target(PROD, "api")["MinCapacity"] == 0

    # A read that lost its answer is sent again.
    emulator.wire_faults(drop_after_apply=["DescribeScalableTargets"])
    emulator.reset_calls()
    r = run(emulator, "-a", "3", "describe-scalable-targets")
    assert r.returncode == 1
    assert "may have been applied" not in r.stderr
    assert emulator.calls()["DescribeScalableTargets"] >= 2


def test_a_log_read_stops_when_its_caller_goes_away(emulator):
    emulator.put_log_events("/test/app", "s1", ["x"])
    emulator.faults(latency_ms=4000, actions=["GetLogEvents"])
    r = run(emulator, "--interrupt-after", "300", "get-log-events", "/test/app", "s1")
    assert r.returncode == 1
    assert r.stderr.startswith("ecscall: interrupted: "), r.stderr
    assert r.elapsed < 2.5, r.elapsed
