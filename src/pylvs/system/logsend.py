"""Sending HAProxy's log lines: UDP (IPv4, IPv6), unix datagram sockets, descriptors.

What src/log.c __do_send_log does, with proto/log/syslog.py's bytes: one datagram socket per
address family, opened at the first line, never read (SO_RCVBUF 0, SHUT_RD), each line sent
with MSG_DONTWAIT to the target's address; a descriptor target (`stdout`, `stderr`, `fd@N`)
gets the line in one write, and only when the descriptor can take it.  Sending never blocks
the loop: a full socket or pipe drops the line and counts it (HAProxy's `dropped_logs`, the
DroppedLogs of `show info`); any other error is reported once per process ("sendmsg()/writev()
failed in logger #N: ..."), as HAProxy's alert is.

`LogSender.send(log, level, text)` is HAProxy's `send_log(proxy, level, text)`: the proxy's
targets (none: nothing is sent), or the global ones when `log` is None; the proxy's tag, else
the global `log-tag`, else "haproxy"; `log-send-hostname`'s host.  A target's `level` keeps
less severe lines away, its `min_level` raises more severe ones, its `sample` picks lines.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import select
import socket
import time
from collections.abc import Callable
from datetime import datetime

from pylvs.model.proxy_log import LogTarget, ProxyLog
from pylvs.proto.log.syslog import Metadata, Sampler, frame

log = logging.getLogger("pylvs.haproxy.log")
PROGRAM = "haproxy"  # HAProxy's default tag is its program name
_DROPPED = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS})

Address = tuple[str, int] | tuple[str, int, int, int] | str


class LogSenderError(OSError):
    """A target's address does not resolve (HAProxy refuses such a `log` line at start)."""


class _Out:
    """One target as sent to: its address, family and sampler."""

    __slots__ = ("address", "family", "number", "sampler", "target")

    def __init__(self, target: LogTarget, number: int) -> None:
        self.target = target
        self.number = number  # "logger #N" in the error message
        self.sampler = Sampler(target.sample, target.sample_size) if target.sample else None
        self.family = socket.AF_UNIX
        self.address: Address = target.host
        if target.kind == "udp":
            self.family, self.address = _resolve(target)


def _resolve(target: LogTarget) -> tuple[socket.AddressFamily, Address]:
    try:
        ip = ipaddress.ip_address(target.host)
    except ValueError:
        try:
            infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM)
        except OSError as e:
            raise LogSenderError(
                f"{target.where}: log: could not resolve address '{target.host}' ({e})"
            ) from None
        ip = ipaddress.ip_address(str(infos[0][4][0]).partition("%")[0])
    if ip.version == 6:
        return socket.AF_INET6, (str(ip), target.port, 0, 0)
    return socket.AF_INET, (str(ip), target.port)


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
        self._keep: list[tuple[LogTarget, ...]] = []  # keeps those ids valid
        self._socks: dict[int, socket.socket] = {}
        self._failed = False  # the once-per-process error report

    def outs(self, targets: tuple[LogTarget, ...]) -> list[_Out]:
        """The sending side of `targets` (resolved once; LogSenderError if a name does not
        resolve).  Call it at start for every proxy, so names fail before traffic."""
        got = self._outs.get(id(targets))
        if got is None:
            got = [_Out(t, i + 1) for i, t in enumerate(targets)]
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
        """One write when the descriptor can take it now (a pipe or terminal that is full
        would block the loop: the line is dropped instead)."""
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
