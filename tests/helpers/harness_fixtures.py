"""What the tests of the Harness kit (examples/harness) share.

  harness       run(pipeline, delegate_env=None, **inputs) -> an Execution of
                the pipeline by helpers/harness.py on a delegate made of the
                emulator's endpoint and the built ecsfs; parametrized, so a test
                that uses it runs twice: with the mount and with the commands
                (ECSFS_MODE=mount|command)
  delegate_env  a delegate's environment for one mode, without credentials
  snapshot      what a dry run must leave as it was, in the emulator's state
"""
import re
from pathlib import Path

import pytest

from helpers.harness import HarnessRun, ecsfs_mounts_under
from helpers.mount import binary

REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "examples" / "harness"
LIFECYCLE = HARNESS / "ecs-lifecycle-management.yaml"
SCALE = HARNESS / "ecs-scale-services.yaml"
LIST = HARNESS / "ecs-list-resources.yaml"
PIPELINES = [LIFECYCLE, LIST, SCALE]
STEP_HELPER = HARNESS / "ecsfs-step.sh"
MODES = ["mount", "command"]

PROD = "production-cluster"
DEV = "development-cluster"
MUTATING = ("UpdateService", "StopTask", "UpdateContainerInstancesState",
            "RegisterScalableTarget")
MOUNTED = re.compile(r"^ecsfs \d+\.\d+\.\d+ \((mount|command)(?:, (ro|check))?\): "
                     r"region=(\S+) dry_run=(\d)$", re.M)


def mutating_calls(emulator):
    c = emulator.calls()
    return {a: c[a] for a in MUTATING if c.get(a)}


def delegate_env(emulator, mode):
    """A delegate's environment: the emulator's endpoint, the built ecsfs, the kit's
    step helper and the mode; no credentials."""
    env = emulator.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, AWS_REGION=None,
                       AWS_DEFAULT_REGION=None)
    env["PATH"] = "%s:%s" % (binary().parent, env["PATH"])
    env["ECSFS_STEP"] = str(STEP_HELPER)
    env["ECSFS_MODE"] = mode
    return env


def delegate_state(tmp_path):
    """The delegate's ECSFS_STATE_DIR (the saved autoscaling minimums)."""
    return tmp_path / "delegate-state"


@pytest.fixture(params=MODES)
def harness(emulator, tmp_path, request):
    """run(pipeline, **inputs) -> Execution, on a delegate environment made of the
    emulator's endpoint and the built ecsfs; credentials come only from secrets.
    Every test that uses it runs twice: with the mount and with the commands."""
    mode = request.param
    emulator.time_scale(60)
    env = delegate_env(emulator, mode)
    env["ECSFS_MOUNT_OPTIONS"] = "wait_interval=0.2,wait_timeout=60"
    env["ECSFS_STATE_DIR"] = str(delegate_state(tmp_path))
    secrets = {"org.aws_access_key_id": emulator.access_key,
               "org.aws_secret_access_key": emulator.secret_key}
    runs = []

    def run(pipeline, delegate_env=None, **inputs):
        work = tmp_path / ("run%d" % len(runs))
        e = dict(env)
        e.update(delegate_env or {})
        ex = HarnessRun(pipeline, e, secrets, inputs, work, sequence_id=len(runs) + 7).execute()
        runs.append(ex)
        for s in ex.ran():
            assert s.leaked_mounts == [], "%s.%s left %s mounted\n%s" % (
                s.stage, s.id, s.leaked_mounts, ex.report())
            if s.type == "ShellScript" and s.status == "Success":
                m = MOUNTED.search(s.stdout)
                assert m, "%s.%s did not start ecsfs:\n%s" % (s.stage, s.id, ex.report())
                assert m.group(1) == mode
                assert m.group(3) == emulator.region
                # A checking mount (VALIDATE of deploy, rollback) is a dry run always.
                dry = ex.inputs.get("dry_run") == "true" or m.group(2) == "check"
                assert m.group(4) == ("1" if dry else "0"), s.stdout
        assert ecsfs_mounts_under(tmp_path) == []
        return ex
    return run


def service_state(emulator):
    out = {}
    for c in (PROD, DEV):
        for name, s in emulator.state(c)["services"].items():
            out[(c, name)] = s
    return out


def snapshot(emulator):
    """What a dry run must leave as it was."""
    snap = {}
    for c in (PROD, DEV):
        st = emulator.state(c)
        snap[c] = ({n: (s["desired"], s["taskDefinition"], [d["id"] for d in s["deployments"]])
                    for n, s in st["services"].items()},
                   {t: v["desiredStatus"] for t, v in st["tasks"].items()},
                   {i: v["status"] for i, v in st["instances"].items()})
    return snap
