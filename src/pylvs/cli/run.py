"""`pylvs run -f keepalived.conf`: the director daemon, in the foreground (keepalived -n)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pylvs.dataplane.base import DataPlane


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("run", help="run the director daemon (foreground)")
    p.add_argument(
        "-f",
        "--use-file",
        dest="config",
        default="/etc/keepalived/keepalived.conf",
        help="keepalived.conf to load (default %(default)s)",
    )
    p.add_argument(
        "--control",
        help="control socket path (default: $PYLVS_CONTROL, "
        "/run/pylvs/pylvs.sock as root, $XDG_RUNTIME_DIR/pylvs.sock otherwise)",
    )
    p.add_argument("--pidfile", help="write the daemon's pid here")
    p.add_argument(
        "--dataplane",
        choices=["proxy", "nftables"],
        default="proxy",
        help="how traffic is forwarded: proxy (default, user-space, no root) or nftables "
        "(the kernel forwards; root)",
    )
    p.add_argument(
        "--dr-interface",
        action="append",
        default=[],
        metavar="IFACE",
        help="nftables: interface(s) where DR traffic for the VIPs arrives (repeatable; "
        "default: the interfaces that reach the DR real servers)",
    )
    only = p.add_mutually_exclusive_group()
    only.add_argument("-P", "--vrrp-only", action="store_true", help="run only VRRP")
    only.add_argument(
        "-C", "--checks-only", action="store_true", help="run only the virtual servers and checks"
    )
    p.add_argument("-i", "--config-id", help="config id for @ID conditional lines")
    p.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="seconds live connections get on stop (default %(default)s)",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--no-syslog", action="store_true", help="log to stderr only")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (faster relaying), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


# Objects allocated between two young-generation collections.  CPython's default (700) runs a
# collection every few dozen proxied connections, each allocating a score of tracked objects
# (relay, sockets, table entry) that reference counting frees anyway; with the connection
# table holding every entry for its TIME_WAIT minutes, the collections also keep walking
# long-lived entries.  The proxy bench measured 4-5 µs of CPU per new connection for that
# (`bench/proxy_bench.py`, about 5 % of the whole per-connection cost).
GC_YOUNG_THRESHOLD = 20_000


def tune_gc() -> None:
    """Collect less often, and never walk what exists at start-up (modules, config) again."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)
    gc.freeze()


def make_dataplane(args: argparse.Namespace) -> DataPlane:
    if args.dataplane == "nftables":
        if os.geteuid() != 0:
            raise PermissionError("the nftables data plane needs root (use --dataplane proxy)")
        from pylvs.dataplane.nftables import NftablesDataPlane

        return NftablesDataPlane(ingress=tuple(args.dr_interface))
    from pylvs.dataplane.proxy.plane import ProxyDataPlane

    return ProxyDataPlane()


def run(args: argparse.Namespace) -> int:

    from pylvs.cli.check import host_facts
    from pylvs.control.paths import resolve_control_path
    from pylvs.engine.daemon import Daemon, RunOptions
    from pylvs.engine.logsetup import setup_logging
    from pylvs.engine.pidfile import PidFile, PidFileError

    setup_logging(args.log_level, syslog=not args.no_syslog)
    if not os.path.exists(args.config):
        print(f"pylvs: {args.config}: no such configuration file", file=sys.stderr)
        return 1
    opts = RunOptions(
        config=args.config,
        control=resolve_control_path(args.control),
        pidfile=args.pidfile,
        config_id=args.config_id,
        grace=args.grace,
        vrrp=not args.checks_only,
        checks=not args.vrrp_only,
    )
    pidfile = PidFile(args.pidfile) if args.pidfile else None
    try:
        if pidfile:
            pidfile.acquire()
    except (PidFileError, OSError) as e:
        print(f"pylvs: {e}", file=sys.stderr)
        return 1

    try:
        dataplane = make_dataplane(args)
    except (OSError, RuntimeError) as e:
        print(f"pylvs: the {args.dataplane} data plane cannot start: {e}", file=sys.stderr)
        return 1

    tune_gc()

    async def main() -> int:
        daemon = Daemon(opts, dataplane, host_facts())
        return await daemon.run()

    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            return runner.run(main())
    except OSError as e:
        print(f"pylvs: {e}", file=sys.stderr)
        return 1
    finally:
        if pidfile:
            pidfile.release()
