"""`pylvs haproxy` running a configuration: one process, in the foreground or as a daemon.

HAProxy 2.6's `main()` (src/haproxy.c), in its order: the memory limit (`-m`), the listeners
bound (the runtime's start: `fd@N` listeners are the parent's sockets, system/inherited.py),
"No enabled listener found" when there is none, the pid file (`-p`, written in daemon and
master-worker modes only), then `-sf`/`-st`: the old processes get SIGUSR1 (finish their
connections, then exit) or SIGTERM (stop now) once this one listens.  `-D` (or `daemon` in
`global`, unless `-d`/`-db`) forks: the parent exits 0 once the daemon listens, 1 with its
alerts if it could not start; the pid file is `-p`'s, else `pidfile`'s.  Signals as
HAProxy's worker takes them (haproxy.c `main`, `sig_soft_stop`, `sig_pause`, `sig_listen`,
`sig_dump_state`): SIGUSR1 soft stop (after `grace`, listeners closed, connections finish
unless `hard-stop-after` cuts them, then exit 0: cli/haproxy_stop.py), SIGTERM and SIGINT end
the process at once (their default action: HAProxy registers no handler for them), SIGTTOU
pauses the listeners (the ports stay bound, free for a new process) and SIGTTIN resumes
them, SIGHUP writes each server's state as warnings, SIGUSR2 is ignored.
Master-worker mode (`-W`) is cli/haproxy_master.py.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import logging
import os
import resource
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pylvs.cli.haproxy_args import Options
from pylvs.cli.haproxy_check import Loaded, cited
from pylvs.cli.haproxy_msgs import Messages
from pylvs.cli.haproxy_ports import take_over, tell
from pylvs.cli.haproxy_stop import Stopper
from pylvs.config.registry import ConfigSource, LoadOptions
from pylvs.config.registry import Loaded as SpecLoaded

if TYPE_CHECKING:
    from pylvs.engine.daemon import Daemon
    from pylvs.model.proxy_spec import ServerSpec

log = logging.getLogger("pylvs.haproxy")
HARD_STOP = float("inf")  # HAProxy's soft stop waits for every connection (no hard-stop-after)


class FilesSource(ConfigSource):
    """The configuration files of the command line, read again at each reload as one
    configuration (config/haproxy/source.py `load_paths`)."""

    format = "haproxy"

    def __init__(self, files: Sequence[str], options: LoadOptions) -> None:
        self.files = list(files)
        self.options = options

    def load(self, path: str) -> SpecLoaded:
        from pylvs.config.haproxy.source import load_paths

        return load_paths(self.files, self.options)

    def server_line(self, backend: str, name: str, words: Sequence[str]) -> ServerSpec | str:
        from pylvs.config.haproxy.dynamic import dynamic_server

        return dynamic_server(backend, name, words)


def run(opts: Options, msgs: Messages, loaded: Loaded) -> int:
    if opts.master_worker or loaded.config.global_.master_worker:
        from pylvs.cli.haproxy_master import run_master

        return run_master(opts, msgs, loaded)
    return run_worker(opts, msgs, loaded, daemon_mode=daemon_mode(opts, loaded))


def daemon_mode(opts: Options, loaded: Loaded) -> bool:
    """-D or `daemon`, unless -d or -db (the command line's debug modes win)."""
    if opts.debug or opts.foreground:
        return False
    return opts.daemon or loaded.config.global_.daemon


def run_worker(
    opts: Options,
    msgs: Messages,
    loaded: Loaded,
    *,
    daemon_mode: bool,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Run the configuration in this process until it stops; the exit status."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)  # HAProxy's hard stop: no handler at all
    if loaded.config.listeners == 0:
        msgs.alert(
            f"[{sys.argv[0]}.main()] No enabled listener found (check for 'bind' directives) !"
            " Exiting."
        )
        return 1
    if not memory_limit(opts, msgs):
        return 1
    _logging(opts)
    if opts.old_pids and not _take_over(opts, msgs, loaded):
        return 1
    if opts.old_pids:  # HAProxy's nb_oldpids: the peers sections learn from the old process
        from pylvs.dataplane.haproxy import peers

        peers.OLD_PROCESSES = len(opts.old_pids)
    told: int | None = None
    if daemon_mode:
        told = fork_daemon()
    daemon = make_daemon(opts, loaded)
    from pylvs.engine.daemon import ConfigRefusedError

    # The checks' state lines on stderr as HAProxy's ha_warning / ha_alert print them
    daemon.check_console = msgs.running

    try:
        return asyncio.run(_serve(daemon, opts, msgs, told, on_ready))
    except ConfigRefusedError as e:  # what the runtime cannot run of a valid configuration
        for p in e.problems.errors:
            msgs.alert(cited(p))
        msgs.alert("Fatal errors found in configuration.")
        return 1
    except OSError as e:
        msgs.alert(f"[{sys.argv[0]}.main()] {e}")
        msgs.alert(
            f"[{sys.argv[0]}.main()] Some protocols failed to start their listeners! Exiting."
        )
        if opts.old_pids:
            tell(opts.old_pids, signal.SIGTTIN)
        return 1


def command_line_settings(opts: Options) -> list[str]:
    """-n: the global maxconn the command line imposes, as a last `global` section (the last
    `maxconn` read wins, as HAProxy's cfg_maxconn overrides the configuration's); -dS:
    `nosplice` there (haproxy.c clears GTUNE_USE_SPLICE for both); in a file of this
    process's own, removed when it exits."""
    lines = [f"    maxconn {opts.maxconn}\n"] if opts.maxconn else []
    if "S" in opts.machinery:
        lines.append("    nosplice\n")
    if not lines:
        return []
    fd, path = tempfile.mkstemp(prefix="pylvs-haproxy-n-", suffix=".cfg")
    with os.fdopen(fd, "w") as f:
        f.write("global\n" + "".join(lines))
    atexit.register(_unlink, path)
    return [path]


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def memory_limit(opts: Options, msgs: Messages) -> bool:
    """-m: the address space limit HAProxy sets (RLIMIT_AS)."""
    if not opts.memmax:
        return True
    limit = opts.memmax * 1048576
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        msgs.alert(f"[{sys.argv[0]}.main()] Cannot fix MEM limit to {opts.memmax} megs.")
        return False
    return True


def _logging(opts: Options) -> None:
    """pylvs's own log on stderr: warnings (what HAProxy says in the foreground), everything
    with -d, information too with -V, nothing with -q."""
    from pylvs.engine.logsetup import setup_logging

    level = "DEBUG" if opts.debug else "INFO" if opts.verbose else "WARNING"
    if opts.quiet and not opts.verbose:
        level = "CRITICAL"
    setup_logging(level, destination="stderr")


def make_daemon(opts: Options, loaded: Loaded) -> Daemon:
    from pylvs.cli.hostfacts import host_facts
    from pylvs.dataplane.proxy.plane import ProxyDataPlane
    from pylvs.engine.daemon import Daemon, RunOptions

    control = os.environ.get("PYLVS_CONTROL") or os.path.join(
        tempfile.gettempdir(), f"pylvs-haproxy.{os.getpid()}.sock"
    )
    run_opts = RunOptions(config=loaded.files[0], control=control, grace=HARD_STOP, vrrp=False)
    host = host_facts(quiet_lua=True)
    if opts.local_peer is not None:  # -L: the local peer's name in `peers` sections
        host = dataclasses.replace(host, hostname=opts.local_peer)
    files = [*loaded.files, *command_line_settings(opts)]
    source = FilesSource(files, LoadOptions(host=host))
    return Daemon(run_opts, ProxyDataPlane(), host, source)


async def _serve(
    daemon: Daemon,
    opts: Options,
    msgs: Messages,
    told: int | None,
    on_ready: Callable[[], None] | None,
) -> int:
    daemon.control.claim()
    loop = asyncio.get_running_loop()
    # The signals HAProxy handles are taken from before the listeners are bound: one that
    # arrives while the runtime starts (a client may already connect) is kept and handled
    # once it runs; left to its default action, SIGTTOU stopped the process and SIGUSR1 or
    # SIGHUP ended it (seen: a test's SIGTTOU right after its first connection).
    early: list[int] = []
    for sig in _HANDLED:
        loop.add_signal_handler(sig, early.append, sig)
    await daemon.start()
    if opts.old_pids:
        tell(opts.old_pids, getattr(signal, f"SIG{opts.old_pids_signal}"))
    if told is not None:  # -p, else the configuration's `pidfile` (daemon mode only)
        spec = daemon.spec.proxies if daemon.spec is not None else None
        write_pidfile(opts.pidfile or (spec.pidfile if spec is not None else None), msgs)
        detach_stdio()
        os.write(told, b"ok")
        os.close(told)
    if on_ready is not None:
        on_ready()
    stopper = Stopper(daemon, msgs)  # cli/haproxy_stop.py
    handlers: dict[int, Callable[[], None]] = {
        signal.SIGUSR1: stopper.soft_stop,
        signal.SIGUSR2: lambda: None,
        signal.SIGHUP: lambda: dump_state(daemon, msgs),
        signal.SIGTTOU: lambda: stopper.pause(True),
        signal.SIGTTIN: lambda: stopper.pause(False),
    }
    for number, handler in handlers.items():
        loop.add_signal_handler(number, handler)
    for number in early:
        handlers[number]()
    try:
        await daemon.stopping.wait()
    finally:
        await daemon.shutdown()
    return 0


_HANDLED = (signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP, signal.SIGTTOU, signal.SIGTTIN)


def dump_state(daemon: Daemon, msgs: Messages) -> None:
    """SIGHUP: each server's state, as HAProxy's sig_dump_state words it."""
    msgs.warning("SIGHUP received, dumping servers states.")
    snapshot = daemon.snapshot()
    for line in getattr(snapshot, "haproxy_state_lines", lambda: [])():
        msgs.warning(line)


def _take_over(opts: Options, msgs: Messages, loaded: Loaded) -> bool:
    """-sf/-st: the old processes' ports, freed for this one (cli/haproxy_ports.py)."""
    busy = take_over(loaded.config, opts.old_pids)
    for endpoint in busy:
        where = (
            f"[abns@{endpoint.path}]"
            if endpoint.family == "abns"
            else f"[{endpoint.host or '*'}:{endpoint.port}]"
        )
        msgs.alert(f"Starting proxy: cannot bind socket (Address already in use) {where}")
    if busy:
        msgs.alert(
            f"[{sys.argv[0]}.main()] Some protocols failed to start their listeners! Exiting."
        )
    return not busy


def write_pidfile(path: str | None, msgs: Messages, pid: int | None = None) -> bool:
    """The pid file, unlinked first as HAProxy does (a stale one may be a symlink)."""
    if path is None:
        return True
    with contextlib.suppress(OSError):
        os.unlink(path)
    try:
        with open(path, "w") as f:
            f.write(f"{pid or os.getpid()}\n")
    except OSError:
        msgs.alert(f"[{sys.argv[0]}.main()] Cannot create pidfile {path}")
        return False
    return True


def fork_daemon() -> int:
    """-D: fork; the parent waits until the daemon listens (exit 0) or fails (exit 1, its
    alerts already on the terminal); returns, in the daemon, the pipe to say "ok" on."""
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    if os.fork() > 0:
        os.close(wfd)
        said = b""
        while chunk := os.read(rfd, 64):
            said += chunk
        os._exit(0 if said == b"ok" else 1)
    os.close(rfd)
    os.setsid()
    return wfd


def detach_stdio() -> None:
    """The daemon's stdin, stdout and stderr become /dev/null (HAProxy's stdio_quiet)."""
    sys.stdout.flush()
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
