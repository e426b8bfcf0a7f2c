"""The master's event loop (cli/haproxy_master.py starts it): signals, children, master CLI.

Children are reaped on SIGCHLD and reported in HAProxy's words (src/mworker.c
`mworker_catch_sigchld`): a current worker that exits is a warning (status < 128) or an alert
(killed by a signal), a program an alert, a former one a warning; a current child that fails
(any status but 0, 130 and 143) makes the master send SIGTERM to the others; the first status
other than 0 and 143 becomes the master's exit status once no child is left.  The master CLI
(cli/haproxy_mcli.py) is served on each `-S` socket; a command for a worker is relayed to the
worker's private stats socket and its answer back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time

from pylvs.cli.haproxy_master import EARLY_RELOADS, Master, cleanup, reexec
from pylvs.cli.haproxy_mcli import Relay, master_answer, route, show_proc, split_commands

MAX_LINE = 16384  # the CLI's buffer
WORKER_TIMEOUT = 30.0  # how long a relayed command may take


async def serve(master: Master) -> int:
    loop = asyncio.get_running_loop()
    master.done = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        loop.add_signal_handler(sig, _stop, master, sig)
    for sig in (signal.SIGTTIN, signal.SIGTTOU):
        loop.add_signal_handler(sig, _kill_all, master, sig)
    for sig in (signal.SIGHUP, signal.SIGUSR2):
        loop.add_signal_handler(sig, reexec, master)
    loop.add_signal_handler(signal.SIGCHLD, _reap, master)
    if EARLY_RELOADS:  # asked for before the handlers were in
        EARLY_RELOADS.clear()
        loop.call_soon(reexec, master)
    servers = []
    for fd in master.cli_fds:
        sock = socket.socket(fileno=os.dup(fd))  # the original stays for the next re-exec
        handler = _session_handler(master)
        if sock.family == socket.AF_UNIX:
            servers.append(await asyncio.start_unix_server(handler, sock=sock))
        else:
            servers.append(await asyncio.start_server(handler, sock=sock))
    _reap(master)  # children that ended before the loop ran
    try:
        return await master.done
    finally:
        for server in servers:
            server.close()
        cleanup(master)


def _stop(master: Master, sig: int) -> None:
    master.tell_systemd("STOPPING=1")
    master.msgs.warning("Exiting Master process...")
    _kill_all(master, sig)


def _kill_all(master: Master, sig: int) -> None:
    for p in master.procs:
        with contextlib.suppress(OSError):
            os.kill(p.pid, sig)


def _reap(master: Master) -> None:
    while True:
        try:
            pid, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            _all_gone(master)
            return
        if pid == 0:
            return
        _ended(master, pid, _status(raw))


def _status(raw: int) -> int:
    if os.WIFEXITED(raw):
        return os.WEXITSTATUS(raw)
    if os.WIFSIGNALED(raw):
        return 128 + os.WTERMSIG(raw)
    if os.WIFSTOPPED(raw):
        return 128 + os.WSTOPSIG(raw)
    return 255


def _why(status: int) -> str:
    return signal.strsignal(status - 128) or "Unknown signal" if status >= 128 else "Exit"


def _ended(master: Master, pid: int, status: int) -> None:
    found = next((p for p in master.procs if p.pid == pid), None)
    msgs = master.msgs
    if found is None:
        msgs.warning(f"Process {pid} exited with code {status} ({_why(status)})")
        return
    master.procs.remove(found)
    _forget_socket(master, pid)
    if found.leaving:
        what = f"Former program '{found.name}'" if found.program else "Former worker"
        msgs.warning(f"{what} ({pid}) exited with code {status} ({_why(status)})")
        return
    if found.program:
        msgs.alert(
            f"Current program '{found.name}' ({pid}) exited with code {status} ({_why(status)})"
        )
    elif status < 128:
        msgs.warning(f"Current worker ({pid}) exited with code {status} (Exit)")
    else:
        msgs.alert(f"Current worker ({pid}) exited with code {status} ({_why(status)})")
    if status not in (0, 130, 143):
        msgs.alert("exit-on-failure: killing every processes with SIGTERM")
        _kill_all(master, signal.SIGTERM)
    if master.exitcode < 0 and status not in (0, 143):
        master.exitcode = status


def _forget_socket(master: Master, pid: int) -> None:
    for path in (master.worker_socket(pid), os.path.join(master.rundir, f"worker-{pid}.cfg")):
        with contextlib.suppress(OSError):
            os.unlink(path)


def _all_gone(master: Master) -> None:
    if master.done is None or master.done.done():
        return
    code = master.exitcode if master.exitcode > 0 else 0
    master.msgs.warning(f"All workers exited. Exiting... ({code})")
    master.done.set_result(code)


def _session_handler(master: Master):  # type: ignore[no-untyped-def]
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _session(master, reader, writer)
        except (TimeoutError, OSError, ValueError):
            pass  # the client went away or sent garbage: that session only
        finally:
            writer.close()

    return handle


async def _session(
    master: Master, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    interactive, level = False, "admin"
    while True:
        if interactive:
            writer.write(b"\nmaster> ")
            await writer.drain()
        line = await reader.readline()
        if not line:
            return
        for command in split_commands(line.decode("utf-8", "replace")):
            words = command.split()
            if words[0] == "prompt":
                interactive = not interactive
                continue
            if words[0] == "quit":
                return
            text, level = await _answer(master, words, level)
            writer.write(text.encode())
        await writer.drain()
        if not interactive:
            return


async def _answer(master: Master, words: list[str], level: str) -> tuple[str, str]:
    """One command's whole answer (with the empty line that ends it, where HAProxy has one)."""
    words, where = route(words, master.procs)
    if isinstance(where, Relay):
        return await _relay(master, where.pid, where.command), level
    if isinstance(where, str):
        return where, level
    if words[:1] == ["reload"]:
        reexec(master)
    if words[:2] == ["show", "proc"]:
        counts = (master.reloads, master.failed)
        text = show_proc(os.getpid(), counts, master.started, master.procs, time.time())
    else:
        text, level = master_answer(words, level)
    return (text + "\n" if text else ""), level


async def _relay(master: Master, pid: int, command: str) -> str:
    """A worker's answer to `command`, from its private stats socket."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(master.worker_socket(pid)), WORKER_TIMEOUT
        )
    except (TimeoutError, OSError):
        return "Can't connect to the target CLI!\n"
    try:
        writer.write(command.encode() + b"\n")
        writer.write_eof()
        data = await asyncio.wait_for(reader.read(), WORKER_TIMEOUT)
    except (TimeoutError, OSError):
        return "Can't connect to the target CLI!\n"
    finally:
        writer.close()
    return data.decode("utf-8", "replace")
