"""What the emulator's tests share: the example seed's cluster names, the
parts of a botocore ClientError, and one service described."""

PROD = "production-cluster"
DEV = "development-cluster"


def error_of(excinfo):
    """(code, HTTP status, message) of a botocore ClientError (or of
    pytest's ExceptionInfo holding one)."""
    resp = getattr(excinfo, "value", excinfo).response
    return (resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"],
        resp["Error"].get("Message", ""))


def describe(client, cluster, name):
    return client.describe_services(cluster=cluster,
        services=[name])["services"][0]
