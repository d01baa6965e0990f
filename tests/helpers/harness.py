"""Running a Harness pipeline's YAML locally, the way Harness runs it.

    run = HarnessRun(path, env=..., secrets=..., inputs=..., workdir=...)
    ex = run.execute()
    ex.status                       "Success" or "Failed"
    ex.step("EXECUTE", "execute")   a StepResult: status, exit_code, log, outputs
    ex.output("DISCOVER", "discover", "SERVICE_COUNT")
    ex.approvals                    HarnessApproval steps reached (all approved)

What is emulated, after Harness NG's documented behaviour:

- Pipeline variables whose value is a runtime input, `<+input>`, optionally
  with `.default(v)` and `.allowedValues(a,b,...)`: a value given for a
  variable that is not in allowedValues fails the run before anything runs,
  as the Harness UI refuses it.  A value of None stands for a field left
  empty in an input set, which Harness passes on as "null".
- Expressions `<+...>` in scripts, environment variables, conditions and
  approval messages, resolved before the step runs (textual substitution):
  pipeline.variables.X, secrets.getValue("scope.X"), pipeline.name /
  identifier / sequenceId / executionId, stage.identifier / name,
  execution.steps.S.output.outputVariables.V (and steps.S...) in the current
  stage, and pipeline.stages.G.spec.execution.steps.S.output.
  outputVariables.V.  An output of a step that was skipped or failed
  resolves to "null", as Harness renders an unresolved expression.  Any
  other expression is an error, so a pipeline cannot lean on something this
  runner would get wrong.
- `when` of stages (pipelineStatus Success/Failure/All plus a condition) and
  of steps (stageStatus plus a condition).  Conditions are JEXL; the subset
  understood here is string literals, true/false/null, ==, !=, !, && and ||
  with parentheses.
- ShellScript steps (shell Bash, source Inline): the script runs with bash
  in a working folder of its own, with the step's environmentVariables
  (String and Secret types) on top of the delegate's environment, under the
  step's timeout (SIGTERM to the script's process group, SIGKILL 10 s
  later).  Output variables are collected the way the Harness delegate does
  it: a line per variable is appended to the script, after its last line,
  so a script that exits early or fails exports nothing; a failed step has
  no outputs.
- HarnessApproval steps: recorded and approved at once.
- Failure: a failed step fails its stage (failure strategy MarkAsFailure,
  the only one accepted), later steps run only if their stageStatus allows
  it, and later stages only if their pipelineStatus does.

The delegate environment (env) comes from the test: PATH with the built
ecsfs, AWS_ENDPOINT_URL of the emulator.  The runner refuses an environment
whose endpoint is not on 127.0.0.1, so a step can never reach real AWS.
After each step it looks for an ecsfs mount left behind under the step's
TMPDIR and records it in StepResult.leaked_mounts.
"""
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import yaml

EXPR_RE = re.compile(r"<\+([^<>]*)>")
INPUT_RE = re.compile(r"^<\+input>((?:\.\w+\([^()]*\))*)$")
METHOD_RE = re.compile(r"\.(\w+)\(([^()]*)\)")
SECRET_RE = re.compile(r"""^secrets\.getValue\(\s*(["'])([\w.-]+)\1\s*\)$""")
STEP_OUT_RE = re.compile(r"^(?:execution\.)?steps\.(\w+)\.output\.outputVariables\.(\w+)$")
STAGE_OUT_RE = re.compile(r"^pipeline\.stages\.(\w+)\.spec\.execution\.steps\.(\w+)"
                          r"\.output\.outputVariables\.(\w+)$")
OUT_FILE_SEP = "\0"


class PipelineError(Exception):
    """The pipeline uses something Harness would refuse, or this runner cannot emulate."""


class StepResult:
    def __init__(self, stage, ident, kind):
        self.stage = stage
        self.id = ident
        self.type = kind
        self.status = "Skipped"
        self.exit_code = None
        self.stdout = ""
        self.stderr = ""
        self.outputs = {}
        self.seconds = 0.0
        self.timed_out = False
        self.leaked_mounts = []
        self.env = {}

    @property
    def log(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return "<step %s.%s %s exit=%s>" % (self.stage, self.id, self.status, self.exit_code)


class Execution:
    def __init__(self, name):
        self.name = name
        self.status = "Success"
        self.stages = {}        # stage id -> "Success" | "Failed" | "Skipped"
        self.steps = []         # StepResult, in the order they were reached
        self.approvals = []     # (stage, step, message)
        self.inputs = {}

    def step(self, stage, ident):
        for s in self.steps:
            if s.stage == stage and s.id == ident:
                return s
        raise KeyError("no step %s.%s" % (stage, ident))

    def output(self, stage, ident, var):
        return self.step(stage, ident).outputs.get(var)

    def ran(self):
        """The steps that ran (not skipped)."""
        return [s for s in self.steps if s.status != "Skipped"]

    def report(self):
        """Every step's status and log, for assertion messages."""
        parts = []
        for s in self.steps:
            parts.append("== %s.%s (%s) %s exit=%s outputs=%s" % (s.stage, s.id, s.type,
                         s.status, s.exit_code, s.outputs))
            if s.log:
                parts.append(s.log.rstrip())
        return "\n".join(parts)


# -- JEXL conditions ---------------------------------------------------------

TOKEN_RE = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|"""
                      r"""(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<word>[A-Za-z_]\w*)|"""
                      r"""(?P<val>\x00\d+\x00))""")


def eval_condition(text, resolve):
    """Evaluates a Harness (JEXL) condition; resolve(expr) gives an expression's value."""
    values = []

    def stash(m):
        values.append(resolve(m.group(1)))
        return "\x00%d\x00" % (len(values) - 1)
    src = EXPR_RE.sub(stash, text)
    tokens = []
    pos = 0
    while pos < len(src):
        if src[pos:].strip() == "":
            break
        m = TOKEN_RE.match(src, pos)
        if not m or m.end() == pos:
            raise PipelineError("condition %r: cannot parse at %r" % (text, src[pos:]))
        pos = m.end()
        if m.group("str"):
            tokens.append(("v", m.group("str")[1:-1].encode().decode("unicode_escape")))
        elif m.group("op"):
            tokens.append((m.group("op"), None))
        elif m.group("val"):
            tokens.append(("v", values[int(m.group("val").strip("\x00"))]))
        else:
            word = m.group("word")
            lit = {"true": True, "false": False, "null": None}
            if word not in lit:
                raise PipelineError("condition %r: unknown word %r" % (text, word))
            tokens.append(("v", lit[word]))
    tokens.append(("end", None))
    i = 0

    def peek():
        return tokens[i][0]

    def take(kind=None):
        nonlocal i
        t = tokens[i]
        if kind is not None and t[0] != kind:
            raise PipelineError("condition %r: expected %s, got %s" % (text, kind, t[0]))
        i += 1
        return t

    def primary():
        if peek() == "!":
            take()
            v = primary()
            if not isinstance(v, bool):
                raise PipelineError("condition %r: ! of a non-boolean" % text)
            return not v
        if peek() == "(":
            take()
            v = disj()
            take(")")
            return v
        return take("v")[1]

    def comparison():
        left = primary()
        while peek() in ("==", "!="):
            op = take()[0]
            right = primary()
            if isinstance(left, bool) != isinstance(right, bool) and None not in (left, right):
                raise PipelineError("condition %r: compares a string with a boolean; "
                                    "Harness variables are strings, quote the literal" % text)
            left = (left == right) if op == "==" else (left != right)
        return left

    def conj():
        v = comparison()
        while peek() == "&&":
            take()
            w = comparison()
            v = bool_of(v) and bool_of(w)
        return v

    def disj():
        v = conj()
        while peek() == "||":
            take()
            w = conj()
            v = bool_of(v) or bool_of(w)
        return v

    def bool_of(v):
        if not isinstance(v, bool):
            raise PipelineError("condition %r: %r is not a boolean" % (text, v))
        return v

    result = disj()
    take("end")
    return bool_of(result)


# -- durations ----------------------------------------------------------------

def parse_timeout(text, default=600.0):
    """Harness durations: "10m", "1h 30m", "45s", "1d"."""
    if not text:
        return default
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    parts = re.findall(r"(\d+)\s*([smhdw])", text)
    if not parts or re.sub(r"\d+\s*[smhdw]|\s", "", text):
        raise PipelineError("bad timeout %r" % text)
    return float(sum(int(n) * units[u] for n, u in parts))


# -- the run ------------------------------------------------------------------

def ecsfs_mounts_under(root):
    """Mount points of fuse.ecsfs file systems under root."""
    root = os.path.realpath(root)
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            point = fields[4].replace("\\040", " ")
            if fields[sep + 1] == "fuse.ecsfs" and (point + "/").startswith(root + "/"):
                found.append(point)
    return found


class HarnessRun:
    """One execution of one pipeline."""

    def __init__(self, path, env, secrets, inputs, workdir, sequence_id=1):
        self.path = Path(path)
        self.doc = yaml.safe_load(self.path.read_text())
        self.pipeline = self.doc["pipeline"]
        self.base_env = dict(env)
        self.secrets = dict(secrets)
        self.given = dict(inputs)
        self.workdir = Path(workdir)
        self.sequence_id = sequence_id
        self.execution_id = uuid.uuid4().hex[:22]
        endpoint = self.base_env.get("AWS_ENDPOINT_URL", "")
        if not re.match(r"^https?://127\.0\.0\.1:\d+$", endpoint):
            raise PipelineError("the delegate environment must point AWS_ENDPOINT_URL at the "
                                "local emulator, not %r" % endpoint)
        self.variables = self._variables()
        self.ex = Execution(self.pipeline.get("name"))
        self.ex.inputs = dict(self.variables)
        self.stage = None

    # -- inputs ------------------------------------------------------------

    def _variables(self):
        values = {}
        declared = set()
        for var in self.pipeline.get("variables", []):
            name = var["name"]
            declared.add(name)
            if var.get("type") not in ("String", "Number"):
                raise PipelineError("variable %s: type %s" % (name, var.get("type")))
            raw = str(var.get("value", ""))
            m = INPUT_RE.match(raw)
            if not m:
                if "<+" in raw:
                    raise PipelineError("variable %s: expression values are not emulated" % name)
                values[name] = raw
                continue
            methods = dict((k, v) for k, v in METHOD_RE.findall(m.group(1)))
            unknown = set(methods) - {"default", "allowedValues"}
            if unknown:
                raise PipelineError("variable %s: input methods %s" % (name, sorted(unknown)))
            allowed = None
            if "allowedValues" in methods:
                allowed = [a.strip() for a in methods["allowedValues"].split(",")]
            if name in self.given:
                value = self.given[name]
                value = "null" if value is None else str(value)
            elif "default" in methods:
                value = methods["default"]
            elif var.get("required"):
                raise PipelineError("variable %s is required and was not given" % name)
            else:
                value = ""
            if var.get("required") and value in ("", "null"):
                raise PipelineError("variable %s is required and was left empty" % name)
            if allowed is not None and value not in allowed:
                raise PipelineError("variable %s: %r is not one of %s" % (name, value, allowed))
            values[name] = value
        extra = set(self.given) - declared
        if extra:
            raise PipelineError("inputs for undeclared variables: %s" % sorted(extra))
        return values

    # -- expressions -------------------------------------------------------

    def resolve(self, expr):
        expr = expr.strip()
        if expr.startswith("pipeline.variables."):
            name = expr[len("pipeline.variables."):]
            if name not in self.variables:
                raise PipelineError("no pipeline variable %s" % name)
            return self.variables[name]
        m = SECRET_RE.match(expr)
        if m:
            ref = m.group(2)
            if ref not in self.secrets:
                raise PipelineError("no secret %s" % ref)
            return self.secrets[ref]
        simple = {
            "pipeline.name": self.pipeline.get("name"),
            "pipeline.identifier": self.pipeline.get("identifier"),
            "pipeline.sequenceId": str(self.sequence_id),
            "pipeline.executionId": self.execution_id,
            "stage.identifier": self.stage["identifier"] if self.stage else None,
            "stage.name": self.stage["name"] if self.stage else None,
        }
        if expr in simple and simple[expr] is not None:
            return simple[expr]
        m = STEP_OUT_RE.match(expr)
        if m and self.stage is not None:
            return self._output(self.stage["identifier"], m.group(1), m.group(2))
        m = STAGE_OUT_RE.match(expr)
        if m:
            return self._output(m.group(1), m.group(2), m.group(3))
        raise PipelineError("expression <+%s> is not emulated" % expr)

    def _output(self, stage, step, var):
        """A step's output variable; "null" when the step did not succeed or never ran."""
        self._check_step_exists(stage, step, var)
        for s in self.ex.steps:
            if s.stage == stage and s.id == step and s.status == "Success":
                return s.outputs.get(var, "null")
        return "null"

    def _check_step_exists(self, stage, step, var):
        for st in self.pipeline["stages"]:
            st = st["stage"]
            if st["identifier"] != stage:
                continue
            for w in st["spec"]["execution"]["steps"]:
                s = w.get("step", {})
                if s.get("identifier") == step:
                    names = [o["name"] for o in s.get("spec", {}).get("outputVariables", [])]
                    if var not in names:
                        raise PipelineError("step %s.%s has no output variable %s"
                                            % (stage, step, var))
                    return
        raise PipelineError("no step %s.%s" % (stage, step))

    def substitute(self, text):
        if text is None:
            return None
        out = EXPR_RE.sub(lambda m: str(self.resolve(m.group(1))), str(text))
        if "<+" in out:
            raise PipelineError("unresolved expression left in %r" % text[:200])
        return out

    def condition(self, when, status_key, failed):
        if when is None:
            when = {status_key: "Success"}
        if isinstance(when, str):
            raise PipelineError("runtime-input conditions are not emulated")
        status = when.get(status_key)
        if status == "Success" and failed:
            return False
        if status == "Failure" and not failed:
            return False
        if status not in ("Success", "Failure", "All"):
            raise PipelineError("bad %s %r" % (status_key, status))
        cond = when.get("condition")
        if cond is None or str(cond).strip() == "":
            return True
        return eval_condition(str(cond), self.resolve)

    # -- execution ---------------------------------------------------------

    def execute(self):
        failed = False
        for wrapper in self.pipeline["stages"]:
            if set(wrapper) != {"stage"}:
                raise PipelineError("only plain stages are emulated, not %s" % sorted(wrapper))
            stage = wrapper["stage"]
            self.stage = stage
            self._check_failure_strategies(stage)
            if stage["type"] not in ("Custom", "Approval"):
                raise PipelineError("stage type %s is not emulated" % stage["type"])
            sid = stage["identifier"]
            if not self.condition(stage.get("when"), "pipelineStatus", failed):
                self.ex.stages[sid] = "Skipped"
                for w in stage["spec"]["execution"]["steps"]:
                    s = w["step"]
                    self.ex.steps.append(StepResult(sid, s["identifier"], s["type"]))
                continue
            stage_failed = self._run_stage(stage)
            self.ex.stages[sid] = "Failed" if stage_failed else "Success"
            failed = failed or stage_failed
        self.stage = None
        self.ex.status = "Failed" if failed else "Success"
        return self.ex

    def _check_failure_strategies(self, node):
        for fs in node.get("failureStrategies", []) or []:
            action = fs["onFailure"]["action"]["type"]
            if action != "MarkAsFailure":
                raise PipelineError("failure strategy %s is not emulated" % action)

    def _run_stage(self, stage):
        sid = stage["identifier"]
        stage_failed = False
        for w in stage["spec"]["execution"]["steps"]:
            if set(w) != {"step"}:
                raise PipelineError("only plain steps are emulated, not %s" % sorted(w))
            step = w["step"]
            self._check_failure_strategies(step)
            res = StepResult(sid, step["identifier"], step["type"])
            self.ex.steps.append(res)
            if not self.condition(step.get("when"), "stageStatus", stage_failed):
                continue
            if step["type"] == "ShellScript":
                self._run_shell(step, res)
            elif step["type"] == "HarnessApproval":
                msg = self.substitute(step["spec"].get("approvalMessage", ""))
                self.ex.approvals.append((sid, step["identifier"], msg))
                res.status = "Success"
                res.stdout = msg
            else:
                raise PipelineError("step type %s is not emulated" % step["type"])
            if res.status != "Success":
                stage_failed = True
        return stage_failed

    def _run_shell(self, step, res):
        spec = step["spec"]
        if spec.get("shell") != "Bash" or spec["source"]["type"] != "Inline":
            raise PipelineError("only inline Bash scripts are emulated")
        script = self.substitute(spec["source"]["spec"]["script"])
        d = self.workdir / ("%02d-%s-%s" % (len(self.ex.steps), res.stage, res.id))
        tmp = d / "tmp"
        tmp.mkdir(parents=True)
        out_file = d / "harness-output-variables"
        collected = []
        for ov in spec.get("outputVariables", []) or []:
            var = ov["value"]
            if not re.match(r"^[A-Za-z_]\w*$", var):
                raise PipelineError("output variable %s: %r is not a shell variable name"
                                    % (ov["name"], var))
            collected.append((ov["name"], var))
        path = d / "script.sh"
        path.write_text(with_output_collector(script, collected, out_file))
        env = dict(self.base_env)
        env["TMPDIR"] = str(tmp)
        for v in spec.get("environmentVariables", []) or []:
            if v["type"] == "Secret":
                ref = str(v["value"])
                if ref not in self.secrets:
                    raise PipelineError("no secret %s" % ref)
                env[v["name"]] = self.secrets[ref]
            else:
                env[v["name"]] = self.substitute(v["value"])
        res.env = env
        timeout = parse_timeout(self.substitute(step.get("timeout")))
        t0 = time.monotonic()
        proc = subprocess.Popen(["bash", str(path)], cwd=d, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            res.timed_out = True
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
        res.seconds = time.monotonic() - t0
        res.stdout, res.stderr, res.exit_code = out, err, proc.returncode
        res.status = "Success" if proc.returncode == 0 and not res.timed_out else "Failed"
        if res.status == "Success" and collected:
            res.outputs = parse_outputs(out_file.read_text() if out_file.exists() else "")
        res.leaked_mounts = ecsfs_mounts_under(tmp)
        for point in res.leaked_mounts:
            subprocess.run(["fusermount3", "-u", "-z", point], capture_output=True)


def with_output_collector(script, collected, out_file):
    """The script as the delegate runs it: one line per output variable
    (name, shell variable) appended after its last line."""
    tail = "".join('printf "%%s=%%s\\0" %s "$%s" >> %s\n'
                   % (name, var, shell_quote(str(out_file))) for name, var in collected)
    return script.rstrip("\n") + "\n" + tail


def parse_outputs(text):
    outputs = {}
    for rec in text.split(OUT_FILE_SEP):
        if rec:
            name, _, value = rec.partition("=")
            outputs[name] = value
    return outputs


def shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"
