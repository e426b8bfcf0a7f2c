"""`pylvs run`: the director daemon, started the way keepalived is (options: cli/run_args.py).

The order matters and follows keepalived's main.c: answer the one-shot options (--signum,
-v, -t), check the config file, take the pid files and the control socket (a second daemon
is refused here, before it touches anything), then detach (unless -n or a service manager
runs us: cli/daemonize.py) and run.  Readiness — the table applied — is reported to whoever
waits: systemd (cli/sdnotify.py) or the foreground process of a detaching start.

A configuration with errors is refused: its problems are printed as `pylvs check` prints
them (`FILE:LINE:COL: error|warning: ...`) and the exit status is 1, where keepalived would
run on with its fallbacks; `pylvs check -f FILE` shows the same problems beforehand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import resource
import stat
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pylvs.cli.run_args import (
    DESCRIPTION,
    add_run_arguments,
    config_files,
    parse_umask,
    unsupported_given,
)

if TYPE_CHECKING:
    from pylvs.cli.daemonize import Detached
    from pylvs.dataplane.base import DataPlane
    from pylvs.engine.daemon import Daemon
    from pylvs.engine.pidfile import PidFile

log = logging.getLogger("pylvs")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the director daemon (keepalived's command line)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(p)


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
    """The plane --dataplane names, or the one the host allows (cli/dataplanes.py)."""
    from pylvs.cli.dataplanes import make_plane

    plane = make_plane(args)
    plane.release_on_stop = not args.dont_release_ipvs  # keepalived -I
    return plane


def config_problem(path: str) -> str | None:
    """Why `path` cannot be the configuration (None: it can be read)."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            return f"{path} is a directory, not a configuration file; give the file with -f"
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        return f"{path}: no such configuration file; give one with -f"
    except OSError as e:
        return f"cannot read the configuration file {path}: {e.strerror} (run as root?)"
    return None


def one_shot(args: argparse.Namespace) -> int | None:
    """--signum, -v and -t: answer and exit (None: go on and run)."""
    if args.signum is not None:
        from pylvs.engine.signals import SIGNUM_NAMES

        number = SIGNUM_NAMES.get(args.signum.upper())
        if number is None:
            print(f"Unknown sigfunc {args.signum}", file=sys.stderr)
            return 1
        print(number)
        return 0
    if args.version:
        from pylvs import __version__

        print(f"pylvs {__version__} (keepalived 2.2.7 command line)")
        return 0
    if args.config_test is not None:
        return config_test(args)
    return None


def config_test(args: argparse.Namespace) -> int:
    """keepalived -t: `pylvs check` on the same file, its exit status."""
    from pylvs.cli import check
    from pylvs.cli.main import build_parser

    argv = ["check", "-f", args.config]
    if args.config_id:
        argv += ["--config-id", args.config_id]
    ns = build_parser().parse_args(argv)
    if args.config_test == "-":
        return check.run(ns)
    try:
        with open(args.config_test, "w") as out, contextlib.redirect_stderr(out):
            return check.run(ns)
    except OSError as e:
        print(f"pylvs run: cannot write {args.config_test}: {e.strerror}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    config_files(args)
    answer = one_shot(args)
    if answer is not None:
        return answer
    try:
        prepare_process(args)
    except (OSError, ValueError) as e:
        print(f"pylvs run: {e}", file=sys.stderr)
        return 1
    for path in (args.config, *args.more_configs):
        problem = config_problem(path)
        if problem is not None:
            print(f"pylvs run: {problem}", file=sys.stderr)
            return 1
    from pylvs.cli import sdnotify
    from pylvs.engine.logsetup import choose_destination, parse_facility, under_service_manager

    service = under_service_manager()
    detach = not args.dont_fork and not service
    facility = parse_facility(args.log_facility) if args.log_facility else None
    destination = choose_destination(
        console=args.log_console,
        no_syslog=args.no_syslog,
        daemon=detach,
        facility_given=facility is not None,
    )
    notify = sdnotify.from_environment()
    return _run(args, destination, facility, detach, notify)


def prepare_process(args: argparse.Namespace) -> None:
    """-u, -m, -M and -s: process settings keepalived makes before anything else."""
    if args.umask is not None:
        os.umask(parse_umask(args.umask))
    if args.core_dump or args.core_dump_pattern is not None:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    if args.namespace:
        from pylvs.cli.netns import enter_netns

        enter_netns(args.namespace)


def _run(
    args: argparse.Namespace,
    destination: str,
    facility: int | None,
    detach: bool,
    notify: Callable[[str], None] | None,
) -> int:
    from pylvs.engine.logsetup import FACILITIES, setup_logging
    from pylvs.engine.pidfile import PidFileError, PidFiles, default_paths

    level = args.log_level or ("DEBUG" if args.log_detail else "INFO")
    pidfiles = PidFiles(
        default_paths(
            main=args.pid,
            vrrp=args.vrrp_pid,
            checkers=args.checkers_pid,
            with_vrrp=not args.checks_only,
            with_checkers=not args.vrrp_only,
        )
    )
    try:
        pidfiles.acquire()
    except PidFileError as e:
        print(f"pylvs run: {e}", file=sys.stderr)
        return 1
    try:
        daemon = make_daemon(args)
        daemon.control.claim()
    except (OSError, RuntimeError) as e:
        pidfiles.release()
        print(f"pylvs run: {e}", file=sys.stderr)
        return 1
    detached: Detached | None = None
    if detach:
        from pylvs.cli.daemonize import detach as fork_away

        detached = fork_away()
        pidfiles.write_pid()
    setup_logging(
        level,
        destination=destination,
        facility=facility if facility is not None else FACILITIES["daemon"],
        names=args.log_names,
    )
    log.info("data plane: %s (%s)", args.dataplane, args.dataplane_reason)
    for text in unsupported_given(args):
        log.warning("%s; the option is ignored", text)
    if args.dont_release_ipvs and args.dataplane == "proxy":
        log.warning("-I/--dont-release-ipvs: the proxy data plane forwards in this process")
    with core_pattern(args.core_dump_pattern):
        return serve(daemon, args, notify, detached, pidfiles.release)


def make_daemon(args: argparse.Namespace) -> Daemon:
    from pylvs.cli.check import host_facts
    from pylvs.control.paths import resolve_control_path
    from pylvs.engine.daemon import Daemon, RunOptions

    opts = RunOptions(
        config=args.config,
        more_configs=args.more_configs,
        control=resolve_control_path(args.control),
        config_id=args.config_id,
        grace=args.grace,
        vrrp=not args.checks_only,
        checks=not args.vrrp_only,
        release_vrrp=not args.dont_release_vrrp,
        http=args.http,
        http_users=args.http_users,
        events_log=args.events_log,
    )
    try:
        dataplane = make_dataplane(args)
    except (OSError, RuntimeError) as e:
        raise RuntimeError(f"the {args.dataplane} data plane cannot start: {e}") from None
    return Daemon(opts, dataplane, host_facts(quiet_lua=True))


def serve(
    daemon: Daemon,
    args: argparse.Namespace,
    notify: Callable[[str], None] | None,
    detached: Detached | None,
    release: Callable[[], None],
) -> int:
    """Run the daemon until it stops; readiness goes to systemd and/or the waiting parent."""
    from pylvs.engine.daemon import ConfigRefusedError

    config_pid: list[PidFile] = []

    def on_state(state: str) -> None:
        if notify is not None:
            notify(state)
        if state == "READY=1" and not config_pid and not args.dont_fork:
            config_pid.extend(haproxy_pidfile(daemon))
        if state == "READY=1" and detached is not None:
            detached.ready()

    daemon.notify = on_state
    tune_gc()
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            if args.dump_conf:
                log_config(args)
            return runner.run(daemon.run())
    except ConfigRefusedError as e:
        text = "".join(f"{p}\n" for p in e.problems) + f"pylvs run: {e}\n"
        log.error("%s", e)
        if detached is not None:
            detached.failed(text)
        print(text, end="", file=sys.stderr)
        return 1
    except OSError as e:
        log.error("%s", e)
        if detached is not None:
            detached.failed(f"pylvs run: {e}\n")
        print(f"pylvs run: {e}", file=sys.stderr)
        return 1
    finally:
        if detached is not None:
            detached.failed("pylvs run: the daemon stopped before it was ready\n")
        for f in config_pid:
            f.release()
        release()


def haproxy_pidfile(daemon: Daemon) -> list[PidFile]:
    """haproxy.cfg's `pidfile`, written as HAProxy writes it in daemon mode (`-n` keeps pylvs
    in the foreground, as `-db` keeps HAProxy there: no file), removed on exit."""
    from pylvs.engine.pidfile import PidFile, PidFileError

    path = daemon.spec.proxies.pidfile if daemon.spec is not None else None
    if not path:
        return []
    f = PidFile(path)
    try:
        f.acquire()
    except PidFileError as e:
        log.warning("haproxy.cfg pidfile: %s", e)
        return []
    return [f]


def log_config(args: argparse.Namespace) -> None:
    """-d: the configuration as read, in the log (keepalived dumps its data structures)."""
    import json

    from pylvs.cli.check import host_facts, to_jsonable
    from pylvs.config.keepalived.parser import load

    result = load(args.config, config_id=args.config_id, host=host_facts())
    for line in json.dumps(to_jsonable(result.config), indent=1).splitlines():
        log.info("%s", line)


@contextlib.contextmanager
def core_pattern(pattern: str | None) -> Iterator[None]:
    """-M: core_pattern set while pylvs runs, the old one put back after (as keepalived)."""
    path = "/proc/sys/kernel/core_pattern"
    if pattern is None:
        yield
        return
    try:
        with open(path) as f:
            old = f.read().rstrip("\n")
        with open(path, "w") as f:
            f.write(pattern)
    except OSError as e:
        log.error("cannot set %s (%s): -M ignored", path, e.strerror)
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError), open(path, "w") as f:
            f.write(old)
