"""Injected faults: latency, throttling, server errors, dropped connections,
IAM denials, and ECS's per-account token buckets.

The configuration is replaced whole by each POST /_ecsim/faults:

  latency_ms             delay before answering (wall-clock ms)
  response_delay_ms      delay between computing the answer and sending it,
                         as a slow network on the way back would
  throttle_probability   chance of ThrottlingException
  error_5xx_probability  chance of a 500 ServerException or a 503
  drop_probability       chance of closing the connection unanswered
  actions                limit the four settings above to these actions
  deny_actions           actions answered with AccessDeniedException
  throttle_buckets       true: apply ECS's token buckets (below)
  buckets                {"service_read": [burst, refill_per_s], ...}
  repeat_next_token      List actions whose every page is the first one with
                         the same nextToken: a listing that never ends
  endless_next_token     List actions whose every page is the first one with
                         a new nextToken each time

Absent settings are off.  Random
decisions come from one random.Random seeded from --fault-seed, so a run with
the same requests in the same order sees the same faults.  Token buckets
refill in wall-clock time, like AWS's.
"""

import threading
import time
import random

# API throttling categories: (burst, refill per second).  ECS's are
# documented ("Request throttling for the Amazon ECS API"); CloudWatch Logs
# documents 25 transactions per second for GetLogEvents and
# DescribeLogStreams and 50 for CreateLogStream; Application Auto Scaling
# documents no rates, so its buckets are conservative guesses.
DEFAULT_BUCKETS = {
    "cluster_read": (50, 20),
    "service_read": (100, 20),
    "service_modify": (50, 5),
    "cluster_resource_read": (100, 20),
    "cluster_resource_modify": (100, 40),
    "taskdef_read": (50, 20),
    "taskdef_modify": (20, 1),
    "autoscaling_read": (20, 10),
    "autoscaling_modify": (10, 2),
    "logs_read": (25, 25),
    "logs_write": (50, 50),
}

CATEGORY = {
    "ListClusters": "cluster_read",
    "DescribeClusters": "cluster_read",
    "ListServices": "service_read",
    "DescribeServices": "service_read",
    "UpdateService": "service_modify",
    "CreateService": "service_modify",
    "DeleteService": "service_modify",
    "ListTasks": "cluster_resource_read",
    "DescribeTasks": "cluster_resource_read",
    "ListContainerInstances": "cluster_resource_read",
    "DescribeContainerInstances": "cluster_resource_read",
    "StopTask": "cluster_resource_modify",
    "RunTask": "cluster_resource_modify",
    "StartTask": "cluster_resource_modify",
    "UpdateContainerInstancesState": "cluster_resource_modify",
    "RegisterContainerInstance": "cluster_resource_modify",
    "DeregisterContainerInstance": "cluster_resource_modify",
    "DescribeTaskDefinition": "taskdef_read",
    "ListTaskDefinitions": "taskdef_read",
    "RegisterTaskDefinition": "taskdef_modify",
    "DeregisterTaskDefinition": "taskdef_modify",
    "DescribeScalableTargets": "autoscaling_read",
    "DescribeScalingPolicies": "autoscaling_read",
    "DescribeScalingActivities": "autoscaling_read",
    "RegisterScalableTarget": "autoscaling_modify",
    "DeregisterScalableTarget": "autoscaling_modify",
    "PutScalingPolicy": "autoscaling_modify",
    "DeleteScalingPolicy": "autoscaling_modify",
    "GetLogEvents": "logs_read",
    "DescribeLogStreams": "logs_read",
    "DescribeLogGroups": "logs_read",
    "PutLogEvents": "logs_write",
    "CreateLogStream": "logs_write",
    "CreateLogGroup": "logs_write",
}

_KEYS = {
    "latency_ms", "response_delay_ms", "throttle_probability", "throttle_buckets", "buckets",
    "error_5xx_probability", "drop_probability", "deny_actions", "actions",
    "repeat_next_token", "endless_next_token",
}

# The token of the repeat_next_token and endless_next_token faults.
STUCK_TOKEN = "ecsim-stuck-token"


class _Bucket:
    """A token bucket refilled in wall-clock time."""

    def __init__(self, burst, rate):
        self.burst = float(burst)
        self.rate = float(rate)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst,
            self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def _probability(cfg, key):
    value = cfg.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
        not 0.0 <= value <= 1.0:
        raise ValueError("%s must be a number between 0 and 1" % key)
    return float(value)


class Faults:
    """The current fault configuration and the decisions it makes."""

    def __init__(self, seed=1):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._endless = 0   # endless_next_token tokens handed out
        self.configure({})

    def configure(self, cfg):
        """Replace the whole configuration; raise ValueError if invalid."""
        if not isinstance(cfg, dict):
            raise ValueError("fault configuration must be a JSON object")
        unknown = set(cfg) - _KEYS
        if unknown:
            raise ValueError("unknown fault setting(s): %s" %
                ", ".join(sorted(unknown)))
        latency = cfg.get("latency_ms", 0)
        if isinstance(latency, bool) or \
            not isinstance(latency, (int, float)) or latency < 0:
            raise ValueError("latency_ms must be a number >= 0")
        response_delay = cfg.get("response_delay_ms", 0)
        if isinstance(response_delay, bool) or \
            not isinstance(response_delay, (int, float)) or response_delay < 0:
            raise ValueError("response_delay_ms must be a number >= 0")
        buckets = dict(DEFAULT_BUCKETS)
        for name, pair in (cfg.get("buckets") or {}).items():
            if name not in DEFAULT_BUCKETS:
                raise ValueError("unknown bucket %r (known: %s)" %
                    (name, ", ".join(sorted(DEFAULT_BUCKETS))))
            if not isinstance(pair, (list, tuple)) or len(pair) != 2 or \
                not all(isinstance(x, (int, float)) and x >= 0
                for x in pair):
                raise ValueError("bucket %s must be [burst, refill_per_s]"
                    % name)
            buckets[name] = (pair[0], pair[1])
        deny = cfg.get("deny_actions") or []
        actions = cfg.get("actions")
        repeat = cfg.get("repeat_next_token") or []
        endless = cfg.get("endless_next_token") or []
        for key, val in (("deny_actions", deny), ("actions", actions),
            ("repeat_next_token", repeat),
            ("endless_next_token", endless)):
            if val is not None and (not isinstance(val, list) or
                not all(isinstance(a, str) for a in val)):
                raise ValueError("%s must be a list of action names" % key)
        new = {
            "latency_ms": float(latency),
            "response_delay_ms": float(response_delay),
            "throttle_probability": _probability(cfg,
                "throttle_probability"),
            "error_5xx_probability": _probability(cfg,
                "error_5xx_probability"),
            "drop_probability": _probability(cfg, "drop_probability"),
            "throttle_buckets": bool(cfg.get("throttle_buckets", False)),
            "deny_actions": set(deny),
            "actions": set(actions) if actions is not None else None,
            "repeat_next_token": set(repeat),
            "endless_next_token": set(endless),
        }
        with self._lock:
            self._cfg = new
            self._buckets = {name: _Bucket(b, r)
                for name, (b, r) in buckets.items()}
        return self.describe()

    def describe(self):
        with self._lock:
            cfg = dict(self._cfg)
            cfg["deny_actions"] = sorted(cfg["deny_actions"])
            for key in ("repeat_next_token", "endless_next_token"):
                cfg[key] = sorted(cfg[key])
            if cfg["actions"] is not None:
                cfg["actions"] = sorted(cfg["actions"])
            cfg["buckets"] = {name: [b.burst, b.rate]
                for name, b in self._buckets.items()}
        return cfg

    def _applies(self, action):
        actions = self._cfg["actions"]
        return actions is None or action in actions

    def _roll(self, action, key):
        p = self._cfg[key]
        if p <= 0.0 or not self._applies(action):
            return False
        return self._rng.random() < p

    def latency(self, action):
        """Seconds to wait before answering action."""
        with self._lock:
            if not self._applies(action):
                return 0.0
            return self._cfg["latency_ms"] / 1000.0

    def response_delay(self, action):
        """Seconds to wait between computing an answer and sending it."""
        with self._lock:
            if not self._applies(action):
                return 0.0
            return self._cfg["response_delay_ms"] / 1000.0

    def drop(self, action):
        with self._lock:
            return self._roll(action, "drop_probability")

    def denied(self, action):
        with self._lock:
            return action in self._cfg["deny_actions"]

    def throttled(self, action):
        """True when action should be answered with ThrottlingException."""
        with self._lock:
            if self._roll(action, "throttle_probability"):
                return True
            if not self._cfg["throttle_buckets"]:
                return False
            category = CATEGORY.get(action)
            if category is None:
                return False
            return not self._buckets[category].take()

    def server_error(self, action):
        """None, or (status, code, message) of an injected server error."""
        with self._lock:
            if not self._roll(action, "error_5xx_probability"):
                return None
            if self._rng.random() < 0.5:
                return (500, "ServerException",
                    "We encountered an internal error. Please try again.")
            return (503, "ServiceUnavailableException",
                "Service Unavailable. Please try again later.")

    def next_token(self, action, params):
        """None, or the nextToken to answer action with under a token
        fault; then the request's own fault token is removed from params,
        so that the page answered is the first one again."""
        with self._lock:
            if action in self._cfg["repeat_next_token"]:
                token = STUCK_TOKEN
            elif action in self._cfg["endless_next_token"]:
                self._endless += 1
                token = "%s-%d" % (STUCK_TOKEN, self._endless)
            else:
                return None
        if str(params.get("nextToken", "")).startswith(STUCK_TOKEN):
            del params["nextToken"]
        return token
