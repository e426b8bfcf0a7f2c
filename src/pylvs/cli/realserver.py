"""`pylvs realserver start|stop --vip VIP [--dev lo]`: seed 000's realserver.sh for LVS-DR.

start: the VIP as a /32 on DEV with a host route, arp_ignore=1 and arp_announce=2 on lo and
all; stop: undone, the sysctls back to what they were before start (lab/realserver.py).
Works on a real host (root) as in the lab's real servers.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "realserver", help="set an LVS-DR real server up for a VIP (realserver.sh)"
    )
    configure(p)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action", choices=["start", "stop"],
        help="start: VIP on the interface and the ARP sysctls set; stop: both undone",
    )  # fmt: skip
    p.add_argument("--vip", required=True, help="the virtual IP the directors serve")
    p.add_argument("--dev", default="lo", help="interface to hold the VIP (default %(default)s)")


def run(args: argparse.Namespace) -> int:
    import ipaddress

    from pylvs.lab.realserver import RealServer, RealServerError

    try:
        ipaddress.ip_address(args.vip)
    except ValueError:
        print(f"pylvs realserver: {args.vip!r} is not an IP address", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("pylvs realserver: needs root (addresses and sysctls)", file=sys.stderr)
        return 1
    rs = RealServer()
    try:
        done = (
            rs.start(args.vip, args.dev) if args.action == "start" else rs.stop(args.vip, args.dev)
        )
    except (RealServerError, OSError) as e:
        print(f"pylvs realserver: {e}", file=sys.stderr)
        return 1
    for line in done:
        print(f"  {line}")
    print("RealServer Start OK" if args.action == "start" else "RealServer Stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pylvs realserver", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
