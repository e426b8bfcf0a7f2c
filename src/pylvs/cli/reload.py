"""`pylvs reload` and `pylvs status`: talk to the running daemon over its control socket."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    for name, text in (
        ("reload", "re-read the daemon's config (like SIGHUP)"),
        ("status", "show the daemon's state"),
    ):
        p = subparsers.add_parser(name, help=text)
        p.add_argument("--control", help="control socket path")


def run(args: argparse.Namespace) -> int:
    from pylvs.control.client import ControlUnavailableError, call
    from pylvs.control.paths import resolve_control_path
    from pylvs.control.protocol import ProtocolError, Request

    path = resolve_control_path(args.control)
    try:
        resp = call(path, Request(args.command), on_stdout=sys.stdout.write)
    except ControlUnavailableError as e:
        print(f"pylvs {args.command}: no pylvs daemon answers on {e.strerror}", file=sys.stderr)
        return 1
    except (ProtocolError, OSError) as e:
        print(f"pylvs {args.command}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(resp.stdout)
    sys.stderr.write(resp.stderr)
    return resp.rc
