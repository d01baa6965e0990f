"""Tests of what the emulator (tests/ecsim) serves for day-2 operations:
task-definition revisions and deployments of them, Application Auto
Scaling with its simulated scaler, and what all three services share on
the wire (signing names, faults, answers that parse).  CloudWatch Logs and
the simulated containers' output are tested in test_ecsim_logs.py.

They drive it with the real AWS CLI (boto3 or raw signed HTTP for the
refusals), and check the emulator's state and call counts.
"""

import json
import time

import pytest
from botocore.exceptions import ClientError

from helpers.ecsim import AwsCliError, load_model, wait_for
from helpers.ecsim_calls import (AAS, DEV, DIM, ECS, LOGS, PROD, a_task,
    cli_error, error_of, rid, signed, tasks_of, td_name)

pytestmark = pytest.mark.emulator_only


@pytest.fixture(scope="module")
def models():
    m = load_model()
    return {s: m.Model(s) for s in ("ecs", "application-autoscaling",
        "logs")}


# -- the seed --------------------------------------------------------------

def test_seed_revisions_and_log_configuration(emulator):
    listed = emulator.aws("ecs", "list-task-definitions")["taskDefinitionArns"]
    names = [td_name(a) for a in listed]
    assert names == ["api:1", "api:2", "api:3", "api:4", "failing-api:1",
        "web:1", "web:2", "worker:1", "worker:2", "worker:3", "worker:4",
        "worker:5"]
    running = {(c, s): emulator.task_definition(c, s) for c, s in
        ((PROD, "api"), (PROD, "web"), (PROD, "worker"), (DEV, "api"),
        (DEV, "web"))}
    assert running == {(PROD, "api"): "api:3", (PROD, "web"): "web:2",
        (PROD, "worker"): "worker:5", (DEV, "api"): "api:4",
        (DEV, "web"): "web:2"}
    c = emulator.boto3()
    for family in ("api", "web", "worker"):
        td = c.describe_task_definition(taskDefinition=family)[
            "taskDefinition"]
        assert td["status"] == "ACTIVE"
        main = td["containerDefinitions"][0]
        assert main["logConfiguration"] == {"logDriver": "awslogs",
            "options": {"awslogs-group": "/ecs/%s" % family,
            "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
    worker = emulator.aws("ecs", "describe-task-definition",
        "--task-definition", "worker:5")["taskDefinition"]
    sidecar = worker["containerDefinitions"][1]
    assert sidecar["name"] == "metrics" and "logConfiguration" not in sidecar
    # The sidecar takes no CPU: the worker's placement is what it was.
    assert worker["containerDefinitions"][0]["cpu"] == 256
    assert sidecar["cpu"] == 0
    groups = emulator.aws("logs", "describe-log-groups")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/ecs/api",
        "/ecs/failing-api", "/ecs/web", "/ecs/worker"]
    assert emulator.autoscaling()["targets"] == []
    assert emulator.calls() == {"ListTaskDefinitions": 1,
        "DescribeTaskDefinition": 4, "DescribeLogGroups": 1}


# -- task definitions ------------------------------------------------------

def register_api(emulator, image="public.ecr.aws/example/api:3.0.0"):
    spec = emulator.aws("ecs", "describe-task-definition",
        "--task-definition", "api:4")["taskDefinition"]
    containers = spec["containerDefinitions"]
    containers[0]["image"] = image
    out = emulator.aws("ecs", "register-task-definition", "--family", "api",
        "--network-mode", "awsvpc", "--requires-compatibilities", "FARGATE",
        "--cpu", "256", "--memory", "512",
        "--container-definitions", json.dumps(containers))
    return out["taskDefinition"]


def test_register_list_describe_deregister(emulator):
    td = register_api(emulator)
    assert (td["family"], td["revision"], td["status"]) == ("api", 5,
        "ACTIVE")
    assert td["containerDefinitions"][0]["image"] == \
        "public.ecr.aws/example/api:3.0.0"

    emulator.reset_calls()
    asc = emulator.aws("ecs", "list-task-definitions", "--family-prefix",
        "api", "--page-size", "2")["taskDefinitionArns"]
    assert [td_name(a) for a in asc] == ["api:1", "api:2", "api:3",
        "api:4", "api:5"]
    assert emulator.calls() == {"ListTaskDefinitions": 3}
    desc = emulator.aws("ecs", "list-task-definitions", "--family-prefix",
        "api", "--sort", "DESC")["taskDefinitionArns"]
    assert [td_name(a) for a in desc] == ["api:5", "api:4", "api:3",
        "api:2", "api:1"]
    # familyPrefix is the whole family name: "ap" names no family.
    assert emulator.aws("ecs", "list-task-definitions", "--family-prefix",
        "ap")["taskDefinitionArns"] == []

    c = emulator.boto3()
    by_family = c.describe_task_definition(taskDefinition="api")[
        "taskDefinition"]
    assert by_family["revision"] == 5
    arn = by_family["taskDefinitionArn"]
    assert c.describe_task_definition(taskDefinition=arn)[
        "taskDefinition"]["revision"] == 5

    gone = emulator.aws("ecs", "deregister-task-definition",
        "--task-definition", "api:5")["taskDefinition"]
    assert gone["status"] == "INACTIVE" and "deregisteredAt" in gone
    assert c.describe_task_definition(taskDefinition="api")[
        "taskDefinition"]["revision"] == 4
    still = c.describe_task_definition(taskDefinition="api:5")[
        "taskDefinition"]
    assert still["status"] == "INACTIVE"
    inactive = c.list_task_definitions(familyPrefix="api",
        status="INACTIVE")["taskDefinitionArns"]
    assert [td_name(a) for a in inactive] == ["api:5"]
    active = c.list_task_definitions(familyPrefix="api")[
        "taskDefinitionArns"]
    assert td_name(active[-1]) == "api:4"
    assert emulator.calls() == {"ListTaskDefinitions": 7,
        "DescribeTaskDefinition": 4, "DeregisterTaskDefinition": 1}


def test_describe_unknown_revision(emulator):
    emulator.reset_calls()
    with pytest.raises(AwsCliError) as e:
        emulator.aws("ecs", "describe-task-definition", "--task-definition",
            "api:99")
    assert "(ClientException)" in cli_error(e)
    assert cli_error(e).endswith("Unable to describe task definition.")
    c = emulator.boto3()
    refs = ["nosuch", "nosuch:1", "api:x", "api:0", "api:",
        "arn:aws:ecs:us-east-1:999999999999:task-definition/api:1",
        "arn:aws:ecs:us-east-1:123456789012:task-definition/api"]
    for ref in refs:
        with pytest.raises(ClientError) as e:
            c.describe_task_definition(taskDefinition=ref)
        assert error_of(e) == ("ClientException", 400,
            "Unable to describe task definition."), ref
    assert emulator.call_stats()["errors"] == {"DescribeTaskDefinition":
        {"ClientException": 1 + len(refs)}}


def test_list_and_deregister_refusals(emulator):
    with pytest.raises(AwsCliError) as e:
        emulator.aws("ecs", "list-task-definitions", "--max-items", "5",
            "--page-size", "101")
    assert "(InvalidParameterException)" in cli_error(e)
    status, err = signed(emulator, ECS + "ListTaskDefinitions",
        {"nextToken": "bm90IGEgdG9rZW4"}, "ecs")
    assert (status, err["__type"]) == (400, "InvalidParameterException")
    with pytest.raises(AwsCliError) as e:
        emulator.aws("ecs", "deregister-task-definition",
            "--task-definition", "api")
    assert "(InvalidParameterException)" in cli_error(e)
    with pytest.raises(AwsCliError) as e:
        emulator.aws("ecs", "deregister-task-definition",
            "--task-definition", "api:77")
    assert "(ClientException)" in cli_error(e)
    listed = emulator.aws("ecs", "list-task-definitions", "--family-prefix",
        "api")["taskDefinitionArns"]
    assert len(listed) == 4, "nothing was deregistered"


# -- deploying a revision --------------------------------------------------

def test_update_service_deploys_revision(emulator):
    old = set(tasks_of(emulator, PROD, "api"))
    emulator.reset_calls()
    out = emulator.aws("ecs", "update-service", "--cluster", PROD,
        "--service", "api", "--task-definition", "api:4")["service"]
    assert td_name(out["taskDefinition"]) == "api:4"
    primary = out["deployments"][0]
    assert (primary["status"], td_name(primary["taskDefinition"]),
        primary["rolloutState"]) == ("PRIMARY", "api:4", "IN_PROGRESS")
    assert [td_name(d["taskDefinition"]) for d in out["deployments"][1:]] \
        == ["api:3"]
    svc = emulator.wait_steady(PROD, "api")
    assert svc["deployments"][0]["rolloutState"] == "COMPLETED"
    assert emulator.task_definition(PROD, "api") == "api:4"
    tasks = tasks_of(emulator, PROD, "api")
    assert len(tasks) == 3 and not set(tasks) & old
    assert {td_name(t["taskDefinition"]) for t in tasks.values()} == \
        {"api:4"}
    assert emulator.calls() == {"UpdateService": 1}

    # A bare family deploys its latest ACTIVE revision.
    register_api(emulator)
    emulator.aws("ecs", "update-service", "--cluster", PROD, "--service",
        "api", "--task-definition", "api")
    emulator.wait_steady(PROD, "api")
    assert emulator.task_definition(PROD, "api") == "api:5"


def test_update_service_refuses_bad_revisions(emulator):
    register_api(emulator)
    emulator.aws("ecs", "deregister-task-definition", "--task-definition",
        "api:5")
    before = emulator.service(PROD, "api")
    emulator.reset_calls()
    cases = [("api:99", "(ClientException)", "TaskDefinition not found."),
        ("nosuch", "(ClientException)", "TaskDefinition not found."),
        ("api:5", "(InvalidParameterException)", "TaskDefinition is "
            "inactive")]
    for ref, code, message in cases:
        with pytest.raises(AwsCliError) as e:
            emulator.aws("ecs", "update-service", "--cluster", PROD,
                "--service", "api", "--task-definition", ref)
        assert code in cli_error(e) and cli_error(e).endswith(message)
    after = emulator.service(PROD, "api")
    assert after["taskDefinition"] == before["taskDefinition"]
    assert [d["id"] for d in after["deployments"]] == \
        [d["id"] for d in before["deployments"]]
    assert emulator.call_stats()["errors"] == {"UpdateService": {
        "ClientException": 2, "InvalidParameterException": 1}}


def test_failing_revision_rolls_back(emulator):
    bad = register_api(emulator, "public.ecr.aws/example/api:crashloop")
    assert bad["revision"] == 5
    old = set(tasks_of(emulator, PROD, "api"))
    emulator.aws("ecs", "update-service", "--cluster", PROD, "--service",
        "api", "--task-definition", "api:5")

    def rolled_back():
        s = emulator.service(PROD, "api")
        failed = [d for d in s["deployments"] if d["rolloutState"] ==
            "FAILED"]
        if failed and s["deployments"][0]["rolloutState"] == "COMPLETED" \
            and s["running"] == 3:
            return s
        return None
    svc = wait_for(rolled_back, 30, what="circuit-breaker rollback")
    primary, failed = svc["deployments"]
    assert td_name(primary["taskDefinition"]) == "api:3"
    assert td_name(failed["taskDefinition"]) == "api:5"
    assert failed["failed"] >= 3 and failed["running"] == 0
    assert td_name(svc["taskDefinition"]) == "api:3"
    assert set(tasks_of(emulator, PROD, "api")) == old

    described = emulator.aws("ecs", "describe-services", "--cluster", PROD,
        "--services", "api")["services"][0]
    messages = [e["message"] for e in described["events"]]
    assert "(service api) (deployment %s) deployment failed: tasks failed "\
        "to start." % failed["id"] in messages
    # The crashed containers said so in their log streams.
    crashed = [tid for tid, t in emulator.state(PROD)["tasks"].items()
        if t["taskDefinition"].endswith("/api:5") and
        t["lastStatus"] == "STOPPED"]
    assert crashed
    events = emulator.aws("logs", "get-log-events", "--log-group-name",
        "/ecs/api", "--log-stream-name", "ecs/api/" + crashed[0])["events"]
    assert [e["message"] for e in events] == ["api: fatal error: public.ecr."
        "aws/example/api:crashloop exited with code 1"]


# -- Application Auto Scaling ----------------------------------------------

def aas(emulator, *args):
    return emulator.aws("application-autoscaling", *args)


def test_scalable_target_register_describe_update(emulator):
    emulator.reset_calls()
    aas(emulator, "register-scalable-target", "--service-namespace",
        "ecs", "--resource-id", rid(DEV, "api"), "--scalable-dimension",
        DIM, "--min-capacity", "1", "--max-capacity", "4")
    # The CLI's model predates ScalableTargetARN and drops it; the answer
    # carries it (test_answers_parse_as_the_models_say).
    arn = emulator.target(DEV, "api")["ScalableTargetARN"]
    assert arn.startswith("arn:aws:application-autoscaling:us-east-1:"
        "123456789012:scalable-target/")
    aas(emulator, "register-scalable-target", "--service-namespace", "ecs",
        "--resource-id", rid(PROD, "web"), "--scalable-dimension", DIM,
        "--min-capacity", "2", "--max-capacity", "10")
    targets = aas(emulator, "describe-scalable-targets",
        "--service-namespace", "ecs")["ScalableTargets"]
    assert [t["ResourceId"] for t in targets] == [rid(DEV, "api"),
        rid(PROD, "web")]
    t = targets[0]
    assert (t["MinCapacity"], t["MaxCapacity"], t["ScalableDimension"]) == \
        (1, 4, DIM)
    assert t["SuspendedState"] == {"DynamicScalingInSuspended": False,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False}
    assert t["RoleARN"].endswith(
        "/AWSServiceRoleForApplicationAutoScaling_ECSService")

    # A partial update keeps what it does not name.
    aas(emulator, "register-scalable-target", "--service-namespace", "ecs",
        "--resource-id", rid(DEV, "api"), "--scalable-dimension", DIM,
        "--min-capacity", "0")
    aas(emulator, "register-scalable-target", "--service-namespace", "ecs",
        "--resource-id", rid(DEV, "api"), "--scalable-dimension", DIM,
        "--suspended-state", "DynamicScalingInSuspended=true")
    c = emulator.client("application-autoscaling")
    one = c.describe_scalable_targets(ServiceNamespace="ecs",
        ResourceIds=[rid(DEV, "api")])["ScalableTargets"]
    assert len(one) == 1
    assert (one[0]["MinCapacity"], one[0]["MaxCapacity"]) == (0, 4)
    assert one[0]["SuspendedState"] == {"DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False}
    c.register_scalable_target(ServiceNamespace="ecs", ResourceId=rid(DEV,
        "api"), ScalableDimension=DIM, MaxCapacity=5)
    assert emulator.target(DEV, "api")["ScalableTargetARN"] == arn
    assert emulator.target(DEV, "api")["MaxCapacity"] == 5
    assert c.describe_scalable_targets(ServiceNamespace="ecs",
        ScalableDimension="dynamodb:table:ReadCapacityUnits")[
        "ScalableTargets"] == []
    assert c.describe_scalable_targets(ServiceNamespace="dynamodb")[
        "ScalableTargets"] == []
    assert emulator.calls() == {"RegisterScalableTarget": 5,
        "DescribeScalableTargets": 4}

    aas(emulator, "deregister-scalable-target", "--service-namespace", "ecs",
        "--resource-id", rid(PROD, "web"), "--scalable-dimension", DIM)
    assert [t["ResourceId"] for t in emulator.autoscaling()["targets"]] == \
        [rid(DEV, "api")]


def test_register_scalable_target_refusals(emulator):
    emulator.reset_calls()
    with pytest.raises(AwsCliError) as e:
        aas(emulator, "register-scalable-target", "--service-namespace",
            "ecs", "--scalable-dimension", DIM, "--resource-id",
            "service/%s/nosuch" % DEV, "--min-capacity", "1",
            "--max-capacity", "2")
    assert cli_error(e).endswith("(ValidationException) when calling the "
        "RegisterScalableTarget operation: ECS service doesn't exist: "
        "service/%s/nosuch" % DEV)
    c = emulator.client("application-autoscaling")
    cases = [
        ({"ResourceId": "service/nosuch/api", "MinCapacity": 1,
            "MaxCapacity": 2}, "ValidationException",
            "ECS service doesn't exist: service/nosuch/api"),
        ({"ResourceId": rid(DEV, "api"), "MinCapacity": 3,
            "MaxCapacity": 2}, "ValidationException",
            "Minimum capacity cannot be greater than maximum capacity"),
        ({"ResourceId": rid(DEV, "api"), "MinCapacity": 1},
            "ValidationException", "MinCapacity and MaxCapacity are "
            "required to register a new scalable target"),
        ({"ResourceId": rid(DEV, "api"), "MinCapacity": -1,
            "MaxCapacity": 2}, "ValidationException",
            "MinCapacity must be greater than or equal to 0"),
        ({"ResourceId": "cluster/%s" % DEV, "MinCapacity": 1,
            "MaxCapacity": 2}, "ValidationException",
            "Unsupported resource ID: cluster/%s. The resource ID of an "
            "ECS service is service/CLUSTER/SERVICE." % DEV),
        ({"ResourceId": rid(DEV, "api"), "MinCapacity": 1, "MaxCapacity": 2,
            "ScalableDimension": "ecs:service:CPU"},
            "ValidationException", "enum value set"),
    ]
    for extra, code, message in cases:
        params = {"ServiceNamespace": "ecs", "ScalableDimension": DIM}
        params.update(extra)
        with pytest.raises(ClientError) as e:
            c.register_scalable_target(**params)
        got = error_of(e)
        assert got[:2] == (code, 400) and message in got[2], extra
    assert emulator.autoscaling()["targets"] == []
    assert emulator.call_stats()["errors"] == {"RegisterScalableTarget":
        {"ValidationException": 1 + len(cases)}}


def test_scaling_policies_and_not_found(emulator):
    c = emulator.client("application-autoscaling")
    key = {"ServiceNamespace": "ecs", "ResourceId": rid(DEV, "api"),
        "ScalableDimension": DIM}
    tracking = {"TargetValue": 60.0, "PredefinedMetricSpecification": {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}
    with pytest.raises(ClientError) as e:
        c.put_scaling_policy(PolicyName="cpu", PolicyType=
            "TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=tracking, **key)
    assert error_of(e)[0] == "ObjectNotFoundException"
    emulator.register_target(DEV, "api", 1, 4)
    for kind, extra, message in [("TargetTrackingScaling", {},
        "TargetTrackingScalingPolicyConfiguration is required"),
        ("TargetTrackingScaling", {"TargetTrackingScalingPolicyConfiguration":
        {"TargetValue": 1.0}}, "PredefinedMetricSpecification or "
        "CustomizedMetricSpecification"),
        ("StepScaling", {}, "StepScalingPolicyConfiguration is required")]:
        with pytest.raises(ClientError) as e:
            c.put_scaling_policy(PolicyName="bad", PolicyType=kind,
                **extra, **key)
        assert error_of(e)[0] == "ValidationException"
        assert message in error_of(e)[2]
    tt = aas(emulator, "put-scaling-policy", "--service-namespace", "ecs",
        "--resource-id", rid(DEV, "api"), "--scalable-dimension", DIM,
        "--policy-name", "cpu60", "--policy-type", "TargetTrackingScaling",
        "--target-tracking-scaling-policy-configuration", json.dumps({
        "TargetValue": 60.0, "PredefinedMetricSpecification": {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}))
    assert ":policyName/cpu60" in tt["PolicyARN"]
    assert len(tt["Alarms"]) == 2
    aas(emulator, "put-scaling-policy", "--service-namespace", "ecs",
        "--resource-id", rid(DEV, "api"), "--scalable-dimension", DIM,
        "--policy-name", "step-up", "--policy-type", "StepScaling",
        "--step-scaling-policy-configuration", json.dumps({
        "AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
        {"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}]}))
    emulator.reset_calls()
    pols = aas(emulator, "describe-scaling-policies", "--service-namespace",
        "ecs", "--resource-id", rid(DEV, "api"))["ScalingPolicies"]
    assert [(p["PolicyName"], p["PolicyType"]) for p in pols] == [
        ("cpu60", "TargetTrackingScaling"), ("step-up", "StepScaling")]
    assert pols[0]["TargetTrackingScalingPolicyConfiguration"][
        "TargetValue"] == 60.0
    paged = aas(emulator, "describe-scaling-policies", "--service-namespace",
        "ecs", "--page-size", "1")["ScalingPolicies"]
    assert [p["PolicyName"] for p in paged] == ["cpu60", "step-up"]
    named = c.describe_scaling_policies(ServiceNamespace="ecs",
        PolicyNames=["step-up"])["ScalingPolicies"]
    assert [p["PolicyName"] for p in named] == ["step-up"]
    assert emulator.calls() == {"DescribeScalingPolicies": 4}
    with pytest.raises(ClientError) as e:
        c.describe_scaling_policies(ServiceNamespace="ecs", MaxResults=51)
    assert error_of(e)[0] == "ValidationException"

    aas(emulator, "delete-scaling-policy", "--service-namespace", "ecs",
        "--resource-id", rid(DEV, "api"), "--scalable-dimension", DIM,
        "--policy-name", "cpu60")
    with pytest.raises(ClientError) as e:
        c.delete_scaling_policy(PolicyName="cpu60", **key)
    assert error_of(e)[0] == "ObjectNotFoundException"
    assert [p["PolicyName"] for p in emulator.autoscaling()["policies"]] == \
        ["step-up"]
    aas(emulator, "deregister-scalable-target", "--service-namespace", "ecs",
        "--resource-id", rid(DEV, "api"), "--scalable-dimension", DIM)
    assert emulator.autoscaling()["policies"] == []
    with pytest.raises(AwsCliError) as e:
        aas(emulator, "deregister-scalable-target", "--service-namespace",
            "ecs", "--resource-id", rid(DEV, "api"), "--scalable-dimension",
            DIM)
    assert cli_error(e).endswith("No scalable target registered for "
        "service namespace: ecs, resource ID: %s, scalable dimension: %s" %
        (rid(DEV, "api"), DIM))


def test_describe_scalable_targets_pages_of_50(emulator):
    emulator.bulk_services(cluster="big", count=60, desired_count=0)
    for i in range(60):
        emulator.register_target("big", "svc-%04d" % i, 0, 2)
    emulator.register_target(DEV, "api", 1, 2)
    emulator.reset_calls()
    targets = aas(emulator, "describe-scalable-targets",
        "--service-namespace", "ecs")["ScalableTargets"]
    assert len(targets) == 61
    assert emulator.calls() == {"DescribeScalableTargets": 2}
    with pytest.raises(AwsCliError) as e:
        aas(emulator, "describe-scalable-targets", "--service-namespace",
            "ecs", "--max-items", "5", "--page-size", "51")
    assert "(ValidationException)" in cli_error(e)
    status, err = signed(emulator, AAS + "DescribeScalableTargets",
        {"ServiceNamespace": "ecs", "NextToken": "bm90IGEgdG9rZW4"},
        "application-autoscaling")
    assert (status, err["__type"]) == (400, "InvalidNextTokenException")
    ids = [rid("big", "svc-%04d" % i) for i in range(51)]
    status, err = signed(emulator, AAS + "DescribeScalableTargets",
        {"ServiceNamespace": "ecs", "ResourceIds": ids},
        "application-autoscaling")
    assert (status, err["__type"]) == (400, "ValidationException")
    status, out = signed(emulator, AAS + "DescribeScalableTargets",
        {"ServiceNamespace": "ecs", "ResourceIds": ids[:50]},
        "application-autoscaling")
    assert status == 200 and len(out["ScalableTargets"]) == 50
    assert "NextToken" not in out


@pytest.mark.emulator(scaler_interval=0.2)
def test_scaler_undoes_scale_to_zero(emulator):
    emulator.register_target(DEV, "api", 1, 3)
    emulator.reset_calls()
    emulator.aws("ecs", "update-service", "--cluster", DEV, "--service",
        "api", "--desired-count", "0")
    wait_for(lambda: emulator.autoscaling()["moves"] == 1, 20,
        what="the scaler's move")
    svc = emulator.wait_steady(DEV, "api", timeout=30)
    assert (svc["desired"], svc["running"]) == (1, 1)
    act = emulator.aws("application-autoscaling",
        "describe-scaling-activities", "--service-namespace", "ecs",
        "--resource-id", rid(DEV, "api"))["ScalingActivities"]
    assert act[0]["Description"] == "Setting desired count to 1."
    assert act[0]["StatusCode"] == "Successful"
    # The scaler is no API client: only the calls made here are counted.
    assert emulator.calls() == {"UpdateService": 1,
        "DescribeScalingActivities": 1}

    # Above the maximum it scales in.
    emulator.aws("ecs", "update-service", "--cluster", DEV, "--service",
        "api", "--desired-count", "7")
    wait_for(lambda: emulator.service(DEV, "api")["desired"] == 3, 20,
        what="scale-in to the maximum")


@pytest.mark.emulator(scaler_interval=0.2)
def test_scaler_leaves_a_suspended_target_alone(emulator):
    emulator.register_target(DEV, "api", 1, 3, suspended=True)
    emulator.aws("ecs", "update-service", "--cluster", DEV, "--service",
        "api", "--desired-count", "0")
    emulator.wait_scaler_runs(5)
    assert emulator.service(DEV, "api")["desired"] == 0
    assert emulator.autoscaling()["moves"] == 0
    # Lowering the minimum instead works too: resume with min 0.
    emulator.register_target(DEV, "api", min=0, suspended=False)
    emulator.wait_scaler_runs(5)
    assert emulator.service(DEV, "api")["desired"] == 0
    # And resuming with min 1 brings it back.
    emulator.register_target(DEV, "api", min=1)
    wait_for(lambda: emulator.service(DEV, "api")["desired"] == 1, 20,
        what="scale-out to the minimum")


@pytest.mark.emulator(scaler_interval=0)
def test_scaler_interval_zero_means_off(emulator):
    emulator.register_target(DEV, "api", 2, 3)
    time.sleep(1.0)
    assert emulator.autoscaling()["runs"] == 0
    assert emulator.service(DEV, "api")["desired"] == 1
    emulator.set_scaler_interval(0.2)
    wait_for(lambda: emulator.service(DEV, "api")["desired"] == 2, 20,
        what="the scaler, once on")


# -- the wire: signing, faults, endpoints, shapes ---------------------------

@pytest.mark.parametrize("target, body, wrong, right", [
    (AAS + "DescribeScalableTargets", {"ServiceNamespace": "ecs"}, "ecs",
        "application-autoscaling"),
    (LOGS + "DescribeLogGroups", {}, "ecs", "logs"),
    (ECS + "ListClusters", {}, "logs", "ecs"),
])
def test_requests_must_be_signed_for_their_service(emulator, target, body,
    wrong, right):
    action = target.split(".", 1)[1]
    status, err = signed(emulator, target, body, wrong)
    assert status == 403
    assert err["__type"].endswith("#InvalidSignatureException")
    assert err["message"] == "Credential should be scoped to correct " \
        "service: '%s'. " % right
    status, ok = signed(emulator, target, body, right)
    assert status == 200
    stats = emulator.call_stats()
    assert stats["calls"] == {action: 2}
    assert stats["errors"] == {action: {"InvalidSignatureException": 1}}


def test_faults_apply_to_the_new_services(emulator):
    emulator.faults(deny_actions=["GetLogEvents"])
    status, err = signed(emulator, LOGS + "GetLogEvents", {"logGroupName":
        "/ecs/api", "logStreamName": "x"}, "logs")
    assert (status, err["__type"]) == (403, "AccessDeniedException")
    assert "perform: logs:GetLogEvents on resource: arn:aws:logs:" \
        "us-east-1:123456789012:log-group:*" in err["message"]

    emulator.faults(throttle_probability=1.0,
        actions=["DescribeScalableTargets"])
    status, err = signed(emulator, AAS + "DescribeScalableTargets",
        {"ServiceNamespace": "ecs"}, "application-autoscaling")
    assert (status, err["__type"]) == (400,
        "com.amazon.coral.availability#ThrottlingException")
    status, _ = signed(emulator, ECS + "ListTaskDefinitions", {}, "ecs")
    assert status == 200, "faults are limited to the actions named"

    emulator.faults(error_5xx_probability=1.0, actions=["PutLogEvents"])
    status, err = signed(emulator, LOGS + "PutLogEvents", {"logGroupName":
        "/ecs/api", "logStreamName": "x", "logEvents": [{"timestamp": 1,
        "message": "m"}]}, "logs")
    assert status in (500, 503)

    emulator.faults(throttle_buckets=True, buckets={"logs_read": [3, 0.01]})
    answers = [signed(emulator, LOGS + "DescribeLogGroups", {}, "logs")[0]
        for _ in range(5)]
    assert answers == [200, 200, 200, 400, 400]

    emulator.faults(latency_ms=300, actions=["DescribeTaskDefinition"])
    t0 = time.monotonic()
    status, _ = signed(emulator, ECS + "DescribeTaskDefinition",
        {"taskDefinition": "api"}, "ecs")
    assert status == 200 and time.monotonic() - t0 >= 0.3
    emulator.faults()
    stats = emulator.call_stats()
    assert stats["throttled"] == {"DescribeScalableTargets": 1,
        "DescribeLogGroups": 2}
    assert stats["calls"]["DescribeLogGroups"] == 5


def test_unknown_target_prefix_is_not_served(emulator):
    status, err = signed(emulator, "AmazonSQS.ListQueues", {}, "sqs")
    assert status == 400
    assert err["__type"] == \
        "com.amazon.coral.service#UnknownOperationException"
    status, err = signed(emulator, LOGS + "DeleteLogGroup",
        {"logGroupName": "/ecs/api"}, "logs")
    assert (status, err["__type"]) == (400, "InvalidParameterException")
    assert "not implemented" in err["message"]
    assert emulator.calls() == {"DeleteLogGroup": 1}


def test_answers_parse_as_the_models_say(emulator, models):
    register_api(emulator)
    emulator.register_target(DEV, "api", 1, 2)
    emulator.aws("application-autoscaling", "put-scaling-policy",
        "--service-namespace", "ecs", "--resource-id", rid(DEV, "api"),
        "--scalable-dimension", DIM, "--policy-name", "cpu",
        "--policy-type", "TargetTrackingScaling",
        "--target-tracking-scaling-policy-configuration", json.dumps({
        "TargetValue": 50.0, "PredefinedMetricSpecification": {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}))
    emulator.put_log_events("/ecs/api", "manual", ["hello"])
    tid = a_task(emulator, DEV, "api")
    requests = [
        ("ecs", ECS, "ListTaskDefinitions", {"maxResults": 2}),
        ("ecs", ECS, "DescribeTaskDefinition", {"taskDefinition": "api",
            "include": ["TAGS"]}),
        ("ecs", ECS, "DeregisterTaskDefinition", {"taskDefinition":
            "api:5"}),
        ("application-autoscaling", AAS, "DescribeScalableTargets",
            {"ServiceNamespace": "ecs"}),
        ("application-autoscaling", AAS, "DescribeScalingPolicies",
            {"ServiceNamespace": "ecs"}),
        ("application-autoscaling", AAS, "RegisterScalableTarget",
            {"ServiceNamespace": "ecs", "ResourceId": rid(DEV, "api"),
            "ScalableDimension": DIM, "MaxCapacity": 3}),
        ("logs", LOGS, "DescribeLogGroups", {}),
        ("logs", LOGS, "DescribeLogStreams", {"logGroupName": "/ecs/api"}),
        ("logs", LOGS, "GetLogEvents", {"logGroupName": "/ecs/api",
            "logStreamName": emulator.log_stream(tid, "api")}),
        ("logs", LOGS, "PutLogEvents", {"logGroupName": "/ecs/api",
            "logStreamName": "manual", "logEvents": [{"timestamp":
            int(time.time() * 1000), "message": "m"}]}),
    ]
    for service, prefix, op, body in requests:
        status, out = signed(emulator, prefix + op, body, service)
        assert status == 200, (op, out)
        # Application Auto Scaling answers ScalableTargetARN, which
        # Debian's botocore model does not list yet.
        if op == "RegisterScalableTarget":
            assert out.pop("ScalableTargetARN").startswith("arn:aws:")
        for t in out.get("ScalableTargets", []):
            t.pop("ScalableTargetARN")
        assert models[service].validate_output(op, out) == [], op
