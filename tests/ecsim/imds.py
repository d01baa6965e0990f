"""An IMDSv2 server on the emulator's port: PUT /latest/api/token, then
GET /latest/meta-data/iam/security-credentials/[ROLE], which need a live
token (X-aws-ec2-metadata-token).  IMDSv1 (no token) is refused with 401.

  POST /_ecsim/imds {"role", "credentials", "drop_put", "delay_put"}

"credentials" is the role's document (AccessKeyId, SecretAccessKey, Token,
Expiration), whose key becomes known to the credential store; "drop_put"
never answers the PUT, as a hop limit of 1 seen from a container does
(the connection is held until the client gives up); role null: no
instance profile.  GET /_ecsim/imds shows the configuration, the TTLs
asked for and the number of PUTs.
"""

import json
import threading
import time
import uuid


class Imds:
    def __init__(self, creds):
        self.creds = creds
        self.lock = threading.Lock()
        self.role = None
        self.credentials = None
        self.drop_put = False
        self.tokens = {}
        self.ttls = []
        self.puts = 0

    def configure(self, data):
        with self.lock:
            if "role" in data:
                self.role = data["role"]
            if "drop_put" in data:
                self.drop_put = bool(data["drop_put"])
            c = data.get("credentials")
            if c:
                self.credentials = dict(c)
                self.creds.add(c["AccessKeyId"], c["SecretAccessKey"],
                    c.get("Token"))
        return self.describe()

    def describe(self):
        with self.lock:
            return {"role": self.role, "drop_put": self.drop_put,
                "ttls": list(self.ttls), "puts": self.puts}

    def put(self, headers):
        """(status, text) for the token PUT, or None to answer nothing."""
        with self.lock:
            self.puts += 1
            drop = self.drop_put
        if drop:
            time.sleep(3)
            return None
        try:
            ttl = int(headers.get("X-aws-ec2-metadata-token-ttl-seconds"))
        except (TypeError, ValueError):
            return 400, ""
        if not 1 <= ttl <= 21600:
            return 400, ""
        tok = "AQAEA" + uuid.uuid4().hex
        with self.lock:
            self.ttls.append(ttl)
            self.tokens[tok] = time.monotonic() + ttl
        return 200, tok

    def get(self, path, headers):
        tok = headers.get("X-aws-ec2-metadata-token")
        with self.lock:
            live = tok is not None and self.tokens.get(tok, 0) > \
                time.monotonic()
            role, c = self.role, self.credentials
        if not live:
            return 401, ""
        base = "/latest/meta-data/iam/security-credentials/"
        if not path.startswith(base) or role is None:
            return 404, ""
        rest = path[len(base):]
        if rest == "":
            return 200, role
        if rest != role or c is None:
            return 404, ""
        doc = {"Code": "Success", "LastUpdated": "2026-01-01T00:00:00Z",
            "Type": "AWS-HMAC"}
        doc.update(c)
        return 200, json.dumps(doc)
