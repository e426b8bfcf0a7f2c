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
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from pylvs.cli.helpformat import HelpFormatter
from pylvs.cli.hostfacts import host_facts as host_facts  # where `pylvs run` finds it
from pylvs.cli.run_args import DEFAULT_CONFIG
from pylvs.config.errors import Kind, Location, Problem, Severity
from pylvs.config.formats import FORMATS
from pylvs.config.keepalived.model import KeepalivedConfig

# The `pylvs` program ends at once after a check (cli/main.py `_exit_at_once`): what it read
# is only freed by the end of the process.
EXIT_AT_ONCE = True


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check",
        help="check a keepalived.conf or a haproxy.cfg",
        description="Check a keepalived.conf or a haproxy.cfg (told apart by their content)"
        " and report every problem with FILE:LINE:COL.",
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--format",
        choices=("auto", *FORMATS),
        default="auto",
        help="the file's format (default: told from its content)",
    )
    p.add_argument(
        "-f", "--file", "--use-file", default=DEFAULT_CONFIG,
        help="the keepalived.conf or haproxy.cfg to check (default %(default)s, as `pylvs run`)",
    )  # fmt: skip
    p.add_argument("--config-id", default=None, help="config id for @ID lines (default: host)")
    p.add_argument("--dump", action="store_true", help="print the resolved config as JSON")
    p.add_argument(
        "--strict",
        action="store_true",
        help="pylvs's own warnings (unsupported keywords, likely mistakes) fail the check too",
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


def _detect(path: str) -> str:
    """The format of the file at `path` (keepalived when it cannot be read: its reader then
    says why, as keepalived -t would)."""
    from pylvs.config.formats import detect

    try:
        with open(path, "rb") as f:
            head = f.read(256 * 1024)
    except (OSError, ValueError):
        return "keepalived"
    return detect(head.decode("utf-8", "replace"))


def _run_haproxy(args: argparse.Namespace) -> int:
    import os

    from pylvs.config.haproxy.checkmode import INVALID, NO_LISTENER, exit_status
    from pylvs.config.haproxy.reader import load_text

    try:
        with open(args.file, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        print(
            f"{args.file}:0:0: error: Could not open configuration file {args.file} : {exc}",
            file=sys.stderr,
        )
        return INVALID
    host = host_facts()
    result = load_text(text, args.file, env=os.environ, host=host)
    if result.ok:  # what `pylvs run` would refuse beyond the reader's problems
        from pylvs.config.haproxy.source import check

        check(result, host.read_file, args.file)
    _print_problems(result.problems)
    if args.dump:
        import json

        print(json.dumps({"config": to_jsonable(result.config)}, indent=2, ensure_ascii=False))
    status = exit_status(result.problems, result.config, strict=args.strict)
    if args.dump:  # stdout is the JSON document alone
        return status
    if status == NO_LISTENER:
        print("Configuration file has no error but will not start (no listener) => exit(2).")
    elif status != INVALID:
        print("Configuration file is valid")
    return status


def _print_problems(problems: Iterable[Problem]) -> None:
    # One write per thousand lines: a big file's hundred thousand warnings printed one
    # print() at a time were a tenth of the check's time (bench/config_bench.py).
    batch: list[str] = []
    for p in problems:
        batch.append(str(p))
        if len(batch) == 1000:
            sys.stderr.write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        sys.stderr.write("\n".join(batch) + "\n")
    sys.stderr.flush()


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
    fmt = args.format
    if fmt == "auto":
        fmt = _detect(args.file)
    if fmt == "haproxy":
        return _run_haproxy(args)
    from pylvs.config.keepalived.checkmode import exit_status
    from pylvs.config.keepalived.parser import load
    from pylvs.config.keepalived.spec_problems import problems_of
    from pylvs.config.keepalived.table import to_table

    result = load(args.file, config_id=args.config_id, host=host_facts())
    # What `pylvs run` would refuse beyond the reader's problems (the converter's).
    problems_of(result.config, result.problems, Location(args.file, 1, 1))
    problems = [*result.problems, *loop_warnings(result.config)]
    _print_problems(problems)
    if args.dump:
        import json

        table = to_table(result.config)
        doc = {
            "config": to_jsonable(result.config),
            "ipvs": [to_jsonable(e) for e in table.entries()],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    return exit_status(problems, strict=args.strict)


def loop_warnings(config: KeepalivedConfig) -> list[Problem]:
    """Real servers that are a virtual server's own address (pylvs.model.loops): their
    connections would loop back through the director."""
    from pylvs.model.loops import Listening

    listening = Listening()
    for vs in config.virtual_servers:
        if vs.protocol is None:
            continue
        group = config.group(vs.group) if vs.group is not None else None
        if group is None:
            if vs.fwmark is None and vs.address is not None:
                listening.add_address(vs.protocol, vs.address, vs.port)
            continue
        for entry in group.ranges:
            if entry.first is not None:
                last = entry.last or entry.first
                listening.add_range(vs.protocol, entry.first, last, entry.port)
    found: list[Problem] = []
    for vs in config.virtual_servers:
        if vs.protocol is None:
            continue
        for rs in vs.real_servers:
            target = listening.target(vs.protocol, rs.address, rs.port)
            if target is not None:
                found.append(
                    Problem(
                        rs.loc,
                        Severity.WARNING,
                        f"real server {rs.server} is the address of virtual server {target}: "
                        "its connections would loop back to the director (the proxy data "
                        "plane refuses them)",
                        Kind.NOTE,
                    )
                )
    return found
