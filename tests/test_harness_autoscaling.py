"""Scaling a service that Application Auto Scaling also scales, with the
Harness kit (examples/harness: tree_scale in ecsfs-step.sh, used by the
lifecycle pipeline's scaling actions and by ecs-scale-services.yaml).

ecsfs refuses a desired count outside the service's [min_capacity,
max_capacity] while scaling is not suspended (ERANGE), because the scaler
would move it back. A count below the minimum lowers the minimum first (the
old one saved on the delegate, ECSFS_STATE_DIR); a count back at the saved
minimum or more restores it. The tests register targets with the AWS CLI,
check them with it, and let the emulator's simulated scaler run to show
that what was scaled stays so.
"""
import os
import shutil
import subprocess
import time

import pytest

from helpers.aws_cli import cli_target
from helpers.ecsim import wait_for
from helpers.harness_fixtures import DEV, LIFECYCLE, PROD, SCALE, STEP_HELPER, delegate_env, \
    delegate_state, mutating_calls, snapshot
from helpers.mount import binary


def register_target(emulator, cluster, service, lo, hi):
    emulator.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/%s/%s" % (cluster, service),
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=lo, MaxCapacity=hi)


def saved_minimums(tmp_path, emulator):
    f = delegate_state(tmp_path) / ("autoscaling-%s" % emulator.region)
    return f.read_text() if f.exists() else ""


def test_scale_down_to_zero_with_a_scalable_target_stays_at_zero(harness, emulator, tmp_path):
    register_target(emulator, DEV, "api", 1, 4)
    emulator.client("application-autoscaling").put_scaling_policy(
        ServiceNamespace="ecs", ResourceId="service/%s/api" % DEV,
        ScalableDimension="ecs:service:DesiredCount", PolicyName="api-cpu",
        PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0, "PredefinedMetricSpecification":
            {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    emulator.reset_calls()
    ex = harness(LIFECYCLE, action="scale_down", dry_run="false", cluster_name=DEV,
                 service_names="api")
    assert ex.status == "Success", ex.report()
    assert ex.output("VALIDATE", "validate", "PLAN") == \
        "api autoscaling min 1 -> 0 before scaling to 0"
    execute = ex.step("EXECUTE", "execute").stdout
    assert "api: autoscaling min 1 -> 0 before scaling to 0" in execute
    assert "stays" not in execute and "restored" not in execute
    discover = ex.step("DISCOVER", "discover").stdout
    assert "autoscaling: api min=1 max=4 suspended=false\n" \
        "autoscaling: api policy api-cpu TargetTrackingScaling\n" in discover, discover
    assert mutating_calls(emulator) == {"RegisterScalableTarget": 1, "UpdateService": 1}
    assert cli_target(emulator, DEV, "api")["MinCapacity"] == 0
    assert saved_minimums(tmp_path, emulator) == "%s/api 1\n" % DEV
    emulator.wait_scaler_passes()
    st = emulator.state(DEV)["services"]["api"]
    assert st["desired"] == 0 and st["running"] == 0, st

    # Back up: the minimum comes back after the count.
    emulator.reset_calls()
    ex = harness(LIFECYCLE, action="scale_up", dry_run="false", cluster_name=DEV,
                 service_names="api")
    assert ex.status == "Success", ex.report()
    assert "api: autoscaling min 0 -> 1 restored after scaling to 1" in \
        ex.step("EXECUTE", "execute").stdout
    assert mutating_calls(emulator) == {"RegisterScalableTarget": 1, "UpdateService": 1}
    assert cli_target(emulator, DEV, "api")["MinCapacity"] == 1
    assert saved_minimums(tmp_path, emulator) == ""
    emulator.wait_scaler_passes()
    st = emulator.state(DEV)["services"]["api"]
    assert st["desired"] == 1 and st["running"] == 1, st


def test_what_the_kit_prevents(emulator):
    """Without the kit: ecsfs refuses the count (ERANGE, nothing sent), and a
    count set behind its back is undone by the scaler."""
    register_target(emulator, DEV, "api", 1, 4)
    env = delegate_env(emulator, "command")
    env.update(AWS_REGION=emulator.region, AWS_ACCESS_KEY_ID=emulator.access_key,
               AWS_SECRET_ACCESS_KEY=emulator.secret_key)
    emulator.reset_calls()
    r = subprocess.run([str(binary()), "tee", "%s/services/api/desired_count" % DEV],
                       input="0\n", env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Numerical result out of range" in r.stderr, r.stderr
    assert mutating_calls(emulator) == {}
    emulator.boto3().update_service(cluster=DEV, service="api", desiredCount=0)
    wait_for(lambda: emulator.state(DEV)["services"]["api"]["desired"] == 1, timeout=60,
             what="the scaler restoring the minimum")


def test_scale_to_below_the_minimum_keeps_the_first_saved_minimum(harness, emulator, tmp_path):
    emulator.boto3().update_service(cluster=PROD, service="web", desiredCount=3)
    register_target(emulator, PROD, "web", 3, 6)
    for count, min_after, saved in (("2", 2, "3"), ("0", 0, "3")):
        ex = harness(LIFECYCLE, action="scale_to", dry_run="false", cluster_name=PROD,
                     service_names="web", desired_count=count, wait_for_stable="false")
        assert ex.status == "Success", ex.report()
        assert cli_target(emulator, PROD, "web")["MinCapacity"] == min_after
        assert saved_minimums(tmp_path, emulator) == "%s/web %s\n" % (PROD, saved)
    # A count below the saved minimum leaves the lowered one; 3 or more restores it.
    ex = harness(LIFECYCLE, action="scale_to", dry_run="false", cluster_name=PROD,
                 service_names="web", desired_count="1", wait_for_stable="false")
    assert "web: autoscaling min stays 0 (its saved 3 comes back with a count of 3 or more)" in \
        ex.step("EXECUTE", "execute").stdout, ex.report()
    assert cli_target(emulator, PROD, "web")["MinCapacity"] == 0
    ex = harness(LIFECYCLE, action="scale_to", dry_run="false", cluster_name=PROD,
                 service_names="web", desired_count="4")
    assert ex.status == "Success", ex.report()
    assert "web: autoscaling min 0 -> 3 restored after scaling to 4" in \
        ex.step("EXECUTE", "execute").stdout
    assert cli_target(emulator, PROD, "web")["MinCapacity"] == 3
    assert saved_minimums(tmp_path, emulator) == ""
    assert emulator.state(PROD)["services"]["web"]["desired"] == 4


def test_a_dry_run_scale_down_with_a_scalable_target_changes_nothing(harness, emulator,
                                                                      tmp_path):
    register_target(emulator, DEV, "api", 1, 4)
    before = snapshot(emulator)
    emulator.reset_calls()
    ex = harness(LIFECYCLE, action="scale_down", dry_run="true", cluster_name=DEV,
                 service_names="api")
    assert ex.status == "Success", ex.report()
    e = ex.step("EXECUTE", "execute")
    assert "api: autoscaling min 1 -> 0 before scaling to 0" in e.stdout
    assert "api: dry run: desired_count -1 would follow" in e.stdout
    journal = [l for l in e.stdout.splitlines() if " op=" in l]
    assert len(journal) == 1 and " op=RegisterScalableTarget " in journal[0], journal
    assert "old=1 new=0 result=dry-run" in journal[0]
    assert mutating_calls(emulator) == {}
    assert snapshot(emulator) == before
    assert cli_target(emulator, DEV, "api")["MinCapacity"] == 1
    assert saved_minimums(tmp_path, emulator) == ""


def test_a_count_above_the_maximum_fails_validate(harness, emulator):
    register_target(emulator, DEV, "api", 1, 1)
    emulator.reset_calls()
    ex = harness(LIFECYCLE, action="scale_up", dry_run="false", cluster_name=DEV,
                 service_names="api")
    assert ex.status == "Failed"
    assert ("VALIDATE: scale_up would make service api 2, above its autoscaling max_capacity "
            "1; raise %s/services/api/autoscaling/max_capacity first" % DEV) in \
        ex.step("VALIDATE", "validate").stderr, ex.report()
    assert ex.stages["EXECUTE"] == "Skipped"
    assert mutating_calls(emulator) == {}


def test_scale_services_pipeline_with_a_scalable_target(harness, emulator, tmp_path):
    register_target(emulator, DEV, "web", 1, 3)
    emulator.reset_calls()
    ex = harness(SCALE, cluster_name=DEV, service_names="api,web", desired_count="0",
                 dry_run="false")
    assert ex.status == "Success", ex.report()
    assert "web: autoscaling min 1 -> 0 before scaling to 0" in ex.step("SCALE", "scale").stdout
    assert mutating_calls(emulator) == {"RegisterScalableTarget": 1, "UpdateService": 2}
    emulator.wait_scaler_passes()
    assert {s: v["desired"] for s, v in emulator.state(DEV)["services"].items()} == \
        {"api": 0, "web": 0}
    ex = harness(SCALE, cluster_name=DEV, service_names="web", desired_count="+2",
                 dry_run="false")
    assert ex.status == "Success", ex.report()
    assert "web: autoscaling min 0 -> 1 restored after scaling to 2" in \
        ex.step("SCALE", "scale").stdout
    assert cli_target(emulator, DEV, "web")["MinCapacity"] == 1
    assert emulator.state(DEV)["services"]["web"]["desired"] == 2


def test_a_scaling_range_that_cannot_be_read_fails_validate(harness, emulator):
    emulator.faults(drop_probability=1.0, actions=["DescribeScalableTargets"])
    emulator.reset_calls()
    ex = harness(LIFECYCLE, delegate_env={"ECSFS_MOUNT_OPTIONS": "max_attempts=2,timeout=5"},
                 action="stop", dry_run="false", cluster_name=DEV, service_names="api")
    assert ex.status == "Failed"
    assert "VALIDATE: cannot check the autoscaling of service api: Input/output error" in \
        ex.step("VALIDATE", "validate").stderr, ex.report()
    assert ex.stages["EXECUTE"] == "Skipped"
    assert mutating_calls(emulator) == {}


# -- the saved minimums, with steps running at once --------------------------

def kit_saves(state_dir, script, bin_dir=None):
    """Runs script after sourcing the step helper; PATH is bin_dir when given."""
    env = {"ECSFS_STATE_DIR": str(state_dir), "AWS_REGION": "us-east-1", "HOME": str(state_dir),
           "PATH": str(bin_dir) if bin_dir else os.environ["PATH"]}
    return subprocess.run(["/bin/bash", "-c", 'source "$0"; ' + script, str(STEP_HELPER)],
                          env=env, capture_output=True, text=True, timeout=120)


def bin_without_flock(tmp_path):
    """A PATH directory with the tools the helper's saves use, and no flock."""
    d = tmp_path / "bin"
    d.mkdir()
    for tool in ("mkdir", "mktemp", "mv", "find", "rmdir", "sleep", "seq", "touch"):
        (d / tool).symlink_to(shutil.which(tool))
    return d


@pytest.mark.parametrize("lock", ["flock", "directory"])
def test_steps_saving_at_once_keep_every_minimum(tmp_path, lock):
    """Forty steps save a minimum each at the same moment, through flock(1) or, where
    it is not installed, a lock directory: every line is kept."""
    bin_dir = bin_without_flock(tmp_path) if lock == "directory" else None
    state = tmp_path / "state"
    r = kit_saves(state, 'for i in $(seq 1 40); do saved_put "c/s$i" "$i" & done; wait',
                  bin_dir)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    f = state / "autoscaling-us-east-1"
    assert sorted(f.read_text().splitlines()) == sorted("c/s%d %d" % (i, i)
                                                        for i in range(1, 41))
    # Forgetting at once is as safe; nothing is left behind but the lock.
    r = kit_saves(state, 'for i in $(seq 1 39); do saved_put "c/s$i" & done; wait', bin_dir)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert f.read_text() == "c/s40 40\n"
    assert sorted(p.name for p in state.iterdir()) == sorted(
        ["autoscaling-us-east-1", "autoscaling-us-east-1.lock"] if lock == "flock" else
        ["autoscaling-us-east-1"])


def test_a_lock_left_by_a_step_that_died_is_broken(tmp_path):
    """Without flock, a lock directory over a minute old (its step was killed holding
    it) does not block the next save."""
    state = tmp_path / "state"
    state.mkdir()
    stale = state / "autoscaling-us-east-1.lock.d"
    stale.mkdir()
    os.utime(stale, (time.time() - 120, time.time() - 120))
    t0 = time.monotonic()
    r = kit_saves(state, 'saved_put c/api 2 && saved_min c/api', bin_without_flock(tmp_path))
    assert r.returncode == 0 and r.stdout == "2\n", r.stderr
    assert time.monotonic() - t0 < 20   # not the 30 s a held lock is waited for
    assert not stale.exists()
