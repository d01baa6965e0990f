"""CloudWatch Logs: log groups, log streams, their events, and the output of
the simulated containers.

Served at the emulator's URL under X-Amz-Target "Logs_20140328.", signed
for "logs".  CreateLogGroup, CreateLogStream, PutLogEvents,
DescribeLogGroups, DescribeLogStreams and GetLogEvents answer as AWS does:
ResourceNotFoundException for a group or stream that is not there,
ResourceAlreadyExistsException for one created twice, InvalidParameter-
Exception for bad values.

GetLogEvents: without a token, the latest `limit` events (default 10,000)
or, with startFromHead, the earliest; always oldest first.  A token is
"f/N/s" (the events after position N) or "b/N/s" (the events before it),
N the position of an event in the stream's (timestamp, arrival) order.
nextForwardToken points after the last event answered, nextBackwardToken
before the first; asked with a forward token when nothing new has come,
it answers no events and the same token, as AWS does.  startTime and
endTime (ms) keep events with startTime <= timestamp < endTime.

Simulated containers.  When a task's containers start, each container
whose definition logs with the awslogs driver gets the stream
PREFIX/CONTAINER/TASK_ID (awslogs-stream-prefix; without one, the
container's id) in its awslogs-group, created if missing.  The container
writes a start line at the task's startedAt, a line every --log-interval
wall-clock seconds while it runs (from the emulator's start at the
earliest, so a seed task started days ago does not bring days of lines),
and a stop line at its stoppedAt; a container that crashes (a failing
revision) writes one error line.  These lines are written when a request
looks at the stream, with the timestamps they would have had.

Everything here is protected by State.lock.
"""

import bisect
import re

from model import ApiError, invalid
from state import now

GROUP_RE = re.compile(r"^[.\-_/#A-Za-z0-9]+$")
TOKEN_RE = re.compile(r"^([fb])/(\d{1,56})/s$")
SEQ_SPAN = 10 ** 15          # positions: timestamp_ms * SEQ_SPAN + arrival
EVENTS_KEPT = 100000         # per stream; older events are dropped
DAY_MS = 86400000

MSG_NO_GROUP = "The specified log group does not exist."
MSG_NO_STREAM = "The specified log stream does not exist."


def _ms(seconds):
    return int(round(seconds * 1000))


def not_found(message):
    return ApiError("ResourceNotFoundException", message)


class Stream:
    def __init__(self, group, name, created_ms, task=None, spec=None):
        self.group = group
        self.name = name
        self.created = created_ms
        self.keys = []          # sorted positions
        self.events = []        # (timestamp, message, ingestion), by keys
        self.last_ingestion = None
        # The simulated container writing here, if any.
        self.task = task
        self.spec = spec
        self.ticks = 0
        self.started = False
        self.stopped = False

    def add(self, store, timestamp, message, ingestion=None):
        store.seq += 1
        key = timestamp * SEQ_SPAN + store.seq
        i = bisect.bisect_right(self.keys, key)
        self.keys.insert(i, key)
        ing = ingestion if ingestion is not None else max(timestamp,
            _ms(now()))
        self.events.insert(i, (timestamp, message, ing))
        self.last_ingestion = ing
        if len(self.keys) > EVENTS_KEPT:
            del self.keys[0]
            del self.events[0]

    def render(self, st):
        created = self.created
        if self.task is not None and "startedAt" in self.task.times:
            created = min(created, _ms(self.task.times["startedAt"]))
        d = {
            "logStreamName": self.name,
            "creationTime": created,
            "arn": "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s" % (
                st.region, st.account, self.group.name, self.name),
            "storedBytes": 0,
        }
        if self.events:
            d["firstEventTimestamp"] = self.events[0][0]
            d["lastEventTimestamp"] = self.events[-1][0]
            d["lastIngestionTime"] = self.last_ingestion
            d["uploadSequenceToken"] = "%056d" % self.keys[-1]
        return d


class Group:
    def __init__(self, st, name):
        self.name = name
        self.created = _ms(now())
        self.arn = "arn:aws:logs:%s:%s:log-group:%s" % (st.region,
            st.account, name)
        self.streams = {}

    def render(self):
        return {
            "logGroupName": self.name,
            "creationTime": self.created,
            "metricFilterCount": 0,
            "arn": self.arn + ":*",
            "storedBytes": 0,
        }


def awslogs(spec):
    """The awslogs options of a container definition, or None."""
    cfg = spec.get("logConfiguration") or {}
    if cfg.get("logDriver") != "awslogs":
        return None
    opts = cfg.get("options") or {}
    return opts if opts.get("awslogs-group") else None


class Store:
    """The region's log groups and the simulated containers' output."""

    def __init__(self, st, interval):
        self.st = st
        self.interval = float(interval)
        self.groups = {}
        self.seq = 0
        self.epoch = now()

    def group(self, name, create=False):
        g = self.groups.get(name)
        if g is None and create:
            g = self.groups[name] = Group(self.st, name)
        return g

    def containers_started(self, task):
        """Scheduler hook: task's containers start (or start and crash)."""
        specs = task.td.containers or []
        for spec, cid in zip(specs, task.container_ids):
            opts = awslogs(spec)
            if opts is None:
                continue
            prefix = opts.get("awslogs-stream-prefix")
            name = "%s/%s/%s" % (prefix, spec.get("name"), task.id) \
                if prefix else cid
            g = self.group(opts["awslogs-group"], create=True)
            if name not in g.streams:
                g.streams[name] = Stream(g, name, _ms(now()), task, spec)

    def sync(self, stream):
        """Write what the stream's simulated container has said by now."""
        task = stream.task
        if task is None:
            return
        t_now = now()
        name = stream.spec.get("name")
        image = stream.spec.get("image", "")
        started = task.times.get("startedAt")
        if not stream.started:
            stream.started = True
            if started is not None:
                stream.add(self, _ms(started), "%s: starting %s in task %s"
                    % (name, image, task.id))
        stopped = task.times.get("stoppedAt") \
            if task.last == "STOPPED" else None
        if started is not None and self.interval > 0:
            base = max(started, self.epoch)
            end = stopped if stopped is not None else t_now
            while base + (stream.ticks + 1) * self.interval <= end:
                stream.ticks += 1
                stream.add(self, _ms(base + stream.ticks * self.interval),
                    "%s: working, tick %d" % (name, stream.ticks))
        if stopped is not None and not stream.stopped:
            stream.stopped = True
            if started is None:
                stream.add(self, _ms(stopped), "%s: fatal error: %s exited "
                    "with code %s" % (name, image, task.exit_code))
            else:
                stream.add(self, _ms(stopped), "%s: stopping (%s), exit "
                    "code %s" % (name, task.stopped_reason or "stopped",
                    task.exit_code))

    def stream(self, params):
        g = self.groups.get(_group_name(params))
        if g is None:
            raise not_found(MSG_NO_GROUP)
        s = g.streams.get(params["logStreamName"])
        if s is None:
            raise not_found(MSG_NO_STREAM)
        self.sync(s)
        return s

    def dump(self, group, stream):
        """Every event of a stream (admin GET /_ecsim/log_events)."""
        s = self.stream({"logGroupName": group, "logStreamName": stream})
        return {"events": [{"timestamp": e[0], "message": e[1],
            "ingestionTime": e[2]} for e in s.events]}

    def streams(self):
        """{group: [stream names]} (admin GET /_ecsim/log_streams)."""
        return {n: sorted(g.streams) for n, g in sorted(self.groups.items())}


def _group_name(params):
    name = params.get("logGroupName")
    ident = params.get("logGroupIdentifier")
    if name is not None and ident is not None:
        raise invalid("LogGroup name and LogGroup ARN are mutually "
            "exclusive parameters.")
    if name is None and ident is None:
        raise invalid("Either logGroupName or logGroupIdentifier must be "
            "specified.")
    if name is None:
        name = ident.split(":log-group:", 1)[-1]
        if name.endswith(":*"):
            name = name[:-2]
    return name


def _token(value):
    m = TOKEN_RE.match(value)
    if m is None:
        raise invalid("The specified nextToken is invalid.")
    return m.group(1), int(m.group(2))


def _encode(kind, n):
    return "%s/%056d/s" % (kind, max(n, 0))


# -- requests ---------------------------------------------------------------

def create_log_group(ctx, params):
    name = params["logGroupName"]
    if not GROUP_RE.match(name):
        raise invalid("1 validation error detected: Value '%s' at "
            "'logGroupName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+" %
            name)
    if name in ctx.logs.groups:
        raise ApiError("ResourceAlreadyExistsException",
            "The specified log group already exists")
    ctx.logs.group(name, create=True)
    return {}


def create_log_stream(ctx, params):
    g = ctx.logs.groups.get(params["logGroupName"])
    if g is None:
        raise not_found(MSG_NO_GROUP)
    name = params["logStreamName"]
    if ":" in name or "*" in name:
        raise invalid("1 validation error detected: Value '%s' at "
            "'logStreamName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [^:*]*" % name)
    if name in g.streams:
        raise ApiError("ResourceAlreadyExistsException",
            "The specified log stream already exists")
    g.streams[name] = Stream(g, name, _ms(now()))
    return {}


def put_log_events(ctx, params):
    s = ctx.logs.stream(params)
    events = params["logEvents"]
    stamps = [e["timestamp"] for e in events]
    if stamps != sorted(stamps):
        raise invalid("Log events in a single PutLogEvents request must be "
            "in chronological order.")
    t = _ms(now())
    too_old = too_new = None
    for i, e in enumerate(events):
        if e["timestamp"] < t - 14 * DAY_MS:
            too_old = i
        elif e["timestamp"] > t + 2 * 3600000:
            too_new = i if too_new is None else too_new
        else:
            s.add(ctx.logs, e["timestamp"], e["message"], t)
    result = {"nextSequenceToken": "%056d" % (s.keys[-1] if s.keys else 0)}
    rejected = {}
    if too_old is not None:
        rejected["tooOldLogEventEndIndex"] = too_old + 1
    if too_new is not None:
        rejected["tooNewLogEventStartIndex"] = too_new
    if rejected:
        result["rejectedLogEventsInfo"] = rejected
    return result


def describe_log_groups(ctx, params):
    prefix = params.get("logGroupNamePrefix") or ""
    limit = params.get("limit") or 50
    names = sorted(n for n in ctx.logs.groups if n.startswith(prefix))
    token = params.get("nextToken")
    if token is not None:
        names = [n for n in names if n > token]
    out = names[:limit]
    result = {"logGroups": [ctx.logs.groups[n].render() for n in out]}
    if len(names) > limit:
        result["nextToken"] = out[-1]
    return result


def describe_log_streams(ctx, params):
    store = ctx.logs
    g = store.groups.get(_group_name(params))
    if g is None:
        raise not_found(MSG_NO_GROUP)
    prefix = params.get("logStreamNamePrefix")
    by_time = params.get("orderBy") == "LastEventTime"
    if by_time and prefix is not None:
        raise invalid("Cannot order by LastEventTime with a "
            "logStreamNamePrefix.")
    limit = params.get("limit") or 50
    chosen = [s for n, s in g.streams.items()
        if prefix is None or n.startswith(prefix)]
    for s in chosen:
        store.sync(s)
    if by_time:
        chosen.sort(key=lambda s: (s.events[-1][0] if s.events else 0,
            s.name))
    else:
        chosen.sort(key=lambda s: s.name)
    if params.get("descending"):
        chosen.reverse()
    start = 0
    token = params.get("nextToken")
    if token is not None:
        if not token.isdigit():
            raise invalid("The specified nextToken is invalid.")
        start = int(token)
    out = chosen[start:start + limit]
    result = {"logStreams": [s.render(ctx.st) for s in out]}
    if start + limit < len(chosen):
        result["nextToken"] = str(start + limit)
    return result


def get_log_events(ctx, params):
    s = ctx.logs.stream(params)
    limit = params.get("limit") or 10000
    lo = params.get("startTime")
    hi = params.get("endTime")
    keys = s.keys
    idx = [i for i in range(len(keys))
        if (lo is None or s.events[i][0] >= lo) and
        (hi is None or s.events[i][0] < hi)]
    token = params.get("nextToken")
    kind = None
    if token is not None:
        kind, n = _token(token)
        if kind == "f":
            chosen = [i for i in idx if keys[i] > n][:limit]
        else:
            chosen = [i for i in idx if keys[i] < n][-limit:]
    elif params.get("startFromHead"):
        chosen = idx[:limit]
    else:
        chosen = idx[-limit:]
    events = [{"timestamp": s.events[i][0], "message": s.events[i][1],
        "ingestionTime": s.events[i][2]} for i in chosen]
    if chosen:
        fwd, back = keys[chosen[-1]], keys[chosen[0]]
    elif kind == "f":
        fwd, back = n, n + 1
    elif kind == "b":
        fwd, back = n - 1, n
    else:
        fwd = back = 0
    return {"events": events, "nextForwardToken": _encode("f", fwd),
        "nextBackwardToken": _encode("b", back)}


OPERATIONS = {
    "CreateLogGroup": create_log_group,
    "CreateLogStream": create_log_stream,
    "PutLogEvents": put_log_events,
    "DescribeLogGroups": describe_log_groups,
    "DescribeLogStreams": describe_log_streams,
    "GetLogEvents": get_log_events,
}


# -- admin API --------------------------------------------------------------

def admin_put(srv, data, query):
    """POST /_ecsim/log_events {"group", "stream", "messages": [...],
    "timestamp"?: ms}: add events without a request (not counted), the
    group and stream created if missing; timestamps now (or after the
    stream's last event, or from "timestamp"), one ms apart."""
    unknown = set(data) - {"group", "stream", "messages", "timestamp"}
    if unknown:
        raise ValueError("unknown setting(s): %s" % ", ".join(
            sorted(unknown)))
    messages = data["messages"]
    if not isinstance(messages, list) or not all(isinstance(m, str)
        for m in messages):
        raise ValueError("messages must be a list of strings")
    with srv.ctx.st.lock:
        store = srv.ctx.logs
        g = store.group(data["group"], create=True)
        s = g.streams.get(data["stream"])
        if s is None:
            s = g.streams[data["stream"]] = Stream(g, data["stream"],
                _ms(now()))
        # Now, or just after the stream's last event if that is later
        # (a batch's events are 1 ms apart, so a batch can end ahead of
        # the clock): what is added now comes after what is there.
        t = data.get("timestamp") or max(_ms(now()),
            s.events[-1][0] + 1 if s.events else 0)
        for i, m in enumerate(messages):
            s.add(store, t + i, m)
        return {"added": len(messages), "events": len(s.events)}


def admin_events(srv, data, query):
    with srv.ctx.st.lock:
        try:
            return srv.ctx.logs.dump(query["group"], query["stream"])
        except ApiError as e:
            raise KeyError(e.message) from None


def admin_streams(srv, data, query):
    with srv.ctx.st.lock:
        return srv.ctx.logs.streams()


ADMIN = {
    ("POST", "log_events"): admin_put,
    ("GET", "log_events"): admin_events,
    ("GET", "log_streams"): admin_streams,
}
