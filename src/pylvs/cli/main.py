"""The `pylvs` command: one sub-command per module in this package.

Each sub-command module exposes `add_parser(subparsers)` and `run(args) -> int`, and keeps its
heavy imports inside `run()`, so `pylvs check` does not pay for asyncio servers.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from pylvs import __version__
from pylvs.cli.helpformat import HelpFormatter

# sub-command -> module under pylvs.cli (added as the features land)
COMMANDS: dict[str, str] = {
    "check": "check",
    "run": "run",
    "ipvsadm": "ipvsadm",
    "haproxy": "haproxy",
    "reload": "reload",
    "status": "reload",
    "events": "events",
    "demo": "demo",
    "genhash": "genhash",
    "realserver": "realserver",
    "lab": "lab",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only sub-command `only`'s: the same parse of a command
    line that names it (the top-level usage says COMMAND, not the list), without importing
    the other sub-commands' modules (asyncio among them; a tenth of a second)."""
    parser = argparse.ArgumentParser(
        prog="pylvs",
        description="LVS + Keepalived (+ HAProxy) high-availability load balancer in Python.",
        formatter_class=HelpFormatter,  # argparse's, without `import shutil` (cli/helpformat.py)
    )
    parser.add_argument("--version", action="version", version=f"pylvs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    modules = dict.fromkeys(COMMANDS.values()) if only is None else [COMMANDS[only]]
    for module in modules:
        importlib.import_module(f"pylvs.cli.{module}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        # The program itself: no cyclic collection while it imports and builds its parser.
        # Start-up makes tens of thousands of objects that live as long as the process
        # (modules, classes, functions) and next to no garbage: the collector walking them
        # again and again was 4 ms of a 55 ms `pylvs check` of a small file (bench/
        # config_bench.py).  Each command gets it back before it runs (`check` then turns it
        # off again: cli/check.py says why).
        gc.disable()
        try:
            return _main(None)
        finally:
            gc.enable()
    return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if argv is None:
        # the program itself: its dataclasses' methods from the bytecode cache (cli/codecache.py)
        from pylvs.cli import codecache

        codecache.install(args_list[0] if args_list[:1] and args_list[0] in COMMANDS else "pylvs")
    if os.environ.get("PYLVS_CONFIG_C") == "0":
        # the keepalived reader's pure-Python plain-line reader instead of its C twin
        # (config/keepalived/plain.py; bench/config_bench.py compares the two)
        from pylvs.config.keepalived import kwdispatch, plain

        plain.USE_C = False
        kwdispatch.dispatch = kwdispatch.dispatch_py  # (before the reader's modules bind it)
    if args_list[:1] == ["ipvsadm"]:
        # ipvsadm's command line is its own (popt, combined flags): bypass argparse.
        from pylvs.cli.ipvsadm import main as ipvsadm_main

        gc.enable()
        return _guard(lambda: ipvsadm_main(args_list[1:]))
    if args_list[:1] == ["haproxy"]:
        # HAProxy's command line is its own (src/haproxy.c init()): bypass argparse.
        from pylvs.cli.haproxy import main as haproxy_main

        gc.enable()
        return haproxy_main(args_list[1:])
    if args_list[:1] == ["run"] and args_list[1:2] in (["-T"], ["--genhash"]):
        # keepalived -T: genhash mode, the rest of the command line is genhash's.
        args_list = ["genhash", *args_list[2:]]
    first = args_list[0] if args_list else None
    parser = build_parser(first if first in COMMANDS else None)
    args = parser.parse_args(args_list)
    mod = importlib.import_module(f"pylvs.cli.{COMMANDS[args.command]}")
    gc.enable()
    status = _guard(lambda: mod.run(args))
    if argv is None and getattr(mod, "EXIT_AT_ONCE", False):
        _exit_at_once(status)
    return status


def _exit_at_once(status: int) -> NoReturn:
    """End the `pylvs` process without tearing the interpreter down: after `check` of a big
    file, freeing its millions of objects and modules one by one took 0.15 s, a twentieth of
    the check (bench/config_bench.py).  Only for the program itself (`argv` None), never
    for a caller of `main()`."""
    from pylvs.cli import codecache

    codecache.save()  # os._exit runs no atexit hook
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe or stream: nothing more can be said
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _guard(fn: Callable[[], int]) -> int:
    try:
        return fn()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141
