"""The SSO portal (GetRoleCredentials) and SSO-OIDC (CreateToken with a
refresh token) on the emulator's port.

  POST /_ecsim/sso {"access_token", "refresh_token", "client_id",
                   "account_id", "role_name", "credentials"}

GET /federation/credentials?account_id=&role_name= needs the header
x-amz-sso_bearer_token equal to the current access token; POST /token with
{"grantType": "refresh_token", "clientId", "clientSecret", "refreshToken"}
hands out a new access token (and refresh token) and makes it the current
one.  "credentials" {"accessKeyId", "secretAccessKey", "sessionToken",
"expiration" (ms)} become known to the credential store.  GET /_ecsim/sso
shows the calls.
"""

import json
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit


class Sso:
    def __init__(self, creds):
        self.creds = creds
        self.lock = threading.Lock()
        self.cfg = {}
        self.calls = []

    def configure(self, data):
        with self.lock:
            self.cfg.update(data)
            c = data.get("credentials")
            if c:
                self.creds.add(c["accessKeyId"], c["secretAccessKey"],
                    c["sessionToken"])
        return {"ok": True}

    def describe(self):
        with self.lock:
            return {"calls": list(self.calls),
                "access_token": self.cfg.get("access_token")}

    def role_credentials(self, path, headers):
        q = {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}
        with self.lock:
            self.calls.append("GetRoleCredentials")
            cfg = dict(self.cfg)
        tok = headers.get("x-amz-sso_bearer_token")
        if not tok or tok != cfg.get("access_token"):
            return 401, {"message": "Session token not found or invalid"}
        if q.get("account_id") != cfg.get("account_id") or \
            q.get("role_name") != cfg.get("role_name"):
            return 403, {"message": "No access"}
        c = dict(cfg["credentials"])
        c.setdefault("expiration", int((time.time() + 3600) * 1000))
        return 200, {"roleCredentials": c}

    def create_token(self, body):
        try:
            req = json.loads(body)
        except ValueError:
            return 400, {"error": "invalid_request"}
        with self.lock:
            self.calls.append("CreateToken")
            cfg = self.cfg
            if req.get("grantType") != "refresh_token" or \
                req.get("refreshToken") != cfg.get("refresh_token") or \
                req.get("clientId") != cfg.get("client_id"):
                return 400, {"error": "invalid_grant",
                    "error_description": "Invalid refresh token provided"}
            cfg["access_token"] = "aoa" + uuid.uuid4().hex
            cfg["refresh_token"] = "aor" + uuid.uuid4().hex
            return 200, {"accessToken": cfg["access_token"],
                "tokenType": "Bearer", "expiresIn": 28800,
                "refreshToken": cfg["refresh_token"]}
