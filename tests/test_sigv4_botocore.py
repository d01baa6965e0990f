"""Differential test of ecs/sigv4.c against botocore's SigV4 signer.

Thousands of seeded random requests are signed twice: by botocore's
SigV4Auth (with its clock frozen at the request's time) and by the C signer
through tests/sigv4_cli, in one process. Both must produce the same
canonical request, string to sign, signature and Authorization value.

The requests cover what ecsfs sends (POST / with a JSON 1.1 body,
X-Amz-Target and Content-Type, in any region, with or without a session
token and a signed body hash) and, beyond that, whatever both signers
define the same way. Where they do not, the generator stays out:

- Paths are always normalised (normalize_path=1): SigV4Auth always removes
  dot segments and duplicate slashes, and botocore's only unnormalised
  signer (S3SigV4Auth) does not percent-encode the path at all, unlike the
  aws-c-auth suite, which the C unit test covers for that case.
- Paths start with '/' and hold no '?', '#' or control characters, which
  would change what urlsplit() takes as the path.
- Header names avoid those botocore never signs (Expect, User-Agent,
  X-Amzn-Trace-Id) or rewrites itself (Date, X-Amz-Date, Authorization,
  X-Amz-Security-Token, X-Amz-Content-SHA256); the C signer signs what it
  is given and refuses the headers it adds itself.
- Header values hold only ASCII whitespace: Python's str.split() also
  splits on Unicode spaces such as U+00A0, SigV4 trims only ASCII ones.
- A query string given in the URL is already in canonical form, because
  botocore uses the URL's query as it is; a query given as parameters is
  encoded by botocore, and the C signer then gets it in a loose encoding
  (lower-case escapes, needless escapes, raw bytes) that it must decode and
  re-encode to the same result. Empty '&&' pieces are left out: botocore
  signs each as "=", the C signer drops them.
"""

import base64
import datetime
import hashlib
import json
import os
import random
import string
import subprocess
import types
import urllib.parse
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parent.parent

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1",
    "eu-central-1", "eu-north-1", "ap-southeast-2", "ap-northeast-1",
    "ap-south-1", "sa-east-1", "ca-central-1", "me-south-1", "af-south-1",
    "il-central-1", "us-gov-west-1", "cn-north-1",
]
OTHER_SERVICES = ["sts", "ec2", "logs", "execute-api", "service", "monitoring"]
ECS_OPERATIONS = [
    "ListClusters", "DescribeClusters", "ListServices", "DescribeServices",
    "ListTasks", "DescribeTasks", "UpdateService", "ListContainerInstances",
    "DescribeContainerInstances", "UpdateContainerInstancesState",
    "DescribeTaskDefinition", "StopTask", "ListTaskDefinitions",
]
UNICODE = "éßüñ中文ሴ😀Ω€"
B64_CHARS = string.ascii_letters + string.digits + "+/"
TCHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
UNRESERVED = string.ascii_letters + string.digits + "-._~"
PATH_CHARS = UNRESERVED + " !$&'()*+,;=:@%[]\"<>{}|^`\\" + UNICODE
QUERY_CHARS = UNRESERVED + " !$&'()*+,;=:@%[]/?#\"<>{}|^`\\" + UNICODE
VALUE_CHARS = (string.ascii_letters + string.digits + string.punctuation +
               UNICODE)
WHITESPACE = " \t\x0b\x0c"
RESERVED_HEADERS = {
    "expect", "user-agent", "x-amzn-trace-id", "date", "x-amz-date",
    "authorization", "x-amz-security-token", "x-amz-content-sha256", "host",
}
SEED = 20150830
COUNT = 1500


def _sigv4_cli():
    """The built sigv4_cli: $ECSFS_BUILD_DIR/tests, else build/ in the repo."""
    build = Path(os.environ.get("ECSFS_BUILD_DIR") or REPO / "build")
    cli = build / "tests" / "sigv4_cli"
    if not os.access(cli, os.X_OK):
        pytest.fail(f"{cli} is not built: run `meson setup {build} && "
                    f"ninja -C {build} tests/sigv4_cli` or set "
                    "ECSFS_BUILD_DIR to the build directory")
    return cli


class _FrozenDatetime(datetime.datetime):
    """A datetime class whose clock stands at `frozen` (naive UTC)."""

    frozen = datetime.datetime(2015, 8, 30, 12, 36)

    @classmethod
    def utcnow(cls):
        return cls.frozen

    @classmethod
    def now(cls, tz=None):
        aware = cls.frozen.replace(tzinfo=datetime.timezone.utc)
        return aware.astimezone(tz) if tz is not None else cls.frozen


class _RecordingSigV4Auth(botocore.auth.SigV4Auth):
    """botocore's SigV4Auth, keeping what add_auth() computed."""

    def canonical_request(self, request):
        self.recorded_canonical_request = super().canonical_request(request)
        return self.recorded_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.recorded_string_to_sign = super().string_to_sign(
            request, canonical_request)
        return self.recorded_string_to_sign

    def signature(self, string_to_sign, request):
        self.recorded_signature = super().signature(string_to_sign, request)
        return self.recorded_signature


def _botocore_sign(case):
    """Signs one case with botocore at the case's time."""
    _FrozenDatetime.frozen = datetime.datetime.fromtimestamp(
        case["when"], datetime.timezone.utc).replace(tzinfo=None)
    url = case["scheme"] + "://" + case["host"] + case["path"]
    if case["url_query"]:
        url += "?" + case["url_query"]
    request = AWSRequest(method=case["method"], url=url, data=case["body"],
                         params=list(case["params"]) or None)
    for name, value in case["headers"]:
        request.headers[name] = value
    if case["sign_body"]:
        # SigV4Auth signs a given X-Amz-Content-SHA256 as the payload hash.
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(
            case["body"]).hexdigest()
    creds = Credentials(case["access_key"], case["secret_key"],
                        case["session_token"])
    auth = _RecordingSigV4Auth(creds, case["service"], case["region"])
    auth.add_auth(request)
    return {
        "canonical_request": auth.recorded_canonical_request,
        "string_to_sign": auth.recorded_string_to_sign,
        "signature": auth.recorded_signature,
        "authorization": request.headers["Authorization"],
        "amz_date": request.headers["X-Amz-Date"],
    }


def _cli_request(case, rng):
    """The JSON the C signer gets for a case; the body travels either way."""
    req = {
        "method": case["method"],
        "path": case["path"],
        "query": case["cli_query"],
        "headers": [[n, v] for n, v in case["headers"]],
        "region": case["region"],
        "service": case["service"],
        "access_key": case["access_key"],
        "secret_key": case["secret_key"],
        "session_token": case["session_token"],
        "when": case["when"],
        "normalize_path": True,
        "sign_body": case["sign_body"],
    }
    body = case["body"]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and rng.random() < 0.5:
        req["body"] = text
    else:
        req["body_b64"] = base64.b64encode(body).decode("ascii")
    return req


def _run_differential(cases, rng):
    """Signs every case both ways; returns the mismatches."""
    reqs = [_cli_request(c, rng) for c in cases]
    proc = subprocess.run([str(_sigv4_cli())], input=json.dumps(reqs).encode(),
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stderr == b"", proc.stderr.decode(errors="replace")
    results = json.loads(proc.stdout)
    assert len(results) == len(cases)

    fake = types.SimpleNamespace(datetime=_FrozenDatetime,
                                 timezone=datetime.timezone,
                                 timedelta=datetime.timedelta)
    mismatches = []
    with mock.patch.object(botocore.auth, "datetime", fake):
        for case, req, got in zip(cases, reqs, results):
            want = _botocore_sign(case)
            for key in want:
                if got.get(key) != want[key]:
                    mismatches.append((key, req, got, want))
                    break
    return mismatches


def _report(mismatches):
    lines = [f"{len(mismatches)} requests differ from botocore; first ones:"]
    for key, req, got, want in mismatches[:3]:
        lines.append(f"--- {key} differs for request {json.dumps(req)}")
        lines.append(f"c:        {got.get(key, got)!r}")
        lines.append(f"botocore: {want[key]!r}")
    return "\n".join(lines)


def _access_key(rng):
    return rng.choice(["AKIA", "ASIA"]) + "".join(
        rng.choice(string.ascii_uppercase + "234567") for _ in range(16))


def _secret_key(rng):
    return "".join(rng.choice(B64_CHARS) for _ in range(40))


def _session_token(rng):
    r = rng.random()
    if r < 0.4:
        return None
    if r < 0.45:
        return ""       # no token, for both signers
    return "".join(rng.choice(B64_CHARS + "=")
                   for _ in range(rng.randrange(16, 1200)))


def _when(rng):
    r = rng.random()
    if r < 0.05:
        return rng.choice([0, 951782400, 1440938160, 4102444799, 86399])
    return rng.randrange(0, 4102444800)       # 1970 to the end of 2099


def _text(rng, chars, lo, hi):
    return "".join(rng.choice(chars) for _ in range(rng.randrange(lo, hi)))


def _mixed_case(rng, name):
    r = rng.random()
    if r < 0.5:
        return name
    if r < 0.7:
        return name.lower()
    if r < 0.8:
        return name.upper()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower()
                   for c in name)


def _ecs_body(rng, op):
    """A JSON 1.1 body as ecsfs sends it, sometimes empty or large."""
    r = rng.random()
    if r < 0.1:
        return b""
    if r < 0.2:
        return b"{}"
    doc = {}
    if rng.random() < 0.8:
        doc["cluster"] = _text(rng, UNRESERVED + UNICODE, 1, 40)
    if op.startswith("Describe"):
        doc["services" if "Service" in op else "tasks"] = [
            _text(rng, UNRESERVED + UNICODE + ":/", 1, 60)
            for _ in range(rng.randrange(1, 11))]
        doc["include"] = ["TAGS"]
    if op.startswith("List"):
        doc["maxResults"] = 100
        if rng.random() < 0.5:
            doc["nextToken"] = _text(rng, B64_CHARS + "=", 20, 400)
    if op == "UpdateService":
        doc["desiredCount"] = rng.randrange(0, 1000)
        doc["forceNewDeployment"] = rng.random() < 0.5
    if op == "StopTask" or rng.random() < 0.2:
        doc["reason"] = _text(rng, VALUE_CHARS + " \n\t\"\\", 0, 200)
    if rng.random() < 0.03:
        doc["padding"] = _text(rng, UNRESERVED + UNICODE, 20000, 70000)
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5,
                      separators=rng.choice([(",", ":"), (", ", ": ")]))
    return text.encode("utf-8")


def _ecs_case(rng):
    """A request like the ones ecsfs sends to ECS (or to the emulator)."""
    region = rng.choice(REGIONS)
    op = rng.choice(ECS_OPERATIONS)
    if rng.random() < 0.8:
        scheme, host = "https", f"ecs.{region}.amazonaws.com"
    else:
        scheme = "http"
        host = rng.choice(["127.0.0.1", "localhost"]) + \
            f":{rng.randrange(1024, 65536)}"
    body = _ecs_body(rng, op)
    headers = [
        (_mixed_case(rng, "Host"), host),
        (_mixed_case(rng, "X-Amz-Target"),
         f"AmazonEC2ContainerServiceV20141113.{op}"),
        (_mixed_case(rng, "Content-Type"), "application/x-amz-json-1.1"),
    ]
    if rng.random() < 0.3:
        headers.append((_mixed_case(rng, "Content-Length"), str(len(body))))
    if rng.random() < 0.1:
        headers.append(("Accept-Encoding", "identity"))
    rng.shuffle(headers)
    return {
        "method": "POST", "scheme": scheme, "host": host, "path": "/",
        "url_query": "", "cli_query": None, "params": [],
        "headers": headers, "body": body,
        "region": region,
        "service": "ecs" if rng.random() < 0.9 else rng.choice(OTHER_SERVICES),
        "access_key": _access_key(rng), "secret_key": _secret_key(rng),
        "session_token": _session_token(rng), "when": _when(rng),
        "sign_body": rng.random() < 0.2,
    }


STS_ACTIONS = ["AssumeRole", "GetCallerIdentity"]


def _sts_case(rng):
    """A request like the signed ones ecsfs sends to STS: the query protocol,
    a form-encoded body, Host and Content-Type signed."""
    region = rng.choice(REGIONS)
    if rng.random() < 0.8:
        scheme, host = "https", f"sts.{region}.amazonaws.com"
    else:
        scheme = "http"
        host = "127.0.0.1:%d" % rng.randrange(1024, 65536)
    action = rng.choice(STS_ACTIONS)
    params = [("Action", action), ("Version", "2011-06-15")]
    if action == "AssumeRole":
        account = "".join(rng.choice("0123456789") for _ in range(12))
        params += [("RoleArn", f"arn:aws:iam::{account}:role/{rng.choice(['ops', 'ecs-operator', 'a+b=c@d'])}"),
                   ("RoleSessionName", "ecsfs-%d-%d" % (rng.randrange(10**9), rng.randrange(10**5)))]
        if rng.random() < 0.5:
            params.append(("ExternalId", rng.choice(["x", "ext id/with:chars", "é€"])))
        if rng.random() < 0.5:
            params.append(("DurationSeconds", str(rng.randrange(900, 43201))))
    body = "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="-_.~")) for k, v in params)
    headers = [
        (_mixed_case(rng, "Host"), host),
        (_mixed_case(rng, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8"),
    ]
    rng.shuffle(headers)
    return {
        "method": "POST", "scheme": scheme, "host": host, "path": "/",
        "url_query": "", "cli_query": None, "params": [],
        "headers": headers, "body": body.encode(),
        "region": region, "service": "sts",
        "access_key": _access_key(rng), "secret_key": _secret_key(rng),
        "session_token": _session_token(rng), "when": _when(rng),
        "sign_body": False,
    }


def _path(rng):
    """A path with dot segments, empty segments and characters to encode."""
    segments = []
    for _ in range(rng.randrange(0, 7)):
        r = rng.random()
        if r < 0.1:
            segments.append("")
        elif r < 0.2:
            segments.append(".")
        elif r < 0.3:
            segments.append("..")
        else:
            segments.append(_text(rng, PATH_CHARS, 1, 9))
    path = "/" + "/".join(segments)
    if segments and rng.random() < 0.3:
        path += "/"
    return path


def _loose_encode(rng, s, keep):
    """Percent-encodes s loosely: escapes in either case, needless escapes
    of unreserved characters, other characters left raw; only those in keep
    must be escaped."""
    out = []
    for ch in s:
        if ch in keep or rng.random() < 0.4:
            for b in ch.encode("utf-8"):
                esc = "%{:02X}".format(b)
                out.append(esc.lower() if rng.random() < 0.5 else esc)
        else:
            out.append(ch)
    return "".join(out)


def _query(rng, case):
    """Adds a query: canonical in the URL, or parameters plus a loose copy."""
    keys = [_text(rng, QUERY_CHARS, 0, 8) for _ in range(3)]
    pairs = []
    for _ in range(rng.randrange(1, 7)):
        key = rng.choice(keys) if rng.random() < 0.5 else \
            _text(rng, QUERY_CHARS, 0, 10)
        value = "" if rng.random() < 0.2 else _text(rng, QUERY_CHARS, 0, 12)
        pairs.append((key, value))
    if rng.random() < 0.5:
        pieces = []
        for key, value in pairs:
            k = quote(key, safe="-_.~")
            v = quote(value, safe="-_.~")
            if value == "" and key != "" and rng.random() < 0.5:
                pieces.append(k)        # "k" is signed as "k="
            else:
                pieces.append(f"{k}={v}")
        case["url_query"] = case["cli_query"] = "&".join(pieces)
    else:
        case["params"] = pairs
        pieces = []
        for key, value in pairs:
            k = _loose_encode(rng, key, "%&=")
            v = _loose_encode(rng, value, "%&")
            pieces.append(k if value == "" and key != "" and
                          rng.random() < 0.5 else f"{k}={v}")
        case["cli_query"] = "&".join(pieces)


def _header_value(rng):
    """Words of any visible characters between runs of ASCII whitespace."""
    def ws(lo):
        return "".join(rng.choice(WHITESPACE)
                       for _ in range(rng.randrange(lo, 4)))
    words = [_text(rng, VALUE_CHARS, 1, 12) for _ in range(rng.randrange(0, 5))]
    return ws(0) + "".join(w + ws(1) for w in words[:-1]) + \
        "".join(words[-1:]) + ws(0)


def _header_name(rng):
    while True:
        name = rng.choice(["X-", "x-amz-meta-", "My-", ""]) + \
            _text(rng, TCHARS, 1, 12)
        if name.lower() not in RESERVED_HEADERS:
            return name


def _varied_case(rng):
    """Any method, path, query, headers and body both signers define alike."""
    host = rng.choice(["example.amazonaws.com", "127.0.0.1:8080",
                       f"{rng.choice(OTHER_SERVICES)}."
                       f"{rng.choice(REGIONS)}.amazonaws.com"])
    headers = [(_mixed_case(rng, "Host"), host)]
    names = [_header_name(rng) for _ in range(rng.randrange(0, 7))]
    for name in names:
        headers.append((name, _header_value(rng)))
        if rng.random() < 0.2:
            headers.append((_mixed_case(rng, name), _header_value(rng)))
    rng.shuffle(headers)
    r = rng.random()
    body = b"" if r < 0.3 else rng.randbytes(rng.randrange(1, 4096))
    case = {
        "method": rng.choice(["GET", "POST", "PUT", "DELETE", "HEAD",
                              "PATCH", "OPTIONS"]),
        "scheme": rng.choice(["https", "http"]), "host": host,
        "path": _path(rng), "url_query": "", "cli_query": None, "params": [],
        "headers": headers, "body": body,
        "region": rng.choice(REGIONS),
        "service": rng.choice(OTHER_SERVICES + ["ecs"]),
        "access_key": _access_key(rng), "secret_key": _secret_key(rng),
        "session_token": _session_token(rng), "when": _when(rng),
        "sign_body": rng.random() < 0.2,
    }
    if rng.random() < 0.7:
        _query(rng, case)
    return case


def test_ecs_requests_match_botocore():
    rng = random.Random(SEED)
    cases = [_ecs_case(rng) for _ in range(COUNT)]
    # The generator covers what it claims to.
    assert sum(c["body"] == b"" for c in cases) > 50
    assert sum(any(ord(ch) > 127 for ch in c["body"].decode()) for c in cases) > 100
    assert sum(bool(c["session_token"]) for c in cases) > 500
    assert sum(c["sign_body"] for c in cases) > 100
    assert sum(len(c["body"]) > 20000 for c in cases) > 10
    assert len({c["region"] for c in cases}) == len(REGIONS)
    mismatches = _run_differential(cases, rng)
    assert not mismatches, _report(mismatches)


def test_sts_requests_match_botocore():
    rng = random.Random(SEED + 1)
    cases = [_sts_case(rng) for _ in range(COUNT // 3)]
    assert sum("AssumeRole" in c["body"].decode() for c in cases) > 200
    assert sum(bool(c["session_token"]) for c in cases) > 100
    mismatches = _run_differential(cases, rng)
    assert not mismatches, _report(mismatches)


def test_varied_requests_match_botocore():
    rng = random.Random(SEED + 1)
    cases = [_varied_case(rng) for _ in range(COUNT)]
    assert sum(bool(c["params"]) for c in cases) > 300
    assert sum(bool(c["url_query"]) for c in cases) > 300
    assert sum("/../" in c["path"] + "/" or "//" in c["path"]
               for c in cases) > 300
    assert sum(len({n.lower() for n, _ in c["headers"]}) < len(c["headers"])
               for c in cases) > 100
    mismatches = _run_differential(cases, rng)
    assert not mismatches, _report(mismatches)


def test_cli_refuses_malformed_requests():
    good = {
        "method": "POST", "path": "/", "headers": [["Host", "h"]],
        "body": "", "region": "us-east-1", "service": "ecs",
        "access_key": "AKIDEXAMPLE", "secret_key": "secret", "when": 0,
    }
    bad = [
        dict(good, headers=[["X-A", "1"]]),                   # no host
        dict(good, headers=[["Host", "h"], ["X-Amz-Date", "x"]]),
        dict(good, query="a=%zz"),
        dict(good, path="relative"),
        dict(good, secret_key=""),
    ]
    proc = subprocess.run([str(_sigv4_cli())],
                          input=json.dumps([good] + bad).encode(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 1
    results = json.loads(proc.stdout)
    assert "signature" in results[0] and "error" not in results[0]
    assert all(set(r) == {"error"} for r in results[1:])
