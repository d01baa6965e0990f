"""Start and drive the ECS emulator (tests/ecsim) from tests.

    emu = Emulator(tmp_path).start()
    emu.aws("ecs", "list-clusters")          # the real AWS CLI
    emu.boto3().describe_services(...)       # a boto3 client
    emu.client("logs").get_log_events(...)   # the other services too
    emu.calls()["DescribeServices"]          # calls counted by the emulator
    subprocess.run([...], env=emu.env())     # environment for ecsfs & co.
    emu.stop()

Emulator(tmp_path, scaler_interval=0.5, log_interval=1.0) sets how often
the simulated auto scaler runs and how often a running container writes
a log line (wall-clock seconds; 0 turns either off).  The helpers below
that set up or read Application Auto Scaling and CloudWatch Logs state
(register_target, put_log_events, log_events, ...) use the admin API, so
they add nothing to calls().

Each Emulator runs its own emulator process on its own port, with its output
in tmp_path/ecsim.log.  Nothing here reads the host's ~/.aws.
"""

import importlib.util
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request

from helpers import ecsim_fork

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MAIN = os.path.join(REPO, "tests", "ecsim", "main.py")
PYTHON = "/usr/bin/python3"
AWS = "/usr/bin/aws"
ACCESS_KEY = "AKIAECSIMEXAMPLEKEY01"
SECRET_KEY = "ecsimSecretKeyExample0123456789abcdefGHIJ"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def load_model():
    """The emulator's ECS model checker (tests/ecsim/model.py).

    Loaded under its own module name, so that the emulator's plain module
    names never land on the test process's sys.path.  Its Model().
    validate_output(op, body) lists how a response strays from botocore's
    output shape.
    """
    spec = importlib.util.spec_from_file_location("ecsim_model",
        os.path.join(os.path.dirname(MAIN), "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class EmulatorError(Exception):
    pass


class AwsCliError(Exception):
    """The AWS CLI exited non-zero; .stderr holds what it said."""

    def __init__(self, args, returncode, stdout, stderr):
        super().__init__("aws %s failed (exit %d): %s" % (" ".join(args),
            returncode, stderr.strip()))
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def wait_for(pred, timeout=10.0, interval=0.02, what=None):
    """Poll pred() until it returns a true value; return that value.

    Raises TimeoutError naming what (or pred) and its last value.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s "
                "(last value: %r)" % (timeout, what or getattr(pred,
                "__name__", "condition"), last))
        time.sleep(interval)


class Emulator:
    """One emulator process for one test."""

    region = "us-east-1"
    access_key = ACCESS_KEY
    secret_key = SECRET_KEY

    def __init__(self, tmp_path, seed="example", time_scale=20.0, tls=False,
        fault_seed=1, scaler_interval=1.0, log_interval=2.0):
        self.dir = os.fspath(tmp_path)
        self.seed = seed
        self.initial_time_scale = time_scale
        self.tls = tls
        self.fault_seed = fault_seed
        self.scaler_interval = scaler_interval
        self.log_interval = log_interval
        self.proc = None
        self.port = None
        self.ca_file = None
        self.cert_file = None
        self.key_file = None
        self.log_file = os.path.join(self.dir, "ecsim.log")
        self._ssl_ctx = None

    # -- lifecycle ------------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def _make_certs(self):
        """A CA and a server certificate for 127.0.0.1 and localhost."""
        d = os.path.join(self.dir, "ecsim-tls")
        os.makedirs(d, exist_ok=True)
        ca_key = os.path.join(d, "ca.key")
        ca = os.path.join(d, "ca.pem")
        key = os.path.join(d, "server.key")
        csr = os.path.join(d, "server.csr")
        cert = os.path.join(d, "server.pem")
        ext = os.path.join(d, "server.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes"]
        cmds = [
            ["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca,
                "-days", "2", "-subj", "/CN=ecsim test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["openssl", "req", "-new", *ec, "-keyout", key, "-out", csr,
                "-subj", "/CN=127.0.0.1"],
            ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey",
                ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
                "-extfile", ext],
        ]
        for cmd in cmds:
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise EmulatorError("%s failed: %s" % (" ".join(cmd[:3]),
                    r.stderr))
        self.ca_file, self.cert_file, self.key_file = ca, cert, key
        self._ssl_ctx = ssl.create_default_context(cafile=ca)

    def start(self, timeout=15.0):
        """Spawn the emulator and wait until it listens."""
        if self.tls and self.ca_file is None:
            self._make_certs()
        port_file = os.path.join(self.dir, "ecsim.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        args = ["--port", "0", "--port-file", port_file,
            "--seed", self.seed, "--region", self.region,
            "--time-scale", repr(float(self.initial_time_scale)),
            "--fault-seed", str(self.fault_seed),
            "--scaler-interval", repr(float(self.scaler_interval)),
            "--log-interval", repr(float(self.log_interval))]
        if self.tls:
            args += ["--tls-cert", self.cert_file, "--tls-key", self.key_file]
        self.proc = ecsim_fork.start(args, self.dir, self.log_file)
        if not ecsim_fork.wait_started(self.proc, port_file, timeout):
            status = self.proc.poll()
            self.stop()
            if status is not None:
                raise EmulatorError("ecsim exited with status %d before "
                    "listening:\n%s" % (status, self.read_log()))
            raise EmulatorError("ecsim did not start within %.0fs:\n%s"
                % (timeout, self.read_log()))
        with open(port_file) as f:
            self.port = int(f.read().strip())
        return self

    def stop(self):
        """Stop the emulator (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def read_log(self):
        try:
            with open(self.log_file, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- environment for clients ----------------------------------------

    def env(self, **extra):
        """Environment for a subprocess that talks to this emulator."""
        env = {
            "PATH": SYSTEM_PATH + ":" + os.environ.get("PATH", ""),
            "HOME": self.dir,
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CONFIG_FILE": os.path.join(self.dir, "aws-config-absent"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir,
                "aws-credentials-absent"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "AWS_CLI_AUTO_PROMPT": "off",
        }
        if self.tls:
            env["AWS_CA_BUNDLE"] = self.ca_file
        for key in ("TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if key in os.environ:
                env[key] = os.environ[key]
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    # -- the AWS CLI and boto3 ------------------------------------------

    def aws_raw(self, *args, env=None, timeout=60, input=None):
        """Run /usr/bin/aws against the emulator; a CompletedProcess."""
        cmd = [AWS, *args, "--endpoint-url", self.url, "--output", "json"]
        return subprocess.run(cmd, env=env or self.env(), capture_output=True,
            text=True, timeout=timeout, input=input)

    def aws(self, *args, env=None, timeout=60):
        """Run /usr/bin/aws and return its parsed JSON output."""
        r = self.aws_raw(*args, env=env, timeout=timeout)
        if r.returncode != 0:
            raise AwsCliError(list(args), r.returncode, r.stdout, r.stderr)
        return json.loads(r.stdout) if r.stdout.strip() else None

    def boto3(self, max_attempts=1, access_key=None, secret_key=None,
        session_token=None, **config):
        """A boto3 ECS client bound to the emulator (no retries by default)."""
        return self.client("ecs", max_attempts, access_key, secret_key,
            session_token, **config)

    def client(self, service, max_attempts=1, access_key=None,
        secret_key=None, session_token=None, **config):
        """A boto3 client of service ("ecs", "application-autoscaling",
        "logs") bound to the emulator (no retries by default)."""
        import boto3
        import botocore.config
        cfg = botocore.config.Config(retries={"total_max_attempts":
            max_attempts, "mode": "standard"}, **config)
        session = boto3.session.Session(
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            aws_session_token=session_token, region_name=self.region)
        return session.client(service, endpoint_url=self.url,
            verify=self.ca_file if self.tls else None, config=cfg)

    # -- admin API ------------------------------------------------------

    def admin(self, method, name, data=None):
        """Call the unsigned admin API under /_ecsim/; parsed JSON back."""
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request("%s/_ecsim/%s" % (self.url, name),
            data=body, method=method,
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30,
                context=self._ssl_ctx) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise EmulatorError("admin %s %s: HTTP %d %s" % (method, name,
                e.code, e.read().decode(errors="replace"))) from None

    def calls(self):
        """Calls by action since the last reset: {"DescribeServices": 3}."""
        return self.admin("GET", "calls")["calls"]

    def call_stats(self):
        """The whole call record: calls, total, throttled, errors."""
        return self.admin("GET", "calls")

    def total_calls(self):
        return self.admin("GET", "calls")["total"]

    def reset_calls(self):
        self.admin("POST", "reset_calls", {})

    def log(self):
        return self.admin("GET", "log")

    def faults(self, **kw):
        """Replace the fault configuration (no arguments: all off)."""
        return self.admin("POST", "faults", kw)

    def wire_faults(self, **kw):
        """Replace the wire faults (tests/ecsim/wire.py; none: all off)."""
        return self.admin("POST", "wire_faults", kw)

    def time_scale(self, scale):
        return self.admin("POST", "time_scale", {"scale": scale})

    def add_credentials(self, access_key, secret_key, session_token=None,
        expired=False):
        data = {"access_key": access_key, "secret_key": secret_key,
            "expired": expired}
        if session_token is not None:
            data["session_token"] = session_token
        return self.admin("POST", "credentials", data)

    def bulk_services(self, cluster="big", count=1000, prefix="svc-",
        desired_count=1, launch_type="FARGATE", running=True):
        return self.admin("POST", "bulk_services", {"cluster": cluster,
            "count": count, "prefix": prefix, "desired_count": desired_count,
            "launch_type": launch_type, "running": running})

    def state(self, cluster=None):
        """The compact state dump of one cluster (or of all)."""
        return self.admin("GET", "state" + ("?cluster=%s" % cluster
            if cluster else ""))

    def options(self, **kw):
        return self.admin("POST", "options", kw)

    def wait_for(self, pred, timeout=10.0, interval=0.02, what=None):
        return wait_for(pred, timeout, interval, what)

    def wait_steady(self, cluster, service, timeout=20.0):
        """Wait until service has one COMPLETED deployment at desired."""
        def steady():
            s = self.state(cluster)["services"][service]
            return s if s["steady"] and len(s["deployments"]) == 1 else None
        return wait_for(steady, timeout, what="%s/%s steady" %
            (cluster, service))

    # -- task definitions -----------------------------------------------

    def service(self, cluster, service):
        """One service of the state dump: desired, running, taskDefinition
        (an ARN), deployments [{status, rolloutState, taskDefinition...}]."""
        return self.state(cluster)["services"][service]

    def task_definition(self, cluster, service):
        """The "family:revision" a service runs now."""
        return self.service(cluster, service)["taskDefinition"].rsplit(
            "/", 1)[1]

    # -- Application Auto Scaling ---------------------------------------

    def register_target(self, cluster, service, min=None, max=None,
        suspended=None):
        """Create or update the service's scalable target (ECS desired
        count), as RegisterScalableTarget does; min and max are required
        for a new one, suspended sets all three suspension flags.  Returns
        the ScalableTarget."""
        return self.admin("POST", "scalable_target", {"cluster": cluster,
            "service": service, "min": min, "max": max,
            "suspended": suspended})

    def autoscaling(self):
        """{"targets": [ScalableTarget], "policies": [ScalingPolicy],
        "activities": [ScalingActivity], "runs": scaler passes,
        "moves": desired counts the scaler changed}."""
        return self.admin("GET", "autoscaling")

    def wait_scaler_passes(self, n=2):
        """Returns once the simulated auto scaler has made n more passes."""
        start = self.autoscaling()["runs"]
        wait_for(lambda: self.autoscaling()["runs"] >= start + n, timeout=60,
            what="%d scaler passes" % n)

    def target(self, cluster, service):
        """The service's ScalableTarget, or None."""
        rid = "service/%s/%s" % (cluster, service)
        for t in self.autoscaling()["targets"]:
            if t["ResourceId"] == rid:
                return t
        return None

    def set_scaler_interval(self, seconds):
        """Change how often the scaler runs (0: never)."""
        return self.admin("POST", "scaler", {"interval": seconds})

    def wait_scaler_runs(self, n, timeout=30.0):
        """Wait until the scaler has made n more passes; their count."""
        start = self.autoscaling()["runs"]
        return wait_for(lambda: self.autoscaling()["runs"] >= start + n,
            timeout, 0.05, what="%d scaler passes" % n)

    # -- CloudWatch Logs ------------------------------------------------

    @staticmethod
    def log_stream(task_id, container, prefix="ecs"):
        """The awslogs stream name of a task's container."""
        return "%s/%s/%s" % (prefix, container, task_id)

    def put_log_events(self, group, stream, messages, timestamp=None):
        """Add messages (one ms apart, from timestamp or now, in ms) to a
        stream, creating the group and stream if needed."""
        data = {"group": group, "stream": stream, "messages": list(messages)}
        if timestamp is not None:
            data["timestamp"] = timestamp
        return self.admin("POST", "log_events", data)

    def log_events(self, group, stream):
        """Every event of a stream, oldest first: [{timestamp, message,
        ingestionTime}], the simulated container's lines written up to now."""
        from urllib.parse import urlencode
        return self.admin("GET", "log_events?" + urlencode({"group": group,
            "stream": stream}))["events"]

    def log_streams(self):
        """{group: [stream names]}."""
        return self.admin("GET", "log_streams")
