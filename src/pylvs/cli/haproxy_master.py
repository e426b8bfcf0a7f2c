"""`pylvs haproxy -W` (or `master-worker` in `global`): HAProxy 2.6's master-worker mode.

As src/haproxy.c and src/mworker.c do it: the master reads the configuration, forks the worker
(cli/haproxy_run.py runs it) and the `program` sections' commands, writes its own pid to the
pid file, serves the master CLI (`-S`, cli/haproxy_mcli.py), and waits.  Signals: SIGTERM,
SIGINT and SIGUSR1 are passed to every child ("Exiting Master process..."), SIGTTOU/SIGTTIN
too; SIGHUP, SIGUSR2 and the CLI's `reload` reload.  A reload re-executes the master (same pid,
same command line, the children and the CLI sockets kept across the exec in the environment):
the new master reads the configuration again and forks a new worker that, once it listens,
sends SIGUSR1 to the old ones (as `-sf` does) — they finish their connections and leave.  A
configuration that fails to load keeps the master waiting with the old processes ("Loading
failure!").  When a child ends the master says so as HAProxy does; a current one ending with
a failure (not 0, SIGINT or SIGTERM) makes it stop the others (exit-on-failure); when none is
left it exits with the first such status ("All workers exited. Exiting...").
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

from pylvs.cli.haproxy_args import Options
from pylvs.cli.haproxy_check import Loaded
from pylvs.cli.haproxy_mcli import Proc
from pylvs.cli.haproxy_msgs import Messages
from pylvs.cli.haproxy_ports import tell

ENV_REEXEC = "HAPROXY_MWORKER_REEXEC"
ENV_STATE = "PYLVS_HAPROXY_MASTER"  # the master's state across a re-exec (JSON)
READY_TIMEOUT = 30.0  # how long the master waits for a new worker to listen


@dataclasses.dataclass
class Master:
    opts: Options
    msgs: Messages
    rundir: str  # where the workers' private CLI sockets are
    cli_fds: list[int]  # the master CLI's listening sockets
    procs: list[Proc]
    reloads: int = 0
    failed: int = 0
    started: float = dataclasses.field(default_factory=time.time)
    exitcode: int = -1
    done: asyncio.Future[int] | None = None
    notify_socket: str = ""  # -Ws: systemd's $NOTIFY_SOCKET, kept for the next re-exec
    notify: Callable[[str], None] | None = None

    def tell_systemd(self, state: str) -> None:
        if self.notify is not None:
            self.notify(state)

    def worker_socket(self, pid: int) -> str:
        return os.path.join(self.rundir, f"worker-{pid}.sock")

    def state(self) -> str:
        procs = [dataclasses.asdict(p) for p in self.procs]
        return json.dumps(
            {
                "rundir": self.rundir,
                "cli": self.cli_fds,
                "procs": procs,
                "reloads": self.reloads,
                "failed": self.failed,
                "started": self.started,
                "notify_socket": self.notify_socket,
            }
        )


def run_master(opts: Options, msgs: Messages, loaded: Loaded | None) -> int:
    """The master process; `loaded` is None when a reload's configuration failed to load."""
    master = _restore(opts, msgs)
    g = loaded.config.global_ if loaded is not None else None
    # -D or `daemon`, -p or `pidfile` (the command line wins; -d/-db keep the foreground)
    daemon = (opts.daemon or (g is not None and g.daemon)) and not (opts.debug or opts.foreground)
    if master is None:
        if daemon:
            _background()
        master = Master(opts, msgs, tempfile.mkdtemp(prefix="pylvs-haproxy-"), _cli(opts), [])
    os.environ["HAPROXY_MWORKER"] = "1"
    if opts.systemd:  # -Ws: the master speaks to systemd (sd_notify), its workers do not
        _systemd(master)
    from pylvs.cli.haproxy_run import detach_stdio, write_pidfile

    # A reload asked for as soon as the pid file is there (a test driver's `kill -USR2`)
    # waits for the loop's handler (serve) instead of SIGUSR2's default action, which ends
    # the process.
    for sig in (signal.SIGHUP, signal.SIGUSR2):
        signal.signal(sig, _early_reload)
    # haproxy.c opens the pid file before forking and writes the master's pid as soon as
    # the worker is forked, not once it listens (varnishtest reads it within 3 s)
    if not write_pidfile(opts.pidfile or (g.pidfile if g is not None else None), msgs):
        return 1
    if loaded is None:
        master.failed += 1
        msgs.warning("Loading failure!")
    else:
        _start_children(master, loaded)
    if daemon:
        detach_stdio()
    master.tell_systemd(f"READY=1\nMAINPID={os.getpid()}")
    from pylvs.cli.haproxy_master_loop import serve

    return asyncio.run(serve(master))


EARLY_RELOADS: list[int] = []  # reloads asked before the master's loop ran


def _early_reload(sig: int, _frame: object) -> None:
    EARLY_RELOADS.append(sig)


def _restore(opts: Options, msgs: Messages) -> Master | None:
    """The master's state when this process is a reload's re-execution."""
    if os.environ.pop(ENV_REEXEC, None) is None:
        return None
    data = json.loads(os.environ.pop(ENV_STATE, "{}") or "{}")
    procs = [Proc(**p) for p in data.get("procs", [])]
    return Master(
        opts,
        msgs,
        data.get("rundir") or tempfile.mkdtemp(prefix="pylvs-haproxy-"),
        list(data.get("cli", [])),
        procs,
        reloads=data.get("reloads", 0),
        failed=data.get("failed", 0),
        started=data.get("started", time.time()),
        notify_socket=data.get("notify_socket", ""),
    )


def _systemd(master: Master) -> None:
    from pylvs.cli.sdnotify import from_environment

    if master.notify_socket:  # a re-execution: the variable went with the first start
        os.environ["NOTIFY_SOCKET"] = master.notify_socket
    master.notify_socket = os.environ.get("NOTIFY_SOCKET", "")
    master.notify = from_environment()  # takes it out of the environment the children get


def _background() -> None:
    """-D with -W: the master goes to the background at once; the foreground process exits 0."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() > 0:
        os._exit(0)
    os.setsid()


def _cli(opts: Options) -> list[int]:
    """The master CLI's listening sockets (-S), kept open across re-executions."""
    from pylvs.system.inherited import is_inherited, listening_socket

    fds = []
    for spec in opts.master_cli:
        address, *options = spec.split(",")
        if is_inherited(address):
            sock = listening_socket(address, 10)
        else:
            sock = _bind(address, options)
        sock.set_inheritable(True)
        fds.append(sock.detach())
    return fds


def _bind(address: str, options: Sequence[str]) -> socket.socket:
    """A master CLI address: `unix@PATH`, a path, `ipv4@HOST:PORT` or `HOST:PORT`; the unix
    socket gets `mode` / `uid` / `gid` from the options (`-S /run/x.sock,mode,600`)."""
    from pylvs.control.stats_socket import parse_address

    endpoint = parse_address(address)
    if endpoint.family == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(endpoint.path):
            os.unlink(endpoint.path)
        sock.bind(endpoint.path)
        settings = dict(zip(options[::2], options[1::2], strict=False))
        if "mode" in settings:
            os.chmod(endpoint.path, int(settings["mode"], 8))
        if "uid" in settings or "gid" in settings:
            os.chown(endpoint.path, int(settings.get("uid", -1)), int(settings.get("gid", -1)))
    else:
        family = socket.AF_INET6 if endpoint.family == "ipv6" else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((endpoint.host, endpoint.port))
    sock.listen(10)
    return sock


def _start_children(master: Master, loaded: Loaded) -> None:
    """Fork the new worker and the programs; the old ones become leaving."""
    old = [p for p in master.procs if not p.leaving]
    # the new worker pauses the old workers (if it must) and tells them to finish once it
    # listens; the old programs are the master's to end (they would only stop on a SIGTTOU)
    worker = _fork_worker(master, loaded, [p.pid for p in master.procs if not p.program])
    for p in old:
        p.leaving = True
        p.reloads += 1
    tell([p.pid for p in master.procs if p.program and p.leaving], signal.SIGUSR1)
    master.procs.append(worker)
    master.msgs.notice(f"New worker ({worker.pid}) forked")
    for name, command in programs(loaded):
        pid = _fork_program(name, command, master)
        if pid > 0:
            master.procs.append(Proc(pid, name, program=True))
            master.msgs.notice(f"New program '{name}' ({pid}) forked")
    master.msgs.notice("Loading success.")


def programs(loaded: Loaded) -> list[tuple[str, list[str]]]:
    """Each `program` section's id and command (mworker-prog.c)."""
    found = []
    for section in loaded.config.kept_sections:
        if section.kind != "program":
            continue
        command = next((list(args) for kw, args in section.lines if kw == "command"), None)
        if command:
            found.append((section.name, command))
    return found


def _fork_program(name: str, command: list[str], master: Master) -> int:
    pid = os.fork()
    if pid > 0:
        return pid
    try:
        _close_cli(master)
        os.execvp(command[0], command)
    except OSError as e:
        master.msgs.alert(f"Cannot execute {command[0]}: {e.strerror}")
    os._exit(1)


def _close_cli(master: Master) -> None:
    for fd in master.cli_fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _fork_worker(master: Master, loaded: Loaded, old_pids: list[int]) -> Proc:
    """Fork the worker; return once it listens (or has failed)."""
    rfd, wfd = os.pipe()
    master_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        _close_cli(master)
        _die_with(master_pid)
        os._exit(_worker(master, loaded, old_pids, wfd))
    os.close(wfd)
    _wait_ready(rfd)
    return Proc(pid, "worker")


def _die_with(master_pid: int) -> None:
    """A worker ends when its master does (HAProxy's worker exits when the master closes their
    socket pair): the kernel sends it SIGTERM then (prctl PR_SET_PDEATHSIG)."""
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != master_pid:  # it died before the request took effect
        os._exit(1)


def _wait_ready(rfd: int) -> None:
    import select

    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([rfd], [], [], left)
            if not ready or not os.read(rfd, 64):
                return
    finally:
        os.close(rfd)


def _worker(master: Master, loaded: Loaded, old_pids: list[int], ready_fd: int) -> int:
    """In the worker: run the configuration plus a private CLI socket for the master."""
    from pylvs.cli.haproxy_run import run_worker

    private = os.path.join(master.rundir, f"worker-{os.getpid()}.cfg")
    with open(private, "w") as f:
        # `master-worker`: what -W told the master's reading (`program` sections need it)
        f.write(
            "global\n    master-worker\n"
            f'    stats socket "{master.worker_socket(os.getpid())}" level admin\n'
        )
        if master.opts.maxconn:  # -n (cli/haproxy_run.py command_line_settings)
            f.write(f"    maxconn {master.opts.maxconn}\n")
    opts = dataclasses.replace(
        master.opts,
        old_pids=old_pids,
        old_pids_signal="USR1",
        pidfile=None,
        maxconn=None,
        master_worker=False,
        daemon=False,
    )
    worker_loaded = Loaded(loaded.config, loaded.problems, [*loaded.files, private])

    def ready() -> None:
        os.write(ready_fd, b"ok")
        os.close(ready_fd)

    return run_worker(opts, master.msgs, worker_loaded, daemon_mode=False, on_ready=ready)


def reexec(master: Master) -> None:
    """Reload: the master runs again from the start, keeping its pid, children and sockets."""
    master.msgs.notice("Reloading HAProxy")
    master.tell_systemd("RELOADING=1")
    master.reloads += 1
    for fd in master.cli_fds:
        os.set_inheritable(fd, True)
    os.environ[ENV_REEXEC] = "1"
    os.environ[ENV_STATE] = master.state()
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "pylvs", "haproxy", *sys.argv[_own_args() :]]
    os.execv(sys.executable, argv)


def _own_args() -> int:
    """Where HAProxy's arguments start in sys.argv (after `pylvs haproxy` or `pylvs-haproxy`)."""
    return 2 if len(sys.argv) > 1 and sys.argv[1] == "haproxy" else 1


def cleanup(master: Master) -> None:
    shutil.rmtree(master.rundir, ignore_errors=True)
