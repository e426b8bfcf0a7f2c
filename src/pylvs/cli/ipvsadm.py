"""`pylvs ipvsadm ARGS...`: ipvsadm 1.31 against the running pylvs daemon.

Everything after `ipvsadm` is ipvsadm's own command line (so `pylvs ipvsadm -Ln` prints what
`ipvsadm -Ln` prints); only `--control PATH` (which ipvsadm does not have) is taken out.
`-h` and `-v` are answered here, so they work without a daemon.  `-R` reads standard input.
"""

from __future__ import annotations

import errno
import sys
from typing import Any

USAGE = "pylvs ipvsadm [--control PATH] IPVSADM-ARGS..."

# ipvsadm.c main: `fail(2, "Can't initialize ipvs: ...")` when the kernel side cannot be
# reached; here that is the daemon (not answering, or the exchange with it failing).
NO_DAEMON_STATUS = 2


def add_parser(subparsers: Any) -> None:
    # The real parsing happens in main.py / split_control(): ipvsadm's options are not argparse's.
    subparsers.add_parser("ipvsadm", help="ipvsadm against the running daemon", add_help=False)


def split_control(argv: list[str]) -> tuple[str | None, list[str]]:
    control: str | None = None
    rest: list[str] = []
    it = iter(argv)
    for a in it:
        if a == "--control":
            control = next(it, None)
            if control is None:
                raise SystemExit("pylvs ipvsadm: --control needs a path")
        elif a.startswith("--control="):
            control = a.split("=", 1)[1]
        else:
            rest.append(a)
    return control, rest


def wants_stdin(argv: list[str]) -> bool:
    return any(
        a in ("-R", "--restore") or (a.startswith("-") and not a.startswith("--") and "R" in a[1:])
        for a in argv
    )


def main(argv: list[str]) -> int:
    from pylvs.control.client import ControlUnavailableError, call
    from pylvs.control.ipvsadm import command as c
    from pylvs.control.ipvsadm.args import parse
    from pylvs.control.ipvsadm.help import VERSION_LINE, usage
    from pylvs.control.paths import resolve_control_path
    from pylvs.control.protocol import ProtocolError, Request

    control, args = split_control(argv)
    local = parse(["ipvsadm", *args])
    if isinstance(local, c.Help):
        sys.stdout.write(usage("ipvsadm"))
        return 0
    if isinstance(local, c.Version):
        sys.stdout.write(VERSION_LINE)
        return 0
    stdin = sys.stdin.read() if wants_stdin(args) else ""
    path = resolve_control_path(control)
    try:
        resp = call(path, Request("ipvsadm", tuple(args), stdin), on_stdout=sys.stdout.write)
    except ControlUnavailableError as e:
        sys.stderr.write(f"Can't initialize ipvs: no pylvs daemon answers on {e.strerror}\n")
        if e.errno not in (errno.EACCES, errno.EPERM):
            sys.stderr.write("Is `pylvs run` running (or give --control PATH / $PYLVS_CONTROL)?\n")
        return NO_DAEMON_STATUS
    except (ProtocolError, OSError) as e:
        sys.stderr.write(f"pylvs ipvsadm: {e}\n")
        return NO_DAEMON_STATUS
    sys.stdout.write(resp.stdout)
    sys.stderr.write(resp.stderr)
    return resp.rc


def run(args: Any) -> int:  # argparse path: only reached as `pylvs ipvsadm` with no args
    return main([])
