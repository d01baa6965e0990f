"""Application Auto Scaling through the mount: services/S/autoscaling/ and
the desired_count check that a scale the scaler would undo cannot pass.

A service with a scalable target (ecs:service:DesiredCount) has
autoscaling/ with min_capacity, max_capacity, suspended (rw) and policies
(r); writing them calls RegisterScalableTarget.  A desired count outside
[min, max] while scaling is not suspended fails with ERANGE and sends
nothing.  The real daemon on a real FUSE mount, driven by shell commands,
against the emulator's Application Auto Scaling and its simulated scaler
(every second); results are checked in its state, its call counts and with
the AWS CLI.  The seed has no scalable target: each test registers its own
through the emulator's admin API, which counts no call.
"""
import os
import time

import pytest

from helpers.aws_cli import cli_desired, cli_target
from helpers.ecsim import wait_for
from helpers.mount import write_raw

DEV = "development-cluster"
PROD = "production-cluster"
AAS = ("DescribeScalableTargets", "DescribeScalingPolicies", "RegisterScalableTarget")
FLAGS = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")


def svc(cluster, service, *rest):
    return "/".join((cluster, "services", service) + rest)


def asc(cluster, service, f):
    return svc(cluster, service, "autoscaling", f)


def calls(emulator, *names):
    c = emulator.calls()
    return {n: c[n] for n in names if c.get(n)}


def journal(mount):
    return mount.read(".ecsfs", "journal").splitlines()


@pytest.fixture
def target(emulator):
    """development-cluster/api (desired 1) with a target of [1, 4], registered before mounting."""
    emulator.register_target(DEV, "api", min=1, max=4)
    return emulator


# -- the folder --------------------------------------------------------------

def test_a_service_without_a_target_has_no_folder(mount, emulator):
    emulator.reset_calls()
    assert "autoscaling" not in os.listdir(mount.p(svc(DEV, "web")))
    assert not os.path.exists(mount.p(svc(DEV, "web", "autoscaling")))
    r = mount.sh("ls %s" % svc(DEV, "web", "autoscaling"), check=False)
    assert r.returncode != 0 and "No such file or directory" in r.stderr
    r = mount.sh("cat %s" % asc(DEV, "web", "min_capacity"), check=False)
    assert r.returncode != 0 and "No such file or directory" in r.stderr
    # One listing of the region's targets answers every service for cache_ttl.
    for s in ("api", "web"):
        os.listdir(mount.p(svc(DEV, s)))
    for s in ("api", "web", "worker"):
        os.listdir(mount.p(svc(PROD, s)))
    assert calls(emulator, *AAS) == {"DescribeScalableTargets": 1}


def test_reading_other_files_costs_no_autoscaling_call(target, mount):
    target.reset_calls()
    mount.sh("cat %s/services/*/desired_count %s/services/*/task_definition > /dev/null; "
             "ls %s/services %s/tasks > /dev/null; cat %s > /dev/null"
             % (DEV, DEV, DEV, DEV, svc(DEV, "api", "stable")))
    mount.sh("echo 1 > %s" % svc(DEV, "api", "restart"))
    assert calls(target, *AAS) == {}


def test_read_the_folder(target, mount):
    assert "autoscaling" in os.listdir(mount.p(svc(DEV, "api")))
    assert "autoscaling" not in os.listdir(mount.p(svc(DEV, "web")))
    assert sorted(os.listdir(mount.p(svc(DEV, "api", "autoscaling")))) == \
        ["max_capacity", "min_capacity", "policies", "suspended"]
    t = cli_target(target, DEV, "api")
    assert mount.read(asc(DEV, "api", "min_capacity")) == "%d\n" % t["MinCapacity"] == "1\n"
    assert mount.read(asc(DEV, "api", "max_capacity")) == "%d\n" % t["MaxCapacity"] == "4\n"
    assert mount.read(asc(DEV, "api", "suspended")) == "false\n"
    assert mount.read(asc(DEV, "api", "policies")) == ""
    modes = {f: oct(os.stat(mount.p(asc(DEV, "api", f))).st_mode & 0o777)
             for f in ("min_capacity", "max_capacity", "suspended", "policies")}
    assert modes == {"min_capacity": "0o644", "max_capacity": "0o644",
                     "suspended": "0o644", "policies": "0o444"}
    # Policies, one "NAME TYPE" line each, sorted by name.
    rid = "service/%s/api" % DEV
    aas = target.client("application-autoscaling")
    aas.put_scaling_policy(
        ServiceNamespace="ecs", ResourceId=rid, ScalableDimension="ecs:service:DesiredCount",
        PolicyName="zz-cpu", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={"TargetValue": 50.0,
            "PredefinedMetricSpecification":
            {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    aas.put_scaling_policy(
        ServiceNamespace="ecs", ResourceId=rid, ScalableDimension="ecs:service:DesiredCount",
        PolicyName="aa-step", PolicyType="StepScaling",
        StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}]})
    mount.sh("echo 1 > %s/refresh" % DEV)
    cli = target.aws("application-autoscaling", "describe-scaling-policies",
                     "--service-namespace", "ecs", "--resource-id", rid)["ScalingPolicies"]
    want = "".join("%s %s\n" % (p["PolicyName"], p["PolicyType"])
                   for p in sorted(cli, key=lambda p: p["PolicyName"]))
    assert mount.read(asc(DEV, "api", "policies")) == want == \
        "aa-step StepScaling\nzz-cpu TargetTrackingScaling\n"
    # Reading it again within cache_ttl costs nothing.
    target.reset_calls()
    assert mount.read(asc(DEV, "api", "policies")) == want
    mount.sh("cat %s/* > /dev/null" % svc(DEV, "api", "autoscaling"))
    assert calls(target, *AAS) == {}


# -- writes ------------------------------------------------------------------

def test_write_min_max_and_suspended(target, mount):
    mount.read(asc(DEV, "api", "min_capacity"))
    target.reset_calls()
    mount.sh("echo 0 > %s" % asc(DEV, "api", "min_capacity"))
    assert calls(target, "RegisterScalableTarget") == {"RegisterScalableTarget": 1}
    assert cli_target(target, DEV, "api")["MinCapacity"] == 0
    assert mount.read(asc(DEV, "api", "min_capacity")) == "0\n"  # at once
    mount.sh("echo 6 > %s" % asc(DEV, "api", "max_capacity"))
    t = cli_target(target, DEV, "api")
    assert (t["MinCapacity"], t["MaxCapacity"]) == (0, 6)
    assert mount.read(asc(DEV, "api", "max_capacity")) == "6\n"
    mount.sh("echo true > %s" % asc(DEV, "api", "suspended"))
    assert cli_target(target, DEV, "api")["SuspendedState"] == {f: True for f in FLAGS}
    assert mount.read(asc(DEV, "api", "suspended")) == "true\n"
    mount.sh("echo false | tee %s > /dev/null" % asc(DEV, "api", "suspended"))
    assert cli_target(target, DEV, "api")["SuspendedState"] == {f: False for f in FLAGS}
    assert mount.read(asc(DEV, "api", "suspended")) == "false\n"
    assert calls(target, "RegisterScalableTarget") == {"RegisterScalableTarget": 4}
    j = [l for l in journal(mount) if "op=RegisterScalableTarget" in l]
    target_word = "target=%s/services/api/autoscaling" % DEV
    assert "%s field=min_capacity old=1 new=0 result=ok" % target_word in j[0]
    assert "%s field=max_capacity old=4 new=6 result=ok" % target_word in j[1]
    assert "field=suspended old=false new=true result=ok" in j[2]
    assert "field=suspended old=true new=false result=ok" in j[3]
    assert all("request_id=-" not in l for l in j)
    # The same value again sends nothing.
    target.reset_calls()
    mount.sh("echo 0 > %s; echo false > %s" % (asc(DEV, "api", "min_capacity"),
                                                asc(DEV, "api", "suspended")))
    assert calls(target, "RegisterScalableTarget") == {}
    assert all("result=unchanged" in l for l in journal(mount)[-2:])


def test_a_lost_register_answer_is_checked_against_aws(target, mount_factory):
    """RegisterScalableTarget applied but answered after the budget: the write
    succeeds; held before it applies: ETIMEDOUT, journaled unknown."""
    m = mount_factory(options={"timeout": 2})
    f = asc(DEV, "api", "max_capacity")
    assert m.read(f) == "4\n"
    target.faults(response_delay_ms=6000, actions=["RegisterScalableTarget"])
    target.reset_calls()
    m.sh("echo 6 > %s" % f)
    assert calls(target, "RegisterScalableTarget") == {"RegisterScalableTarget": 1}
    assert target.target(DEV, "api")["MaxCapacity"] == 6
    j = [l for l in journal(m) if "op=RegisterScalableTarget" in l][-1]
    assert "field=max_capacity old=4 new=6 result=ok" in j and "the answer was lost" in j, j
    target.faults(latency_ms=8000, actions=["RegisterScalableTarget"])
    r = m.sh("echo 7 > %s" % f, check=False)
    assert r.returncode != 0 and "Connection timed out" in r.stderr, r.stderr
    j = [l for l in journal(m) if "op=RegisterScalableTarget" in l][-1]
    assert "old=6 new=7 result=unknown" in j and "may still be applied" in j, j
    # Which was right: AWS applies it later.
    wait_for(lambda: target.target(DEV, "api")["MaxCapacity"] == 7, timeout=30,
             what="the held RegisterScalableTarget to be applied")


def test_an_unreadable_register_answer_is_a_success(target, mount):
    """RegisterScalableTarget applied and answered 200 with a body cut short:
    the write succeeds, sent once, checked by a describe."""
    f = asc(DEV, "api", "max_capacity")
    assert mount.read(f) == "4\n"
    target.wire_faults(unreadable_after_apply={"RegisterScalableTarget": "cut"})
    target.reset_calls()
    mount.sh("echo 6 > %s" % f)
    assert calls(target, "RegisterScalableTarget") == {"RegisterScalableTarget": 1}
    target.wire_faults()
    assert target.target(DEV, "api")["MaxCapacity"] == 6
    assert mount.read(f) == "6\n"
    j = [l for l in journal(mount) if "op=RegisterScalableTarget" in l][-1]
    assert "field=max_capacity old=4 new=6 result=ok" in j, j
    assert "the answer could not be read" in j and "shows the change applied" in j, j


def test_partly_suspended_reads_false_and_false_clears_it(target, mount):
    target.register_target(DEV, "web", min=1, max=3)
    target.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/%s/web" % DEV,
        ScalableDimension="ecs:service:DesiredCount",
        SuspendedState={"DynamicScalingInSuspended": True})
    assert mount.read(asc(DEV, "web", "suspended")) == "false\n"
    mount.sh("echo false > %s" % asc(DEV, "web", "suspended"))
    assert cli_target(target, DEV, "web")["SuspendedState"] == {f: False for f in FLAGS}


BAD = {
    "min_capacity": [b"", b"\n", b"-1", b"+1", b"abc", b"1.5", b"1e3", b"5 5", b" 1", b"1 ",
                     b"0x1", b"2147483648", b"\x00", b"1\n\n", b"\xff", b"5"],
    "max_capacity": [b"", b"\n", b"-3", b"+5", b"abc", b"2.0", b"4 4", b" 4", b"4\r\n",
                     b"99999999999", b"\x00", b"--1", b"\xd9\xa5", b"0", b"x" * 5000],
    "suspended": [b"", b"\n", b"TRUE", b"True", b"yes", b"1", b"0", b"on", b" true", b"true ",
                  b"true\n\n", b"false\x00", b"t", b"truefalse", b"\xff"],
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_values_are_einval_with_no_call(target, mount, name):
    """min_capacity 5 is above max 4, max_capacity 0 below min 1: refused like bad text."""
    path = mount.p(asc(DEV, "api", name))
    before = cli_target(target, DEV, "api")
    mount.read(asc(DEV, "api", name))
    target.reset_calls()
    for data in BAD[name]:
        if data == b"":
            assert write_raw(path, data) == 0  # never reaches the daemon
            continue
        assert write_raw(path, data) == 22, (name, data)
    assert target.total_calls() == 0
    assert cli_target(target, DEV, "api") == before
    assert mount.read(asc(DEV, "api", name)) == {"min_capacity": "1\n", "max_capacity": "4\n",
                                                 "suspended": "false\n"}[name]
    assert sum("result=invalid" in l for l in journal(mount)) >= len(BAD[name]) - 2
    r = mount.sh("echo abc > %s" % asc(DEV, "api", name), check=False)
    assert r.returncode != 0 and "Invalid argument" in r.stderr
    if name != "suspended":
        j = [l for l in journal(mount) if "result=invalid" in l]
        other = "max_capacity 4" if name == "min_capacity" else "min_capacity 1"
        assert any("autoscaling/%s" % other in l for l in j), j


def test_dry_run_sends_no_register(target, mount_factory):
    m = mount_factory(options={"dry_run": True})
    target.reset_calls()
    m.sh("echo 0 > %s; echo 9 > %s; echo true > %s" % (
        asc(DEV, "api", "min_capacity"), asc(DEV, "api", "max_capacity"),
        asc(DEV, "api", "suspended")))
    assert calls(target, "RegisterScalableTarget") == {}
    t = cli_target(target, DEV, "api")
    assert (t["MinCapacity"], t["MaxCapacity"]) == (1, 4)
    assert m.read(asc(DEV, "api", "min_capacity")) == "1\n"
    j = [l for l in journal(m) if "op=RegisterScalableTarget" in l]
    assert len(j) == 3 and all("result=dry-run" in l for l in j)
    assert "field=min_capacity old=1 new=0" in j[0]


# -- the desired_count check -------------------------------------------------

def test_out_of_range_desired_count_is_erange_and_sends_nothing(target, mount):
    f = svc(DEV, "api", "desired_count")
    target.set_scaler_interval(0.3)
    target.reset_calls()
    for value, word in (("0", "below autoscaling/min_capacity 1"),
                        ("5", "above autoscaling/max_capacity 4"),
                        ("-5", "below autoscaling/min_capacity 1"),
                        ("+4", "above autoscaling/max_capacity 4")):
        r = mount.sh("echo %s > %s" % (value, f), check=False)
        assert r.returncode != 0 and "Numerical result out of range" in r.stderr, value
        j = journal(mount)[-1]
        assert "field=desired_count" in j and "result=out-of-range" in j, j
        assert word in j, j
        assert "write true to autoscaling/suspended" in j
    assert calls(target, "UpdateService") == {}
    assert cli_desired(target, DEV, "api") == 1
    assert "below autoscaling/min_capacity 1" in mount.log()
    # Inside the range it goes through.
    mount.sh("echo +3 > %s" % f)
    assert cli_desired(target, DEV, "api") == 4
    assert calls(target, "UpdateService") == {"UpdateService": 1}
    # What the check prevents: a scale to zero behind the mount's back is undone.
    target.boto3().update_service(cluster=DEV, service="api", desiredCount=0)
    wait_for(lambda: target.state(DEV)["services"]["api"]["desired"] == 1, timeout=30,
             what="the scaler to restore min_capacity")


def test_scale_to_zero_after_lowering_min_stays_at_zero(target, mount):
    target.set_scaler_interval(0.3)
    mount.sh("echo 0 > %s && echo 0 > %s" % (asc(DEV, "api", "min_capacity"),
                                              svc(DEV, "api", "desired_count")))
    assert cli_desired(target, DEV, "api") == 0
    target.wait_scaler_runs(3)
    assert cli_desired(target, DEV, "api") == 0
    assert target.service(DEV, "api")["desired"] == 0
    # And back: desired first, then min restored.
    mount.sh("echo 1 > %s && echo 1 > %s" % (svc(DEV, "api", "desired_count"),
                                              asc(DEV, "api", "min_capacity")))
    assert cli_target(target, DEV, "api")["MinCapacity"] == 1
    assert cli_desired(target, DEV, "api") == 1


def test_the_check_is_off_while_suspended(target, mount):
    target.set_scaler_interval(0.3)
    mount.sh("echo true > %s" % asc(DEV, "api", "suspended"))
    target.reset_calls()
    mount.sh("echo 0 > %s" % svc(DEV, "api", "desired_count"))
    assert calls(target, "UpdateService") == {"UpdateService": 1}
    assert cli_desired(target, DEV, "api") == 0
    target.wait_scaler_runs(3)
    assert cli_desired(target, DEV, "api") == 0
    mount.sh("echo 9 > %s" % svc(DEV, "api", "desired_count"))
    assert cli_desired(target, DEV, "api") == 9
    # Resumed, the check is back.
    mount.sh("echo false > %s" % asc(DEV, "api", "suspended"))
    r = mount.sh("echo 7 > %s" % svc(DEV, "api", "desired_count"), check=False)
    assert r.returncode != 0 and "Numerical result out of range" in r.stderr


def test_tee_over_a_cluster_costs_one_describe_of_targets(emulator, mount_factory):
    emulator.register_target(DEV, "api", min=0, max=3)
    emulator.register_target(DEV, "web", min=1, max=3)
    m = mount_factory(options={"cache_ttl": 60})
    emulator.reset_calls()
    r = m.sh("echo 0 | tee %s/services/*/desired_count > /dev/null" % DEV, check=False)
    # api may go to 0; web's minimum is 1.
    assert r.returncode != 0 and "Numerical result out of range" in r.stderr
    assert "web/desired_count" in r.stderr and "api/desired_count" not in r.stderr
    assert calls(emulator, *AAS) == {"DescribeScalableTargets": 1}
    assert calls(emulator, "UpdateService") == {"UpdateService": 1}
    assert cli_desired(emulator, DEV, "api") == 0
    assert cli_desired(emulator, DEV, "web") == 1
    # Lowering web's minimum drops the cached listing: one more describe.
    emulator.reset_calls()
    m.sh("echo 0 > %s && echo 0 | tee %s/services/*/desired_count > /dev/null"
         % (asc(DEV, "web", "min_capacity"), DEV))
    assert calls(emulator, *AAS) == {"RegisterScalableTarget": 1, "DescribeScalableTargets": 1}
    assert cli_desired(emulator, DEV, "web") == 0


def test_access_denied_to_targets_still_browses_and_scales(emulator, mount_factory):
    emulator.register_target(DEV, "api", min=1, max=4)
    emulator.set_scaler_interval(0)  # so that a count below the minimum stays to be seen
    emulator.faults(deny_actions=["DescribeScalableTargets"])
    m = mount_factory(options={"cache_ttl": 1})
    for _ in range(3):
        assert "autoscaling" not in os.listdir(m.p(svc(DEV, "api")))
        assert not os.path.exists(m.p(svc(DEV, "api", "autoscaling")))
        m.sh("cat %s > /dev/null" % svc(DEV, "api", "desired_count"))
    # The check is skipped: nobody can tell the range.
    m.sh("echo 0 > %s" % svc(DEV, "api", "desired_count"))
    assert emulator.calls().get("UpdateService") == 1
    assert cli_desired(emulator, DEV, "api") == 0
    # Past cache_ttl the listing is asked for again, and refused again: no second warning.
    asked = emulator.calls().get("DescribeScalableTargets", 0)
    time.sleep(1.5)
    m.sh("ls %s > /dev/null; echo 0 > %s" % (svc(DEV, "api"), svc(DEV, "api",
                                                                   "desired_count")))
    assert emulator.calls().get("DescribeScalableTargets", 0) > asked >= 1
    assert emulator.calls().get("UpdateService") == 2
    warnings = [l for l in m.log().splitlines() if "DescribeScalableTargets refused" in l]
    assert len(warnings) == 1, m.log()
    assert "AccessDenied" in warnings[0] or "not authorized" in warnings[0]
    assert emulator.secret_key not in m.log()


def test_a_throttled_range_check_is_eagain_and_sends_nothing(target, mount_factory):
    m = mount_factory(options={"max_throttle_wait": 1})
    m.read(svc(DEV, "api", "desired_count"))
    target.faults(throttle_probability=1.0, actions=["DescribeScalableTargets"])
    target.reset_calls()
    r = m.sh("echo 2 > %s" % svc(DEV, "api", "desired_count"), check=False)
    assert r.returncode != 0 and "Resource temporarily unavailable" in r.stderr
    assert calls(target, "UpdateService") == {}
    j = journal(m)[-1]
    assert "field=desired_count" in j and "the scaling range could not be read" in j
    target.faults()
    m.sh("echo 2 > %s" % svc(DEV, "api", "desired_count"))
    assert cli_desired(target, DEV, "api") == 2


def test_an_unreachable_autoscaling_endpoint_leaves_writes_alone(emulator, mount_factory):
    """Nobody can tell the range: the write goes through, the log says why."""
    m = mount_factory(env={"AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING": "http://127.0.0.1:9"},
                      options={"connect_timeout": 1, "timeout": 3})
    assert "autoscaling" not in os.listdir(m.p(svc(DEV, "api")))
    emulator.reset_calls()
    m.sh("echo 0 > %s" % svc(DEV, "api", "desired_count"))
    assert calls(emulator, "UpdateService") == {"UpdateService": 1}
    assert cli_desired(emulator, DEV, "api") == 0
    assert "not checked against a scaling range" in m.log()


def test_a_value_the_cache_thinks_unchanged_is_checked_with_aws(emulator, mount_factory):
    """The listing is cached for cache_ttl: a write of what it shows must
    not be answered "unchanged" when AWS has moved on meanwhile."""
    emulator.register_target(DEV, "api", min=2, max=4)
    emulator.set_scaler_interval(0)
    m = mount_factory(options={"cache_ttl": 60})
    assert m.read(asc(DEV, "api", "min_capacity")) == "2\n"
    assert m.read(asc(DEV, "api", "suspended")) == "false\n"
    # Someone else lowers the minimum and suspends scaling, behind the mount.
    emulator.register_target(DEV, "api", min=0, suspended=True)
    emulator.reset_calls()
    m.sh("echo 2 > %s && echo false > %s"
         % (asc(DEV, "api", "min_capacity"), asc(DEV, "api", "suspended")))
    t = emulator.target(DEV, "api")
    assert t["MinCapacity"] == 2
    assert not any(t["SuspendedState"].values()), t
    c = emulator.calls()
    assert c.get("RegisterScalableTarget") == 2, c
    # What the cache shows and AWS agrees with is unchanged: one describe, nothing sent.
    emulator.reset_calls()
    m.sh("sleep 1.2; echo 2 > %s" % asc(DEV, "api", "min_capacity"))
    c = emulator.calls()
    assert "RegisterScalableTarget" not in c, c
