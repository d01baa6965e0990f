"""The emulated account: clusters, services, deployments, tasks, container
instances and task definitions, with the indexes that keep lookups cheap and
the functions that render each object as ECS's API returns it.

Everything here is protected by State.lock; the operations (ops.py) and the
scheduler (scheduler.py) take it around every read or change.
"""

import bisect
import collections
import random
import threading
import time
import uuid

LIVE_PENDING = frozenset(("PROVISIONING", "PENDING", "ACTIVATING"))
EVENTS_KEPT = 100


def now():
    """Wall-clock time as ECS reports timestamps (epoch seconds)."""
    return round(time.time(), 3)


class SortedKeys:
    """A sorted list of unique string keys, paged with an 'after' key."""

    def __init__(self):
        self._keys = []

    @classmethod
    def of(cls, keys):
        """A new index holding keys."""
        index = cls()
        index._keys = sorted(set(keys))
        return index

    def add(self, key):
        i = bisect.bisect_left(self._keys, key)
        if i == len(self._keys) or self._keys[i] != key:
            self._keys.insert(i, key)

    def discard(self, key):
        i = bisect.bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            del self._keys[i]

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def page(self, after, limit, keep=None):
        """Return (keys, more) for up to limit keys greater than after."""
        start = 0 if after is None else bisect.bisect_right(self._keys, after)
        out = []
        for i in range(start, len(self._keys)):
            key = self._keys[i]
            if keep is not None and not keep(key):
                continue
            if len(out) == limit:
                return out, True
            out.append(key)
        return out, False


class TaskDefinition:
    def __init__(self, st, family, revision, spec):
        self.family = family
        self.revision = revision
        self.arn = "%s:task-definition/%s:%d" % (st.arn_prefix, family,
            revision)
        self.status = "ACTIVE"
        self.registered_at = now()
        self.deregistered_at = None
        self.tags = []
        self.spec = spec
        containers = spec.get("containerDefinitions") or []
        self.containers = containers
        cpu = spec.get("cpu")
        mem = spec.get("memory")
        if cpu is None:
            cpu = sum(int(c.get("cpu") or 0) for c in containers) or 256
        if mem is None:
            mem = sum(int(c.get("memory") or c.get("memoryReservation") or 0)
                for c in containers) or 512
        self.cpu = int(cpu)
        self.memory = int(mem)
        # A revision whose tasks never start: its essential container
        # exits with code 1 (see Scheduler.fail_task).
        self.fails = family.startswith("failing-") or any(
            "crashloop" in (c.get("image") or "") for c in containers) or \
            any(e.get("name") == "ECSIM_FAIL" and e.get("value") == "1"
            for c in containers for e in (c.get("environment") or []))

    def render(self, st):
        d = dict(self.spec)
        d.update({
            "taskDefinitionArn": self.arn,
            "family": self.family,
            "revision": self.revision,
            "status": self.status,
            "registeredAt": self.registered_at,
            "registeredBy": "arn:aws:iam::%s:user/ecsim" % st.account,
        })
        if self.deregistered_at is not None:
            d["deregisteredAt"] = self.deregistered_at
        d.setdefault("networkMode", "awsvpc" if "FARGATE" in
            (self.spec.get("requiresCompatibilities") or []) else "bridge")
        d.setdefault("volumes", [])
        d.setdefault("placementConstraints", [])
        d.setdefault("requiresAttributes", [])
        d.setdefault("compatibilities", ["EC2", "FARGATE"]
            if d["networkMode"] == "awsvpc" else ["EC2"])
        if "cpu" in self.spec:
            d["cpu"] = str(self.spec["cpu"])
        if "memory" in self.spec:
            d["memory"] = str(self.spec["memory"])
        return d


class Cluster:
    def __init__(self, st, name, tags=None):
        self.name = name
        self.arn = "%s:cluster/%s" % (st.arn_prefix, name)
        self.status = "ACTIVE"
        self.tags = tags or []
        self.settings = [{"name": "containerInsights", "value": "disabled"}]
        self.services = {}
        self.service_index = SortedKeys()
        self.tasks = {}
        self.tasks_by_desired = {"RUNNING": SortedKeys(),
            "STOPPED": SortedKeys()}
        self.instances = {}
        self.instance_index = SortedKeys()
        self.running = 0
        self.pending = 0
        self.active_services = 0

    def render(self, include=()):
        d = {
            "clusterArn": self.arn,
            "clusterName": self.name,
            "status": self.status,
            "registeredContainerInstancesCount": sum(1 for i in
                self.instances.values() if i.status in
                ("ACTIVE", "DRAINING")),
            "runningTasksCount": self.running,
            "pendingTasksCount": self.pending,
            "activeServicesCount": self.active_services,
            "statistics": [],
            "tags": [],
            "settings": [],
            "capacityProviders": [],
            "defaultCapacityProviderStrategy": [],
        }
        if "TAGS" in include:
            d["tags"] = list(self.tags)
        if "SETTINGS" in include:
            d["settings"] = list(self.settings)
        if "STATISTICS" in include:
            d["statistics"] = [
                {"name": "runningEC2TasksCount", "value": str(
                    self._count_launch("EC2", "RUNNING"))},
                {"name": "runningFargateTasksCount", "value": str(
                    self._count_launch("FARGATE", "RUNNING"))},
                {"name": "pendingEC2TasksCount", "value": str(
                    self._count_launch("EC2", "PENDING"))},
                {"name": "pendingFargateTasksCount", "value": str(
                    self._count_launch("FARGATE", "PENDING"))},
            ]
        return d

    def _count_launch(self, launch_type, what):
        n = 0
        for t in self.tasks.values():
            if t.launch_type != launch_type:
                continue
            if what == "RUNNING" and t.last == "RUNNING":
                n += 1
            elif what == "PENDING" and t.last in LIVE_PENDING:
                n += 1
        return n


class Deployment:
    def __init__(self, st, service, td, status="PRIMARY"):
        self.id = "ecs-svc/%019d" % st.rng.randrange(10 ** 18, 10 ** 19)
        self.status = status
        self.td = td
        self.desired = 0
        self.running = 0
        self.pending = 0
        self.failed = 0
        self.created = now()
        self.updated = self.created
        self.launch_type = service.launch_type
        self.platform_version = service.platform_version
        self.network = service.network
        self.rollout = "IN_PROGRESS"
        self.reason = "ECS deployment %s in progress." % self.id
        self.tasks = set()
        self.linger_until = None

    def render(self):
        d = {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.td.arn,
            "desiredCount": self.desired,
            "pendingCount": self.pending,
            "runningCount": self.running,
            "failedTasks": self.failed,
            "createdAt": self.created,
            "updatedAt": self.updated,
            "launchType": self.launch_type,
            "rolloutState": self.rollout,
            "rolloutStateReason": self.reason,
        }
        if self.launch_type == "FARGATE":
            d["platformVersion"] = "1.4.0"
            d["platformFamily"] = "Linux"
        if self.network:
            d["networkConfiguration"] = self.network
        return d


class Service:
    def __init__(self, st, cluster, name, td, desired, launch_type,
        config=None, network=None, tags=None):
        self.cluster = cluster
        self.name = name
        self.arn = "%s:service/%s/%s" % (st.arn_prefix, cluster.name, name)
        self.status = "ACTIVE"
        self.td = td
        self.desired = desired
        self.launch_type = launch_type
        self.platform_version = "LATEST" if launch_type == "FARGATE" \
            else None
        self.network = network
        if network is None and launch_type == "FARGATE":
            self.network = {"awsvpcConfiguration": {
                "subnets": ["subnet-0ecs1a2b3c4d5e6f7"],
                "securityGroups": ["sg-0ecs1a2b3c4d5e6f7"],
                "assignPublicIp": "DISABLED"}}
        cfg = {"deploymentCircuitBreaker": {"enable": False,
            "rollback": False}, "maximumPercent": 200,
            "minimumHealthyPercent": 100}
        if config:
            merge_config(cfg, config)
        self.config = cfg
        self.tags = tags or []
        self.created = now()
        self.deployments = []
        self.events = collections.deque(maxlen=EVENTS_KEPT)
        self.tasks = set()
        self.running = 0
        self.pending = 0
        self.steady = False
        self.last_completed_td = None
        self.placement_note = None

    @property
    def primary(self):
        return self.deployments[0] if self.deployments else None

    def event(self, message, when=None):
        self.events.appendleft({
            "id": str(uuid.uuid4()),
            "createdAt": when if when is not None else now(),
            "message": "(service %s) %s" % (self.name, message),
        })

    def render(self, st, include=()):
        d = {
            "serviceArn": self.arn,
            "serviceName": self.name,
            "clusterArn": self.cluster.arn,
            "loadBalancers": [],
            "serviceRegistries": [],
            "status": self.status,
            "desiredCount": self.desired,
            "runningCount": self.running,
            "pendingCount": self.pending,
            "launchType": self.launch_type,
            "taskDefinition": self.td.arn,
            "deploymentConfiguration": self.config,
            "deployments": [dep.render() for dep in self.deployments],
            "roleArn": "arn:aws:iam::%s:role/aws-service-role/"
                "ecs.amazonaws.com/AWSServiceRoleForECS" % st.account,
            "events": list(self.events),
            "createdAt": self.created,
            "placementConstraints": [],
            "placementStrategy": [],
            "schedulingStrategy": "REPLICA",
            "deploymentController": {"type": "ECS"},
            "createdBy": "arn:aws:iam::%s:role/ecsim-deployer" % st.account,
            "enableECSManagedTags": False,
            "propagateTags": "NONE",
            "enableExecuteCommand": False,
        }
        if self.launch_type == "FARGATE":
            d["platformVersion"] = self.platform_version
            d["platformFamily"] = "Linux"
        if self.network:
            d["networkConfiguration"] = self.network
        if "TAGS" in include:
            d["tags"] = list(self.tags)
        return d


class Instance:
    def __init__(self, st, cluster, ec2_id, cpu=2048, memory=7680,
        attributes=None):
        self.cluster = cluster
        self.id = uuid.UUID(int=st.rng.getrandbits(128)).hex
        self.arn = "%s:container-instance/%s/%s" % (st.arn_prefix,
            cluster.name, self.id)
        self.ec2_id = ec2_id
        self.status = "ACTIVE"
        self.cpu = cpu
        self.memory = memory
        self.used_cpu = 0
        self.used_memory = 0
        self.tasks = set()
        self.running = 0
        self.pending = 0
        self.registered = now()
        self.version = 1
        self.attributes = attributes or []
        self.tags = []

    def fits(self, td):
        return self.cpu - self.used_cpu >= td.cpu and \
            self.memory - self.used_memory >= td.memory

    def render(self, include=()):
        def resources(cpu, mem):
            return [
                {"name": "CPU", "type": "INTEGER", "doubleValue": 0.0,
                    "longValue": 0, "integerValue": cpu},
                {"name": "MEMORY", "type": "INTEGER", "doubleValue": 0.0,
                    "longValue": 0, "integerValue": mem},
                {"name": "PORTS", "type": "STRINGSET", "doubleValue": 0.0,
                    "longValue": 0, "integerValue": 0,
                    "stringSetValue": ["22", "2375", "2376", "51678",
                    "51679"]},
                {"name": "PORTS_UDP", "type": "STRINGSET",
                    "doubleValue": 0.0, "longValue": 0, "integerValue": 0,
                    "stringSetValue": []},
            ]
        d = {
            "containerInstanceArn": self.arn,
            "ec2InstanceId": self.ec2_id,
            "version": self.version,
            "versionInfo": {"agentVersion": "1.68.2",
                "agentHash": "a1b2c3d4", "dockerVersion":
                "DockerVersion: 20.10.23"},
            "remainingResources": resources(self.cpu - self.used_cpu,
                self.memory - self.used_memory),
            "registeredResources": resources(self.cpu, self.memory),
            "status": self.status,
            "agentConnected": self.status != "INACTIVE",
            "runningTasksCount": self.running,
            "pendingTasksCount": self.pending,
            "attributes": list(self.attributes) or [
                {"name": "ecs.os-type", "value": "linux"},
                {"name": "ecs.cpu-architecture", "value": "x86_64"},
                {"name": "ecs.instance-type", "value": "m5.large"},
                {"name": "ecs.availability-zone",
                    "value": "%sa" % self.cluster.arn.split(":")[3]},
            ],
            "registeredAt": self.registered,
            "attachments": [],
            "tags": list(self.tags) if "TAGS" in include else [],
        }
        return d


class Task:
    def __init__(self, st, cluster, td, launch_type, service=None,
        deployment=None, started_by=None, group=None):
        self.cluster = cluster
        self.id = uuid.UUID(int=st.rng.getrandbits(128)).hex
        self.arn = "%s:task/%s/%s" % (st.arn_prefix, cluster.name, self.id)
        self.td = td
        self.launch_type = launch_type
        self.service = service
        self.deployment = deployment
        self.instance = None
        self.last = "PROVISIONING"
        self.desired = "RUNNING"
        self.created = now()
        self.times = {}
        self.started_by = started_by
        self.group = group or ("service:%s" % service.name if service
            else "family:%s" % td.family)
        self.stop_code = None
        self.stopped_reason = None
        self.exit_code = None
        self.container_reason = None
        self.timer = 0
        self.version = 1
        self.tags = []
        self.az = "%s%s" % (st.region, "abc"[st.rng.randrange(3)])
        self.eni = "eni-%017x" % st.rng.getrandbits(68)
        self.ip = "10.0.%d.%d" % (st.rng.randrange(256),
            st.rng.randrange(1, 255))
        self.container_ids = [str(uuid.UUID(int=st.rng.getrandbits(128)))
            for _ in (td.containers or [None])]

    def render(self, st, include=()):
        td = self.td
        containers = []
        specs = td.containers or [{"name": td.family, "image": "unknown"}]
        for spec, cid in zip(specs, self.container_ids):
            c = {
                "containerArn": "%s:container/%s/%s/%s" % (st.arn_prefix,
                    self.cluster.name, self.id, cid),
                "taskArn": self.arn,
                "name": spec.get("name", td.family),
                "image": spec.get("image", "unknown"),
                "lastStatus": container_status(self.last),
                "networkInterfaces": [],
                "networkBindings": [],
                "healthStatus": "UNKNOWN",
                "cpu": str(spec.get("cpu", 0)),
            }
            if "memory" in spec:
                c["memory"] = str(spec["memory"])
            if self.launch_type == "FARGATE":
                c["networkInterfaces"] = [{"attachmentId": self.id[:8] +
                    "-attach", "privateIpv4Address": self.ip}]
            if "startedAt" in self.times:
                c["runtimeId"] = "%s-%s" % (self.id, cid[:8])
            if self.exit_code is not None:
                c["exitCode"] = self.exit_code
            if self.container_reason:
                c["reason"] = self.container_reason
            containers.append(c)
        d = {
            "attachments": [],
            "attributes": [{"name": "ecs.cpu-architecture",
                "value": "x86_64"}],
            "availabilityZone": self.az,
            "clusterArn": self.cluster.arn,
            "connectivity": "CONNECTED",
            "connectivityAt": self.created,
            "containers": containers,
            "cpu": str(td.cpu),
            "createdAt": self.created,
            "desiredStatus": self.desired,
            "enableExecuteCommand": False,
            "group": self.group,
            "healthStatus": "UNKNOWN",
            "lastStatus": self.last,
            "launchType": self.launch_type,
            "memory": str(td.memory),
            "overrides": {"containerOverrides": [{"name": s.get("name",
                td.family)} for s in specs],
                "inferenceAcceleratorOverrides": []},
            "tags": list(self.tags) if "TAGS" in include else [],
            "taskArn": self.arn,
            "taskDefinitionArn": td.arn,
            "version": self.version,
        }
        if self.started_by:
            d["startedBy"] = self.started_by
        if self.launch_type == "FARGATE":
            d["platformVersion"] = "1.4.0"
            d["platformFamily"] = "Linux"
            d["ephemeralStorage"] = {"sizeInGiB": 20}
            d["attachments"] = [{
                "id": "%s-%s-%s-%s-%s" % (self.id[:8], self.id[8:12],
                    self.id[12:16], self.id[16:20], self.id[20:]),
                "type": "ElasticNetworkInterface",
                "status": "DELETED" if self.last == "STOPPED" else
                    "ATTACHED",
                "details": [
                    {"name": "subnetId", "value": "subnet-0ecs1a2b3c4d5e6f7"},
                    {"name": "networkInterfaceId", "value": self.eni},
                    {"name": "privateIPv4Address", "value": self.ip},
                ],
            }]
        if self.instance is not None:
            d["containerInstanceArn"] = self.instance.arn
        for key in ("pullStartedAt", "pullStoppedAt", "startedAt",
            "stoppingAt", "executionStoppedAt", "stoppedAt"):
            if key in self.times:
                d[key] = self.times[key]
        if self.stop_code:
            d["stopCode"] = self.stop_code
        if self.stopped_reason:
            d["stoppedReason"] = self.stopped_reason
        return d


def container_status(task_status):
    """A container's lastStatus while its task is in task_status."""
    if task_status in LIVE_PENDING:
        return "PENDING"
    if task_status == "STOPPED":
        return "STOPPED"
    return "RUNNING"


def merge_config(cfg, update):
    """Merge a deploymentConfiguration update into cfg in place."""
    for key, value in update.items():
        if key == "deploymentCircuitBreaker":
            cfg["deploymentCircuitBreaker"] = {
                "enable": bool(value.get("enable")),
                "rollback": bool(value.get("rollback"))}
        elif key == "alarms":
            continue
        else:
            cfg[key] = value


class State:
    """The whole emulated region of one account."""

    def __init__(self, region="us-east-1", account="123456789012"):
        self.lock = threading.RLock()
        self.region = region
        self.account = account
        self.arn_prefix = "arn:aws:ecs:%s:%s" % (region, account)
        self.rng = random.Random(20141113)
        self.clusters = {}
        self.cluster_index = SortedKeys()
        self.taskdefs = {}
        self.latest = {}

    def add_cluster(self, name, tags=None):
        c = self.clusters.get(name)
        if c is None or c.status == "INACTIVE":
            c = Cluster(self, name, tags)
            self.clusters[name] = c
            self.cluster_index.add(name)
        return c

    def register_taskdef(self, family, spec):
        revision = self.latest.get(family, 0) + 1
        td = TaskDefinition(self, family, revision, spec)
        self.taskdefs[(family, revision)] = td
        self.latest[family] = revision
        return td

    def name_from(self, value, kind):
        """The short name or id in a name-or-ARN parameter value."""
        if value.startswith("arn:"):
            rest = value.split(":", 5)[-1]
            prefix = kind + "/"
            if rest.startswith(prefix):
                return rest[len(prefix):].split("/")[-1]
            return None
        return value

    def dump(self, cluster=None):
        """A compact view of one cluster (or all) for tests."""
        if cluster is not None:
            c = self.clusters.get(cluster)
            if c is None:
                raise KeyError("no cluster %s" % cluster)
            return dump_cluster(c)
        return {"clusters": {n: dump_cluster(c)
            for n, c in self.clusters.items()}}


def dump_cluster(c):
    """A compact view of one cluster, named as the admin API documents it."""
    services = {}
    for name, svc in c.services.items():
        services[name] = {
            "status": svc.status,
            "desired": svc.desired,
            "running": svc.running,
            "pending": svc.pending,
            "launchType": svc.launch_type,
            "taskDefinition": svc.td.arn,
            "steady": svc.steady,
            "deployments": [{
                "id": d.id, "status": d.status, "rolloutState": d.rollout,
                "taskDefinition": d.td.arn, "desired": d.desired,
                "running": d.running, "pending": d.pending,
                "failed": d.failed} for d in svc.deployments],
        }
    tasks = {}
    for tid, t in c.tasks.items():
        tasks[tid] = {
            "lastStatus": t.last,
            "desiredStatus": t.desired,
            "service": t.service.name if t.service else None,
            "deployment": t.deployment.id if t.deployment else None,
            "instance": t.instance.id if t.instance else None,
            "taskDefinition": t.td.arn,
            "launchType": t.launch_type,
            "stopCode": t.stop_code,
            "stoppedReason": t.stopped_reason,
            "exitCode": t.exit_code,
        }
    instances = {}
    for iid, i in c.instances.items():
        instances[iid] = {
            "status": i.status,
            "ec2InstanceId": i.ec2_id,
            "running": i.running,
            "pending": i.pending,
            "usedCpu": i.used_cpu,
            "usedMemory": i.used_memory,
        }
    return {"name": c.name, "status": c.status, "running": c.running,
        "pending": c.pending, "activeServices": c.active_services,
        "services": services, "tasks": tasks, "instances": instances}
