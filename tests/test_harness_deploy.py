"""Deploying and rolling back revisions with the lifecycle pipeline
(examples/harness/ecs-lifecycle-management.yaml, actions deploy and
rollback), run by helpers/harness.py in both modes as a delegate runs it.

A revision is checked in VALIDATE by the deploy or rollback write made on a
dry-run mount (`ecsfs_begin check`): a revision ECS does not have, or has
INACTIVE, fails there with nothing changed. The results are checked in the
revisions the emulator's services and tasks run and in its call counts;
test_harness.py runs both actions with dry_run true and false too.
"""
import re

import pytest

from helpers.harness_fixtures import DEV, LIFECYCLE, PROD, mutating_calls, snapshot


def td_arn(emulator, name):
    return "arn:aws:ecs:%s:123456789012:task-definition/%s" % (emulator.region, name)


def rollback_refused(harness, cluster, running, dry_run):
    """Runs a rollback of web, which runs the oldest ACTIVE revision: it
    fails VALIDATE and says so. Returns the execution."""
    ex = harness(LIFECYCLE, action="rollback", dry_run=dry_run, cluster_name=cluster,
                 service_names="web")
    assert ex.status == "Failed"
    assert "VALIDATE: service web has no ACTIVE revision older than %s to roll back to" % \
        running in ex.step("VALIDATE", "validate").stderr, ex.report()
    return ex


def running_revision(emulator, cluster, service):
    return emulator.state(cluster)["services"][service]["taskDefinition"].rsplit("/", 1)[1]


@pytest.mark.parametrize("given, deployed", [("api:2", "api:2"), ("api", "api:4"),
                                             ("arn", "api:1")], ids=["family:revision",
                                                                     "family", "arn"])
def test_deploy_takes_a_revision_a_family_or_an_arn(harness, emulator, given, deployed):
    if given == "arn":
        given = td_arn(emulator, "api:1")
        assert emulator.aws("ecs", "describe-task-definition", "--task-definition",
                            given)["taskDefinition"]["taskDefinitionArn"] == given
    emulator.reset_calls()
    ex = harness(LIFECYCLE, action="deploy", dry_run="false", cluster_name=PROD,
                 service_names="api", task_definition=given)
    assert ex.status == "Success", ex.report()
    assert ex.output("VALIDATE", "validate", "PLAN") == "api api:3 -> %s" % deployed
    assert ex.output("EXECUTE", "execute", "REVISIONS") == "api=%s" % deployed
    assert mutating_calls(emulator) == {"UpdateService": 1}
    assert running_revision(emulator, PROD, "api") == deployed
    assert emulator.state(PROD)["services"]["api"]["steady"]
    assert ex.output("SUMMARY", "summary", "RESULT") == "succeeded"
    assert "task_definition=%s" % deployed in ex.step("SUMMARY", "summary").stdout


def test_deploy_then_rollback_returns_to_the_revision_before(harness, emulator):
    ex = harness(LIFECYCLE, action="deploy", dry_run="false", cluster_name=DEV,
                 service_names="api,web", task_definition="web:1")
    assert ex.status == "Success", ex.report()
    assert running_revision(emulator, DEV, "web") == "web:1"
    # api moved to another family: its rollback goes to web's revision below web:1, none.
    emulator.reset_calls()
    rollback_refused(harness, DEV, "web:1", dry_run="false")
    assert mutating_calls(emulator) == {}
    ex = harness(LIFECYCLE, action="deploy", dry_run="false", cluster_name=DEV,
                 service_names="web", task_definition="web")
    assert ex.status == "Success", ex.report()
    assert running_revision(emulator, DEV, "web") == "web:2"
    ex = harness(LIFECYCLE, action="rollback", dry_run="false", cluster_name=DEV,
                 service_names="web")
    assert ex.status == "Success", ex.report()
    assert ex.output("VALIDATE", "validate", "PLAN") == "web web:2 -> web:1"
    assert running_revision(emulator, DEV, "web") == "web:1"
    assert emulator.state(DEV)["services"]["web"]["steady"]


BAD_REVISIONS = {
    # input: (what VALIDATE says, whether ECS was asked)
    "api:99": ("task_definition 'api:99' is not an ACTIVE revision ECS has "
               "(service api runs api:3)", True),
    "nothing-like-it:1": ("task_definition 'nothing-like-it:1' is not an ACTIVE revision ECS "
                          "has", True),
    "nothing-like-it": ("task_definition 'nothing-like-it' is not an ACTIVE revision ECS has",
                        True),
    "api:2-inactive": ("task_definition 'api:2' is not an ACTIVE revision ECS has", True),
    "api:0": ("task_definition 'api:0' is not family:revision, a task-definition ARN or a "
              "family", False),
    "api:3 api:4": ("task_definition 'api:3 api:4' is not family:revision", False),
    "../api": ("task_definition '../api' is not family:revision", False),
    "arn:aws:ecs:us-east-1:1234:task-definition/api:3": (
        "task_definition 'arn:aws:ecs:us-east-1:1234:task-definition/api:3' is not "
        "family:revision", False),
    "": ("deploy needs task_definition (family:revision, a task-definition ARN or a family)",
         False),
}


@pytest.mark.parametrize("given", sorted(BAD_REVISIONS))
def test_a_bad_revision_fails_validate_and_nothing_changes(harness, emulator, given):
    message, asks = BAD_REVISIONS[given]
    if given == "api:2-inactive":
        emulator.boto3().deregister_task_definition(taskDefinition="api:2")
        given = "api:2"
    before = snapshot(emulator)
    emulator.reset_calls()
    ex = harness(LIFECYCLE, action="deploy", dry_run="false", cluster_name=PROD,
                 service_names="api", task_definition=given or None)
    assert ex.status == "Failed"
    v = ex.step("VALIDATE", "validate")
    assert v.status == "Failed" and v.outputs == {}
    assert "VALIDATE: " + message in v.stderr, ex.report()
    assert [ex.stages[s] for s in ("DISCOVER", "EXECUTE", "VERIFY")] == ["Skipped"] * 3
    assert ex.approvals == []
    assert ex.output("SUMMARY", "summary", "RESULT") == "invalid"
    assert mutating_calls(emulator) == {}
    assert snapshot(emulator) == before
    assert bool(emulator.calls().get("DescribeTaskDefinition")) == asks, emulator.calls()
    if asks:
        # The check's journal line, with ECS's refusal, is in the step's log.
        assert re.search(r" op=UpdateService target=%s/services/api field=task_definition .*"
                         r"result=(invalid|ClientException) " % PROD, v.stderr), v.stderr


def test_rollback_without_an_older_revision_fails_validate(harness, emulator):
    emulator.boto3().deregister_task_definition(taskDefinition="web:1")
    before = snapshot(emulator)
    emulator.reset_calls()
    ex = rollback_refused(harness, PROD, "web:2", dry_run="true")
    assert ex.stages["EXECUTE"] == "Skipped"
    assert emulator.calls().get("ListTaskDefinitions")
    assert mutating_calls(emulator) == {}
    assert snapshot(emulator) == before


def test_task_definition_is_for_deploy_only(harness, emulator):
    ex = harness(LIFECYCLE, action="restart", dry_run="true", cluster_name=PROD,
                 service_names="api", task_definition="api:4")
    assert ex.status == "Failed"
    assert "VALIDATE: task_definition is for deploy only" in \
        ex.step("VALIDATE", "validate").stderr


def test_a_rollback_by_the_circuit_breaker_fails_verify(harness, emulator):
    """A revision whose tasks never start: ECS's circuit breaker puts the old one
    back; the wait fails, and VERIFY with it."""
    ex = harness(LIFECYCLE, action="deploy", dry_run="false", cluster_name=PROD,
                 service_names="api", task_definition="failing-api:1")
    assert ex.status == "Failed"
    v = ex.step("VERIFY", "verify")
    assert v.status == "Failed", ex.report()
    assert "Input/output error" in v.stderr or "runs api:3, not failing-api:1" in v.stderr, \
        v.log
    assert ex.output("SUMMARY", "summary", "RESULT") == "unverified"
