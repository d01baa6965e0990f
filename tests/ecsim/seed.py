"""Seed data: the example account, and bulk services for benchmarks.

The example account (DESIGN section 6) starts steady: every task RUNNING,
one COMPLETED deployment per service, and a few past service events.
production-cluster: api (3, FARGATE), web (2, FARGATE), worker (5, EC2) on
three container instances with room for worker plus a drain;
development-cluster: api (1, FARGATE), web (1, FARGATE).

Task definitions: api:1-4 (production api runs api:3, development api
api:4), web:1-2 (both web services run web:2), worker:1-5 (worker runs
worker:5), and failing-api:1, whose tasks never start.  Every container
logs with the awslogs driver to /ecs/FAMILY (stream prefix "ecs"), except
worker's "metrics" sidecar, which has no logConfiguration.  The log groups
exist from the start; no service has an Application Auto Scaling target.
"""

from ops import register_instance
from state import now

DAY = 86400.0


def _awslogs(st, family):
    return {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/%s" % family,
        "awslogs-region": st.region,
        "awslogs-stream-prefix": "ecs"}}


def _container(st, name, image, cpu, memory, port=None, env=None):
    c = {
        "name": name,
        "image": image,
        "cpu": cpu,
        "memory": memory,
        "essential": True,
        "portMappings": [],
        "environment": env or [],
        "mountPoints": [],
        "volumesFrom": [],
        "logConfiguration": _awslogs(st, name),
    }
    if port:
        c["portMappings"] = [{"containerPort": port, "hostPort": port,
            "protocol": "tcp"}]
    return c


def _fargate_td(st, family, image, port, revisions, env=None):
    td = None
    for rev in range(1, revisions + 1):
        td = st.register_taskdef(family, {
            "containerDefinitions": [_container(st, family, "%s:%d.%d.0" %
                (image, 1 + rev // 3, rev % 3), 256, 512, port, env)],
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "compatibilities": ["EC2", "FARGATE"],
            "cpu": "256",
            "memory": "512",
            "executionRoleArn": "arn:aws:iam::%s:role/ecsTaskExecutionRole"
                % st.account,
        })
    return td


def _backdate(svc, created, started):
    """Make a freshly created steady service look like it ran a while."""
    svc.created = created
    if len(svc.tasks) < svc.desired:
        return
    dep = svc.primary
    dep.created = created
    dep.updated = started
    dep.rollout = "COMPLETED"
    dep.reason = "ECS deployment %s completed." % dep.id
    svc.last_completed_td = dep.td
    for t in svc.tasks:
        t.created = started
        t.times.update(pullStartedAt=started + 5.0,
            pullStoppedAt=started + 20.0, startedAt=started + 22.0)
    svc.events.clear()
    tasks = sorted(svc.tasks, key=lambda t: t.id)
    if tasks:
        svc.event("has started %d tasks: %s." % (len(tasks),
            " ".join("(task %s)" % t.id for t in tasks)), started)
    svc.event("(deployment %s) deployment completed." % dep.id,
        started + 60.0)
    svc.event("has reached a steady state.", started + 61.0)
    svc.steady = True


def running_service(ctx, cluster, name, td, desired, launch_type, created,
    started, config=None):
    svc = ctx.sched.create_service(cluster, name, td, desired, launch_type,
        config, running=True)
    _backdate(svc, created, started)
    return svc


def load_example(ctx):
    """Fill the state with the example account."""
    st = ctx.st
    t0 = now()
    api = _fargate_td(st, "api", "public.ecr.aws/example/api", 8080, 4)
    web = _fargate_td(st, "web", "public.ecr.aws/nginx/nginx", 80, 2)
    worker = None
    for rev in range(1, 6):
        worker = st.register_taskdef("worker", {
            "containerDefinitions": [_container(st, "worker",
                "public.ecr.aws/example/worker:2.%d.0" % rev, 256, 512),
                {"name": "metrics", "image":
                "public.ecr.aws/example/statsd-exporter:0.26.0", "cpu": 0,
                "memoryReservation": 64, "essential": False,
                "portMappings": [], "environment": [], "mountPoints": [],
                "volumesFrom": []}],
            "networkMode": "bridge",
            "requiresCompatibilities": ["EC2"],
            "compatibilities": ["EC2"],
        })
    st.register_taskdef("failing-api", {
        "containerDefinitions": [_container(st, "failing-api",
            "public.ecr.aws/example/api:9.9.9", 256, 512, 8080,
            [{"name": "ECSIM_FAIL", "value": "1"}])],
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "compatibilities": ["EC2", "FARGATE"],
        "cpu": "256",
        "memory": "512",
    })
    for family in ("api", "web", "worker", "failing-api"):
        ctx.logs.group("/ecs/%s" % family, create=True)
    api_prod = st.taskdefs[("api", 3)]
    breaker = {"deploymentCircuitBreaker": {"enable": True,
        "rollback": True}}

    prod = st.add_cluster("production-cluster",
        [{"key": "environment", "value": "production"}])
    for i in range(3):
        inst = register_instance(ctx, prod, "i-0abc123def45678%02d" % (i + 1))
        inst.registered = t0 - 30 * DAY + i * 60.0
    running_service(ctx, prod, "api", api_prod, 3, "FARGATE",
        t0 - 20 * DAY, t0 - 2 * DAY, breaker)
    running_service(ctx, prod, "web", web, 2, "FARGATE",
        t0 - 20 * DAY, t0 - 3 * DAY, breaker)
    running_service(ctx, prod, "worker", worker, 5, "EC2",
        t0 - 15 * DAY, t0 - 1 * DAY)

    dev = st.add_cluster("development-cluster",
        [{"key": "environment", "value": "development"}])
    running_service(ctx, dev, "api", api, 1, "FARGATE",
        t0 - 10 * DAY, t0 - 0.5 * DAY)
    running_service(ctx, dev, "web", web, 1, "FARGATE",
        t0 - 10 * DAY, t0 - 0.7 * DAY)


def bulk_services(ctx, cfg):
    """Create many services at once (admin API); returns a summary."""
    st = ctx.st
    allowed = {"cluster", "count", "prefix", "desired_count", "launch_type",
        "running", "task_definition"}
    unknown = set(cfg) - allowed
    if unknown:
        raise ValueError("unknown setting(s): %s" % ", ".join(sorted(unknown)))
    cname = cfg.get("cluster", "big")
    count = cfg.get("count", 100)
    prefix = cfg.get("prefix", "svc-")
    desired = cfg.get("desired_count", 1)
    launch = cfg.get("launch_type", "FARGATE")
    running = bool(cfg.get("running", True))
    if not isinstance(count, int) or not 0 <= count <= 100000:
        raise ValueError("count must be an integer in 0..100000")
    if not isinstance(desired, int) or desired < 0:
        raise ValueError("desired_count must be an integer >= 0")
    if launch not in ("FARGATE", "EC2"):
        raise ValueError("launch_type must be FARGATE or EC2")
    cluster = st.add_cluster(cname)
    family = cfg.get("task_definition") or "bulk-app"
    if family in st.latest:
        td = st.taskdefs[(family, st.latest[family])]
    else:
        td = _fargate_td(st, family, "public.ecr.aws/example/bulk", 8080, 1)
    width = max(4, len(str(count - 1)))
    names = []
    t0 = now()
    for i in range(count):
        name = "%s%0*d" % (prefix, width, i)
        old = cluster.services.get(name)
        if old is not None and old.status != "INACTIVE":
            raise ValueError("service %s already exists in %s" %
                (name, cname))
        if running:
            running_service(ctx, cluster, name, td, desired, launch,
                t0 - 3600.0, t0 - 600.0)
        else:
            ctx.sched.create_service(cluster, name, td, desired, launch)
        names.append(name)
    return {"cluster": cname, "created": len(names),
        "task_definition": td.arn, "services": names}
