"""Task definitions: RegisterTaskDefinition, ListTaskDefinitions,
DescribeTaskDefinition, DeregisterTaskDefinition, and the lookups that
CreateService, UpdateService and RunTask make.

A reference names a revision as ECS accepts it: "family:revision", a
task-definition ARN, or a bare family, which means the family's latest
ACTIVE revision.  DescribeTaskDefinition also describes INACTIVE revisions
named by revision; nothing launches one.

ListTaskDefinitions filters by exact family (familyPrefix is, despite its
name, the full family name), by status (ACTIVE unless asked), sorts by
family then revision (ASC, or DESC: newest first) and pages with maxResults
(1-100, default 100) and nextToken.
"""

import re

import ops
from model import ApiError, invalid
from state import now

FAMILY_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")

MSG_NOT_FOUND = "TaskDefinition not found."
MSG_INACTIVE = "TaskDefinition is inactive"
MSG_UNDESCRIBABLE = "Unable to describe task definition."


def _split(st, value):
    """(family, revision or None) of a reference, or None if malformed."""
    ref = value
    if value.startswith("arn:"):
        prefix = st.arn_prefix + ":task-definition/"
        if not value.startswith(prefix):
            return None
        ref = value[len(prefix):]
        if ":" not in ref:
            return None
    family, sep, rev = ref.partition(":")
    if not sep:
        return (family, None)
    if not rev.isdigit() or rev.startswith("0"):
        return None
    return (family, int(rev))


def find(st, value):
    """The revision a reference names, or None."""
    parts = _split(st, value)
    if parts is None:
        return None
    family, rev = parts
    if rev is not None:
        return st.taskdefs.get((family, rev))
    for r in range(st.latest.get(family, 0), 0, -1):
        td = st.taskdefs.get((family, r))
        if td is not None and td.status == "ACTIVE":
            return td
    return None


def launchable(ctx, value):
    """The ACTIVE revision a service or task is to run, or ECS's error."""
    td = find(ctx.st, value)
    if td is None:
        raise ApiError("ClientException", MSG_NOT_FOUND)
    if td.status != "ACTIVE":
        raise invalid(MSG_INACTIVE)
    return td


def register_task_definition(ctx, params):
    family = params["family"]
    if not FAMILY_RE.match(family):
        raise invalid("Family must match ^[a-zA-Z0-9\\-_]{1,255}$, but "
            "was %s" % family)
    if not params["containerDefinitions"]:
        raise invalid("Container list cannot be empty.")
    spec = {k: v for k, v in params.items() if k not in ("family", "tags")}
    for key in ("cpu", "memory"):
        if key in spec:
            try:
                int(spec[key])
            except ValueError:
                raise invalid("Invalid '%s' value: %s" % (key,
                    spec[key])) from None
    td = ctx.st.register_taskdef(family, spec)
    td.tags = list(params.get("tags") or [])
    return {"taskDefinition": td.render(ctx.st), "tags": list(td.tags)}


def describe_task_definition(ctx, params):
    td = find(ctx.st, params["taskDefinition"])
    if td is None:
        raise ApiError("ClientException", MSG_UNDESCRIBABLE)
    tags = list(td.tags) if "TAGS" in (params.get("include") or []) else []
    return {"taskDefinition": td.render(ctx.st), "tags": tags}


def _key(family, revision):
    return "%s:%d" % (family, revision)


def list_task_definitions(ctx, params):
    st = ctx.st
    family = params.get("familyPrefix")
    status = params.get("status") or "ACTIVE"
    desc = params.get("sort") == "DESC"
    limit = ops.page_size(params, 100)
    after = ops.decode_token("ListTaskDefinitions", params.get("nextToken"))
    start = None
    if after is not None:
        name, _, rev = after.rpartition(":")
        if not name or not rev.isdigit():
            raise invalid("Invalid token %s" % params["nextToken"])
        start = (name, int(rev))
    keys = sorted(k for k, td in st.taskdefs.items()
        if td.status == status and (family is None or k[0] == family))
    if desc:
        keys.reverse()
    if start is not None:
        keys = [k for k in keys if (k < start if desc else k > start)]
    out = keys[:limit]
    result = {"taskDefinitionArns": [st.taskdefs[k].arn for k in out]}
    if len(keys) > limit:
        result["nextToken"] = ops.encode_token("ListTaskDefinitions",
            _key(*out[-1]))
    return result


def deregister_task_definition(ctx, params):
    st = ctx.st
    value = params["taskDefinition"]
    parts = _split(st, value)
    if parts is not None and parts[1] is None:
        raise invalid("Invalid revision number. Number: %s" % value)
    td = find(st, value) if parts is not None else None
    if td is None:
        raise ApiError("ClientException",
            "The specified task definition does not exist.")
    if td.status == "ACTIVE":
        td.status = "INACTIVE"
        td.deregistered_at = now()
    return {"taskDefinition": td.render(st)}


OPERATIONS = {
    "RegisterTaskDefinition": register_task_definition,
    "DescribeTaskDefinition": describe_task_definition,
    "ListTaskDefinitions": list_task_definitions,
    "DeregisterTaskDefinition": deregister_task_definition,
}
