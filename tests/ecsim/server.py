"""HTTP front end: the JSON 1.1 wire protocol of ECS, Application Auto
Scaling and CloudWatch Logs (apis.py), and the admin API.

API requests are POST / with X-Amz-Target, signed with SigV4 for the
service the target's prefix names ("ecs", "application-autoscaling",
"logs"; a request signed for another gets 403 InvalidSignatureException).
Each one that names a target of a served service is counted by action,
then goes through, in order: injected latency,
dropped connection, signature check, IAM denial, throttling (probability,
then the token buckets), injected server error, the model check, and the
operation itself; the wire faults (wire.py) echo credentials before the
signature check and drop the answer of an operation carried out.

Error bodies follow AWS's JSON protocol.  Errors a service models
(ClusterNotFoundException, InvalidParameterException, ...) carry the plain
code in __type, as ECS sends them; errors raised by the AWS service framework itself (signature,
credentials, throttling, serialization, unknown operation) carry the
framework's namespace, e.g. "com.amazon.coral.service#UnrecognizedClient-
Exception", and x-amzn-ErrorType carries "Code:http://internal.amazon.com/
coral/NAMESPACE/".  Clients must strip both decorations, as the AWS SDKs do.
POST /_ecsim/options {"namespaced_errors": true} makes modeled errors use
"com.amazonaws.ecs#Code" (com.amazonaws.applicationautoscaling, com.
amazonaws.logs) too.

The admin API lives under /_ecsim/ and is unsigned JSON:

  GET  calls         {"calls": {Op: n}, "total": n, "throttled": {Op: n},
                     "errors": {Op: {Code: n}}}; every request naming a
                     target counts, dropped and failed ones included
  POST reset_calls   zero the counts and the log
  GET  log           [{"t", "action", "status", "error", "start"}] (last
                     100,000; t when answered, start when received, both
                     wall-clock seconds; status 0 and error
                     "ConnectionDropped" for drops)
  POST faults        replace the fault configuration (see faults.py);
                     GET faults shows it
  POST time_scale    {"scale": X}; GET time_scale shows it and sim time
  POST credentials   {"access_key", "secret_key", "session_token"?,
                     "expired"?} adds or replaces a key
  POST bulk_services {"cluster", "count", "prefix", "desired_count",
                     "launch_type", "running"}: services PREFIX0000...
  GET  state         ?cluster=NAME: services (status, desired, running,
                     pending, deployments...), tasks (lastStatus,
                     desiredStatus, service, instance...), instances
                     (status, running, pending...); without a cluster, all
  POST options       {"namespaced_errors": bool}
  POST wire_faults   replace the wire faults (see wire.py); GET shows them
  GET  health        {"ok": true, "port": N, "tls": bool}
  POST scalable_target, GET autoscaling, POST scaler: see autoscaling.py
  POST log_events, GET log_events, GET log_streams: see logs.py
  POST sts, POST container, POST accept_only, GET signers: see sts.py
  POST imds, GET imds: see imds.py (served under /latest/)
  POST sso, GET sso: see sso.py (/federation/credentials, /token)
"""

import collections
import json
import ssl
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import auth
import autoscaling
import logs
import seed
import sso
import imds
import sts
import wire
from model import ApiError, CORAL, CORAL_AVAILABILITY

LOG_KEPT = 100000
JSON_TYPE = "application/x-amz-json-1.1"


class Stats:
    """Calls by action, throttles, errors and a bounded request log."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.calls = collections.Counter()
            self.throttled = collections.Counter()
            self.errors = collections.defaultdict(collections.Counter)
            self.total = 0
            self.log = collections.deque(maxlen=LOG_KEPT)

    def count(self, action):
        with self._lock:
            self.calls[action] += 1
            self.total += 1

    def record(self, action, status, error, start=None):
        with self._lock:
            if error is not None:
                self.errors[action][error] += 1
                if error == "ThrottlingException":
                    self.throttled[action] += 1
            now = time.time()
            self.log.append({"t": now, "action": action,
                "status": status, "error": error,
                "start": now if start is None else start})

    def snapshot(self):
        with self._lock:
            return {
                "calls": dict(self.calls),
                "total": self.total,
                "throttled": dict(self.throttled),
                "errors": {a: dict(c) for a, c in self.errors.items()},
            }

    def entries(self):
        with self._lock:
            return list(self.log)


class Server(ThreadingHTTPServer):
    """The emulator's HTTP server and everything its handlers share."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, ctx, apis, faults, clock, creds,
        ssl_ctx=None, scaler=None):
        self.ctx = ctx
        self.apis = apis
        self.scaler = scaler
        self.faults = faults
        self.clock = clock
        self.creds = creds
        self.ssl_ctx = ssl_ctx
        self.stats = Stats()
        self.namespaced_errors = False
        self.wire = wire.WireFaults()
        self.identity = sts.Identity(creds)
        self.imds = imds.Imds(creds)
        self.sso = sso.Sso(creds)
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class AdminError(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ecsim"
    timeout = 300
    # One buffered write per response (flushed by handle_one_request) and no
    # Nagle delay: clients keep the connection alive between requests.
    wbufsize = -1
    disable_nagle_algorithm = True

    def setup(self):
        if self.server.ssl_ctx is not None:
            self.request = self.server.ssl_ctx.wrap_socket(self.request,
                server_side=True)
        super().setup()

    def log_message(self, fmt, *args):
        pass

    def version_string(self):
        return self.server_version

    def handle_expect_100(self):
        ok = super().handle_expect_100()
        self.wfile.flush()
        return ok

    # -- plumbing -------------------------------------------------------

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n",
                        b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, body, content_type, extra=None):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, rid, err, api=None):
        code = err.code
        ns = err.namespace
        if ns is None and self.server.namespaced_errors:
            ns = api.namespace if api is not None else "com.amazonaws.ecs"
        body = {"__type": "%s#%s" % (ns, code) if ns else code,
            "message": err.message}
        headers = {"x-amzn-RequestId": rid,
            "x-amzn-ErrorType": "%s:http://internal.amazon.com/coral/%s/" %
            (code, ns) if ns else code}
        self._send(err.status, json.dumps(body), JSON_TYPE, headers)

    # -- HTTP verbs -----------------------------------------------------

    def do_POST(self):
        if self.path.startswith("/_ecsim/"):
            self._admin("POST")
        else:
            self._api()

    def do_GET(self):
        if self.path.startswith("/_ecsim/"):
            self._admin("GET")
            return
        if self.path.startswith("/federation/credentials"):
            self._read_body()
            status, obj = self.server.sso.role_credentials(self.path,
                self.headers)
            self._send(status, json.dumps(obj), "application/json")
            return
        if self.path.startswith("/latest/"):
            self._read_body()
            status, text = self.server.imds.get(self.path, self.headers)
            self._send(status, text, "text/plain")
            return
        if self.path.startswith("/_ecsim_container/"):
            self._read_body()
            status, text = self.server.identity.container_get(self.headers)
            self._send(status, text, "application/json")
            return
        self._read_body()
        self._send_error(str(uuid.uuid4()), ApiError(
            "UnknownOperationException", "Unknown operation: GET %s" %
            self.path.split("?", 1)[0], namespace=CORAL))

    def do_PUT(self):
        self._read_body()
        if self.path != "/latest/api/token":
            self._send(404, "", "text/plain")
            return
        answer = self.server.imds.put(self.headers)
        if answer is None:
            self.close_connection = True
            return
        self._send(answer[0], answer[1], "text/plain")

    # -- the ECS API ----------------------------------------------------

    def _api(self):
        srv = self.server
        body = self._read_body()
        rid = str(uuid.uuid4())
        target = self.headers.get("X-Amz-Target") or ""
        if not target and self.path == "/token":
            status, obj = srv.sso.create_token(body)
            self._send(status, json.dumps(obj), "application/json")
            return
        if not target and (self.headers.get("Content-Type") or "").startswith(
            "application/x-www-form-urlencoded"):
            status, text = srv.identity.handle(srv, self, body)
            self._send(status, text, "text/xml", {"x-amzn-RequestId": rid})
            return
        prefix, _, action = target.partition(".")
        api = srv.apis.get(prefix)
        if api is None or not action:
            self._send_error(rid, ApiError("UnknownOperationException",
                "Unknown operation: X-Amz-Target '%s'" % target,
                namespace=CORAL))
            return
        srv.stats.count(action)
        start = time.time()
        delay = srv.faults.latency(action)
        if delay > 0:
            time.sleep(delay)
        if srv.faults.drop(action):
            srv.stats.record(action, 0, "ConnectionDropped", start)
            self.close_connection = True
            return
        echoed = srv.wire.echo(self.headers, srv.creds)
        if echoed is not None:
            srv.stats.record(action, echoed.status, echoed.code, start)
            self._send_error(rid, echoed, api)
            return
        try:
            result = self._call(api, action, body)
        except ApiError as e:
            srv.stats.record(action, e.status, e.code, start)
            self._send_error(rid, e, api)
            return
        except Exception:
            traceback.print_exc()
            srv.stats.record(action, 500, "InternalFailure", start)
            self._send_error(rid, ApiError("InternalFailure",
                "The request processing has failed because of an unknown "
                "error, exception or failure.", 500, namespace=CORAL))
            return
        if srv.wire.drop_after_apply(action):
            srv.stats.record(action, 0, "ConnectionDroppedAfterApply", start)
            self.close_connection = True
            return
        srv.stats.record(action, 200, None, start)
        delay = srv.faults.response_delay(action)
        if delay > 0:
            time.sleep(delay)
        self._send(200, srv.wire.answer(action, result), JSON_TYPE,
            {"x-amzn-RequestId": rid})

    def _call(self, api, action, body):
        srv = self.server
        st = srv.ctx.st
        scheme = "https" if srv.ssl_ctx is not None else "http"
        signer = auth.verify(srv.creds, st.region, api.signing_name,
            self.command, scheme, self.path, self.headers, body)
        srv.identity.ecs_signed(signer)
        if srv.faults.denied(action):
            raise api.denied(st.region, st.account, action)
        if srv.faults.throttled(action):
            raise ApiError("ThrottlingException", "Rate exceeded", 400,
                namespace=CORAL_AVAILABILITY)
        injected = srv.faults.server_error(action)
        if injected is not None:
            status, code, message = injected
            raise ApiError(code, message, status)
        if not api.model.has_operation(action):
            raise ApiError("UnknownOperationException",
                "Unknown operation: %s" % action, namespace=CORAL)
        try:
            params = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise ApiError("SerializationException", "Start of structure or "
                "map found where not expected.", namespace=CORAL) from None
        api.model.validate_input(action, params)
        fn = api.operations.get(action)
        if fn is None:
            raise api.not_implemented(action)
        params = {k: v for k, v in params.items() if v is not None}
        token = srv.faults.next_token(action, params)
        with srv.ctx.st.lock:
            result = fn(srv.ctx, params)
        if token is not None:
            result["nextToken"] = token
        return json.dumps(result, separators=(",", ":"))

    # -- admin API ------------------------------------------------------

    def _admin(self, method):
        body = self._read_body()
        url = urlsplit(self.path)
        name = url.path[len("/_ecsim/"):].strip("/")
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            data = json.loads(body) if body.strip() else {}
            handler = ADMIN.get((method, name))
            if handler is None:
                self._send(404, json.dumps({"error": "no admin endpoint %s "
                    "%s" % (method, url.path)}), "application/json")
                return
            result = handler(self.server, data, query)
        except (AdminError, ValueError, TypeError, KeyError) as e:
            self._send(400, json.dumps({"error": str(e)}),
                "application/json")
            return
        self._send(200, json.dumps(result), "application/json")


def _calls(srv, data, query):
    return srv.stats.snapshot()


def _reset_calls(srv, data, query):
    srv.stats.reset()
    return {"ok": True}


def _log(srv, data, query):
    return srv.stats.entries()


def _set_faults(srv, data, query):
    return srv.faults.configure(data)


def _get_faults(srv, data, query):
    return srv.faults.describe()


def _set_time_scale(srv, data, query):
    scale = data.get("scale")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or \
        scale <= 0:
        raise AdminError("scale must be a number > 0")
    srv.clock.set_scale(scale)
    srv.ctx.sched.wake.set()
    return {"scale": srv.clock.scale}


def _get_time_scale(srv, data, query):
    return {"scale": srv.clock.scale, "sim_now": srv.clock.now()}


def _credentials(srv, data, query):
    srv.creds.add(data.get("access_key"), data.get("secret_key"),
        data.get("session_token"), data.get("expired", False))
    return {"ok": True, "access_key": data.get("access_key")}


def _bulk(srv, data, query):
    with srv.ctx.st.lock:
        return seed.bulk_services(srv.ctx, data)


def _state(srv, data, query):
    with srv.ctx.st.lock:
        return srv.ctx.st.dump(query.get("cluster"))


def _options(srv, data, query):
    unknown = set(data) - {"namespaced_errors"}
    if unknown:
        raise AdminError("unknown option(s): %s" % ", ".join(sorted(unknown)))
    if "namespaced_errors" in data:
        srv.namespaced_errors = bool(data["namespaced_errors"])
    return {"namespaced_errors": srv.namespaced_errors}


def _set_wire_faults(srv, data, query):
    return srv.wire.configure(data)


def _get_wire_faults(srv, data, query):
    return srv.wire.describe()


def _health(srv, data, query):
    return {"ok": True, "port": srv.server_address[1],
        "tls": srv.ssl_ctx is not None}


def _sts(srv, data, query):
    return srv.identity.configure(data)


def _container(srv, data, query):
    return srv.identity.configure_container(data)


def _accept_only(srv, data, query):
    return srv.identity.accept_only(data)


def _signers(srv, data, query):
    return srv.identity.describe()


def _imds(srv, data, query):
    return srv.imds.configure(data)


def _imds_get(srv, data, query):
    return srv.imds.describe()


def _sso(srv, data, query):
    return srv.sso.configure(data)


def _sso_get(srv, data, query):
    return srv.sso.describe()


ADMIN = {**autoscaling.ADMIN, **logs.ADMIN}
ADMIN.update({
    ("POST", "sso"): _sso,
    ("GET", "sso"): _sso_get,
    ("POST", "imds"): _imds,
    ("GET", "imds"): _imds_get,
    ("POST", "sts"): _sts,
    ("POST", "container"): _container,
    ("POST", "accept_only"): _accept_only,
    ("GET", "signers"): _signers,
    ("GET", "calls"): _calls,
    ("POST", "reset_calls"): _reset_calls,
    ("GET", "log"): _log,
    ("POST", "faults"): _set_faults,
    ("GET", "faults"): _get_faults,
    ("POST", "time_scale"): _set_time_scale,
    ("GET", "time_scale"): _get_time_scale,
    ("POST", "credentials"): _credentials,
    ("POST", "bulk_services"): _bulk,
    ("GET", "state"): _state,
    ("POST", "options"): _options,
    ("GET", "health"): _health,
    ("POST", "wire_faults"): _set_wire_faults,
    ("GET", "wire_faults"): _get_wire_faults,
})
