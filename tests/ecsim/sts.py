"""The emulator's identity side: STS, the container credentials endpoint,
and which credentials its ECS accepts.

STS speaks the query protocol (POST / with a form body, no X-Amz-Target) and
answers in the XML AWS sends: AssumeRole and GetCallerIdentity are checked
as SigV4 with service "sts"; AssumeRoleWithWebIdentity is unsigned and
checks the token against the role's.  Each role is configured by the test:

  POST /_ecsim/sts  {"roles": {ARN: {"access_key", "secret_key",
                    "session_token", "duration", "web_token", "deny",
                    "external_id", "trusts"}}}

"duration" is the credentials' life in seconds (default 3600; the
Expiration is that far from now, whatever DurationSeconds asked);
"web_token" the only web identity token the role takes; "deny" makes every
call for it AccessDenied; "external_id" the ExternalId it needs; "trusts"
the principal ARNs that may assume it (default: anyone).  Each successful
call makes its keys known to the credential store.

  POST /_ecsim/container {"token", "credentials": {...}, "status"}
  GET  /_ecsim_container/creds   the container credentials endpoint: needs
                    Authorization equal to "token" when one is set

  POST /_ecsim/accept_only {"access_keys": [...], "issued_by_sts"}   ECS
                    refuses every other key ([] or null: all known keys
                    again); issued_by_sts: only keys STS handed out.
                    Keys STS hands out expire with their Expiration.
  GET  /_ecsim/signers  {"signers": {access_key: n}}: ECS calls by key,
                    {"sts": [{"action", "role", "signer", "token"}...]}
"""

import datetime
import json
import threading
import time
import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import auth

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ACCOUNT = "123456789012"
DEFAULT_ARN = "arn:aws:iam::%s:user/ecsim" % ACCOUNT


class StsError(Exception):
    def __init__(self, code, message, status=403):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Identity:
    """Roles, issued credentials, the principal of each key, ECS's signers."""

    def __init__(self, creds):
        self.creds = creds
        self.lock = threading.Lock()
        self.roles = {}
        self.principals = {auth.DEFAULT_ACCESS_KEY: DEFAULT_ARN}
        self.only = None
        self.sts_only = False
        self.issued = set()
        self.signers = {}
        self.sts_calls = []
        self.container = {"token": None, "credentials": None, "status": 200}

    # -- admin ------------------------------------------------------------

    def configure(self, data):
        with self.lock:
            self.roles.update(data.get("roles") or {})
            return {"roles": sorted(self.roles)}

    def configure_container(self, data):
        with self.lock:
            self.container.update(data)
            c = data.get("credentials")
            if c:
                self.creds.add(c["AccessKeyId"], c["SecretAccessKey"],
                    c.get("Token"))
                self.principals[c["AccessKeyId"]] = c.get("Arn",
                    "arn:aws:sts::%s:assumed-role/task/ecsim" % ACCOUNT)
            return {"ok": True}

    def accept_only(self, data):
        keys = data.get("access_keys")
        with self.lock:
            self.only = set(keys) if keys else None
            self.sts_only = bool(data.get("issued_by_sts"))
        return {"access_keys": sorted(self.only) if self.only else None}

    def describe(self):
        with self.lock:
            return {"signers": dict(self.signers),
                "sts": list(self.sts_calls)}

    # -- ECS side ---------------------------------------------------------

    def ecs_signed(self, access_key):
        """Count an ECS call by key; refuse a key the test did not allow."""
        with self.lock:
            self.signers[access_key] = self.signers.get(access_key, 0) + 1
            if (self.only is not None and access_key not in self.only) or \
                (self.sts_only and access_key not in self.issued):
                raise auth._error("UnrecognizedClientException",
                    auth.MSG_INVALID_TOKEN)

    def principal(self, access_key):
        with self.lock:
            return self.principals.get(access_key, DEFAULT_ARN)

    # -- STS --------------------------------------------------------------

    def _issue(self, action, arn, role, session, signer):
        now = datetime.datetime.utcnow()
        life = int(role.get("duration", 3600))
        ak = role.get("access_key") or "ASIA" + uuid.uuid4().hex[:16].upper()
        sk = role.get("secret_key") or uuid.uuid4().hex + "Sts"
        tok = role.get("session_token") or "FwoGZXIv" + uuid.uuid4().hex * 4
        self.creds.add(ak, sk, tok, expires_at=time.time() + life)
        name = arn.rsplit("/", 1)[-1]
        assumed = "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, name,
            session)
        with self.lock:
            self.principals[ak] = assumed
            self.issued.add(ak)
            self.sts_calls.append({"action": action, "role": arn,
                "signer": signer, "session": session})
        exp = _iso(now + datetime.timedelta(seconds=life))
        return ("<Credentials><AccessKeyId>%s</AccessKeyId>"
            "<SecretAccessKey>%s</SecretAccessKey>"
            "<SessionToken>%s</SessionToken>"
            "<Expiration>%s</Expiration></Credentials>"
            "<AssumedRoleUser><AssumedRoleId>AROAECSIM:%s</AssumedRoleId>"
            "<Arn>%s</Arn></AssumedRoleUser>" % (escape(ak), escape(sk),
            escape(tok), exp, escape(session), escape(assumed)))

    def _role(self, arn):
        with self.lock:
            role = self.roles.get(arn)
        if role is None:
            raise StsError("AccessDenied", "User is not authorized to "
                "perform: sts:AssumeRole on resource: %s" % arn)
        if role.get("deny"):
            raise StsError("AccessDenied", "Not authorized to perform "
                "sts:AssumeRole on resource: %s" % arn)
        return role

    def handle(self, srv, handler, body):
        """One STS request: (status, XML text)."""
        rid = str(uuid.uuid4())
        try:
            q = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"),
                keep_blank_values=True).items()}
            action = q.get("Action", "")
            if action == "AssumeRoleWithWebIdentity":
                arn = q.get("RoleArn", "")
                role = self._role(arn)
                want = role.get("web_token")
                if not q.get("WebIdentityToken"):
                    raise StsError("MissingParameter", "The request must "
                        "contain the parameter WebIdentityToken", 400)
                if want is not None and q["WebIdentityToken"] != want:
                    raise StsError("InvalidIdentityToken", "The web "
                        "identity token that was passed could not be "
                        "validated by AWS. Get a new identity token from "
                        "the identity provider and then retry the "
                        "request.", 400)
                result = self._issue(action, arn, role,
                    q.get("RoleSessionName", ""), None)
            else:
                scheme = "https" if srv.ssl_ctx is not None else "http"
                try:
                    signer = auth.verify(srv.creds, srv.ctx.st.region,
                        "sts", handler.command, scheme, handler.path,
                        handler.headers, body)
                except Exception as e:
                    raise StsError(getattr(e, "code", "InvalidClientTokenId"),
                        getattr(e, "message", str(e))) from None
                if action == "GetCallerIdentity":
                    result = ("<Arn>%s</Arn><UserId>AIDAECSIM</UserId>"
                        "<Account>%s</Account>" % (escape(self.principal(
                        signer)), ACCOUNT))
                elif action == "AssumeRole":
                    arn = q.get("RoleArn", "")
                    role = self._role(arn)
                    trusts = role.get("trusts")
                    who = self.principal(signer)
                    if trusts is not None and who not in trusts:
                        raise StsError("AccessDenied", "User: %s is not "
                            "authorized to perform: sts:AssumeRole on "
                            "resource: %s" % (who, arn))
                    if role.get("external_id") is not None and \
                        q.get("ExternalId") != role["external_id"]:
                        raise StsError("AccessDenied", "User: %s is not "
                            "authorized to perform: sts:AssumeRole on "
                            "resource: %s" % (who, arn))
                    result = self._issue(action, arn, role,
                        q.get("RoleSessionName", ""), signer)
                else:
                    raise StsError("InvalidAction", "Could not find "
                        "operation %s for version 2011-06-15" % action, 400)
        except StsError as e:
            return e.status, ('<ErrorResponse xmlns="%s">\n  <Error>\n'
                '    <Type>Sender</Type>\n    <Code>%s</Code>\n'
                '    <Message>%s</Message>\n  </Error>\n'
                '  <RequestId>%s</RequestId>\n</ErrorResponse>\n' % (NS,
                escape(e.code), escape(e.message), rid))
        return 200, ('<%sResponse xmlns="%s">\n  <%sResult>\n    %s\n'
            '  </%sResult>\n  <ResponseMetadata>\n    <RequestId>%s'
            '</RequestId>\n  </ResponseMetadata>\n</%sResponse>\n' % (action,
            NS, action, result, action, rid, action))

    # -- the container endpoint --------------------------------------------

    def container_get(self, headers):
        """(status, JSON text) for GET of the container credentials."""
        with self.lock:
            c = dict(self.container)
        if c["token"] is not None and headers.get("Authorization") != \
            c["token"]:
            return 401, json.dumps({"code": "InvalidToken",
                "message": "Authorization token is invalid"})
        if c["status"] != 200 or not c["credentials"]:
            return c["status"] if c["status"] != 200 else 404, \
                json.dumps({"code": "NotFound", "message": "no role"})
        return 200, json.dumps(c["credentials"])
