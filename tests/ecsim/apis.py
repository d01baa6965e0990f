"""The AWS APIs the emulator serves at its one URL, told apart by the
X-Amz-Target prefix: ECS, Application Auto Scaling and CloudWatch Logs.

Each entry holds the service's botocore model (request checks, the name
requests are signed for), its operations, and what its errors look like.
The HTTP front end (server.py) runs every request of every service through
the same steps: counting, faults, signature, IAM denial, throttling, the
model check, the operation.
"""

import autoscaling
import logs
import ops
from model import ApiError, Model


class Api:
    """One service: model, operations and error conventions."""

    def __init__(self, service, operations, namespace, resource):
        self.model = Model(service)
        self.service = service
        self.prefix = self.model.target_prefix
        self.signing_name = self.model.signing_name
        self.operations = operations
        # The __type namespace of modeled errors under namespaced_errors.
        self.namespace = namespace
        # The resource an IAM denial names, formatted with region, account.
        self.resource = resource

    def not_implemented(self, action):
        return ApiError(self.model.invalid_code if self.service != "ecs"
            else "ClientException", "%s is not implemented by the "
            "emulator." % action)

    def denied(self, region, account, action):
        return ApiError("AccessDeniedException", "User: arn:aws:iam::%s:"
            "user/ecsim is not authorized to perform: %s:%s on resource: "
            "%s because no identity-based policy allows the %s:%s action" %
            (account, self.service, action, self.resource % (region,
            account), self.service, action), 403)


def load():
    """{target prefix: Api} of every service served."""
    served = (
        Api("ecs", ops.OPERATIONS, "com.amazonaws.ecs",
            "arn:aws:ecs:%s:%s:cluster/*"),
        Api("application-autoscaling", autoscaling.OPERATIONS,
            "com.amazonaws.applicationautoscaling",
            "arn:aws:application-autoscaling:%s:%s:scalable-target/*"),
        Api("logs", logs.OPERATIONS, "com.amazonaws.logs",
            "arn:aws:logs:%s:%s:log-group:*"),
    )
    return {api.prefix: api for api in served}
