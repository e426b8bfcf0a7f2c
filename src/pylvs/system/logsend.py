"""Sending HAProxy's log lines: UDP (IPv4, IPv6), unix datagram sockets, descriptors.

What src/log.c __do_send_log does, with proto/log/syslog.py's bytes: one datagram socket per
address family, opened at the first line, never read (SO_RCVBUF 0, SHUT_RD), each line sent
with MSG_DONTWAIT to the target's address; a descriptor target (`stdout`, `stderr`, `fd@N`)
gets the line in one write, made non-blocking first as HAProxy makes it (a terminal: only when
poll says it can take data).  Sending never blocks
the loop: a full socket or pipe drops the line and counts it (HAProxy's `dropped_logs`, the
DroppedLogs of `show info`); any other error is reported once per process ("sendmsg()/writev()
failed in logger #N: ..."), as HAProxy's alert is.

`LogSender.send(log, level, text)` is HAProxy's `send_log(proxy, level, text)`: the proxy's
targets (none: nothing is sent), or the global ones when `log` is None; the proxy's tag, else
the global `log-tag`, else "haproxy"; `log-send-hostname`'s host.  A target's `level` keeps
less severe lines away, its `min_level` raises more severe ones, its `sample` picks lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from pylvs.model.proxy_log import LogTarget, ProxyLog
from pylvs.proto.log.syslog import (
    PER_SECOND,
    Metadata,
    Sampler,
    cut,
    effective_format,
    frame,
    prepared,
)
from pylvs.proto.log.traffic import split_time

log = logging.getLogger("pylvs.haproxy.log")
PROGRAM = "haproxy"  # HAProxy's default tag is its program name
_DROPPED = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS})

Address = tuple[str, int] | tuple[str, int, int, int] | str


def _nothing(_line: bytes) -> None:
    """A proxy without targets sends nothing."""


class LogSenderError(OSError):
    """A target's address does not resolve (HAProxy refuses such a `log` line at start)."""


# How long a target's name may take to resolve at start (HAProxy resolves at start too, with
# the resolver's own timeouts; pylvs bounds it so that a dead DNS server cannot hold a start
# or a reload for minutes).
RESOLVE_TIMEOUT = 10.0

# A name's first address, or the resolver's error as text.
Resolved = ipaddress.IPv4Address | ipaddress.IPv6Address | str


class _Out:
    """One target as sent to: its address, family and sampler."""

    __slots__ = ("address", "family", "number", "sampler", "target")

    def __init__(self, target: LogTarget, number: int, resolved: dict[str, Resolved]) -> None:
        self.target = target
        self.number = number  # "logger #N" in the error message
        self.sampler = Sampler(target.sample, target.sample_size) if target.sample else None
        self.family = socket.AF_UNIX
        self.address: Address = target.host
        if target.kind == "udp":
            self.family, self.address = _address(target, resolved)


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _lookup(host: str, port: int) -> Resolved:
    """getaddrinfo's first address for `host`, or its error (blocking: run off the loop)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as e:
        return str(e)
    return ipaddress.ip_address(str(infos[0][4][0]).partition("%")[0])


def _address(
    target: LogTarget, resolved: dict[str, Resolved]
) -> tuple[socket.AddressFamily, Address]:
    ip = _literal(target.host)
    if ip is None:
        got = resolved.get(target.host)
        if got is None:  # not prepared (a caller outside the runtime): resolved here
            got = resolved[target.host] = _lookup(target.host, target.port)
        if isinstance(got, str):
            raise LogSenderError(
                f"{target.where}: log: could not resolve address '{target.host}' ({got})"
            )
        ip = got
    if ip.version == 6:
        return socket.AF_INET6, (str(ip), target.port, 0, 0)
    return socket.AF_INET, (str(ip), target.port)


async def _lookup_off_loop(host: str, port: int, timeout: float) -> Resolved:
    """_lookup in a thread of its own, waited for at most `timeout` seconds: a daemon thread,
    so that a resolver that never answers holds neither the loop nor the process's exit."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Resolved] = loop.create_future()

    def deliver(got: Resolved) -> None:
        if not done.done():  # not given up on meanwhile
            done.set_result(got)

    def work() -> None:
        got = _lookup(host, port)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(deliver, got)

    threading.Thread(target=work, name=f"resolve {host}", daemon=True).start()
    try:
        return await asyncio.wait_for(done, timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"


class LogSender:
    """send_log for every proxy of a configuration (see the module doc)."""

    def __init__(
        self,
        global_log: ProxyLog,
        *,
        hostname: str | None = None,
        wall: Callable[[], float] = time.time,
        alert: Callable[[str], None] | None = None,
    ) -> None:
        self.global_log = global_log
        # log-send-hostname: "" names this host (cfgparse-global.c takes its hostname)
        self.hostname = socket.gethostname() if hostname == "" else hostname or ""
        self.wall = wall
        self.alert = alert or log.error
        self.dropped = 0  # lines a full socket or pipe did not take
        self.sent = 0
        self._outs: dict[int, list[_Out]] = {}  # id(targets tuple) -> its outs
        self._resolved: dict[str, Resolved] = {}  # target names, resolved once
        self._keep: list[tuple[LogTarget, ...]] = []  # keeps those ids valid
        self._socks: dict[int, socket.socket] = {}
        self._fds: dict[int, bool] = {}  # descriptors written to: whether a terminal
        self._failed = False  # the once-per-process error report

    async def prepare(
        self, target_sets: Sequence[tuple[LogTarget, ...]], timeout: float = RESOLVE_TIMEOUT
    ) -> None:
        """At start: every name of `target_sets` resolved off the loop (each in a thread,
        at most `timeout` seconds), then each set's sending side made (LogSenderError if a
        name does not resolve), so that names fail before traffic and the loop never waits
        on a resolver."""
        names = {
            (t.host, t.port)
            for targets in target_sets
            for t in targets
            if t.kind == "udp" and _literal(t.host) is None and t.host not in self._resolved
        }
        for host, port in sorted(names):
            self._resolved[host] = await _lookup_off_loop(host, port, timeout)
        for targets in target_sets:
            self.outs(targets)

    def outs(self, targets: tuple[LogTarget, ...]) -> list[_Out]:
        """The sending side of `targets` (names as `prepare` resolved them, else resolved
        here; LogSenderError if one does not resolve)."""
        got = self._outs.get(id(targets))
        if got is None:
            got = [_Out(t, i + 1, self._resolved) for i, t in enumerate(targets)]
            self._outs[id(targets)] = got
            self._keep.append(targets)
        return got

    def send(self, proxy: ProxyLog | None, level: int, text: str | bytes) -> None:
        """send_log(proxy, level, text): `proxy` None logs to the global targets."""
        targets = self.global_log.targets if proxy is None else proxy.targets
        if not targets:
            return
        tag = (proxy.tag if proxy is not None else None) or self.global_log.tag or PROGRAM
        meta = Metadata(tag, os.getpid(), self.hostname)
        when: datetime | None = None
        for out in self.outs(targets):
            t = out.target
            if level > t.level or (out.sampler is not None and not out.sampler.take()):
                continue
            if when is None:
                when = datetime.fromtimestamp(self.wall()).astimezone()
            self._write(out, frame(t, level, meta, text, when))

    def line_sender(self, proxy: ProxyLog | None, level: int) -> Callable[[bytes], None]:
        """send(proxy, level, line) for the many lines of one proxy and level (the pump's
        traffic lines, own_log.py): the targets, tag and metadata taken once, each
        target's header made once per second where its date has no fraction of a second
        (syslog.PER_SECOND), the same bytes as `send` writes."""
        targets = self.global_log.targets if proxy is None else proxy.targets
        if not targets:
            return _nothing
        tag = (proxy.tag if proxy is not None else None) or self.global_log.tag or PROGRAM
        meta = Metadata(tag, os.getpid(), self.hostname)
        outs = [out for out in self.outs(targets) if level <= out.target.level]
        heads: dict[int, tuple[int | None, tuple[bytes, int]]] = {}
        wall, write = self.wall, self._write

        def head(out: _Out, now: float) -> tuple[bytes, int]:
            t = out.target
            if effective_format(t.format, meta) not in PER_SECOND:
                return prepared(t, level, meta, datetime.fromtimestamp(now).astimezone())
            second = split_time(now)[0]
            got = heads.get(id(out))
            if got is None or got[0] != second:
                when = datetime.fromtimestamp(second).astimezone()
                got = heads[id(out)] = (second, prepared(t, level, meta, when))
            return got[1]

        def send(line: bytes) -> None:
            msg = line.rstrip(b"\n\x00")
            now: float | None = None
            for out in outs:
                if out.sampler is not None and not out.sampler.take():
                    continue
                if now is None:
                    now = wall()
                write(out, cut(out.target, head(out, now), msg))

        return send

    def close(self) -> None:
        for sock in self._socks.values():
            sock.close()
        self._socks.clear()

    # -- the writes ------------------------------------------------------------------------

    def _write(self, out: _Out, data: bytes) -> None:
        try:
            if out.target.kind == "fd":
                self._write_fd(out.target.fd, data)
            else:
                self._socket(out.family).sendto(data, socket.MSG_DONTWAIT, out.address)
            self.sent += 1
        except BlockingIOError:
            self.dropped += 1
        except OSError as e:
            if e.errno in _DROPPED:
                self.dropped += 1
            elif not self._failed:
                self._failed = True
                self.alert(
                    f"sendmsg()/writev() failed in logger #{out.number}: "
                    f"{os.strerror(e.errno) if e.errno else e} (errno={e.errno})"
                )

    def _write_fd(self, fd: int, data: bytes) -> None:
        """One write that never blocks: a descriptor that is not a terminal is made
        non-blocking at its first line, as haproxy 2.6.12 does (captured: O_NONBLOCK set
        on a `log fd@3` pipe once it logged), so that a line it cannot take whole now
        fails with EAGAIN and is dropped; a terminal is left blocking, as HAProxy leaves
        it, and written only when poll says it can take data (a stopped terminal would
        block the loop, where HAProxy's thread would wait)."""
        tty = self._fds.get(fd)
        if tty is None:
            tty = self._fds[fd] = os.isatty(fd)
            if not tty:
                os.set_blocking(fd, False)
        if tty:
            poll = select.poll()
            poll.register(fd, select.POLLOUT)
            if not poll.poll(0):
                raise BlockingIOError(errno.EAGAIN, "descriptor full")
        os.write(fd, data)

    def _socket(self, family: int) -> socket.socket:
        sock = self._socks.get(family)
        if sock is None:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 0)
                sock.shutdown(socket.SHUT_RD)  # never read: as HAProxy's
            self._socks[family] = sock
        return sock
