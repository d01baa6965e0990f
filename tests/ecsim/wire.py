"""Wire faults that tests/ecsim/faults.py does not cover: what happens
around an operation that is applied.

The configuration is replaced whole by each POST /_ecsim/wire_faults:

  drop_after_apply   actions that are carried out, then answered by
                     closing the connection: the client cannot tell
                     whether its request landed
  unreadable_after_apply
                     {action: "cut" | "empty"}: actions that are carried
                     out, then answered 200 with the answer cut in half
                     (not JSON) or with {} (JSON without what the action
                     returns)
  echo_credentials   true: every API request is refused (400
                     IncompleteSignatureException) with a message that
                     quotes the request's security token, as a header
                     ("X-AMZ-SECURITY-TOKEN:..."), as a parameter, bare and
                     upper-cased, and the secret key of its access key, the
                     way a careless proxy or endpoint might

Absent settings are off.
"""

import re
import threading

from model import ApiError

_KEYS = {"drop_after_apply", "unreadable_after_apply", "echo_credentials"}
_UNREADABLE_FORMS = ("cut", "empty")
_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/")


class WireFaults:
    """The current wire fault configuration."""

    def __init__(self):
        self._lock = threading.Lock()
        self.configure({})

    def configure(self, cfg):
        """Replace the whole configuration; raise ValueError if invalid."""
        if not isinstance(cfg, dict):
            raise ValueError("wire fault configuration must be a JSON object")
        unknown = set(cfg) - _KEYS
        if unknown:
            raise ValueError("unknown wire fault setting(s): %s" %
                ", ".join(sorted(unknown)))
        drop = cfg.get("drop_after_apply") or []
        if not isinstance(drop, list) or not all(isinstance(a, str)
            for a in drop):
            raise ValueError("drop_after_apply must be a list of action names")
        unreadable = cfg.get("unreadable_after_apply") or {}
        if not isinstance(unreadable, dict) or not all(isinstance(a, str) and
            f in _UNREADABLE_FORMS for a, f in unreadable.items()):
            raise ValueError("unreadable_after_apply must map action names "
                "to one of: %s" % ", ".join(_UNREADABLE_FORMS))
        echo = cfg.get("echo_credentials", False)
        if not isinstance(echo, bool):
            raise ValueError("echo_credentials must be true or false")
        with self._lock:
            self._cfg = {"drop_after_apply": set(drop),
                "unreadable_after_apply": dict(unreadable),
                "echo_credentials": echo}
        return self.describe()

    def describe(self):
        with self._lock:
            return {"drop_after_apply": sorted(self._cfg["drop_after_apply"]),
                "unreadable_after_apply": dict(self._cfg["unreadable_after_apply"]),
                "echo_credentials": self._cfg["echo_credentials"]}

    def drop_after_apply(self, action):
        """True when action, once carried out, must go unanswered."""
        with self._lock:
            return action in self._cfg["drop_after_apply"]

    def answer(self, action, text):
        """The answer to send for action, carried out with answer text."""
        with self._lock:
            form = self._cfg["unreadable_after_apply"].get(action)
        if form == "cut":
            return text[:len(text) // 2]
        if form == "empty":
            return "{}"
        return text

    def echo(self, headers, creds):
        """None, or the ApiError that quotes the request's credentials."""
        with self._lock:
            if not self._cfg["echo_credentials"]:
                return None
        token = headers.get("X-Amz-Security-Token") or ""
        m = _CREDENTIAL_RE.search(headers.get("Authorization") or "")
        entry = creds.get(m.group(1)) if m else None
        secret = entry["secret"] if entry else ""
        return ApiError("IncompleteSignatureException",
            "Request refused: token %s (%s); signed with %s (%s); headers "
            "seen: X-AMZ-SECURITY-TOKEN:%s, x-amz-security-token=%s" %
            (token, token.upper(), secret, secret.lower(), token, token),
            400)
