"""`pylvs haproxy` (also installed as `pylvs-haproxy`): HAProxy 2.6's command line, served by pylvs.

Tools that start `haproxy` — service units, `haproxy -c` in deployment scripts, HAProxy's own
regression-test driver — start pylvs unchanged.  The order is HAProxy's `init()` and `main()`
(src/haproxy.c): read the flags (cli/haproxy_args.py), answer `-v`/`-vv`/`-dMhelp`, change
directory (`-C`), evaluate `-cc`, read the configuration files (cli/haproxy_check.py), stop
there for `-c`, else run it (cli/haproxy_run.py: foreground, `-D` daemon, `-W` master-worker
with the `-S` master CLI, `-p`, `-sf`/`-st`, HAProxy's signals).  Messages, exit statuses and
the usage text are HAProxy's (cli/haproxy_msgs.py), checked against the real haproxy 2.6.12.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from pylvs.cli.haproxy_args import MACHINERY, AlertError, ExitError, Options, UsageError, parse
from pylvs.cli.haproxy_msgs import Messages, build_text, usage, version_text

MEMORY_HELP = """\
-dM debugs HAProxy's memory pools (poisoning, integrity checks, caller tracking). pylvs is a
Python program: its memory is the interpreter's, with no pools to poison or check, so -dM
with any other argument than 'help' is accepted and has no effect (a notice says so).
"""


def add_parser(subparsers: Any) -> None:
    # The real parsing is HAProxy's (cli/haproxy_args.py), reached from main.py.
    subparsers.add_parser(
        "haproxy", help="HAProxy 2.6's command line (haproxy -c, -D, -W, -sf ...)", add_help=False
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141


def _main(args: list[str]) -> int:
    early = Messages()
    try:
        opts = parse(args)
    except UsageError as u:
        return _usage(early, u.alert)
    except AlertError as a:
        early.alert(a.message)
        return a.status
    msgs = Messages(quiet=opts.quiet, verbose=opts.verbose)
    try:
        return _modes(opts, msgs)
    except UsageError as u:
        return _usage(msgs, u.alert, opts.maxpconn)
    except ExitError as e:
        return e.status
    except (KeyboardInterrupt, BrokenPipeError, SystemExit):
        raise
    except Exception as e:  # a bug must still end as an alert, never a traceback
        msgs.alert(f"pylvs: internal error: {e!r}")
        return 1


def _usage(msgs: Messages, alert: str | None, maxpconn: int = 0) -> int:
    if alert is not None:
        msgs.alert(alert)  # one ending in a newline is followed by a blank line
        if alert.endswith("\n") and msgs.quiet:
            sys.stderr.write("\n")
    usage(maxpconn)
    return 1


def _modes(opts: Options, msgs: Messages) -> int:
    for text in opts.warnings:
        msgs.warning(text)
    if opts.version:
        sys.stdout.write(build_text() if opts.version == 2 else version_text())
        return 0
    if opts.memory_debug == "help":
        sys.stdout.write(MEMORY_HELP)
        return 0
    if opts.keyword_dump is not None:
        raise UsageError(
            "-dK: pylvs does not list its keywords in HAProxy's form (`pylvs check --strict`"
            " names the ones it reads and does not act on)\n"
        )
    if opts.local_peer is not None:
        os.environ["HAPROXY_LOCALPEER"] = opts.local_peer
    if opts.change_dir is not None:
        try:
            os.chdir(opts.change_dir)
        except OSError as e:
            msgs.alert(f"Could not change to directory {opts.change_dir} : {e.strerror}")
            return 1
    from pylvs.cli import haproxy_check

    env = dict(os.environ)
    if opts.check_condition:
        return haproxy_check.check_condition(opts.condition, msgs, env)
    _notices(opts, msgs)
    if opts.check:
        return haproxy_check.check(opts, msgs, env)
    try:
        loaded = haproxy_check.load(opts, msgs, env)
    except ExitError:
        if "HAPROXY_MWORKER_REEXEC" not in os.environ:
            raise
        from pylvs.cli.haproxy_master import run_master

        return run_master(opts, msgs, None)  # a reload that failed: keep the old processes
    from pylvs.cli.haproxy_run import run

    return run(opts, msgs, loaded)


def _notices(opts: Options, msgs: Messages) -> None:
    """The flags about HAProxy's own machinery: said once, at start."""
    for letter in dict.fromkeys(opts.machinery):
        msgs.notice(MACHINERY[letter])
    if opts.memory_debug is not None:
        msgs.notice("-dM: pylvs has no memory pools to debug (-dMhelp says more)")
    if opts.diag:
        msgs.notice("-dD: pylvs's diagnostics are its warnings and notices, printed anyway")
    if opts.maxpconn and not opts.check:
        msgs.notice(
            f"-N {opts.maxpconn}: not applied; pylvs takes a proxy's default maxconn from the"
            " configuration (`maxconn` in `defaults`)"
        )
    if opts.old_socket is not None and not opts.check:
        msgs.notice(
            f"-x {opts.old_socket}: pylvs takes the ports over from the processes -sf/-st name"
            " (they pause, then leave), not by receiving their sockets"
        )
