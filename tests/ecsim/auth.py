"""SigV4 verification of API requests and the emulator's credential store.

A request is accepted only when its Authorization header names a known access
key and its signature matches the one botocore's own signer computes over the
received method, path, query, signed headers and body, at the request's own
X-Amz-Date.  Errors and messages follow what AWS answers for JSON services.
Secrets never appear in an error message.
"""

import datetime
import hashlib
import hmac
import re
import threading
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from model import ApiError, CORAL

DEFAULT_ACCESS_KEY = "AKIAECSIMEXAMPLEKEY01"
DEFAULT_SECRET_KEY = "ecsimSecretKeyExample0123456789abcdefGHIJ"

# AWS accepts a request whose X-Amz-Date is within five minutes of its clock.
MAX_SKEW = datetime.timedelta(minutes=5)

_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)

MSG_INVALID_TOKEN = "The security token included in the request is invalid."
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"
MSG_BAD_SIGNATURE = ("The request signature we calculated does not match the "
    "signature you provided. Check your AWS Secret Access Key and signing "
    "method. Consult the service documentation for details.")


def _error(code, message, status=403):
    return ApiError(code, message, status=status, namespace=CORAL)


class _ExactSigner(SigV4Auth):
    """botocore's SigV4 signer, signing exactly the headers it is given."""

    def headers_to_sign(self, request):
        return request.headers


class CredentialStore:
    """Known access keys with their secrets, tokens and expiry flags."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keys = {}
        self.add(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)

    def add(self, access_key, secret_key, session_token=None, expired=False,
        expires_at=None):
        """expires_at: a time.time() after which the key is expired."""
        if not access_key or not secret_key:
            raise ValueError("access_key and secret_key are required")
        with self._lock:
            self._keys[access_key] = {
                "secret": secret_key,
                "token": session_token,
                "expired": bool(expired),
                "expires_at": expires_at,
            }

    def get(self, access_key):
        with self._lock:
            entry = self._keys.get(access_key)
            return dict(entry) if entry else None


def _parse_authorization(value):
    """Split an AWS4-HMAC-SHA256 Authorization header into its parts."""
    m = _AUTH_RE.match(value.strip())
    if m is None:
        raise _error("IncompleteSignatureException",
            "Authorization header requires existence of either a "
            "'X-Amz-Date' or a 'Date' header. Authorization=%s" %
            value.split(" ", 1)[0])
    parts = {}
    for item in m.group(1).split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key.strip()] = val.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature")
        if k not in parts]
    if missing:
        raise _error("IncompleteSignatureException",
            "Authorization header requires '%s' parameter. "
            "Authorization=AWS4-HMAC-SHA256" % missing[0])
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise _error("IncompleteSignatureException",
            "Credential should be scoped to a valid region, service and "
            "terminated by aws4_request.")
    signed = parts["SignedHeaders"].split(";")
    return scope, signed, parts["Signature"]


def verify(store, region, service, method, scheme, path, headers, body,
    now=None):
    """Check one request's SigV4 signature; raise ApiError when it fails.

    headers is the received http.client.HTTPMessage; body the raw bytes.
    Returns the access key that signed the request.
    """
    auth = headers.get("Authorization")
    if not auth:
        raise _error("MissingAuthenticationTokenException",
            "Missing Authentication Token")
    scope, signed, signature = _parse_authorization(auth)
    access_key, date, scope_region, scope_service, _ = scope

    entry = store.get(access_key)
    if entry is None:
        raise _error("UnrecognizedClientException", MSG_INVALID_TOKEN)
    token = headers.get("X-Amz-Security-Token")
    if entry["token"] is None and token is not None:
        raise _error("UnrecognizedClientException", MSG_INVALID_TOKEN)
    if entry["token"] is not None and token != entry["token"]:
        raise _error("UnrecognizedClientException", MSG_INVALID_TOKEN)
    if entry["expired"] or (entry.get("expires_at") is not None and
        time.time() > entry["expires_at"]):
        raise _error("ExpiredTokenException", MSG_EXPIRED_TOKEN)

    amz_date = headers.get("X-Amz-Date")
    if amz_date is None:
        raise _error("IncompleteSignatureException",
            "Authorization header requires existence of either a "
            "'X-Amz-Date' or a 'Date' header.")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise _error("IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format'. Got '%s'." %
            amz_date) from None
    if now is None:
        now = datetime.datetime.utcnow()
    fmt = "%Y%m%dT%H%M%SZ"
    if when < now - MAX_SKEW:
        raise _error("InvalidSignatureException",
            "Signature expired: %s is now earlier than %s (%s - 5 min.)" %
            (amz_date, (now - MAX_SKEW).strftime(fmt), now.strftime(fmt)))
    if when > now + MAX_SKEW:
        raise _error("InvalidSignatureException",
            "Signature not yet current: %s is still later than %s "
            "(%s + 5 min.)" % (amz_date, (now + MAX_SKEW).strftime(fmt),
            now.strftime(fmt)))
    if date != amz_date[:8]:
        raise _error("InvalidSignatureException",
            "Date in Credential scope does not match YYYYMMDD from "
            "ISO-8601 version of date from HTTP: '%s' != '%s', from "
            "ISO-8601 string '%s'." % (date, amz_date[:8], amz_date))
    if scope_region != region:
        raise _error("InvalidSignatureException",
            "Credential should be scoped to a valid region. ")
    if scope_service != service:
        raise _error("InvalidSignatureException",
            "Credential should be scoped to correct service: '%s'. " %
            service)
    lower = [h.lower() for h in signed]
    if "host" not in lower:
        raise _error("InvalidSignatureException",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
            "Authorization.")

    declared = headers.get("X-Amz-Content-SHA256")
    if declared is not None and "x-amz-content-sha256" in lower and \
        declared != hashlib.sha256(body).hexdigest():
        raise _error("InvalidSignatureException",
            "The provided 'x-amz-content-sha256' header does not match "
            "what was computed.")

    signed_map = HTTPHeaders()
    for name in lower:
        values = headers.get_all(name) or []
        if not values:
            raise _error("InvalidSignatureException", MSG_BAD_SIGNATURE)
        for v in values:
            signed_map[name] = v
    host = headers.get("Host", "")
    request = AWSRequest(method=method, url="%s://%s%s" % (scheme, host, path),
        data=body)
    request.headers = signed_map
    request.context["timestamp"] = amz_date
    signer = _ExactSigner(Credentials(access_key, entry["secret"],
        entry["token"]), service, region)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, signature):
        raise _error("InvalidSignatureException", "%s\n\nThe Canonical "
            "String for this request should have been\n'%s'\n\nThe "
            "String-to-Sign should have been\n'%s'\n" %
            (MSG_BAD_SIGNATURE, canonical, string_to_sign))
    return access_key
