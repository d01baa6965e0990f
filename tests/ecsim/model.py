"""Request validation against botocore's service models.

The emulator loads the same service-2.json files that botocore and the AWS
CLI use (ECS, Application Auto Scaling, CloudWatch Logs) and checks every
request body against the operation's input shape before the operation runs.
Two families of errors come out of here, matching how an AWS JSON 1.1
service answers:

- A body that cannot be read as the input shape (not JSON, a string where an
  integer belongs, an object where a list belongs, a member the shape does not
  have) fails in the service framework's deserializer, before ECS sees it.
  AWS answers those with SerializationException (HTTP 400) in the
  com.amazon.coral.service namespace.  Rejecting unknown members is stricter
  than some AWS services, on purpose: a misspelt member name ("maxresults")
  in a client is a bug the emulator should expose, not silently ignore.
- A body that deserializes but breaks a constraint (a required member absent,
  a value outside an enum, a number or list outside its min/max, a batch over
  the ECS limits) is rejected by the service itself.  ECS and CloudWatch
  Logs report their validation failures as InvalidParameterException (for
  example DescribeServices with eleven names answers InvalidParameterException
  "service names can have at most 10 items."), Application Auto Scaling as
  the generic ValidationException; INVALID_CODE holds which.

The same walker can check responses against output shapes, strictly, which is
how the emulator's own tests prove that what it sends parses as ECS output.
"""

import botocore.loaders

CORAL = "com.amazon.coral.service"
CORAL_AVAILABILITY = "com.amazon.coral.availability"


class ApiError(Exception):
    """An error answered to an API client as an AWS JSON error body."""

    def __init__(self, code, message, status=400, namespace=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.namespace = namespace


def invalid(message):
    """Return ECS's InvalidParameterException with the given message."""
    return ApiError("InvalidParameterException", message)


# The error code each service answers a request that breaks a constraint.
INVALID_CODE = {
    "ecs": "InvalidParameterException",
    "logs": "InvalidParameterException",
    "application-autoscaling": "ValidationException",
}

# The version of each service model the emulator speaks.
VERSIONS = {
    "ecs": "2014-11-13",
    "logs": "2014-03-28",
    "application-autoscaling": "2016-02-06",
}


# Batch limits ECS enforces beyond what the model states: (min, max, words
# used in the message).
BATCH_LIMITS = {
    ("DescribeServices", "services"): (1, 10, "service names"),
    ("DescribeClusters", "clusters"): (0, 100, "clusters"),
    ("DescribeTasks", "tasks"): (1, 100, "tasks"),
    ("DescribeContainerInstances", "containerInstances"):
        (1, 100, "container instances"),
    ("UpdateContainerInstancesState", "containerInstances"):
        (1, 10, "container instances"),
}

_JSON_KIND = {
    bool: "TRUE_VALUE",
    int: "NUMBER_VALUE",
    float: "NUMBER_VALUE",
    str: "STRING_VALUE",
    list: "START_ARRAY",
    dict: "START_OBJECT",
}


def _kind(value):
    if value is False:
        return "FALSE_VALUE"
    return _JSON_KIND.get(type(value), "VALUE")


class Model:
    """One service model (ECS unless named): operations, shapes and
    validation."""

    def __init__(self, service="ecs"):
        # load_data reads the one file; load_service_model would first list
        # every service botocore has, which costs more than the emulator's
        # whole start-up.  None of these services has sdk-extras to merge.
        loader = botocore.loaders.create_loader()
        self.service = service
        self.spec = loader.load_data("%s/%s/service-2" % (service,
            VERSIONS[service]))
        self.shapes = self.spec["shapes"]
        self.operations = self.spec["operations"]
        meta = self.spec["metadata"]
        self.target_prefix = meta["targetPrefix"]
        self.signing_name = meta.get("signingName") or meta["endpointPrefix"]
        self.invalid_code = INVALID_CODE[service]
        self.batch_limits = BATCH_LIMITS if service == "ecs" else {}

    def has_operation(self, name):
        return name in self.operations

    def input_shape(self, op):
        ref = self.operations[op].get("input")
        return ref["shape"] if ref else None

    def output_shape(self, op):
        ref = self.operations[op].get("output")
        return ref["shape"] if ref else None

    def validate_input(self, op, params):
        """Check params against op's input shape; raise ApiError."""
        if not isinstance(params, dict):
            raise ApiError("SerializationException",
                "Start of %s found where not expected" %
                ("list" if isinstance(params, list) else "value"),
                namespace=CORAL)
        shape = self.input_shape(op)
        problems = []
        if shape is not None:
            self._walk(shape, params, "", problems, strict=True,
                output=False)
        if problems:
            n = len(problems)
            raise ApiError(self.invalid_code, "%d validation error%s "
                "detected: %s" % (n, "" if n == 1 else "s",
                "; ".join(problems)))
        for (lop, member), (lo, hi, words) in self.batch_limits.items():
            if lop != op or member not in params or \
                params[member] is None:
                continue
            count = len(params[member])
            if count > hi:
                raise invalid("%s can have at most %d items." %
                    (words, hi))
            if count < lo:
                raise invalid("%s cannot be empty." %
                    words.capitalize())

    def validate_output(self, op, value):
        """Return a list of problems of value against op's output."""
        shape = self.output_shape(op)
        problems = []
        if shape is not None:
            try:
                self._walk(shape, value, "", problems,
                    strict=True, output=True)
            except ApiError as e:
                problems.append(e.message)
        return problems

    def _walk(self, name, value, path, problems, strict, output):
        shape = self.shapes[name]
        kind = shape["type"]
        where = path or "body"
        if kind == "structure":
            if not isinstance(value, dict):
                self._type_error(value, "structure", where, output)
                return
            members = shape.get("members", {})
            for req in shape.get("required", []):
                if value.get(req) is None:
                    problems.append("Value null at '%s' failed "
                        "to satisfy constraint: Member must not "
                        "be null" % self._join(path, req))
            for key, sub in value.items():
                if key not in members:
                    if strict:
                        raise ApiError(
                            "SerializationException",
                            "Unrecognized field \"%s\" at "
                            "'%s': not a member of %s" %
                            (key, where, name),
                            namespace=CORAL)
                    continue
                if sub is None:
                    continue
                self._walk(members[key]["shape"], sub,
                    self._join(path, key), problems, strict,
                    output)
        elif kind == "list":
            if not isinstance(value, list):
                self._type_error(value, "list", where, output)
                return
            self._check_length(shape, len(value), where, problems)
            for i, item in enumerate(value):
                if item is None:
                    continue
                self._walk(shape["member"]["shape"], item,
                    "%s.%d.member" % (where, i + 1), problems,
                    strict, output)
        elif kind == "map":
            if not isinstance(value, dict):
                self._type_error(value, "map", where, output)
                return
            for key, item in value.items():
                self._walk(shape["key"]["shape"], key, where,
                    problems, strict, output)
                if item is not None:
                    self._walk(shape["value"]["shape"], item,
                        "%s.%s" % (where, key), problems,
                        strict, output)
        elif kind == "string":
            if not isinstance(value, str):
                self._type_error(value, "String", where, output)
                return
            enum = shape.get("enum")
            if enum and value not in enum and not output:
                problems.append("Value '%s' at '%s' failed to "
                    "satisfy constraint: Member must satisfy "
                    "enum value set: [%s]" %
                    (value, where, ", ".join(enum)))
            self._check_length(shape, len(value), where, problems)
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                self._type_error(value, "Integer" if
                    kind == "integer" else "Long", where, output)
                return
            if "min" in shape and value < shape["min"]:
                problems.append("Value '%d' at '%s' failed to "
                    "satisfy constraint: Member must have value "
                    "greater than or equal to %d" %
                    (value, where, shape["min"]))
            if "max" in shape and value > shape["max"]:
                problems.append("Value '%d' at '%s' failed to "
                    "satisfy constraint: Member must have value "
                    "less than or equal to %d" %
                    (value, where, shape["max"]))
        elif kind in ("double", "float"):
            if isinstance(value, bool) or \
                not isinstance(value, (int, float)):
                self._type_error(value, "Double", where, output)
        elif kind == "boolean":
            if not isinstance(value, bool):
                self._type_error(value, "Boolean", where, output)
        elif kind == "timestamp":
            if isinstance(value, bool) or \
                not isinstance(value, (int, float)):
                self._type_error(value, "Date", where, output)
        elif kind == "blob":
            if not isinstance(value, str):
                self._type_error(value, "ByteBuffer", where,
                    output)

    @staticmethod
    def _join(path, key):
        return "%s.%s" % (path, key) if path else key

    @staticmethod
    def _check_length(shape, n, where, problems):
        if "min" in shape and n < shape["min"]:
            problems.append("Value at '%s' failed to satisfy "
                "constraint: Member must have length greater than "
                "or equal to %d" % (where, shape["min"]))
        if "max" in shape and n > shape["max"]:
            problems.append("Value at '%s' failed to satisfy "
                "constraint: Member must have length less than or "
                "equal to %d" % (where, shape["max"]))

    @staticmethod
    def _type_error(value, expected, where, output):
        if expected in ("structure", "map"):
            msg = "Start of %s found where not expected" % (
                "list" if isinstance(value, list) else
                "value %s" % _kind(value))
        elif expected == "list":
            msg = "Expected list or null"
        else:
            msg = "%s can not be converted to %s %s" % (_kind(value),
                "an" if expected[0] in "AEIOU" else "a", expected)
        raise ApiError("SerializationException", "%s (at '%s')" %
            (msg, where), namespace=CORAL)
