"""`pylvs check -f FILE`: validate a keepalived.conf like `keepalived -t`, with locations.

Every problem is printed as `FILE:LINE:COL: error|warning: message` (FILE being the file the
problem is in, also inside includes).  The exit status is the one `keepalived -t` would give
(config/keepalived/checkmode.py: 0 nothing keepalived would report, 4 the file cannot be used,
5 anything keepalived reports, 6 a script security violation); pylvs's own warnings (keywords
it does not act on, likely mistakes) stay warnings and fail the check (5) only with --strict.
`--dump` prints the resolved configuration and the IPVS table keepalived would program at
start as JSON.  Host facts (interfaces, users, groups) are gathered here, not in the pure
parser.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import gc
import ipaddress
import json
import sys
from collections.abc import Mapping
from typing import Any

from pylvs.cli.run_args import DEFAULT_CONFIG
from pylvs.config.errors import Location, Problem
from pylvs.config.keywords import HostFacts


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check",
        help="check a keepalived.conf",
        description="Check a keepalived.conf and report every problem with FILE:LINE:COL.",
    )
    p.add_argument(
        "-f", "--file", "--use-file", default=DEFAULT_CONFIG,
        help="the keepalived.conf to check (default %(default)s, as `pylvs run`)",
    )  # fmt: skip
    p.add_argument("--config-id", default=None, help="config id for @ID lines (default: host)")
    p.add_argument("--dump", action="store_true", help="print the resolved config as JSON")
    p.add_argument(
        "--strict",
        action="store_true",
        help="pylvs's own warnings (unsupported keywords, likely mistakes) fail the check too",
    )


def host_facts() -> HostFacts:
    """Interfaces, users and groups of this host (None where they cannot be read)."""
    import grp
    import os
    import pwd
    import shutil
    import socket

    try:
        interfaces: frozenset[str] | None = frozenset(n for _, n in socket.if_nameindex())
    except OSError:
        interfaces = None

    def user_exists(name: str) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return name.isdigit()
        return True

    def group_exists(name: str) -> bool:
        try:
            grp.getgrnam(name)
        except KeyError:
            return name.isdigit()
        return True

    def script_found(command: str) -> bool:
        if "/" in command:
            return os.path.exists(command)
        return shutil.which(command) is not None

    return HostFacts(
        interfaces=interfaces,
        user_exists=user_exists,
        group_exists=group_exists,
        script_found=script_found,
    )


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, addresses, tuples, bytes and mappings as JSON-able values."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.name if isinstance(value, enum.IntFlag) else value.value
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, Location):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        kind = getattr(type(value), "KIND", None)
        if isinstance(kind, str):
            out["kind"] = getattr(value, "kind", kind)
        for f in dataclasses.fields(value):
            out[f.name] = to_jsonable(getattr(value, f.name))
        return out
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def _print_problem(p: Problem) -> None:
    print(str(p), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except Exception as exc:  # no input may end in a traceback
        print(f"pylvs check: internal error: {exc!r}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    # A big configuration is millions of small objects that all live until the check ends:
    # the cyclic collector would walk them again and again for nothing (bench/config_bench.py).
    gc.disable()
    from pylvs.config.keepalived.checkmode import exit_status
    from pylvs.config.keepalived.parser import load
    from pylvs.config.keepalived.table import to_table

    result = load(args.file, config_id=args.config_id, host=host_facts())
    for p in result.problems:
        _print_problem(p)
    if args.dump:
        table = to_table(result.config)
        doc = {
            "config": to_jsonable(result.config),
            "ipvs": [to_jsonable(e) for e in table.entries()],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    return exit_status(result.problems, strict=args.strict)
