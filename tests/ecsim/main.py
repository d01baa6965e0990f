#!/usr/bin/python3
"""ecsim: an Amazon ECS control-plane emulator for tests, with the
Application Auto Scaling and CloudWatch Logs that ECS services use.

Usage:
  /usr/bin/python3 tests/ecsim/main.py [--host 127.0.0.1] [--port N]
      [--port-file PATH] [--seed example|empty] [--region us-east-1]
      [--account 123456789012] [--time-scale X]
      [--tls-cert PEM --tls-key PEM] [--fault-seed N]
      [--scaler-interval S] [--log-interval S]

--scaler-interval: wall-clock seconds between the simulated auto scaler's
passes (default 1, 0: none); --log-interval: wall-clock seconds between
the lines a running container writes to its log stream (default 2, 0:
only start and stop lines).

When ready it writes the port to --port-file (atomically) and prints
"ecsim: listening on http(s)://HOST:PORT".  SIGTERM or SIGINT stop it.
"""

import argparse
import os
import signal
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import apis  # noqa: E402
import auth  # noqa: E402
import autoscaling  # noqa: E402
import faults  # noqa: E402
import logs  # noqa: E402
import ops  # noqa: E402
import scheduler  # noqa: E402
import seed  # noqa: E402
import server  # noqa: E402
import state  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(prog="ecsim",
        description="Amazon ECS control-plane emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--seed", choices=("example", "empty"), default="example")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--time-scale", type=float, default=1.0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--fault-seed", type=int, default=1)
    p.add_argument("--scaler-interval", type=float, default=1.0)
    p.add_argument("--log-interval", type=float, default=2.0)
    args = p.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    if not args.time_scale > 0:
        p.error("--time-scale must be > 0")
    if args.scaler_interval < 0 or args.log_interval < 0:
        p.error("--scaler-interval and --log-interval must be >= 0")
    return args


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    st = state.State(args.region, args.account)
    clock = scheduler.Clock(args.time_scale)
    sched = scheduler.Scheduler(st, clock)
    ctx = ops.Context(st, sched)
    ctx.aas = autoscaling.Registry(st)
    ctx.logs = logs.Store(st, args.log_interval)
    sched.containers_started = ctx.logs.containers_started
    scaler = autoscaling.Scaler(ctx, args.scaler_interval)
    if args.seed == "example":
        with st.lock:
            seed.load_example(ctx)
            sched.process()

    ssl_ctx = None
    if args.tls_cert:
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(args.tls_cert, args.tls_key)

    srv = server.Server((args.host, args.port), ctx, apis.load(),
        faults.Faults(args.fault_seed), clock, auth.CredentialStore(),
        ssl_ctx, scaler)
    port = srv.server_address[1]
    sched.start()
    scaler.start()

    done = threading.Event()

    def on_signal(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=srv.serve_forever, name="http",
        kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    if args.port_file:
        write_port_file(args.port_file, port)
    print("ecsim: listening on %s://%s:%d" % ("https" if ssl_ctx else
        "http", args.host, port), flush=True)

    while not done.wait(1.0):
        pass
    srv.shutdown()
    srv.server_close()
    scaler.stop()
    sched.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
