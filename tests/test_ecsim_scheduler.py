"""Tests of the ECS emulator's simulated scheduler (tests/ecsim): the task
lifecycle as services scale, deployments, the deployment circuit breaker,
draining container instances, and placement on EC2 instances.

Time runs 20x (or faster) so the whole file stays quick.
"""

import json
import time

import botocore.exceptions
import pytest

from helpers.ecsim import wait_for
from helpers.ecsim_calls import DEV, PROD, describe, error_of

pytestmark = pytest.mark.emulator_only


def test_scale_up_and_down_converges(emulator):
    c = emulator.boto3()
    c.update_service(cluster=DEV, service="api", desiredCount=4)
    seen = set()

    def converged():
        tasks = emulator.state(DEV)["tasks"]
        seen.update(t["lastStatus"] for t in tasks.values())
        svc = describe(c, DEV, "api")
        return svc["runningCount"] == 4 and svc["pendingCount"] == 0
    wait_for(converged, 10, interval=0.005, what="api at 4")
    assert {"PROVISIONING", "PENDING"} & seen
    svc = describe(c, DEV, "api")
    assert svc["events"][0]["message"] == \
        "(service api) has reached a steady state."
    assert any(e["message"].startswith("(service api) has started 3 tasks")
        for e in svc["events"])
    stamps = [e["createdAt"] for e in svc["events"]]
    assert stamps == sorted(stamps, reverse=True)
    cl = c.describe_clusters(clusters=[DEV])["clusters"][0]
    assert (cl["runningTasksCount"], cl["pendingTasksCount"]) == (5, 0)

    c.update_service(cluster=DEV, service="api", desiredCount=0)
    wait_for(lambda: describe(c, DEV, "api")["runningCount"] == 0, 10,
        what="api at 0")
    assert c.list_tasks(cluster=DEV, serviceName="api")["taskArns"] == []
    stopped = c.list_tasks(cluster=DEV, serviceName="api",
        desiredStatus="STOPPED")["taskArns"]
    assert len(stopped) == 4

    def all_stopped():
        ts = c.describe_tasks(cluster=DEV, tasks=stopped)["tasks"]
        return ts if all(t["lastStatus"] == "STOPPED" for t in ts) else None
    for t in wait_for(all_stopped, 10):
        assert t["stopCode"] == "ServiceSchedulerInitiated"
        assert t["stoppedAt"] >= t["stoppingAt"] >= t["createdAt"]
        assert t["stoppedReason"].startswith("Scaling activity")


def test_force_new_deployment_replaces_tasks(emulator):
    assert emulator.time_scale(50)["scale"] == 50
    c = emulator.boto3()
    old = set(c.list_tasks(cluster=PROD, serviceName="api")["taskArns"])
    out = c.update_service(cluster=PROD, service="api",
        forceNewDeployment=True)["service"]
    deps = out["deployments"]
    assert [(d["status"], d["rolloutState"]) for d in deps] == \
        [("PRIMARY", "IN_PROGRESS"), ("ACTIVE", "COMPLETED")]
    new_id = deps[0]["id"]

    def done():
        svc = describe(c, PROD, "api")
        d = svc["deployments"]
        return svc if len(d) == 1 and d[0]["rolloutState"] == "COMPLETED" \
            and svc["runningCount"] == 3 else None
    svc = wait_for(done, 10, what="new deployment completed")
    assert svc["deployments"][0]["id"] == new_id
    new = set(c.list_tasks(cluster=PROD, serviceName="api")["taskArns"])
    assert len(new) == 3 and not (new & old)
    for t in c.describe_tasks(cluster=PROD, tasks=list(new))["tasks"]:
        assert t["startedBy"] == new_id and t["lastStatus"] == "RUNNING"
    messages = [e["message"] for e in svc["events"]]
    assert "(service api) (deployment %s) deployment completed." % new_id \
        in messages
    assert messages[0] == "(service api) has reached a steady state."


def test_circuit_breaker_rollback(emulator):
    c = emulator.boto3()
    before = describe(c, PROD, "api")["taskDefinition"]
    old_tasks = set(c.list_tasks(cluster=PROD, serviceName="api")["taskArns"])
    c.update_service(cluster=PROD, service="api",
        taskDefinition="failing-api")

    def rolled_back():
        svc = describe(c, PROD, "api")
        failed = [d for d in svc["deployments"]
            if d["rolloutState"] == "FAILED"]
        primary = svc["deployments"][0]
        if failed and primary["rolloutState"] == "COMPLETED" and \
            svc["runningCount"] == 3:
            return svc
        return None
    svc = wait_for(rolled_back, 15, what="rollback")
    primary, failed = svc["deployments"]
    assert (failed["status"], failed["rolloutState"]) == ("ACTIVE", "FAILED")
    assert failed["taskDefinition"].endswith("/failing-api:1")
    assert failed["failedTasks"] >= 3 and failed["runningCount"] == 0
    assert svc["taskDefinition"] == before == primary["taskDefinition"]
    assert set(c.list_tasks(cluster=PROD, serviceName="api")["taskArns"]) \
        == old_tasks, "the old tasks kept running through the failure"
    messages = [e["message"] for e in svc["events"]]
    assert "(service api) (deployment %s) deployment failed: tasks failed "\
        "to start." % failed["id"] in messages
    assert "(service api) rolling back to deployment %s." % primary["id"] \
        in messages
    stopped = c.list_tasks(cluster=PROD, serviceName="api",
        desiredStatus="STOPPED")["taskArns"]
    t = c.describe_tasks(cluster=PROD, tasks=stopped[:1])["tasks"][0]
    assert t["stopCode"] == "EssentialContainerExited"
    assert t["containers"][0]["exitCode"] == 1


def test_circuit_breaker_without_rollback(emulator):
    c = emulator.boto3()
    c.register_task_definition(family="web-broken", networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "web", "image": "nginx",
            "environment": [{"name": "ECSIM_FAIL", "value": "1"}]}])
    c.update_service(cluster=DEV, service="web",
        taskDefinition="web-broken:1", deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": False}})

    def failed():
        svc = describe(c, DEV, "web")
        return svc if svc["deployments"][0]["rolloutState"] == "FAILED" \
            else None
    svc = wait_for(failed, 15, what="deployment FAILED")
    primary, old = svc["deployments"]
    assert primary["status"] == "PRIMARY"
    assert svc["taskDefinition"].endswith("/web-broken:1")
    assert (old["status"], old["runningCount"]) == ("ACTIVE", 1)
    time.sleep(0.3)
    assert describe(c, DEV, "web")["deployments"][0]["failedTasks"] == \
        primary["failedTasks"], "a FAILED deployment launches no more tasks"


def test_drain_moves_tasks(emulator):
    c = emulator.boto3()
    arns = c.list_container_instances(cluster=PROD)["containerInstanceArns"]
    insts = c.describe_container_instances(cluster=PROD,
        containerInstances=arns)["containerInstances"]
    assert len(insts) == 3
    assert all(i["ec2InstanceId"].startswith("i-0abc") for i in insts)
    assert sum(i["runningTasksCount"] for i in insts) == 5
    busy = max(insts, key=lambda i: i["runningTasksCount"])
    on_it = set(c.list_tasks(cluster=PROD,
        containerInstance=busy["containerInstanceArn"])["taskArns"])
    assert len(on_it) == busy["runningTasksCount"] == 2

    c.update_container_instances_state(cluster=PROD,
        containerInstances=[busy["containerInstanceArn"]], status="DRAINING")

    def drained():
        i = c.describe_container_instances(cluster=PROD, containerInstances=[
            busy["containerInstanceArn"]])["containerInstances"][0]
        svc = describe(c, PROD, "worker")
        return i["runningTasksCount"] == 0 and svc["runningCount"] == 5 \
            and svc["pendingCount"] == 0
    wait_for(drained, 10, what="instance drained")
    assert c.list_tasks(cluster=PROD, containerInstance=busy[
        "containerInstanceArn"])["taskArns"] == []
    now_tasks = c.describe_tasks(cluster=PROD, tasks=c.list_tasks(
        cluster=PROD, serviceName="worker")["taskArns"])["tasks"]
    assert len(now_tasks) == 5
    assert all(t["containerInstanceArn"] != busy["containerInstanceArn"]
        for t in now_tasks)
    assert not (on_it & {t["taskArn"] for t in now_tasks})
    assert emulator.state(PROD)["instances"][busy["containerInstanceArn"]
        .rsplit("/", 1)[1]]["status"] == "DRAINING"


def test_ec2_placement_run_task_and_instances(emulator):
    c = emulator.boto3()
    c.create_cluster(clusterName="ec2-cluster")
    td = c.register_task_definition(family="batch", containerDefinitions=[
        {"name": "batch", "image": "busybox", "cpu": 1024,
        "memory": 1024}])["taskDefinition"]
    assert td["revision"] == 1
    out = c.run_task(cluster="ec2-cluster", taskDefinition="batch")
    assert out["tasks"] == [] and out["failures"]
    c.create_service(cluster="ec2-cluster", serviceName="batch",
        taskDefinition="batch", desiredCount=3, launchType="EC2")
    wait_for(lambda: any("unable to place a task" in e["message"]
        for e in describe(c, "ec2-cluster", "batch")["events"]), 10,
        what="placement failure event")
    for n in range(2):
        c.register_container_instance(cluster="ec2-cluster",
            instanceIdentityDocument=json.dumps({"instanceId":
                "i-0fff00000000000%02d" % n}))
    wait_for(lambda: describe(c, "ec2-cluster", "batch")["runningCount"]
        == 3, 10, what="batch placed")
    insts = c.describe_container_instances(cluster="ec2-cluster",
        containerInstances=c.list_container_instances(cluster="ec2-cluster")
        ["containerInstanceArns"])["containerInstances"]
    assert sorted(i["runningTasksCount"] for i in insts) == [1, 2]
    cpu = {i["ec2InstanceId"]: [r["integerValue"] for r in
        i["remainingResources"] if r["name"] == "CPU"][0] for i in insts}
    assert sorted(cpu.values()) == [0, 1024]
    out = c.run_task(cluster="ec2-cluster", taskDefinition="batch:1")
    assert len(out["tasks"]) == 1 and out["failures"] == []
    assert out["tasks"][0]["containerInstanceArn"]
    assert out["tasks"][0]["group"] == "family:batch"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.deregister_container_instance(cluster="ec2-cluster",
            containerInstance=insts[0]["containerInstanceArn"])
    assert error_of(e)[0] == "InvalidParameterException"
