"""The ECS API operations the emulator implements.

Each operation takes the validated request parameters and returns the
response object, or raises ApiError with the code and message ECS uses.
Lookups go through the per-cluster dictionaries and sorted indexes in
state.py, so no request scans a cluster's services or tasks.
"""

import base64
import binascii
import json
import re

import state
import taskdefs
from model import ApiError, invalid

SERVICE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")
CLUSTER_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


class Context:
    """What an operation works on: the state and its scheduler, and the
    Application Auto Scaling registry (autoscaling.py) and CloudWatch Logs
    store (logs.py) once main has made them."""

    def __init__(self, st, sched):
        self.st = st
        self.sched = sched
        self.aas = None
        self.logs = None


# -- helpers ---------------------------------------------------------------

def cluster_not_found():
    return ApiError("ClusterNotFoundException", "Cluster not found.")


def get_cluster(ctx, params):
    value = params.get("cluster") or "default"
    name = ctx.st.name_from(value, "cluster")
    c = ctx.st.clusters.get(name) if name else None
    if c is None or c.status != "ACTIVE":
        raise cluster_not_found()
    return c


def encode_token(op, key):
    raw = json.dumps({"op": op, "after": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(op, token):
    if token is None:
        return None
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        if data.get("op") != op or not isinstance(data.get("after"), str):
            raise ValueError(token)
        return data["after"]
    except (ValueError, binascii.Error, AttributeError, TypeError):
        raise invalid("Invalid token %s" % token) from None


def page_size(params, default):
    n = params.get("maxResults")
    if n is None:
        return default
    if not 1 <= n <= 100:
        raise invalid("maxResults must be between 1 and 100 (was %d)." % n)
    return n


def page(op, params, index, default, keep=None):
    """(keys, nextToken) of one page of a SortedKeys-like index."""
    limit = page_size(params, default)
    after = decode_token(op, params.get("nextToken"))
    keys, more = index.page(after, limit, keep)
    token = encode_token(op, keys[-1]) if more and keys else None
    return keys, token


def _with_token(result, token):
    if token is not None:
        result["nextToken"] = token
    return result


# -- clusters --------------------------------------------------------------

def list_clusters(ctx, params):
    st = ctx.st
    keys, token = page("ListClusters", params, st.cluster_index, 100,
        lambda n: st.clusters[n].status == "ACTIVE")
    return _with_token({"clusterArns": [st.clusters[n].arn for n in keys]},
        token)


def describe_clusters(ctx, params):
    st = ctx.st
    include = params.get("include") or []
    out, failures = [], []
    for value in params.get("clusters") or ["default"]:
        name = st.name_from(value, "cluster")
        c = st.clusters.get(name) if name else None
        if c is None or c.status != "ACTIVE":
            failures.append({"arn": value if value.startswith("arn:") else
                "%s:cluster/%s" % (st.arn_prefix, value),
                "reason": "MISSING"})
        else:
            out.append(c.render(include))
    return {"clusters": out, "failures": failures}


def create_cluster(ctx, params):
    name = params.get("clusterName") or "default"
    if not CLUSTER_NAME_RE.match(name):
        raise invalid("Cluster name must match ^[a-zA-Z0-9\\-_]{1,255}$, "
            "but was %s" % name)
    c = ctx.st.add_cluster(name, params.get("tags"))
    return {"cluster": c.render(("TAGS", "SETTINGS"))}


# -- services --------------------------------------------------------------

def list_services(ctx, params):
    c = get_cluster(ctx, params)
    launch = params.get("launchType")
    strategy = params.get("schedulingStrategy")

    def keep(name):
        svc = c.services[name]
        if svc.status == "INACTIVE":
            return False
        if launch is not None and svc.launch_type != launch:
            return False
        return strategy in (None, "REPLICA")
    keys, token = page("ListServices", params, c.service_index, 10, keep)
    return _with_token({"serviceArns": [c.services[n].arn for n in keys]},
        token)


def describe_services(ctx, params):
    st = ctx.st
    c = get_cluster(ctx, params)
    include = params.get("include") or []
    out, failures = [], []
    for value in params["services"]:
        name = st.name_from(value, "service")
        svc = c.services.get(name) if name else None
        if svc is None:
            failures.append({"arn": value if value.startswith("arn:") else
                "%s:service/%s/%s" % (st.arn_prefix, c.name, value),
                "reason": "MISSING"})
        else:
            out.append(svc.render(st, include))
    return {"services": out, "failures": failures}


def _service(ctx, c, value, active=True):
    name = ctx.st.name_from(value, "service")
    svc = c.services.get(name) if name else None
    if svc is None:
        raise ApiError("ServiceNotFoundException", "Service not found.")
    if active and svc.status != "ACTIVE":
        raise ApiError("ServiceNotActiveException", "Service was not ACTIVE.")
    return svc


def _check_config(cfg):
    if not cfg:
        return
    for key in ("maximumPercent", "minimumHealthyPercent"):
        if key in cfg and cfg[key] < 0:
            raise invalid("%s must be >= 0." % key)
    cb = cfg.get("deploymentCircuitBreaker")
    if cb is not None and ("enable" not in cb or "rollback" not in cb):
        raise invalid("deploymentCircuitBreaker requires enable and "
            "rollback.")


def create_service(ctx, params):
    st = ctx.st
    c = get_cluster(ctx, params)
    name = params["serviceName"]
    if not SERVICE_NAME_RE.match(name):
        raise invalid("Service name must match ^[a-zA-Z0-9\\-_]{1,255}$, "
            "but was %s" % name)
    old = c.services.get(name)
    if old is not None and old.status != "INACTIVE":
        raise invalid("Creation of service was not idempotent.")
    if "taskDefinition" not in params:
        raise invalid("TaskDefinition must be specified.")
    td = taskdefs.launchable(ctx, params["taskDefinition"])
    desired = params.get("desiredCount", 0)
    if desired < 0:
        raise invalid("Desired count must be >= 0.")
    launch = params.get("launchType") or "EC2"
    if launch not in ("EC2", "FARGATE"):
        raise invalid("Launch type %s is not supported here." % launch)
    _check_config(params.get("deploymentConfiguration"))
    svc = ctx.sched.create_service(c, name, td, desired, launch,
        params.get("deploymentConfiguration"),
        params.get("networkConfiguration"), params.get("tags"))
    return {"service": svc.render(st, ("TAGS",))}


def update_service(ctx, params):
    st = ctx.st
    c = get_cluster(ctx, params)
    svc = _service(ctx, c, params["service"])
    desired = params.get("desiredCount")
    if desired is not None and desired < 0:
        raise invalid("Desired count must be >= 0.")
    td = svc.td
    if params.get("taskDefinition") is not None:
        td = taskdefs.launchable(ctx, params["taskDefinition"])
    cfg = params.get("deploymentConfiguration")
    _check_config(cfg)
    if cfg:
        state.merge_config(svc.config, cfg)
    if params.get("networkConfiguration") is not None:
        svc.network = params["networkConfiguration"]
    if desired is not None:
        set_desired(ctx, svc, desired)
    if td is not svc.td or params.get("forceNewDeployment"):
        svc.td = td
        ctx.sched.new_deployment(svc)
    ctx.sched.mark(svc)
    return {"service": svc.render(st)}


def set_desired(ctx, svc, desired):
    """Change a service's desired count, as UpdateService does; the
    scheduler follows.  Application Auto Scaling's scaler comes here too."""
    if desired != svc.desired:
        svc.desired = desired
        svc.primary.desired = desired
        svc.steady = False
    ctx.sched.mark(svc)


def delete_service(ctx, params):
    c = get_cluster(ctx, params)
    svc = _service(ctx, c, params["service"], active=False)
    if svc.status != "ACTIVE":
        raise ApiError("ServiceNotActiveException", "Service was not ACTIVE.")
    if svc.desired > 0 and not params.get("force"):
        raise invalid("The service cannot be stopped while it is scaled "
            "above 0.")
    ctx.sched.delete_service(svc)
    return {"service": svc.render(ctx.st)}


# -- tasks -----------------------------------------------------------------

def list_tasks(ctx, params):
    st = ctx.st
    c = get_cluster(ctx, params)
    want = params.get("desiredStatus") or "RUNNING"
    family = params.get("family")
    started_by = params.get("startedBy")
    launch = params.get("launchType")
    ids = None
    if params.get("serviceName") is not None:
        name = st.name_from(params["serviceName"], "service")
        svc = c.services.get(name) if name else None
        if svc is None:
            raise ApiError("ServiceNotFoundException", "Service not found.")
        ids = {t.id for t in svc.tasks}
    if params.get("containerInstance") is not None:
        iid = st.name_from(params["containerInstance"],
            "container-instance")
        inst = c.instances.get(iid) if iid else None
        if inst is None:
            raise invalid("The referenced container instance was not "
                "found.")
        on_instance = {t.id for t in inst.tasks}
        ids = on_instance if ids is None else ids & on_instance
    if want == "PENDING":
        # ECS accepts PENDING as a filter value but never returns tasks.
        index = state.SortedKeys()
    elif ids is not None:
        index = state.SortedKeys.of(ids)
    else:
        index = c.tasks_by_desired[want]

    def keep(tid):
        t = c.tasks.get(tid)
        if t is None or t.desired != want:
            return False
        if family is not None and t.td.family != family:
            return False
        if started_by is not None and t.started_by != started_by:
            return False
        return launch is None or t.launch_type == launch
    keys, token = page("ListTasks", params, index, 100, keep)
    return _with_token({"taskArns": [c.tasks[k].arn for k in keys]}, token)


def describe_tasks(ctx, params):
    st = ctx.st
    c = get_cluster(ctx, params)
    include = params.get("include") or []
    out, failures = [], []
    for value in params["tasks"]:
        tid = st.name_from(value, "task")
        t = c.tasks.get(tid) if tid else None
        if t is None:
            failures.append({"arn": value if value.startswith("arn:") else
                "%s:task/%s/%s" % (st.arn_prefix, c.name, value),
                "reason": "MISSING"})
        else:
            out.append(t.render(st, include))
    return {"tasks": out, "failures": failures}


def stop_task(ctx, params):
    st = ctx.st
    c = get_cluster(ctx, params)
    tid = st.name_from(params["task"], "task")
    t = c.tasks.get(tid) if tid else None
    if t is None:
        raise invalid("The referenced task was not found.")
    reason = params.get("reason")
    if reason is not None and len(reason) > 255:
        raise invalid("Reason cannot be longer than 255 characters.")
    ctx.sched.stop_task(t, reason or "Task stopped by user", "UserInitiated")
    return {"task": t.render(st)}


def run_task(ctx, params):
    st = ctx.st
    c = get_cluster(ctx, params)
    td = taskdefs.launchable(ctx, params["taskDefinition"])
    count = params.get("count", 1)
    if not 1 <= count <= 10:
        raise invalid("Count must be between 1 and 10.")
    launch = params.get("launchType") or "EC2"
    if launch not in ("EC2", "FARGATE"):
        raise invalid("Launch type %s is not supported here." % launch)
    tasks, failures = [], []
    for _ in range(count):
        inst = None
        if launch == "EC2":
            inst = ctx.sched.place(c, td)
            if inst is None:
                failures.append({"reason": "RESOURCE:CPU" if any(
                    i.status == "ACTIVE" for i in c.instances.values())
                    else "MISSING", "detail": ctx.sched.placement_failure(
                    c, td)})
                continue
        t = ctx.sched.new_task(c, td, launch, instance=inst,
            started_by=params.get("startedBy"), group=params.get("group"))
        t.tags = params.get("tags") or []
        tasks.append(t.render(st, ("TAGS",)))
    return {"tasks": tasks, "failures": failures}


# -- container instances ---------------------------------------------------

def list_container_instances(ctx, params):
    c = get_cluster(ctx, params)
    if params.get("filter"):
        raise invalid("The cluster query language filter is not supported "
            "by this emulator.")
    status = params.get("status")

    def keep(iid):
        s = c.instances[iid].status
        return s == status if status else s != "INACTIVE"
    keys, token = page("ListContainerInstances", params, c.instance_index,
        100, keep)
    return _with_token({"containerInstanceArns": [c.instances[k].arn
        for k in keys]}, token)


def _instances(ctx, c, values):
    st = ctx.st
    found, failures = [], []
    for value in values:
        iid = st.name_from(value, "container-instance")
        inst = c.instances.get(iid) if iid else None
        if inst is None:
            failures.append({"arn": value if value.startswith("arn:") else
                "%s:container-instance/%s/%s" % (st.arn_prefix, c.name,
                value), "reason": "MISSING"})
        else:
            found.append(inst)
    return found, failures


def describe_container_instances(ctx, params):
    c = get_cluster(ctx, params)
    found, failures = _instances(ctx, c, params["containerInstances"])
    include = params.get("include") or []
    return {"containerInstances": [i.render(include) for i in found],
        "failures": failures}


def update_container_instances_state(ctx, params):
    c = get_cluster(ctx, params)
    status = params["status"]
    if status not in ("ACTIVE", "DRAINING"):
        raise invalid("Container instance status can only be updated to "
            "ACTIVE or DRAINING.")
    found, failures = _instances(ctx, c, params["containerInstances"])
    out = []
    for inst in found:
        if inst.status == "INACTIVE":
            failures.append({"arn": inst.arn, "reason": "INACTIVE"})
            continue
        ctx.sched.set_instance_status(inst, status)
        out.append(inst.render())
    return {"containerInstances": out, "failures": failures}


def register_container_instance(ctx, params):
    c = get_cluster(ctx, params)
    ec2_id = None
    doc = params.get("instanceIdentityDocument")
    if doc:
        try:
            ec2_id = json.loads(doc).get("instanceId")
        except (ValueError, AttributeError):
            raise invalid("Invalid instance identity document.") from None
    if not ec2_id:
        ec2_id = "i-0%016x" % ctx.st.rng.getrandbits(64)
    cpu, mem = 2048, 7680
    for r in params.get("totalResources") or []:
        if r.get("name") == "CPU" and "integerValue" in r:
            cpu = r["integerValue"]
        elif r.get("name") == "MEMORY" and "integerValue" in r:
            mem = r["integerValue"]
    inst = register_instance(ctx, c, ec2_id, cpu, mem,
        params.get("attributes"))
    inst.tags = params.get("tags") or []
    return {"containerInstance": inst.render(("TAGS",))}


def register_instance(ctx, c, ec2_id, cpu=2048, memory=7680,
    attributes=None):
    inst = state.Instance(ctx.st, c, ec2_id, cpu, memory, attributes)
    c.instances[inst.id] = inst
    c.instance_index.add(inst.id)
    ctx.sched.set_instance_status(inst, "ACTIVE")
    ctx.sched._wake_unplaced(c)
    return inst


def deregister_container_instance(ctx, params):
    c = get_cluster(ctx, params)
    found, failures = _instances(ctx, c, [params["containerInstance"]])
    if not found:
        raise invalid("The referenced container instance was not found.")
    inst = found[0]
    live = [t for t in inst.tasks if t.desired == "RUNNING"]
    if live and not params.get("force"):
        raise invalid("Found running tasks on the instance.")
    ctx.sched.set_instance_status(inst, "INACTIVE")
    for t in live:
        ctx.sched.stop_task(t, "Container instance deregistration forced "
            "by user", "UserInitiated")
    c.instance_index.discard(inst.id)
    return {"containerInstance": inst.render()}


OPERATIONS = dict(taskdefs.OPERATIONS, **{
    "ListClusters": list_clusters,
    "DescribeClusters": describe_clusters,
    "CreateCluster": create_cluster,
    "ListServices": list_services,
    "DescribeServices": describe_services,
    "CreateService": create_service,
    "UpdateService": update_service,
    "DeleteService": delete_service,
    "ListTasks": list_tasks,
    "DescribeTasks": describe_tasks,
    "StopTask": stop_task,
    "RunTask": run_task,
    "ListContainerInstances": list_container_instances,
    "DescribeContainerInstances": describe_container_instances,
    "UpdateContainerInstancesState": update_container_instances_state,
    "RegisterContainerInstance": register_container_instance,
    "DeregisterContainerInstance": deregister_container_instance,
})
