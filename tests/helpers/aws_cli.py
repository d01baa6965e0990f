"""What the real AWS CLI sees of the emulator, for tests that check a
change made through ecsfs from the outside."""


def cli_desired(emulator, cluster, service):
    """The service's desiredCount, from aws ecs describe-services."""
    out = emulator.aws("ecs", "describe-services", "--cluster", cluster, "--services", service)
    return out["services"][0]["desiredCount"]


def cli_target(emulator, cluster, service):
    """The service's one scalable target, from aws application-autoscaling
    describe-scalable-targets."""
    out = emulator.aws("application-autoscaling", "describe-scalable-targets",
                       "--service-namespace", "ecs", "--resource-ids",
                       "service/%s/%s" % (cluster, service))
    ts = out["ScalableTargets"]
    assert len(ts) == 1, ts
    return ts[0]
