"""The Harness pipelines of examples/harness.

Each pipeline is checked against Harness's published pipeline schema
(../shared/schemas/harness-pipeline-v0.json), its shell steps against
shellcheck, and then run end to end by helpers/harness.py the way a
Harness delegate runs it: every shell step uses the kit's step helper
(examples/harness/ecsfs-step.sh), which mounts the real ecsfs against the
emulator and unmounts it at the step's end, or runs `ecsfs ls|cat|tee`
without FUSE; every case runs in both modes (ECSFS_MODE=mount|command).
The results are checked in the emulator's state and call counts and in
the steps' output variables, for every action with dry_run true and false,
and the two modes are compared: same results, outputs and journal.
The fixtures are in helpers/harness_fixtures.py; deploys and rollbacks
have more tests in test_harness_deploy.py, scaling a service with an
Application Auto Scaling target in test_harness_autoscaling.py.
"""
import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.harness import HarnessRun, PipelineError, with_output_collector
from helpers.harness_fixtures import DEV, LIFECYCLE, LIST, MODES, PIPELINES, PROD, SCALE, \
    STEP_HELPER, delegate_env, mutating_calls, service_state, snapshot

REPO = Path(__file__).resolve().parents[1]
HARNESS = REPO / "examples" / "harness"
SCHEMA = REPO.parent / "shared" / "schemas" / "harness-pipeline-v0.json"
ACTIONS = ["list_clusters", "list_services", "list_tasks", "scale_up", "scale_down", "scale_to",
           "restart", "deploy", "rollback", "stop", "stop_tasks", "drain_instances"]


def needs(path_or_tool, what):
    """Skips when something outside the repository is missing; fails under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail("%s is missing (%s); CI must provide it" % (path_or_tool, what))
    pytest.skip("%s is missing (%s)" % (path_or_tool, what))


def load(path):
    return yaml.safe_load(path.read_text())


def stages(doc):
    return [w["stage"] for w in doc["pipeline"]["stages"]]


def steps(stage):
    return [w["step"] for w in stage["spec"]["execution"]["steps"]]


def shell_steps(doc):
    return [(st, s) for st in stages(doc) for s in steps(st) if s["type"] == "ShellScript"]


# -- the YAML ------------------------------------------------------------------

@pytest.fixture(scope="module")
def validator():
    if not SCHEMA.exists():
        needs(SCHEMA, "the shared Harness pipeline schema, ../shared/schemas")
    import jsonschema
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_the_kit_has_the_three_pipelines():
    assert sorted(p.name for p in HARNESS.glob("*.yaml")) == sorted(p.name for p in PIPELINES)


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.stem)
def test_pipeline_validates_against_the_harness_schema(validator, path):
    errors = sorted(validator.iter_errors(load(path)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join("%s: %s" % (list(e.absolute_path), e.message[:300])
                                 for e in errors)


BROKEN = {
    "unknown step type": lambda d: steps(stages(d)[0])[0].update(type="ShellScrip"),
    "shell missing": lambda d: steps(stages(d)[0])[0]["spec"].pop("shell"),
    "unknown shell": lambda d: steps(stages(d)[0])[0]["spec"].update(shell="Zsh"),
    "unknown stage type": lambda d: stages(d)[0].update(type="Kustom"),
    "bad pipelineStatus": lambda d: stages(d)[3]["when"].update(pipelineStatus="Sometimes"),
    "step when without stageStatus": lambda d: steps(stages(d)[3])[0]["when"].pop("stageStatus"),
    "approval without approvers": lambda d: steps(stages(d)[3])[0]["spec"].pop("approvers"),
    "identifier with a dash": lambda d: stages(d)[0].update(identifier="bad-id"),
    "unknown error type": lambda d: stages(d)[0]["failureStrategies"][0]["onFailure"].update(
        errors=["Nope"]),
    "unknown variable type": lambda d: d["pipeline"]["variables"][0].update(type="Strin"),
    "timeout in words": lambda d: steps(stages(d)[0])[0].update(timeout="ten minutes"),
}


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_the_schema_check_catches_mistakes(validator, mistake):
    doc = copy.deepcopy(load(LIFECYCLE))
    BROKEN[mistake](doc)
    assert list(validator.iter_errors(doc)), "the schema accepted: %s" % mistake


def test_lifecycle_pipeline_shape():
    doc = load(LIFECYCLE)
    p = doc["pipeline"]
    assert [s["identifier"] for s in stages(doc)] == ["INITIALIZE", "VALIDATE", "DISCOVER",
                                                      "EXECUTE", "VERIFY", "SUMMARY"]
    var = {v["name"]: v for v in p["variables"]}
    assert set(var) == {"action", "aws_region", "cluster_name", "service_names",
                        "desired_count", "task_definition", "instance_ids", "dry_run",
                        "wait_for_stable"}
    assert all(v["value"].startswith("<+input>") for v in var.values())
    m = re.search(r"\.allowedValues\(([^)]*)\)", var["action"]["value"])
    assert m.group(1).split(",") == ACTIONS
    for flag in ("dry_run", "wait_for_stable"):
        assert var[flag]["value"] == "<+input>.default(true).allowedValues(true,false)"
    st = {s["identifier"]: s for s in stages(doc)}
    assert "outputVariables.MUTATING" in st["EXECUTE"]["when"]["condition"]
    assert 'dry_run> == "false"' in st["VERIFY"]["when"]["condition"]
    assert 'wait_for_stable> == "true"' in st["VERIFY"]["when"]["condition"]
    assert st["SUMMARY"]["when"]["pipelineStatus"] == "All"
    approve, execute = steps(st["EXECUTE"])
    assert approve["type"] == "HarnessApproval"
    assert approve["when"]["condition"] == '<+pipeline.variables.dry_run> == "false"'
    assert execute["type"] == "ShellScript"
    outs = {s["identifier"]: [o["name"] for o in s["spec"].get("outputVariables", [])]
            for _, s in shell_steps(doc)}
    assert {"CLUSTER_COUNT", "SERVICE_COUNT"} <= set(outs["discover"])
    assert {"ACTION_RESULT", "SUCCESS_COUNT", "REVISIONS"} <= set(outs["execute"])
    assert {"VALID", "PLAN"} <= set(outs["validate"])
    assert "outputVariables.PLAN>" in approve["spec"]["approvalMessage"]
    summary_env = {v["name"]: v["value"] for v in steps(st["SUMMARY"])[0]["spec"]
                   ["environmentVariables"]}
    for name in ("CLUSTER_COUNT", "SERVICE_COUNT", "ACTION_RESULT", "SUCCESS_COUNT"):
        assert summary_env[name].endswith("outputVariables.%s>" % name)


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.stem)
def test_every_step_uses_the_step_helper_and_never_names_an_endpoint(path):
    doc = load(path)
    text = path.read_text()
    for word in ("amazonaws.com", "endpoint=", "AWS_ENDPOINT_URL", "127.0.0.1"):
        assert word not in text, word
    for _, s in shell_steps(doc):
        script = s["spec"]["source"]["spec"]["script"]
        assert script.startswith("set -euo pipefail\n"), s["identifier"]
        # One helper does the mount or the commands; no step touches FUSE itself.
        assert '. "${ECSFS_STEP:-/usr/local/share/ecsfs/ecsfs-step.sh}"' in script, \
            s["identifier"]
        assert re.search(r"^ *(if ! )?ecsfs_begin( ro| check)?(; then)?$", script, re.M), \
            s["identifier"]
        for word in ("fusermount3", "$MNT", "/dev/fuse", "ecsfs -o"):
            assert word not in script, (s["identifier"], word)
        env = {v["name"]: v["value"] for v in s["spec"]["environmentVariables"]}
        assert env["AWS_ACCESS_KEY_ID"] == '<+secrets.getValue("org.aws_access_key_id")>'
        assert env["AWS_SECRET_ACCESS_KEY"] == \
            '<+secrets.getValue("org.aws_secret_access_key")>'
        # Inputs reach scripts through the environment, never pasted into the code.
        assert "<+" not in script, s["identifier"]


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.stem)
def test_shell_steps_pass_shellcheck(path, tmp_path):
    if shutil.which("shellcheck") is None:
        needs("shellcheck", "install it with tests/deps.sh")
    for _, s in shell_steps(load(path)):
        collected = [(o["name"], o["value"]) for o in s["spec"].get("outputVariables", [])]
        script = with_output_collector(s["spec"]["source"]["spec"]["script"], collected,
                                       tmp_path / "out")
        # SC2129 is about the collector lines the delegate appends, not the step.
        r = subprocess.run(["shellcheck", "-s", "bash", "-e", "SC2129", "-"], input=script,
                           capture_output=True, text=True)
        assert r.returncode == 0, "%s:\n%s" % (s["identifier"], r.stdout)


# -- running the pipelines -------------------------------------------------------

def test_the_step_helper_passes_shellcheck():
    if shutil.which("shellcheck") is None:
        needs("shellcheck", "install it with tests/deps.sh")
    r = subprocess.run(["shellcheck", "-s", "bash", str(STEP_HELPER)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout


def busiest_instance(emulator):
    inst = emulator.state(PROD)["instances"]
    return max(sorted(inst), key=lambda i: inst[i]["running"])


def running_tasks(emulator, cluster, service):
    return sorted(t for t, v in emulator.state(cluster)["tasks"].items()
                  if v["service"] == service and v["desiredStatus"] == "RUNNING")


def case_for(action, emulator):
    """inputs, and what DISCOVER and EXECUTE should report, for one action."""
    if action == "list_clusters":
        return dict(inputs={}, clusters=2, services=5, targets=0)
    if action == "list_services":
        return dict(inputs={"cluster_name": PROD, "service_names": None}, clusters=1,
                    services=3, targets=0)
    if action == "list_tasks":
        return dict(inputs={"cluster_name": PROD, "service_names": "api,web"}, clusters=1,
                    services=2, targets=0, tasks=5)
    if action == "scale_up":
        return dict(inputs={"cluster_name": PROD, "service_names": "api,web"}, clusters=1,
                    services=2, targets=2, calls={"UpdateService": 2},
                    desired={(PROD, "api"): 4, (PROD, "web"): 3})
    if action == "scale_down":
        return dict(inputs={"cluster_name": PROD, "service_names": "api, web"}, clusters=1,
                    services=2, targets=2, calls={"UpdateService": 2},
                    desired={(PROD, "api"): 2, (PROD, "web"): 1})
    if action == "scale_to":
        return dict(inputs={"cluster_name": PROD, "service_names": "web", "desired_count": "4"},
                    clusters=1, services=1, targets=1, calls={"UpdateService": 1},
                    desired={(PROD, "web"): 4})
    if action == "restart":
        return dict(inputs={"cluster_name": PROD, "service_names": "api"}, clusters=1,
                    services=1, targets=1, calls={"UpdateService": 1},
                    desired={(PROD, "api"): 3})
    if action == "deploy":
        # production api runs api:3 of the seed's four revisions.
        return dict(inputs={"cluster_name": PROD, "service_names": "api",
                            "task_definition": "api:4"}, clusters=1, services=1, targets=1,
                    calls={"UpdateService": 1}, desired={(PROD, "api"): 3},
                    revisions={(PROD, "api"): ("api:3", "api:4")})
    if action == "rollback":
        # production web runs web:2, the newer of its two.
        return dict(inputs={"cluster_name": PROD, "service_names": "web"}, clusters=1,
                    services=1, targets=1, calls={"UpdateService": 1},
                    desired={(PROD, "web"): 2}, revisions={(PROD, "web"): ("web:2", "web:1")})
    if action == "stop":
        return dict(inputs={"cluster_name": DEV, "service_names": "api,web"}, clusters=1,
                    services=2, targets=2, calls={"UpdateService": 2},
                    desired={(DEV, "api"): 0, (DEV, "web"): 0})
    if action == "stop_tasks":
        return dict(inputs={"cluster_name": PROD, "service_names": "web"}, clusters=1,
                    services=1, targets=2, calls={"StopTask": 2}, desired={(PROD, "web"): 2})
    if action == "drain_instances":
        return dict(inputs={"cluster_name": PROD, "instance_ids": busiest_instance(emulator)},
                    clusters=1, services=3, targets=1,
                    calls={"UpdateContainerInstancesState": 1}, desired={(PROD, "worker"): 5})
    raise AssertionError(action)


@pytest.mark.parametrize("dry_run", ["true", "false"])
@pytest.mark.parametrize("action", ACTIONS)
def test_lifecycle_pipeline(harness, emulator, action, dry_run):
    case = case_for(action, emulator)
    listing = action.startswith("list_")
    before = snapshot(emulator)
    web_tasks = running_tasks(emulator, PROD, "web")
    api_deployment = emulator.state(PROD)["services"]["api"]["deployments"][0]["id"]
    emulator.reset_calls()

    ex = harness(LIFECYCLE, action=action, dry_run=dry_run, **case["inputs"])
    rep = ex.report()
    assert ex.status == "Success", rep
    assert ex.output("INITIALIZE", "initialize", "MUTATING") == str(not listing).lower()
    assert ex.output("VALIDATE", "validate", "VALID") == "true"
    assert ex.output("DISCOVER", "discover", "CLUSTER_COUNT") == str(case["clusters"]), rep
    assert ex.output("DISCOVER", "discover", "SERVICE_COUNT") == str(case["services"]), rep
    assert ex.output("DISCOVER", "discover", "TARGET_COUNT") == str(case["targets"]), rep
    if "tasks" in case:
        assert ex.output("DISCOVER", "discover", "TASK_COUNT") == str(case["tasks"]), rep
    execute = ex.step("EXECUTE", "execute")
    verify = ex.step("VERIFY", "verify")
    summary = ex.step("SUMMARY", "summary")
    assert summary.status == "Success", rep

    if listing:
        assert ex.stages["EXECUTE"] == "Skipped" and ex.stages["VERIFY"] == "Skipped"
        assert ex.approvals == []
        assert mutating_calls(emulator) == {}
        assert snapshot(emulator) == before
        assert summary.outputs["RESULT"] == "listed"
        assert "changes made:    null (null)" in summary.stdout
        return

    assert execute.status == "Success", rep
    assert execute.outputs["SUCCESS_COUNT"] == str(case["targets"])
    journal = [l for l in execute.stdout.splitlines() if " op=" in l]
    assert len(journal) == case["targets"], rep
    plan = ex.output("VALIDATE", "validate", "PLAN")
    if "revisions" in case:
        # VALIDATE checked the revision on a dry-run mount and says what will change.
        assert plan == "; ".join("%s %s -> %s" % (k[1], old, new)
                                 for k, (old, new) in sorted(case["revisions"].items())), rep
        assert execute.outputs["REVISIONS"] == " ".join(
            "%s=%s" % (k[1], new) for k, (old, new) in sorted(case["revisions"].items()))
        for l in journal:
            assert re.search(r" field=(task_definition|rollback) old=\S+ new=\S+ ", l), l
    else:
        assert plan == "-", rep
    if dry_run == "true":
        # Nothing that mutates reaches ECS, nobody is asked, nothing waits.
        assert ex.approvals == []
        assert execute.outputs["ACTION_RESULT"] == "dry_run"
        assert all("result=dry-run" in l for l in journal), journal
        assert verify.status == "Skipped" and ex.stages["VERIFY"] == "Skipped"
        assert mutating_calls(emulator) == {}
        assert snapshot(emulator) == before
        assert summary.outputs["RESULT"] == "dry_run"
        return

    assert [a[:2] for a in ex.approvals] == [("EXECUTE", "approve")]
    assert "%s in cluster %s" % (action, case["inputs"]["cluster_name"]) in ex.approvals[0][2]
    assert execute.outputs["ACTION_RESULT"] == "succeeded"
    assert all("result=ok" in l for l in journal), journal
    assert mutating_calls(emulator) == case["calls"], emulator.calls()
    assert verify.status == "Success", rep
    assert verify.outputs["VERIFY_RESULT"] == "verified"
    assert summary.outputs["RESULT"] == "succeeded"
    assert "changes made:    %d (succeeded)" % case["targets"] in summary.stdout
    # VERIFY returned only once ECS had converged: the state is final at once.
    state = service_state(emulator)
    for key, n in case["desired"].items():
        assert state[key]["desired"] == n, (key, state[key])
        assert state[key]["running"] == n, (key, state[key])
        assert state[key]["steady"], (key, state[key])
    for key, (old, new) in case.get("revisions", {}).items():
        # Every task of the service runs the new revision, one deployment left.
        arn = state[key]["taskDefinition"]
        assert arn.endswith(":task-definition/" + new), (key, arn)
        assert [d["taskDefinition"] for d in state[key]["deployments"]] == [arn]
        tasks = emulator.state(key[0])["tasks"]
        live = [v for v in tasks.values() if v["service"] == key[1]
                and v["desiredStatus"] == "RUNNING"]
        assert len(live) == case["desired"][key] and all(v["taskDefinition"] == arn
                                                          for v in live), live
        assert "VERIFY: service %s runs %s" % (key[1], new) in verify.stdout, rep
    if action == "restart":
        deps = state[(PROD, "api")]["deployments"]
        assert len(deps) == 1 and deps[0]["id"] != api_deployment
        tasks = emulator.state(PROD)["tasks"]
        live = [v for v in tasks.values() if v["service"] == "api"
                and v["desiredStatus"] == "RUNNING"]
        assert len(live) == 3 and all(v["deployment"] == deps[0]["id"] for v in live)
    if action == "stop_tasks":
        tasks = emulator.state(PROD)["tasks"]
        for t in web_tasks:
            assert tasks[t]["desiredStatus"] == "STOPPED"
            assert tasks[t]["stoppedReason"] == \
                "Harness pipeline ecs_lifecycle_management run 7 (stop_tasks)"
        assert not set(web_tasks) & set(running_tasks(emulator, PROD, "web"))
    if action == "drain_instances":
        ci = case["inputs"]["instance_ids"]
        inst = emulator.state(PROD)["instances"][ci]
        assert inst["status"] == "DRAINING" and inst["running"] == 0
        assert verify.stdout.splitlines()[-2].endswith("%s drained" % ci)


def test_scale_up_to_a_given_count(harness, emulator):
    ex = harness(LIFECYCLE, action="scale_up", dry_run="false", cluster_name=DEV,
                 service_names="web", desired_count="3")
    assert ex.status == "Success", ex.report()
    s = emulator.state(DEV)["services"]["web"]
    assert s["desired"] == 3 and s["running"] == 3


def test_without_waiting_verify_is_skipped(harness, emulator):
    ex = harness(LIFECYCLE, action="scale_to", dry_run="false", wait_for_stable="false",
                 cluster_name=DEV, service_names="api", desired_count="2")
    assert ex.status == "Success", ex.report()
    assert ex.stages["VERIFY"] == "Skipped"
    assert ex.output("SUMMARY", "summary", "RESULT") == "succeeded"
    assert emulator.state(DEV)["services"]["api"]["desired"] == 2


def test_an_invalid_input_stops_before_anything_changes(harness, emulator):
    emulator.reset_calls()
    ex = harness(LIFECYCLE, action="scale_up", dry_run="false", cluster_name=PROD,
                 service_names="api,nope")
    assert ex.status == "Failed"
    v = ex.step("VALIDATE", "validate")
    assert v.status == "Failed" and v.outputs == {}
    assert "no service nope in cluster production-cluster" in v.stderr
    assert [ex.stages[s] for s in ("DISCOVER", "EXECUTE", "VERIFY", "SUMMARY")] == \
        ["Skipped", "Skipped", "Skipped", "Success"]
    assert ex.approvals == []
    assert ex.output("SUMMARY", "summary", "RESULT") == "invalid"
    assert mutating_calls(emulator) == {}


@pytest.mark.parametrize("inputs, message", [
    ({"action": "scale_to", "service_names": "api"}, "scale_to needs desired_count"),
    ({"action": "restart"}, "action restart needs service_names"),
    ({"action": "drain_instances"}, "drain_instances needs instance_ids"),
    ({"action": "scale_up", "service_names": "../tasks"}, "'../tasks' is not a service name"),
    ({"action": "list_services", "cluster_name": "nope"}, "no cluster nope in us-east-1"),
])
def test_validate_refuses(harness, emulator, inputs, message):
    inputs = dict({"cluster_name": PROD, "dry_run": "true"}, **inputs)
    ex = harness(LIFECYCLE, **inputs)
    assert ex.status == "Failed"
    assert message in ex.step("VALIDATE", "validate").stderr, ex.report()
    assert ex.stages["EXECUTE"] == "Skipped"


COULD_NOT_CHECK = {
    # pipeline, the step that checks, its inputs, what it checks, the calls that look
    "lifecycle": (LIFECYCLE, ("VALIDATE", "validate"),
                  {"action": "scale_up", "dry_run": "true", "cluster_name": PROD,
                   "service_names": "api"},
                  "service api in cluster %s" % PROD, ["ListServices", "DescribeServices"]),
    "scale": (SCALE, ("SCALE", "scale"),
              {"cluster_name": DEV, "service_names": "web", "desired_count": "2",
               "dry_run": "true"},
              "service web in cluster %s" % DEV, ["ListServices", "DescribeServices"]),
    "list": (LIST, ("LIST", "list"), {"resource_type": "services", "cluster_name": PROD},
             "cluster %s in us-east-1" % PROD, ["ListClusters", "DescribeClusters"]),
}


@pytest.mark.parametrize("fault", ["denied", "unreachable"])
@pytest.mark.parametrize("case", sorted(COULD_NOT_CHECK))
def test_an_existence_check_that_could_not_be_made_says_so(harness, emulator, case, fault):
    """A check that fails for another reason than ENOENT (the policy refuses
    the call, the endpoint does not answer) says it could not check, with the
    error, instead of calling the resource missing."""
    path, (stage, step), inputs, what, actions = COULD_NOT_CHECK[case]
    if fault == "denied":
        emulator.faults(deny_actions=actions)
        error = "Permission denied"
    else:
        emulator.faults(drop_probability=1.0, actions=actions)
        error = "Input/output error"
    emulator.reset_calls()
    ex = harness(path, delegate_env={"ECSFS_MOUNT_OPTIONS": "max_attempts=2,timeout=10"},
                 **inputs)
    assert ex.status == "Failed"
    s = ex.step(stage, step)
    assert s.status == "Failed" and s.outputs == {}, ex.report()
    assert "%s: cannot check %s: %s" % (stage, what, error) in s.stderr, ex.report()
    assert "no " + what not in s.stderr
    assert any(emulator.calls().get(a) for a in actions), emulator.calls()
    assert mutating_calls(emulator) == {}


def test_a_refused_call_fails_execute_and_the_mount_is_released(harness, emulator):
    emulator.faults(deny_actions=["UpdateService"])
    emulator.reset_calls()
    ex = harness(LIFECYCLE, action="stop", dry_run="false", cluster_name=DEV,
                 service_names="api,web")
    assert ex.status == "Failed"
    e = ex.step("EXECUTE", "execute")
    assert e.status == "Failed" and e.outputs == {}
    assert e.stderr.count("Permission denied") == 2, e.log
    assert e.stdout.count("result=AccessDeniedException") == 2, e.log
    assert "2 of 2 changes failed" in e.stderr
    assert ex.stages["VERIFY"] == "Skipped"
    assert ex.output("SUMMARY", "summary", "RESULT") == "failed"
    assert emulator.state(DEV)["services"]["api"]["desired"] == 1
    assert emulator.secret_key not in ex.report()


def test_a_wait_that_times_out_fails_verify(harness, emulator):
    emulator.time_scale(0.01)  # the scheduler barely moves: never stable
    ex = harness(LIFECYCLE, delegate_env={"ECSFS_MOUNT_OPTIONS":
                                          "wait_interval=0.2,wait_timeout=1"},
                 action="scale_to", dry_run="false", cluster_name=DEV, service_names="web",
                 desired_count="3")
    assert ex.status == "Failed"
    v = ex.step("VERIFY", "verify")
    assert v.status == "Failed" and "Connection timed out" in v.stderr, v.log
    assert ex.output("SUMMARY", "summary", "RESULT") == "unverified"


def test_an_aborted_step_still_unmounts(harness, emulator, tmp_path):
    """A step killed at its timeout (SIGTERM, as Harness aborts it) runs its trap."""
    doc = load(SCALE)
    verify = steps(stages(doc)[1])[0]
    verify["timeout"] = "10s"
    path = tmp_path / "short-timeout.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    emulator.time_scale(0.01)
    ex = harness(path, delegate_env={"ECSFS_MOUNT_OPTIONS": "wait_interval=0.2"},
                 cluster_name=DEV, service_names="api", desired_count="+3", dry_run="false")
    v = ex.step("VERIFY", "verify")
    assert v.timed_out and v.status == "Failed", ex.report()
    assert v.exit_code == 143
    assert v.leaked_mounts == []


def test_empty_inputs_of_an_input_set_arrive_as_null(harness):
    ex = harness(LIFECYCLE, action="list_clusters", dry_run="true", cluster_name=None,
                 service_names=None, desired_count=None, instance_ids=None)
    assert ex.status == "Success", ex.report()
    assert ex.step("VALIDATE", "validate").env["CLUSTER"] == "null"
    assert ex.output("DISCOVER", "discover", "CLUSTER_COUNT") == "2"


def test_an_action_outside_the_allowed_values_is_refused(harness):
    with pytest.raises(PipelineError, match="reboot_everything"):
        harness(LIFECYCLE, action="reboot_everything")


@pytest.mark.parametrize("mode", MODES)
def test_wrong_credentials_fail_at_initialize(emulator, tmp_path, mode):
    secrets = {"org.aws_access_key_id": emulator.access_key,
               "org.aws_secret_access_key": "not-the-secret"}
    env = delegate_env(emulator, mode)
    env["AWS_REGION"] = emulator.region
    ex = HarnessRun(LIFECYCLE, env, secrets, {"action": "list_clusters"},
                    tmp_path / "badcreds").execute()
    init = ex.step("INITIALIZE", "initialize")
    assert init.status == "Failed" and "Permission denied" in init.stderr, ex.report()
    assert init.leaked_mounts == []
    assert ex.stages["VALIDATE"] == "Skipped"
    assert "not-the-secret" not in ex.report()


@pytest.mark.parametrize("dry_run", ["true", "false"])
@pytest.mark.parametrize("count, expect", [("+1", 2), ("-1", 0), ("4", 4)])
def test_scale_services_pipeline(harness, emulator, count, expect, dry_run):
    before = snapshot(emulator)
    emulator.reset_calls()
    ex = harness(SCALE, cluster_name=DEV, service_names="api,web", desired_count=count,
                 dry_run=dry_run)
    assert ex.status == "Success", ex.report()
    scale = ex.step("SCALE", "scale")
    assert scale.outputs == {"SERVICE_COUNT": "2", "SUCCESS_COUNT": "2",
                             "ACTION_RESULT": "succeeded" if dry_run == "false" else "dry_run"}
    journal = [l for l in scale.stdout.splitlines() if " op=UpdateService " in l]
    assert len(journal) == 2
    assert all("old=1 new=%d" % expect in l for l in journal), journal
    if dry_run == "true":
        assert ex.approvals == [] and ex.stages["VERIFY"] == "Skipped"
        assert mutating_calls(emulator) == {}
        assert snapshot(emulator) == before
        return
    assert len(ex.approvals) == 1
    assert mutating_calls(emulator) == {"UpdateService": 2}
    assert ex.output("VERIFY", "verify", "STABLE_COUNT") == "2"
    for s in ("api", "web"):
        st = emulator.state(DEV)["services"][s]
        assert st["desired"] == expect and st["running"] == expect


def test_scale_services_pipeline_with_a_slow_endpoint(harness, emulator):
    """Every call 300 ms slow, as through a distant VPC endpoint, while the
    steps' shells start and reap children (command substitutions, pipes):
    the run succeeds, each service is scaled by exactly one UpdateService."""
    emulator.faults(latency_ms=300)
    emulator.reset_calls()
    ex = harness(SCALE, cluster_name=DEV, service_names="api,web", desired_count="3",
                 dry_run="false")
    assert ex.status == "Success", ex.report()
    assert ex.output("SCALE", "scale", "SUCCESS_COUNT") == "2"
    assert ex.output("VERIFY", "verify", "STABLE_COUNT") == "2"
    assert mutating_calls(emulator) == {"UpdateService": 2}, emulator.calls()
    emulator.faults()
    for s in ("api", "web"):
        st = emulator.state(DEV)["services"][s]
        assert st["desired"] == 3 and st["running"] == 3, st


def test_scale_services_refuses_a_bad_count(harness, emulator):
    emulator.reset_calls()
    ex = harness(SCALE, cluster_name=DEV, service_names="api", desired_count="1e3",
                 dry_run="false")
    assert ex.status == "Failed"
    assert "desired_count '1e3' is not N, +N or -N" in ex.step("SCALE", "scale").stderr
    assert mutating_calls(emulator) == {}


@pytest.mark.parametrize("cluster", [None, PROD])
@pytest.mark.parametrize("kind", ["all", "clusters", "services", "tasks",
                                  "container_instances"])
def test_list_resources_pipeline(harness, emulator, kind, cluster):
    emulator.reset_calls()
    inputs = {"resource_type": kind}
    if cluster:
        inputs["cluster_name"] = cluster
    ex = harness(LIST, **inputs)
    assert ex.status == "Success", ex.report()
    step = ex.step("LIST", "list")
    clusters = [cluster] if cluster else [DEV, PROD]
    st = {c: emulator.state(c) for c in clusters}
    assert step.outputs == {
        "CLUSTER_COUNT": str(len(clusters)),
        "SERVICE_COUNT": str(sum(s["activeServices"] for s in st.values())),
        "TASK_COUNT": str(sum(s["running"] + s["pending"] for s in st.values())),
        "INSTANCE_COUNT": str(sum(len(s["instances"]) for s in st.values())),
    }
    lines = step.stdout.splitlines()
    rows = {k: sorted(l.split()[1].rstrip(":") for l in lines if l.startswith(k + " "))
            for k in ("cluster", "service", "task", "container_instance")}
    want = {
        "cluster": sorted(clusters),
        "service": sorted("%s/%s" % (c, s) for c in clusters for s in st[c]["services"]),
        "task": sorted("%s/%s" % (c, t) for c in clusters for t, v in st[c]["tasks"].items()
                       if v["desiredStatus"] == "RUNNING"),
        "container_instance": sorted("%s/%s" % (c, i) for c in clusters
                                     for i in st[c]["instances"]),
    }
    shown = {"clusters": "cluster", "services": "service", "tasks": "task",
             "container_instances": "container_instance"}
    for k in rows:
        expected = want[k] if kind == "all" or shown[kind] == k else []
        assert rows[k] == expected, (k, step.stdout)
    assert mutating_calls(emulator) == {}
    assert re.search(r"^ecsfs \S+ \((mount|command), ro\): ", step.stdout, re.M)


# -- both modes alike -----------------------------------------------------------

JOURNAL_VOLATILE = re.compile(r"^\S+ uid=\d+ pid=\d+ comm=\S+ | request_id=\S+")


def journal_of(step):
    """The journal lines a step printed after its "journal:" line, without what
    differs from run to run (time, pid, command name, request id)."""
    lines = step.stdout.split("journal:\n", 1)[-1].splitlines()
    return [JOURNAL_VOLATILE.sub(" ", l) for l in lines if " op=" in l]


@pytest.mark.parametrize("pipeline, inputs", [
    (LIFECYCLE, dict(action="scale_to", dry_run="false", cluster_name=DEV,
                     service_names="api,web", desired_count="2")),
    (LIFECYCLE, dict(action="restart", dry_run="true", cluster_name=PROD,
                     service_names="api,web")),
    (SCALE, dict(cluster_name=DEV, service_names="api,web", desired_count="+1",
                 dry_run="false")),
], ids=["scale_to", "restart-dry-run", "scale-services"])
def test_mount_and_commands_give_the_same_results_outputs_and_journal(tmp_path, pipeline,
                                                                      inputs):
    from helpers.ecsim import Emulator
    secrets = None
    seen = {}
    for mode in MODES:
        (tmp_path / mode).mkdir()
        with Emulator(tmp_path / mode) as emu:
            emu.time_scale(60)
            env = delegate_env(emu, mode)
            env["ECSFS_MOUNT_OPTIONS"] = "wait_interval=0.2,wait_timeout=60"
            secrets = {"org.aws_access_key_id": emu.access_key,
                       "org.aws_secret_access_key": emu.secret_key}
            ex = HarnessRun(pipeline, env, secrets, inputs, tmp_path / mode / "run").execute()
            assert ex.status == "Success", ex.report()
            seen[mode] = {
                "outputs": {(s.stage, s.id): s.outputs for s in ex.ran()},
                "journal": {(s.stage, s.id): journal_of(s) for s in ex.ran()
                            if s.type == "ShellScript"},
                "desired": {c: {n: v["desired"] for n, v in emu.state(c)["services"].items()}
                            for c in (PROD, DEV)},
                "mutating": mutating_calls(emu),
            }
    assert seen["mount"] == seen["command"]
    assert any(seen["mount"]["journal"].values())
