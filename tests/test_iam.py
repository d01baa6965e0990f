"""The IAM policies of examples/iam.

The actions ecsfs can call are the entries of ecs/ops.c's table, each named
with the IAM prefix of its service (ecs:, application-autoscaling:, logs:)
and with its mutating flag.  The operate policy must allow exactly those,
the read-only one exactly the non-mutating ones, and the variant scoped to
named clusters the same set, with the ecs:cluster condition only on actions
that support it and the other services' actions on the resources they can
be scoped to.  Then the real daemon and the client run against the emulator
with every other action denied, to show each policy is enough for what it
is for.
"""
import json
import re
from pathlib import Path

import pytest

from helpers.ecscall import run

REPO = Path(__file__).resolve().parents[1]
IAM = REPO / "examples" / "iam"
PROD = "production-cluster"
PREFIXES = ("ecs", "application-autoscaling", "logs")

# From the Service Authorization Reference for Amazon ECS ("Actions defined by
# Amazon Elastic Container Service"): the actions of ecs/ops.c whose rows list
# the ecs:cluster condition key.  ListClusters, DescribeClusters and
# ListContainerInstances do not (the last two take a cluster ARN as Resource).
CLUSTER_KEY_ACTIONS = {"ecs:" + a for a in (
    "ListServices", "DescribeServices", "ListTasks", "DescribeTasks",
    "DescribeContainerInstances", "UpdateService", "StopTask",
    "UpdateContainerInstancesState")}
CLUSTER_RESOURCE_ACTIONS = {"ecs:DescribeClusters", "ecs:ListContainerInstances"}
# Actions with no resource type at all in that reference (task definitions,
# the Describe calls of Application Auto Scaling), and the two cluster-wide
# reads: these alone may be allowed on "*" unconditionally.
UNSCOPABLE = {"ecs:ListClusters", "ecs:DescribeClusters", "ecs:DescribeTaskDefinition",
              "ecs:ListTaskDefinitions", "application-autoscaling:DescribeScalableTargets",
              "application-autoscaling:DescribeScalingPolicies"}
CLUSTER_ARN = re.compile(r"^arn:aws:ecs:[a-z]{2}(-[a-z]+)+-\d:\d{12}:cluster/[A-Za-z0-9_-]+$")
# RegisterScalableTarget's resource is a scalable target, whose id is AWS's own
# (not the service's name): the region and account are what can be named.
SCALABLE_TARGET_ARN = re.compile(
    r"^arn:aws:application-autoscaling:[a-z]{2}(-[a-z]+)+-\d:\d{12}:scalable-target/\*$")
# GetLogEvents's resource is the log group.
LOG_GROUP_ARN = re.compile(r"^arn:aws:logs:[a-z]{2}(-[a-z]+)+-\d:\d{12}:log-group:[^*]+\*?$")


def services_table():
    """{ECS_SVC_X: IAM prefix} from ecs/ops.c's ecs_services[]."""
    src = (REPO / "ecs" / "ops.c").read_text()
    body = re.search(r"const struct ecs_service ecs_services\[ECS_SVC_COUNT\] = \{(.*?)\n\};",
                     src, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    out = {}
    for svc, fields in re.findall(r"\[(ECS_SVC_\w+)\]\s*=\s*\{(.*?)\}", body, re.S):
        strings = re.findall(r'"([^"]*)"|\bNULL\b', fields)
        assert len(strings) == 8, (svc, strings)
        out[svc] = strings[5]
    assert out, "ecs_services[] has rows this test cannot read"
    return out


def ops_table():
    """{"prefix:Operation": mutating} from ecs/ops.c's ecs_ops[]."""
    src = (REPO / "ecs" / "ops.c").read_text()
    body = re.search(r"const struct ecs_op ecs_ops\[\] = \{(.*?)\n\};", src, re.S).group(1)
    rows = re.findall(r'\{\s*"(\w+)",\s*(ECS_SVC_\w+),\s*ECS_CAT_\w+,\s*([01])\s*\}', body)
    assert rows and body.count('"') == 2 * len(rows), "ecs_ops[] has rows this test cannot read"
    prefix = services_table()
    return {"%s:%s" % (prefix[svc], name): flag == "1" for name, svc, flag in rows}


def policy(name):
    doc = json.loads((IAM / name).read_text())
    assert doc["Version"] == "2012-10-17"
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        assert set(st) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, st
        assert isinstance(st["Action"], list)
        for a in st["Action"]:
            assert a.split(":", 1)[0] in PREFIXES, a
            assert "*" not in a and "?" not in a, a
    return doc


def actions(doc):
    return {a for st in doc["Statement"] for a in st["Action"]}


def test_the_table_lists_the_seventeen_operations():
    ops = ops_table()
    assert len(ops) == 17
    assert {n for n, m in ops.items() if m} == {
        "ecs:UpdateService", "ecs:StopTask", "ecs:UpdateContainerInstancesState",
        "application-autoscaling:RegisterScalableTarget"}
    assert {n for n in ops if not n.startswith("ecs:")} == {
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:RegisterScalableTarget", "logs:GetLogEvents"}


def test_operate_policy_allows_exactly_what_ecsfs_calls():
    doc = policy("iam-policy.json")
    assert actions(doc) == set(ops_table())
    assert all(st["Resource"] == "*" for st in doc["Statement"])


def test_read_only_policy_allows_exactly_the_reads():
    doc = policy("iam-policy-readonly.json")
    ops = ops_table()
    assert actions(doc) == {n for n, m in ops.items() if not m}
    assert not actions(doc) & {n for n, m in ops.items() if m}
    assert "logs:GetLogEvents" in actions(doc)


def test_scoped_policy_uses_ecs_cluster_where_aws_supports_it():
    doc = policy("iam-policy-scoped.json")
    assert actions(doc) == set(ops_table())
    clusters = None
    for st in doc["Statement"]:
        acts = set(st["Action"])
        if "Condition" in st:
            assert st["Resource"] == "*"
            assert set(st["Condition"]) == {"ArnEquals"}
            assert set(st["Condition"]["ArnEquals"]) == {"ecs:cluster"}
            arns = st["Condition"]["ArnEquals"]["ecs:cluster"]
            assert acts <= CLUSTER_KEY_ACTIONS, acts - CLUSTER_KEY_ACTIONS
        elif st["Resource"] == "*":
            # Unscoped: what cannot be scoped, and DescribeClusters, which
            # ecsfs batches over every listed cluster.
            assert acts <= UNSCOPABLE, acts - UNSCOPABLE
            continue
        elif acts == {"application-autoscaling:RegisterScalableTarget"}:
            assert st["Resource"] and all(SCALABLE_TARGET_ARN.match(a) for a in st["Resource"])
            continue
        elif acts == {"logs:GetLogEvents"}:
            assert st["Resource"] and all(LOG_GROUP_ARN.match(a) for a in st["Resource"])
            continue
        else:
            arns = st["Resource"]
            assert acts <= CLUSTER_RESOURCE_ACTIONS, acts - CLUSTER_RESOURCE_ACTIONS
        assert all(CLUSTER_ARN.match(a) for a in arns), arns
        assert clusters in (None, sorted(arns)), "statements name different clusters"
        clusters = sorted(arns)
    assert clusters and len(clusters) >= 2
    # Everything inside a cluster is scoped: nothing but what has no resource
    # to name is allowed on every resource.
    unscoped = {a for st in doc["Statement"]
                if "Condition" not in st and st["Resource"] == "*" for a in st["Action"]}
    assert unscoped == UNSCOPABLE
    # The other services' resources are named in the clusters' region and account.
    region_account = {tuple(a.split(":")[3:5]) for a in clusters}
    for st in doc["Statement"]:
        if isinstance(st["Resource"], list) and "Condition" not in st:
            assert {tuple(a.split(":")[3:5]) for a in st["Resource"]} <= region_account, st


# -- each policy is enough ----------------------------------------------------------

def every_operation():
    """"prefix:Operation" of every operation of the three services' botocore models."""
    import botocore.session
    session = botocore.session.get_session()
    return {"%s:%s" % (p, op) for p in PREFIXES
            for op in session.get_service_model(p).operation_names}


def bare(names):
    return {n.split(":", 1)[1] for n in names}


def browse_and_operate(m, emulator):
    """Reads the whole tree, then tries each kind of write; returns the writes' results."""
    read = m.sh("grep -r . %s > /dev/null" % PROD, check=False)
    st = emulator.state(PROD)
    task = sorted(t for t, v in st["tasks"].items() if v["service"] == "web")[0]
    ci = sorted(st["instances"])[0]
    writes = {
        "UpdateService": "echo +1 > %s/services/api/desired_count" % PROD,
        "UpdateService (restart)": "echo 1 > %s/services/web/restart" % PROD,
        "StopTask": "echo iam-test > %s/tasks/%s/stop" % (PROD, task),
        "UpdateContainerInstancesState": "echo DRAINING > %s/container_instances/%s/status"
                                         % (PROD, ci),
    }
    return read, {k: m.sh(cmd, check=False) for k, cmd in writes.items()}, task


def call_the_other_operations(emulator, task):
    """Each operation of the other services, and the task definitions', through
    the client: {operation: CompletedProcess}."""
    rid = "service/%s/web" % PROD
    return {
        "DescribeTaskDefinition": run(emulator, "describe-task-definition", "web:2"),
        "ListTaskDefinitions": run(emulator, "list-task-definitions", "web"),
        "DescribeScalableTargets": run(emulator, "describe-scalable-targets", PROD + "/web"),
        "DescribeScalingPolicies": run(emulator, "describe-scaling-policies", rid),
        "RegisterScalableTarget": run(emulator, "register-scalable-target", rid, "1", "-"),
        "GetLogEvents": run(emulator, "get-log-events", "/ecs/web", "ecs/web/" + task, "5"),
    }


@pytest.mark.parametrize("name", ["iam-policy.json", "iam-policy-readonly.json"])
def test_the_policy_is_enough_against_the_emulator(emulator, mount_factory, name):
    allowed = actions(policy(name))
    table = set(ops_table())
    assert table <= every_operation()
    # The emulator denies by operation name, whichever service has it.
    denied = sorted(bare(every_operation() - allowed) - bare(allowed))
    emulator.register_target(PROD, "web", min=1, max=4)
    emulator.faults(deny_actions=denied)
    m = mount_factory()
    emulator.reset_calls()
    read, writes, task = browse_and_operate(m, emulator)
    others = call_the_other_operations(emulator, task)
    assert read.returncode == 0, read.stderr
    stats = emulator.call_stats()
    # The session tried every operation of the table, and no other.
    assert set(stats["calls"]) == bare(table)
    refused = {op for op, errs in stats["errors"].items() if "AccessDeniedException" in errs}
    assert refused == bare(table - allowed)
    mutating = bare(n for n, mut in ops_table().items() if mut)
    if name == "iam-policy.json":
        for k, r in writes.items():
            assert r.returncode == 0, (k, r.stderr)
        for k, r in others.items():
            assert r.returncode == 0, (k, r.stderr)
    else:
        for k, r in writes.items():
            assert r.returncode != 0 and "Permission denied" in r.stderr, (k, r.stderr)
        assert m.read(".ecsfs", "journal").count("result=AccessDeniedException") == len(writes)
        for k, r in others.items():
            if k in mutating:
                assert r.returncode == 1 and "access denied: AccessDeniedException" in \
                    r.stderr, (k, r.stderr)
            else:
                assert r.returncode == 0, (k, r.stderr)
