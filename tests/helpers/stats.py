"""The daemon's own figures, as its .ecsfs/stats file gives them."""


def stats(mount):
    """.ecsfs/stats of a Mount as {key: number}."""
    out = {}
    for line in mount.read(".ecsfs", "stats").splitlines():
        key, _, value = line.partition(" ")
        out[key] = float(value)
    return out
