"""`pylvs events`: the running daemon's event history (engine/history.py), oldest first.

Each line: local time, kind (`health`, `vrrp`, `reload`, `operator`), what happened.  With
`--json`, the records as the daemon keeps them (one JSON object a line, the shape
`--events-log` writes); `-n N` shows the last N only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("events", help="show the daemon's recent events")
    p.add_argument("--control", help="control socket path")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.add_argument("-n", "--last", type=int, metavar="N", help="only the last N events")


def line(record: dict[str, Any]) -> str:
    at = float(record["at"])
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) + f".{int(at % 1 * 1000):03d}"
    return f"{when} {record['kind']:<8} {record['summary']}\n"


def run(args: argparse.Namespace) -> int:
    from pylvs.control.client import ControlUnavailableError, call
    from pylvs.control.paths import resolve_control_path
    from pylvs.control.protocol import ProtocolError, Request

    if args.last is not None and args.last < 0:
        print("pylvs events: -n needs a number >= 0", file=sys.stderr)
        return 2
    path = resolve_control_path(args.control)
    try:
        resp = call(path, Request("events"))
    except ControlUnavailableError as e:
        print(f"pylvs events: no pylvs daemon answers on {e.strerror}", file=sys.stderr)
        return 1
    except (ProtocolError, OSError) as e:
        print(f"pylvs events: {e}", file=sys.stderr)
        return 1
    if resp.rc != 0:
        sys.stderr.write(resp.stderr)
        return resp.rc
    rows = resp.stdout.splitlines()
    if args.last is not None:
        rows = rows[-args.last :] if args.last else []
    for row in rows:
        sys.stdout.write(row + "\n" if args.json else line(json.loads(row)))
    return 0
