"""Application Auto Scaling for ECS services: scalable targets, scaling
policies, scaling activities, and a simulated scaler.

Served at the emulator's URL under X-Amz-Target "AnyScaleFrontendService.",
signed for "application-autoscaling".  Only the "ecs" namespace holds
targets: resource ids "service/CLUSTER/SERVICE", dimension
"ecs:service:DesiredCount", and the service must exist when a target is
registered.  Other namespaces describe as empty and refuse registration.
Errors are AWS's: ValidationException for bad values, ObjectNotFound-
Exception for a target or policy that is not there, InvalidNextToken-
Exception for a token this service did not give.

RegisterScalableTarget creates a target (MinCapacity and MaxCapacity then
required) or updates one: members left out keep their value, SuspendedState
flags too.  DeregisterScalableTarget drops the target's policies with it.

The scaler (Scaler) wakes every --scaler-interval wall-clock seconds and
does what Application Auto Scaling does to a target whose capacity has left
[MinCapacity, MaxCapacity]: a desired count below the minimum is raised to
it unless DynamicScalingOutSuspended, one above the maximum lowered to it
unless DynamicScalingInSuspended.  It changes the desired count the way
UpdateService does (ops.set_desired), so the scheduler follows, and records
a scaling activity (DescribeScalingActivities).  So a service scaled to zero
while its minimum is 2 is back at 2 within an interval or two.

Everything here is protected by State.lock, as the ECS state is.
"""

import threading
import traceback
import uuid

import ops
from model import ApiError
from state import now

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
MAX_RESULTS = 50
FLAGS = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended")
ACTIVITIES_KEPT = 100


def validation(message):
    return ApiError("ValidationException", message)


def _not_registered(rid, dim):
    return ApiError("ObjectNotFoundException", "No scalable target "
        "registered for service namespace: %s, resource ID: %s, scalable "
        "dimension: %s" % (NAMESPACE, rid, dim))


class Target:
    def __init__(self, st, rid, dim, lo, hi, role):
        self.rid = rid
        self.dim = dim
        self.min = lo
        self.max = hi
        self.suspended = {f: False for f in FLAGS}
        self.created = now()
        self.role = role or ("arn:aws:iam::%s:role/aws-service-role/"
            "ecs.application-autoscaling.amazonaws.com/AWSServiceRoleFor"
            "ApplicationAutoScaling_ECSService" % st.account)
        self.arn = "arn:aws:application-autoscaling:%s:%s:scalable-target/"\
            "0e%030x" % (st.region, st.account, st.rng.getrandbits(120))

    def render(self):
        return {
            "ServiceNamespace": NAMESPACE,
            "ResourceId": self.rid,
            "ScalableDimension": self.dim,
            "MinCapacity": self.min,
            "MaxCapacity": self.max,
            "RoleARN": self.role,
            "CreationTime": self.created,
            "SuspendedState": dict(self.suspended),
            "ScalableTargetARN": self.arn,
        }


class Policy:
    def __init__(self, st, target, name, kind, config):
        self.target = target
        self.name = name
        self.kind = kind
        self.config = config
        self.created = now()
        self.arn = "arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/" \
            "%s/%s:policyName/%s" % (st.region, st.account,
            uuid.UUID(int=st.rng.getrandbits(128)), NAMESPACE, target.rid,
            name)
        self.alarms = []
        if kind == "TargetTrackingScaling":
            for which in ("AlarmHigh", "AlarmLow"):
                alarm = "TargetTracking-%s-%s-%s" % (target.rid, which,
                    uuid.UUID(int=st.rng.getrandbits(128)))
                self.alarms.append({"AlarmName": alarm, "AlarmARN":
                    "arn:aws:cloudwatch:%s:%s:alarm:%s" % (st.region,
                    st.account, alarm)})

    def render(self):
        d = {
            "PolicyARN": self.arn,
            "PolicyName": self.name,
            "ServiceNamespace": NAMESPACE,
            "ResourceId": self.target.rid,
            "ScalableDimension": self.target.dim,
            "PolicyType": self.kind,
            "Alarms": list(self.alarms),
            "CreationTime": self.created,
        }
        key = "TargetTrackingScalingPolicyConfiguration" if \
            self.kind == "TargetTrackingScaling" else \
            "StepScalingPolicyConfiguration"
        d[key] = self.config
        return d


class Registry:
    """The region's scalable targets, policies and scaling activities."""

    def __init__(self, st):
        self.st = st
        self.targets = {}       # (resource id, dimension) -> Target
        self.policies = {}      # (resource id, dimension, name) -> Policy
        self.activities = []    # newest first
        self.runs = 0           # scaler passes so far
        self.moves = 0          # desired counts the scaler changed

    def service(self, rid):
        """The ACTIVE ECS service of a resource id, or None."""
        parts = rid.split("/")
        if len(parts) != 3 or parts[0] != "service":
            return None
        c = self.st.clusters.get(parts[1])
        if c is None or c.status != "ACTIVE":
            return None
        svc = c.services.get(parts[2])
        if svc is None or svc.status != "ACTIVE":
            return None
        return svc

    def activity(self, target, old, new, cause):
        self.activities.insert(0, {
            "ActivityId": str(uuid.UUID(int=self.st.rng.getrandbits(128))),
            "ServiceNamespace": NAMESPACE,
            "ResourceId": target.rid,
            "ScalableDimension": target.dim,
            "Description": "Setting desired count to %d." % new,
            "Cause": cause,
            "StartTime": now(),
            "EndTime": now(),
            "StatusCode": "Successful",
            "StatusMessage": "Successfully set desired count to %d. Change "
                "successfully fulfilled by ecs." % new,
            "Details": "desired count was %d" % old,
        })
        del self.activities[ACTIVITIES_KEPT:]

    def scale(self, ctx):
        """One scaler pass: move every out-of-range desired count back."""
        self.runs += 1
        for target in list(self.targets.values()):
            svc = self.service(target.rid)
            if svc is None:
                continue
            old = svc.desired
            if old < target.min and \
                not target.suspended["DynamicScalingOutSuspended"]:
                new, why = target.min, "minimum capacity was set to %d" % \
                    target.min
            elif old > target.max and \
                not target.suspended["DynamicScalingInSuspended"]:
                new, why = target.max, "maximum capacity was set to %d" % \
                    target.max
            else:
                continue
            ops.set_desired(ctx, svc, new)
            self.moves += 1
            self.activity(target, old, new, "monitor alarm: %s" % why)

    def dump(self):
        """The admin view (GET /_ecsim/autoscaling)."""
        return {
            "targets": [t.render() for _, t in sorted(self.targets.items())],
            "policies": [p.render() for _, p in
                sorted(self.policies.items())],
            "activities": list(self.activities),
            "runs": self.runs,
            "moves": self.moves,
        }


class Scaler:
    """The thread that runs Registry.scale every interval seconds."""

    def __init__(self, ctx, interval):
        self.ctx = ctx
        self.interval = float(interval)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name="scaler",
            daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def set_interval(self, interval):
        """Change the interval (0: no passes) and wake the thread."""
        self.interval = float(interval)
        self._wake.set()

    def _run(self):
        while not self._stop.is_set():
            self._wake.clear()
            interval = self.interval
            if interval > 0:
                with self.ctx.st.lock:
                    try:
                        self.ctx.aas.scale(self.ctx)
                    except Exception:
                        traceback.print_exc()
            self._wake.wait(interval if interval > 0 else 1.0)


# -- requests ---------------------------------------------------------------

def _max_results(params):
    n = params.get("MaxResults")
    if n is None:
        return MAX_RESULTS
    if not 1 <= n <= MAX_RESULTS:
        raise validation("1 validation error detected: Value '%d' at "
            "'maxResults' failed to satisfy constraint: Member must have "
            "value less than or equal to %d" % (n, MAX_RESULTS))
    return n


def _paged(op, params, member, items):
    """The answer of a Describe op: one page of items ({sorted string key:
    object with render()}) under member, and NextToken when more follow."""
    out, token = _page(op, params, sorted(items))
    result = {member: [items[k].render() for k in out]}
    if token is not None:
        result["NextToken"] = token
    return result


def _page(op, params, keys):
    """(keys of one page, NextToken or None) of sorted string keys."""
    limit = _max_results(params)
    token = params.get("NextToken")
    after = None
    if token is not None:
        try:
            after = ops.decode_token(op, token)
        except ApiError:
            raise ApiError("InvalidNextTokenException",
                "Invalid token") from None
    if after is not None:
        keys = [k for k in keys if k > after]
    out = keys[:limit]
    more = len(keys) > limit
    return out, ops.encode_token(op, out[-1]) if more else None


def _target_key(ctx, params, registering=False):
    """(resource id, dimension) named by params, checked for ECS."""
    ns = params["ServiceNamespace"]
    rid = params["ResourceId"]
    dim = params["ScalableDimension"]
    if ns != NAMESPACE:
        raise validation("Unsupported service namespace: %s (the emulator "
            "serves ecs only)" % ns)
    parts = rid.split("/")
    if len(parts) != 3 or parts[0] != "service" or not all(parts):
        raise validation("Unsupported resource ID: %s. The resource ID "
            "of an ECS service is service/CLUSTER/SERVICE." % rid)
    if dim != DIMENSION:
        raise validation("Unsupported scalable dimension: %s for service "
            "namespace: %s" % (dim, ns))
    if registering and ctx.aas.service(rid) is None:
        raise validation("ECS service doesn't exist: %s" % rid)
    return (rid, dim)


def register_scalable_target(ctx, params):
    reg = ctx.aas
    key = _target_key(ctx, params, registering=True)
    lo = params.get("MinCapacity")
    hi = params.get("MaxCapacity")
    for name, value in (("MinCapacity", lo), ("MaxCapacity", hi)):
        if value is not None and value < 0:
            raise validation("%s must be greater than or equal to 0" % name)
    target = reg.targets.get(key)
    if target is None and (lo is None or hi is None):
        raise validation("MinCapacity and MaxCapacity are required to "
            "register a new scalable target")
    new_lo = lo if lo is not None else target.min
    new_hi = hi if hi is not None else target.max
    if new_lo > new_hi:
        raise validation("Minimum capacity cannot be greater than maximum "
            "capacity")
    if target is None:
        target = Target(ctx.st, key[0], key[1], new_lo, new_hi,
            params.get("RoleARN"))
        reg.targets[key] = target
    target.min, target.max = new_lo, new_hi
    for flag, value in (params.get("SuspendedState") or {}).items():
        if value is not None:
            target.suspended[flag] = bool(value)
    return {"ScalableTargetARN": target.arn}


def describe_scalable_targets(ctx, params):
    reg = ctx.aas
    if params["ServiceNamespace"] != NAMESPACE:
        return {"ScalableTargets": []}
    ids = params.get("ResourceIds")
    dim = params.get("ScalableDimension")
    chosen = {"%s %s" % k: t for k, t in reg.targets.items()
        if (not ids or k[0] in ids) and (dim is None or k[1] == dim)}
    return _paged("DescribeScalableTargets", params, "ScalableTargets", chosen)


def deregister_scalable_target(ctx, params):
    reg = ctx.aas
    key = _target_key(ctx, params)
    if key not in reg.targets:
        raise _not_registered(*key)
    del reg.targets[key]
    for pkey in [p for p in reg.policies if p[:2] == key]:
        del reg.policies[pkey]
    return {}


def put_scaling_policy(ctx, params):
    reg = ctx.aas
    key = _target_key(ctx, params)
    target = reg.targets.get(key)
    if target is None:
        raise _not_registered(*key)
    kind = params.get("PolicyType") or "StepScaling"
    member = "TargetTrackingScalingPolicyConfiguration" if \
        kind == "TargetTrackingScaling" else "StepScalingPolicyConfiguration"
    config = params.get(member)
    if config is None:
        raise validation("%s is required for a policy of type %s" %
            (member, kind))
    if kind == "TargetTrackingScaling" and not (
        config.get("PredefinedMetricSpecification") or
        config.get("CustomizedMetricSpecification")):
        raise validation("Either PredefinedMetricSpecification or "
            "CustomizedMetricSpecification must be specified")
    pkey = key + (params["PolicyName"],)
    old = reg.policies.get(pkey)
    policy = Policy(ctx.st, target, params["PolicyName"], kind, config)
    if old is not None:
        policy.arn, policy.created = old.arn, old.created
        if old.kind == kind:
            policy.alarms = old.alarms
    reg.policies[pkey] = policy
    result = {"PolicyARN": policy.arn}
    if policy.alarms:
        result["Alarms"] = list(policy.alarms)
    return result


def describe_scaling_policies(ctx, params):
    reg = ctx.aas
    if params["ServiceNamespace"] != NAMESPACE:
        return {"ScalingPolicies": []}
    rid = params.get("ResourceId")
    dim = params.get("ScalableDimension")
    names = params.get("PolicyNames")
    chosen = {"%s %s %s" % k: p for k, p in reg.policies.items()
        if (rid is None or k[0] == rid) and (dim is None or k[1] == dim) and
        (not names or k[2] in names)}
    return _paged("DescribeScalingPolicies", params, "ScalingPolicies", chosen)


def delete_scaling_policy(ctx, params):
    reg = ctx.aas
    key = _target_key(ctx, params) + (params["PolicyName"],)
    if key not in reg.policies:
        raise ApiError("ObjectNotFoundException", "No scaling policy found "
            "for service namespace: %s, resource ID: %s, scalable dimension:"
            " %s, policy name: %s" % (NAMESPACE, key[0], key[1], key[2]))
    del reg.policies[key]
    return {}


def describe_scaling_activities(ctx, params):
    reg = ctx.aas
    if params["ServiceNamespace"] != NAMESPACE:
        return {"ScalingActivities": []}
    rid = params.get("ResourceId")
    dim = params.get("ScalableDimension")
    chosen = [a for a in reg.activities
        if (rid is None or a["ResourceId"] == rid) and
        (dim is None or a["ScalableDimension"] == dim)]
    # Newest first, paged by position: the list only grows at its head,
    # so a token names the activity id the page ended at.
    limit = _max_results(params)
    token = params.get("NextToken")
    start = 0
    if token is not None:
        try:
            last = ops.decode_token("DescribeScalingActivities", token)
            start = 1 + [a["ActivityId"] for a in chosen].index(last)
        except (ApiError, ValueError):
            raise ApiError("InvalidNextTokenException",
                "Invalid token") from None
    out = chosen[start:start + limit]
    result = {"ScalingActivities": [dict(a) for a in out]}
    if start + limit < len(chosen):
        result["NextToken"] = ops.encode_token("DescribeScalingActivities",
            out[-1]["ActivityId"])
    return result


OPERATIONS = {
    "RegisterScalableTarget": register_scalable_target,
    "DescribeScalableTargets": describe_scalable_targets,
    "DeregisterScalableTarget": deregister_scalable_target,
    "PutScalingPolicy": put_scaling_policy,
    "DescribeScalingPolicies": describe_scaling_policies,
    "DeleteScalingPolicy": delete_scaling_policy,
    "DescribeScalingActivities": describe_scaling_activities,
}


# -- admin API --------------------------------------------------------------

def admin_target(srv, data, query):
    """POST /_ecsim/scalable_target {"cluster", "service", "min"?, "max"?,
    "suspended"?: bool}: RegisterScalableTarget without a request (not
    counted); "suspended" sets all three flags."""
    unknown = set(data) - {"cluster", "service", "min", "max", "suspended"}
    if unknown:
        raise ValueError("unknown setting(s): %s" % ", ".join(
            sorted(unknown)))
    params = {"ServiceNamespace": NAMESPACE, "ResourceId": "service/%s/%s" %
        (data["cluster"], data["service"]), "ScalableDimension": DIMENSION}
    if data.get("min") is not None:
        params["MinCapacity"] = data["min"]
    if data.get("max") is not None:
        params["MaxCapacity"] = data["max"]
    if data.get("suspended") is not None:
        params["SuspendedState"] = {f: bool(data["suspended"])
            for f in FLAGS}
    with srv.ctx.st.lock:
        try:
            register_scalable_target(srv.ctx, params)
        except ApiError as e:
            raise ValueError("%s: %s" % (e.code, e.message)) from None
        return srv.ctx.aas.targets[(params["ResourceId"],
            DIMENSION)].render()


def admin_state(srv, data, query):
    with srv.ctx.st.lock:
        return srv.ctx.aas.dump()


def admin_scaler(srv, data, query):
    """POST /_ecsim/scaler {"interval": seconds (0: off)}."""
    interval = data.get("interval")
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) \
        or interval < 0:
        raise ValueError("interval must be a number of seconds >= 0")
    srv.scaler.set_interval(interval)
    with srv.ctx.st.lock:
        return {"interval": srv.scaler.interval, "runs": srv.ctx.aas.runs}


ADMIN = {
    ("POST", "scalable_target"): admin_target,
    ("GET", "autoscaling"): admin_state,
    ("POST", "scaler"): admin_scaler,
}
