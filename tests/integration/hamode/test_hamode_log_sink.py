"""HAProxy's `log` targets on real sockets (system/logsend.py, ProxyRuntime.send_log): UDP over
IPv4 and IPv6, unix datagram sockets, a pipe as a descriptor; a target that cannot take a
line drops it and counts it without blocking; a broken one is reported once."""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.model.proxy_log import LogTarget, ProxyLog
from pylvs.system.logsend import LogSender, LogSenderError
from tests.port_helpers import free_port

F_SETPIPE_SZ = 1031  # linux/fcntl.h (F_LINUX_SPECIFIC_BASE + 7)
WALL = 1_796_542_800.25  # 2026-12-06T07:40:00.25Z


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    yield s
    s.close()


def udp_target(sock: socket.socket, level: int = 7) -> LogTarget:
    host, port = sock.getsockname()[:2]
    return LogTarget("udp", 16, host=host, port=port, level=level)


def test_udp_lines_carry_the_header_and_skip_by_level(udp: socket.socket) -> None:
    sender = LogSender(ProxyLog((udp_target(udp, level=5),)), wall=lambda: WALL)
    try:
        sender.send(None, 6, "info: not sent at level notice")
        sender.send(None, 1, "Server be/s1 is DOWN.\n")
        got = udp.recv(2048)
    finally:
        sender.close()
    pid = os.getpid()
    assert got.endswith(f" haproxy[{pid}]: Server be/s1 is DOWN.\n".encode())
    assert got.startswith(b"<129>Dec  6 ")
    assert (sender.sent, sender.dropped) == (1, 0)


def test_ipv6_unix_and_pipe_targets_with_tags_and_hostname(tmp_path: Path) -> None:
    v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    v6.bind(("::1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "log.sock")
    unix.bind(path)
    r, w = os.pipe()
    targets = (
        LogTarget("udp", 16, host="::1", port=v6.getsockname()[1], format="rfc5424"),
        LogTarget("unix", 17, host=path),
        LogTarget("fd", 18, fd=w, format="raw"),
    )
    sender = LogSender(ProxyLog(tag="gtag"), hostname="lb1", wall=lambda: WALL)
    try:
        sender.send(ProxyLog(targets, tag="be"), 5, "hello")
        v6.settimeout(5)
        unix.settimeout(5)
        first, second, third = v6.recv(2048), unix.recv(2048), os.read(r, 2048)
    finally:
        sender.close()
        v6.close()
        unix.close()
        os.close(r)
        os.close(w)
    assert first.startswith(b"<133>1 2026-12-06T")
    assert first.endswith(f" lb1 be {os.getpid()} - - hello\n".encode())
    assert second.startswith(b"<141>Dec  6 ") and second.endswith(
        b" lb1 be[%d]: hello\n" % os.getpid()
    )
    assert third == b"hello\n"
    # a proxy without a tag takes the global one
    assert sender.global_log.tag == "gtag"


def test_a_full_socket_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "full.sock")
    unix.bind(path)
    unix.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    r, w = os.pipe()
    full = b"x" * 65536  # a pipe's whole buffer
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, full)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)  # as it was handed over: the sender must not block on it
    targets = (LogTarget("unix", 16, host=path), LogTarget("fd", 16, fd=w))
    sender = LogSender(ProxyLog(targets))
    try:
        for _ in range(200):
            sender.send(None, 6, "y" * 500)
        # haproxy 2.6.12 makes a descriptor it logs to non-blocking (captured on a pipe)
        assert not os.get_blocking(w)
    finally:
        sender.close()
        unix.close()
        os.close(r)
        os.close(w)
    assert sender.dropped >= 200  # every pipe line, and the datagrams past the buffer
    assert sender.sent + sender.dropped == 400


def test_a_line_longer_than_a_pipes_room_is_dropped_not_blocked_on() -> None:
    """A pipe with one free page says it can take data (POLLOUT); a longer line written
    blocking would wait for the reader: it is dropped instead (len up to 65535)."""
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)  # a pipe of one page
    target = LogTarget("fd", 16, fd=w, maxlen=65535)
    sender = LogSender(ProxyLog((target,)))
    writer = threading.Thread(target=sender.send, args=(None, 6, "z" * 20000), daemon=True)
    try:
        writer.start()
        writer.join(30)
        assert not writer.is_alive(), "the write blocked"
        assert sender.sent + sender.dropped == 1
        assert len(os.read(r, 65536)) <= 4096  # at most what fitted
    finally:
        os.close(r)  # a write still blocked (the failure) ends with EPIPE
        writer.join(5)
        os.close(w)


def test_a_broken_target_is_reported_once(tmp_path: Path) -> None:
    said: list[str] = []
    target = LogTarget("unix", 16, host=str(tmp_path / "nobody"))
    sender = LogSender(ProxyLog((target,)), alert=said.append)
    for _ in range(3):
        sender.send(None, 6, "lost")
    sender.close()
    assert said == ["sendmsg()/writev() failed in logger #1: No such file or directory (errno=2)"]


def test_a_name_that_no_longer_resolves_is_refused_at_start() -> None:
    sender = LogSender(ProxyLog())
    bad = LogTarget("udp", 16, host="nosuch.invalid", where="h.cfg:3")
    with pytest.raises(LogSenderError, match=r"h\.cfg:3: log: could not resolve"):
        sender.outs((bad,))


CONFIG = """\
global
    log {addr} local0
    log-tag gtag
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:{port}
    log global
    default_backend be
backend be
    log {addr} local1 notice
    log-tag betag
    server s1 127.0.0.1:9
backend quiet
    server s1 127.0.0.1:9
"""


def test_the_runtime_sends_to_the_named_proxys_targets(udp: socket.socket) -> None:
    """`send_log(proxy, level, text)`: a backend's (or frontend's) targets and tag, the
    global ones for None, nothing for a proxy without targets."""
    host, port = udp.getsockname()
    text = CONFIG.format(addr=f"{host}:{port}", port=free_port())
    result = load_text(text, "h.cfg")
    assert result.ok, [str(p) for p in result.problems]
    runtime = ProxyRuntime(to_spec(result.config, result.problems).proxies, raise_nofile=False)

    async def run() -> list[bytes]:
        await runtime.start()
        try:
            runtime.send_log("be", 6, "info: above notice, not sent")
            runtime.send_log("be", 5, "to be")
            runtime.send_log("quiet", 0, "no targets: nothing")
            runtime.send_log("fe", 4, "to fe")
            runtime.send_log(None, 3, "to global")
            runtime.send_log("nosuch", 0, "no such proxy: nothing")
            return [udp.recv(2048) for _ in range(3)]
        finally:
            await runtime.stop(0)

    got = asyncio.run(run())
    pid = os.getpid()
    assert [g.split(b" ", 3)[0] for g in got] == [b"<141>Dec", b"<132>Dec", b"<131>Dec"]
    assert got[0].endswith(b" betag[%d]: to be\n" % pid)
    assert got[1].endswith(b" gtag[%d]: to fe\n" % pid)
    assert got[2].endswith(b" gtag[%d]: to global\n" % pid)
    # then the stop: every proxy with targets says it stopped ("quiet" has none)
    udp.settimeout(2)
    stops = [udp.recv(2048).split(b": ", 1)[1] for _ in range(3)]
    assert stops == [
        b"Proxy fe stopped (cumulated conns: FE: 0, BE: 0).\n",
        b"Proxy be stopped (cumulated conns: FE: 0, BE: 0).\n",
        b"Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).\n",
    ]
    udp.settimeout(0.2)
    with pytest.raises(TimeoutError):
        udp.recv(2048)


def test_names_resolve_off_the_loop_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """`prepare` (the runtime's start) resolves each target name in a thread of its own:
    the loop runs on while a resolver does not answer, and a name without an answer within
    the bound is refused as one that does not resolve."""
    from pylvs.system import logsend

    release = threading.Event()

    def stuck(host: str, port: int) -> logsend.Resolved:
        release.wait(30)
        return "released"

    monkeypatch.setattr(logsend, "_lookup", stuck)
    target = LogTarget("udp", 16, host="slow.example", port=514, where="h.cfg:2")
    sender = LogSender(ProxyLog((target,)))

    async def run() -> tuple[int, str]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        try:
            await sender.prepare([(target,)], timeout=0.5)
        except LogSenderError as e:
            said = str(e)
        else:
            said = ""
        ticker.cancel()
        return ticks, said

    try:
        ticks, said = asyncio.run(run())
    finally:
        release.set()
    assert ticks > 5  # the loop was not held by the resolver
    assert said == "h.cfg:2: log: could not resolve address 'slow.example' (no answer within 0.5 s)"
