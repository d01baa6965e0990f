"""Simulated time and the ECS service scheduler.

Sim time runs at --time-scale times wall-clock speed (changeable at run time).
Task lifecycles are timers on sim time: PROVISIONING -> PENDING -> RUNNING,
and when stopped DEACTIVATING -> STOPPING -> STOPPED.  Timestamps reported in
the API stay wall-clock; only durations are scaled.

Services are reconciled when something that concerns them changes (they are
marked dirty), never by scanning every service: a region of thousands of
steady services costs nothing per tick.  A reconcile converges the service's
running tasks to its desired count, rolls deployments with the rolling-update
rule (minimumHealthyPercent of the desired count stays RUNNING), replaces
tasks on DRAINING container instances, runs the deployment circuit breaker and
emits the service events ECS emits.

All state changes happen with State.lock held.
"""

import heapq
import itertools
import math
import threading
import time
import traceback

from state import LIVE_PENDING, Deployment, Service, Task, now

# Sim seconds each lifecycle step takes.
PROVISION_S = 1.0
PULL_S = 1.5
FAIL_S = 1.0
DEACTIVATE_S = 0.5
STOPPING_S = 0.5
STOPPED_KEPT_S = 3600.0
FAILED_DEPLOYMENT_KEPT_S = 300.0


class Clock:
    """Sim time: wall-clock time multiplied by a changeable scale."""

    def __init__(self, scale=1.0):
        self._lock = threading.Lock()
        self.scale = float(scale)
        self._base_real = time.monotonic()
        self._base_sim = 0.0

    def now(self):
        with self._lock:
            return self._base_sim + \
                (time.monotonic() - self._base_real) * self.scale

    def set_scale(self, scale):
        if not scale > 0:
            raise ValueError("time scale must be > 0")
        with self._lock:
            t = time.monotonic()
            self._base_sim += (t - self._base_real) * self.scale
            self._base_real = t
            self.scale = float(scale)


def _category(status):
    if status == "RUNNING":
        return "running"
    if status in LIVE_PENDING:
        return "pending"
    return None


def _task_list(tasks):
    return " ".join("(task %s)" % t.id for t in tasks)


def failure_threshold(desired):
    """Failed tasks after which the circuit breaker trips."""
    return min(200, max(3, int(math.ceil(desired * 0.5))))


class Scheduler:
    """Timers, task lifecycle and service reconciliation."""

    def __init__(self, st, clock):
        self.st = st
        self.clock = clock
        self._heap = []
        self._seq = itertools.count()
        self._dirty = {}
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        # Called with a task when its containers start, or start and crash
        # (logs.Store.containers_started); lock held.
        self.containers_started = None

    # -- thread ---------------------------------------------------------

    def start(self):
        self._thread = threading.Thread(target=self._run, name="scheduler",
            daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self):
        while not self._stop.is_set():
            self.wake.clear()
            with self.st.lock:
                try:
                    self.process()
                except Exception:
                    # Keep simulating; the traceback shows in the log.
                    traceback.print_exc()
                delay = self._next_delay()
            self.wake.wait(delay)

    def _next_delay(self):
        if self._dirty:
            return 0.0
        if not self._heap:
            return 0.25
        wait = (self._heap[0][0] - self.clock.now()) / self.clock.scale
        return min(max(wait, 0.0), 0.25)

    def process(self):
        """Run due timers and reconcile dirty services (lock held)."""
        t = self.clock.now()
        while self._heap and self._heap[0][0] <= t:
            _, _, kind, obj, stamp = heapq.heappop(self._heap)
            self._fire(kind, obj, stamp)
        rounds = 0
        while self._dirty and rounds < 4:
            dirty = list(self._dirty)
            self._dirty.clear()
            for svc in dirty:
                self.reconcile(svc)
            rounds += 1

    def after(self, delay, kind, obj, stamp=None):
        heapq.heappush(self._heap, (self.clock.now() + delay,
            next(self._seq), kind, obj, stamp))
        self.wake.set()

    def mark(self, svc):
        if svc is not None:
            self._dirty[svc] = None
            self.wake.set()

    def _fire(self, kind, obj, stamp):
        if kind == "task":
            if obj.timer == stamp:
                self._advance(obj)
        elif kind == "fail":
            if obj.timer == stamp and obj.desired == "RUNNING":
                self.fail_task(obj)
        elif kind == "purge":
            self._purge(obj)
        elif kind == "service":
            self.mark(obj)

    # -- task lifecycle -------------------------------------------------

    def set_last(self, task, status):
        """Change a task's lastStatus, keeping every counter right."""
        old = _category(task.last)
        new = _category(status)
        task.last = status
        task.version += 1
        if old == new:
            return
        if new == "running" and self.containers_started is not None:
            self.containers_started(task)
        holders = [task.cluster]
        if task.service is not None:
            holders.append(task.service)
        if task.deployment is not None:
            holders.append(task.deployment)
            task.deployment.updated = now()
        if task.instance is not None:
            holders.append(task.instance)
        for h in holders:
            if old is not None:
                setattr(h, old, getattr(h, old) - 1)
            if new is not None:
                setattr(h, new, getattr(h, new) + 1)

    def new_task(self, cluster, td, launch_type, service=None,
        deployment=None, instance=None, started_by=None, group=None,
        running=False):
        """Create a task, PROVISIONING (or RUNNING at once when asked)."""
        task = Task(self.st, cluster, td, launch_type, service, deployment,
            started_by or (deployment.id if deployment else None), group)
        task.last = None
        cluster.tasks[task.id] = task
        cluster.tasks_by_desired["RUNNING"].add(task.id)
        if service is not None:
            service.tasks.add(task)
        if deployment is not None:
            deployment.tasks.add(task)
        if instance is not None:
            task.instance = instance
            instance.tasks.add(task)
            instance.used_cpu += td.cpu
            instance.used_memory += td.memory
        if running:
            t = task.created
            task.times.update(pullStartedAt=t, pullStoppedAt=t, startedAt=t)
            self.set_last(task, "RUNNING")
        else:
            self.set_last(task, "PROVISIONING")
            task.timer += 1
            self.after(PROVISION_S, "task", task, task.timer)
        task.version = 1
        return task

    def _advance(self, task):
        t = now()
        if task.desired == "RUNNING":
            if task.last == "PROVISIONING":
                task.times["pullStartedAt"] = t
                self.set_last(task, "PENDING")
                task.timer += 1
                if task.td.fails:
                    self.after(FAIL_S, "fail", task, task.timer)
                else:
                    self.after(PULL_S, "task", task, task.timer)
            elif task.last == "PENDING":
                task.times["pullStoppedAt"] = t
                task.times["startedAt"] = t
                self.set_last(task, "RUNNING")
            self.mark(task.service)
            return
        if task.last in LIVE_PENDING or task.last == "RUNNING":
            self.set_last(task, "DEACTIVATING")
            task.timer += 1
            self.after(DEACTIVATE_S, "task", task, task.timer)
        elif task.last == "DEACTIVATING":
            self.set_last(task, "STOPPING")
            task.timer += 1
            self.after(STOPPING_S, "task", task, task.timer)
        elif task.last == "STOPPING":
            self._stopped(task)

    def _stopped(self, task):
        t = now()
        if "startedAt" in task.times and task.exit_code is None:
            task.exit_code = 0 if task.stop_code != "UserInitiated" else 143
        task.times["executionStoppedAt"] = t
        task.times["stoppedAt"] = t
        self.set_last(task, "STOPPED")
        inst = task.instance
        if inst is not None:
            inst.used_cpu -= task.td.cpu
            inst.used_memory -= task.td.memory
            self._wake_unplaced(task.cluster)
        self.mark(task.service)
        self.after(STOPPED_KEPT_S, "purge", task)

    def stop_task(self, task, reason, code):
        """Set a task's desired status to STOPPED and start stopping it."""
        if task.desired == "STOPPED":
            return False
        task.desired = "STOPPED"
        task.version += 1
        task.cluster.tasks_by_desired["RUNNING"].discard(task.id)
        task.cluster.tasks_by_desired["STOPPED"].add(task.id)
        task.times["stoppingAt"] = now()
        task.stopped_reason = reason
        task.stop_code = code
        task.timer += 1
        self.after(DEACTIVATE_S if task.last == "RUNNING" else 0.0, "task",
            task, task.timer)
        self.mark(task.service)
        return True

    def fail_task(self, task):
        """An essential container exits with code 1."""
        if self.containers_started is not None:
            self.containers_started(task)
        task.exit_code = 1
        task.container_reason = "Essential container exited with code 1"
        self.stop_task(task, "Essential container in task exited",
            "EssentialContainerExited")
        dep = task.deployment
        svc = task.service
        if dep is None or svc is None:
            return
        dep.failed += 1
        cb = svc.config["deploymentCircuitBreaker"]
        if dep is svc.primary and dep.rollout == "IN_PROGRESS" and \
            cb["enable"] and dep.failed >= failure_threshold(dep.desired):
            self._fail_deployment(svc, dep, cb["rollback"])

    def _purge(self, task):
        c = task.cluster
        if c.tasks.get(task.id) is not task:
            return
        del c.tasks[task.id]
        c.tasks_by_desired["STOPPED"].discard(task.id)
        if task.service is not None:
            task.service.tasks.discard(task)
        if task.deployment is not None:
            task.deployment.tasks.discard(task)
        if task.instance is not None:
            task.instance.tasks.discard(task)

    # -- placement ------------------------------------------------------

    def _wake_unplaced(self, cluster):
        for svc in cluster.services.values():
            if svc.placement_note is not None:
                self.mark(svc)

    def place(self, cluster, td, service=None):
        """An ACTIVE instance with room for td, spreading tasks, or None."""
        best = None
        best_key = None
        for inst in cluster.instances.values():
            if inst.status != "ACTIVE" or not inst.fits(td):
                continue
            mine = 0
            if service is not None:
                mine = sum(1 for t in inst.tasks if t.service is service and
                    t.desired == "RUNNING")
            live = sum(1 for t in inst.tasks if t.last != "STOPPED")
            key = (mine, live, inst.ec2_id)
            if best_key is None or key < best_key:
                best, best_key = inst, key
        return best

    def placement_failure(self, cluster, td):
        active = [i for i in cluster.instances.values()
            if i.status == "ACTIVE"]
        if not active:
            return "No Container Instances were found in your cluster."
        return "The closest matching container-instance %s has " \
            "insufficient CPU units available." % active[0].id

    # -- services -------------------------------------------------------

    def create_service(self, cluster, name, td, desired, launch_type,
        config=None, network=None, tags=None, running=False):
        """Create an ACTIVE service with its first PRIMARY deployment."""
        svc = Service(self.st, cluster, name, td, desired, launch_type,
            config, network, tags)
        old = cluster.services.get(name)
        if old is not None and old.status == "ACTIVE":
            cluster.active_services -= 1
        cluster.services[name] = svc
        cluster.service_index.add(name)
        cluster.active_services += 1
        dep = Deployment(self.st, svc, td)
        dep.desired = desired
        svc.deployments.append(dep)
        if running:
            for _ in range(desired):
                inst = None
                if launch_type == "EC2":
                    inst = self.place(cluster, td, svc)
                    if inst is None:
                        break
                self.new_task(cluster, td, launch_type, svc, dep, inst,
                    running=True)
        self.mark(svc)
        return svc

    def new_deployment(self, svc):
        """Start a new PRIMARY deployment of svc's task definition."""
        keep = []
        for dep in svc.deployments:
            if dep.rollout == "FAILED" and not any(t.last != "STOPPED"
                for t in dep.tasks):
                continue
            dep.status = "ACTIVE"
            keep.append(dep)
        dep = Deployment(self.st, svc, svc.td)
        dep.desired = svc.desired
        svc.deployments = [dep] + keep
        svc.steady = False
        self.mark(svc)
        return dep

    def delete_service(self, svc):
        svc.status = "DRAINING"
        svc.desired = 0
        svc.cluster.active_services -= 1
        svc.event("has begun draining.")
        self.mark(svc)

    def _fail_deployment(self, svc, dep, rollback):
        dep.rollout = "FAILED"
        dep.reason = "ECS deployment circuit breaker: tasks failed to start."
        dep.updated = now()
        svc.event("(deployment %s) deployment failed: tasks failed to "
            "start." % dep.id)
        if rollback:
            target = next((d for d in svc.deployments[1:]
                if d.rollout != "FAILED"), None)
            if target is None and svc.last_completed_td is not None and \
                svc.last_completed_td is not dep.td:
                target = Deployment(self.st, svc, svc.last_completed_td,
                    "ACTIVE")
                svc.deployments.append(target)
            if target is not None:
                svc.deployments.remove(target)
                dep.status = "ACTIVE"
                target.status = "PRIMARY"
                target.rollout = "IN_PROGRESS"
                target.reason = "ECS deployment circuit breaker: rolling " \
                    "back to deploymentId %s." % target.id
                target.updated = now()
                svc.deployments.insert(0, target)
                svc.td = target.td
                dep.linger_until = self.clock.now() + \
                    FAILED_DEPLOYMENT_KEPT_S
                self.after(FAILED_DEPLOYMENT_KEPT_S, "service", svc)
                svc.event("rolling back to deployment %s." % target.id)
        self.mark(svc)

    def _start(self, svc, dep, count):
        started = []
        for _ in range(count):
            inst = None
            if svc.launch_type == "EC2":
                inst = self.place(svc.cluster, dep.td, svc)
                if inst is None:
                    note = self.placement_failure(svc.cluster, dep.td)
                    if svc.placement_note != note:
                        svc.event("was unable to place a task because no "
                            "container instance met all of its "
                            "requirements. Reason: %s" % note)
                    svc.placement_note = note
                    break
            started.append(self.new_task(svc.cluster, dep.td,
                svc.launch_type, svc, dep, inst))
        else:
            svc.placement_note = None
        if started:
            svc.event("has started %d tasks: %s." % (len(started),
                _task_list(started)))

    def _stop_many(self, svc, tasks, reason):
        if not tasks:
            return
        for t in tasks:
            self.stop_task(t, reason, "ServiceSchedulerInitiated")
        svc.event("has stopped %d running tasks: %s." % (len(tasks),
            _task_list(tasks)))

    def reconcile(self, svc):
        """Move svc one step towards its desired state (lock held)."""
        if svc.status == "INACTIVE" or svc.cluster.services.get(svc.name) \
            is not svc:
            return
        live_all = [t for t in svc.tasks if t.desired == "RUNNING"]
        if svc.status == "DRAINING":
            self._stop_many(svc, sorted(live_all, key=lambda t: t.id),
                "Service is being deleted")
            if all(t.last == "STOPPED" for t in svc.tasks):
                svc.status = "INACTIVE"
                svc.cluster.service_index.discard(svc.name)
                for dep in svc.deployments:
                    dep.status = "INACTIVE"
                svc.deployments = svc.deployments[:1]
            return
        primary = svc.primary
        primary.desired = svc.desired

        def draining(t):
            return t.instance is not None and t.instance.status != "ACTIVE"

        p_live = [t for t in primary.tasks if t.desired == "RUNNING"]
        p_ok = [t for t in p_live if not draining(t)]
        p_drain = [t for t in p_live if draining(t)]

        excess = len(p_ok) - svc.desired
        if excess > 0:
            order = sorted(p_ok, key=lambda t: (t.last == "RUNNING",
                -t.created, t.id))
            self._stop_many(svc, order[:excess], "Scaling activity "
                "initiated by (deployment %s)" % primary.id)
            p_ok = order[excess:]
        if primary.rollout != "FAILED" and len(p_ok) < svc.desired:
            self._start(svc, primary, svc.desired - len(p_ok))

        old = svc.deployments[1:]
        retire = [(t, "Task stopped because container instance %s is "
            "DRAINING" % t.instance.id) for t in p_drain]
        for dep in old:
            retire += [(t, "Scaling activity initiated by (deployment %s)" %
                primary.id) for t in sorted(dep.tasks, key=lambda t: t.id)
                if t.desired == "RUNNING"]
        p_running = sum(1 for t in p_ok if t.last == "RUNNING")
        retire_running = [(t, r) for t, r in retire if t.last == "RUNNING"]
        retire_pending = [(t, r) for t, r in retire if t.last != "RUNNING"]
        min_healthy = int(math.ceil(svc.desired *
            svc.config.get("minimumHealthyPercent", 100) / 100.0))
        allowed = max(0, p_running + len(retire_running) - min_healthy)
        victims = retire_pending + retire_running[:allowed]
        by_reason = {}
        for t, reason in victims:
            by_reason.setdefault(reason, []).append(t)
        for reason, tasks in by_reason.items():
            self._stop_many(svc, tasks, reason)

        t_sim = self.clock.now()
        keep = [primary]
        for dep in old:
            dep.desired = sum(1 for t in dep.tasks if t.desired == "RUNNING")
            busy = any(t.last != "STOPPED" for t in dep.tasks)
            lingering = dep.linger_until is not None and \
                dep.linger_until > t_sim
            if busy or lingering:
                keep.append(dep)
        svc.deployments = keep

        others_busy = any(t.last != "STOPPED" for dep in keep[1:]
            for t in dep.tasks)
        if primary.rollout == "IN_PROGRESS" and \
            primary.running == svc.desired and primary.pending == 0 and \
            not others_busy and not p_drain and \
            len(p_live) - len(p_drain) == svc.desired:
            primary.rollout = "COMPLETED"
            primary.reason = "ECS deployment %s completed." % primary.id
            primary.updated = now()
            svc.last_completed_td = primary.td
            svc.event("(deployment %s) deployment completed." % primary.id)
        steady = primary.rollout == "COMPLETED" and \
            svc.running == svc.desired and svc.pending == 0 and \
            not others_busy and all(d.rollout == "FAILED" for d in keep[1:])
        if steady and not svc.steady:
            svc.event("has reached a steady state.")
        svc.steady = steady

    # -- container instances ---------------------------------------------

    def set_instance_status(self, inst, status):
        if inst.status == status:
            return
        inst.status = status
        inst.version += 1
        for svc in {t.service for t in inst.tasks if t.service is not None}:
            self.mark(svc)
        if status == "ACTIVE":
            self._wake_unplaced(inst.cluster)
