"""`pylvs demo`: the seeds' web cluster in miniature on loopback, no root needed.

Two small HTTP real servers answer with their names (rs1, rs2); a virtual service on
127.0.0.1:8080 spreads new connections over them with `wrr` and weights 1 and 2, as in the
seeds' LVS-NAT exercise (seed 002).  The director is the real daemon (`pylvs run`) with the
user-space data plane, so `pylvs ipvsadm -Ln` shows it live.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

# keepalived 2.x's own keywords (the seeds' `lb_algo` / `lb_kind` still load, with a
# deprecation warning as keepalived gives, which a first run should not open with).
CONFIG = """\
! pylvs demo: written by `pylvs demo`, the seeds' LVS-NAT exercise in miniature
virtual_server {vip} {port} {{
    delay_loop 6
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {p1} {{
        weight 1
    }}
    real_server 127.0.0.1 {p2} {{
        weight 2
    }}
}}
"""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run a miniature web cluster on loopback (no root)")
    p.add_argument("--port", type=int, default=8080, help="virtual service port (%(default)s)")
    p.add_argument("--control", help="control socket path (default: the usual one)")
    p.add_argument(
        "--http", default="127.0.0.1:8081", type=demo_http,
        help="metrics, API and dashboard address (%(default)s; 'off' for none)",
    )  # fmt: skip


def demo_http(text: str) -> str | None:
    if text == "off":
        return None
    from pylvs.cli.run_args import http_address

    return http_address(text)


def run(args: argparse.Namespace) -> int:
    from pylvs.cli.run import new_event_loop
    from pylvs.engine.logsetup import setup_logging

    setup_logging("INFO", syslog=False)
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            return runner.run(_demo(args))
    except OSError as e:
        print(f"pylvs demo: {e}", file=sys.stderr)
        return 1


async def _demo(args: argparse.Namespace) -> int:
    from pylvs.control.paths import resolve_control_path
    from pylvs.dataplane.proxy.plane import ProxyDataPlane
    from pylvs.engine import signals
    from pylvs.engine.daemon import Daemon, RunOptions
    from pylvs.engine.dumps import dump_actions
    from pylvs.tools.namesrv import NameServer

    backends = [NameServer("rs1"), NameServer("rs2")]
    ports = [(await b.start("127.0.0.1", 0))[1] for b in backends]
    control = resolve_control_path(args.control)
    with tempfile.TemporaryDirectory(prefix="pylvs-demo-") as tmp:
        conf = os.path.join(tmp, "keepalived.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(vip="127.0.0.1", port=args.port, p1=ports[0], p2=ports[1]))
        opts = RunOptions(config=conf, control=control, grace=1.0, http=args.http)
        daemon = Daemon(opts, ProxyDataPlane())
        try:
            await daemon.start()
            if not daemon.dp.services():
                print(f"pylvs demo: could not open 127.0.0.1:{args.port}", file=sys.stderr)
                return 1
            ctl = "" if args.control is None else f" --control {control}"
            if daemon.web is not None:
                url = daemon.web.url
                print(f"pylvs demo: dashboard {url} (metrics: {url}metrics)", flush=True)
            print(
                f"""
pylvs demo: a web cluster on loopback
  virtual service  http://127.0.0.1:{args.port}/  (wrr, NAT)
  real servers     rs1 127.0.0.1:{ports[0]} weight 1, rs2 127.0.0.1:{ports[1]} weight 2
  config           {conf}

Try, in another terminal:
  for i in $(seq 6); do curl -s http://127.0.0.1:{args.port}/; done   # rs2 rs1 rs2 rs2 rs1 rs2
  pylvs ipvsadm{ctl} -Ln
  pylvs ipvsadm{ctl} -Ln --stats
  pylvs ipvsadm{ctl} -e -t 127.0.0.1:{args.port} -r 127.0.0.1:{ports[0]} -m -w 0  # quiesce rs1

Ctrl-C stops.
""",
                flush=True,
            )
            loop = asyncio.get_running_loop()
            actions: dict[signals.Action, Callable[[], object]] = {
                signals.Action.STOP: daemon.stopping.set,
                **dump_actions(daemon),
            }
            undo = signals.install(loop, actions)
            try:
                await daemon.stopping.wait()
            finally:
                undo()
        finally:
            await daemon.shutdown()
            for b in backends:
                await b.close()
    return 0
