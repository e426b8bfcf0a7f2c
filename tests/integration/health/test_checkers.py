"""Every checker against a real loopback server: a healthy server stays in the table, a failing
one leaves it after exactly retry+1 failing probes spaced by delay_before_retry, notify_down
runs with its arguments, and the server comes back (notify_up) when it recovers."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.certs import self_signed
from tests.integration.health.health_fixtures import (
    Backend,
    DnsBackend,
    HttpBackend,
    MiscScript,
    Recorder,
    SmtpBackend,
    UdpEcho,
    free_udp_port,
    load,
    manager,
    notes,
    notify_script,
    run,
    status_text,
    until,
)
from tests.integration.server_helpers import ThreadedServer

RETRY = 2
DBR = 0.1
LOOP = 0.2
TIMING = f"connect_timeout 0.3\n retry {RETRY}\n delay_before_retry {DBR}\n"
BODY = b"hello world"
MD5 = hashlib.md5(BODY, usedforsecurity=False).hexdigest()


class TcpBackend(Backend):
    """Accepts and closes; failing = not listening (connection refused)."""

    async def start(self) -> TcpBackend:
        self.server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def set_fail(self, fail: bool) -> None:
        self.fail = fail
        if fail:
            self.server.close()
            await self.server.wait_closed()
        else:
            await self.start()

    async def close(self) -> None:
        self.server.close()


class SilentUdp(Backend):
    """A bound UDP socket that never answers; failing = closed (ICMP port unreachable)."""

    async def start(self) -> SilentUdp:
        import socket

        self.port = self.port or free_udp_port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        return self

    async def set_fail(self, fail: bool) -> None:
        self.fail = fail
        if fail:
            self.sock.close()
        else:
            await self.start()

    async def close(self) -> None:
        self.sock.close()


@dataclass
class Case:
    block: str
    backend: Any
    proto: str = "TCP"
    counted: bool = True  # the backend sees each failing probe


async def make_case(kind: str, tmp: Path) -> Case:
    if kind == "TCP_CHECK":
        return Case(f"TCP_CHECK {{\n {TIMING} }}", await TcpBackend().start(), counted=False)
    if kind == "HTTP_GET":
        b = await HttpBackend(BODY).start()
        url = f"url {{\n path /health\n status_code 200-204 299\n digest {MD5}\n }}"
        return Case(f"HTTP_GET {{\n {TIMING} {url}\n }}", b)
    if kind == "SSL_GET":
        cert, key = self_signed(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        b = await HttpBackend(BODY).start(ctx)
        url = f"url {{\n path /\n digest {MD5}\n }}"
        return Case(f"SSL_GET {{\n {TIMING} virtualhost www.test\n {url}\n }}", b)
    if kind == "SMTP_CHECK":
        smtp = await SmtpBackend().start()
        return Case(f"SMTP_CHECK {{\n {TIMING} helo_name pylvs.test\n }}", smtp)
    if kind == "DNS_CHECK":
        dns = await DnsBackend().start()
        return Case(f"DNS_CHECK {{\n {TIMING} type A\n name example.org\n }}", dns, proto="UDP")
    if kind == "UDP_CHECK":
        echo = await UdpEcho().start()
        block = f"UDP_CHECK {{\n {TIMING} payload 68656c6c6f\n require_reply 68656cXX6f\n }}"
        return Case(block, echo, proto="UDP")
    if kind == "UDP_CHECK_NOREPLY":
        silent = await SilentUdp().start()
        return Case(f"UDP_CHECK {{\n {TIMING} }}", silent, proto="UDP", counted=False)
    assert kind == "MISC_CHECK"
    script = MiscScript(tmp)
    block = (
        f'MISC_CHECK {{\n misc_path "{script.path}"\n misc_timeout 2\n retry {RETRY}\n'
        f" delay_before_retry {DBR}\n }}"
    )
    return Case(block, script)


def config_text(case: Case, notify: Path, port: int) -> str:
    return f"""
global_defs {{
  router_id LVS1
  script_user root
}}
virtual_server 127.0.0.1 8080 {{
  lvs_sched rr
  lvs_method NAT
  protocol {case.proto}
  delay_loop {LOOP}
  warmup 0
  real_server 127.0.0.1 {port} {{
    notify_up "{notify} up 'rs one'"
    notify_down "{notify} down 'rs one'"
    {case.block}
  }}
}}
"""


async def set_fail(case: Case, fail: bool) -> None:
    b = case.backend
    if isinstance(b, MiscScript):
        b.set_code(1 if fail else 0)
    elif hasattr(b, "set_fail"):
        await b.set_fail(fail)
    else:
        b.fail = fail


def failing_probes(case: Case, since: float, until_t: float) -> int:
    b = case.backend
    if isinstance(b, MiscScript):
        return b.failing_runs()
    return sum(1 for at, f in b.answers if f and since <= at <= until_t)


KINDS = [
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "SMTP_CHECK",
    "DNS_CHECK",
    "UDP_CHECK",
    "UDP_CHECK_NOREPLY",
    "MISC_CHECK",
]


@pytest.mark.parametrize("kind", KINDS)
def test_checker_removes_and_restores_a_real_server(kind: str, tmp_path: Path) -> None:
    async def body() -> None:
        case = await make_case(kind, tmp_path)
        notify, log = notify_script(tmp_path)
        port = case.backend.port if not isinstance(case.backend, MiscScript) else 9999
        rec = Recorder()
        m = manager(load(config_text(case, notify, port)), rec)
        rs = f"127.0.0.1:{port}"
        await m.start()
        try:
            assert rec.dests() == {rs: 1}
            await asyncio.sleep(4 * LOOP)  # healthy: several probes, no change
            assert len(rec.tables) == 1
            assert "UP" in status_text(m)
            t0 = time.monotonic()
            await set_fail(case, True)
            t_down = await until(lambda: rs not in rec.dests(), what="removal")
            if case.counted:
                assert failing_probes(case, t0, t_down) == RETRY + 1
            if not isinstance(case.backend, MiscScript) and case.counted:
                times = [at for at, f in case.backend.answers if f and at <= t_down]
                gaps = [b - a for a, b in itertools.pairwise(times)]
                assert all(DBR * 0.9 <= g < LOOP for g in gaps), gaps
            else:
                assert RETRY * DBR * 0.9 <= t_down - t0 <= LOOP + RETRY * DBR + 1.0
            await until(lambda: "down rs one" in notes(log), what="notify_down")
            await set_fail(case, False)
            await until(lambda: rs in rec.dests(), what="re-add")
            await until(lambda: "up rs one" in notes(log), what="notify_up")
            assert notes(log) == ["down rs one", "up rs one"]
        finally:
            await m.stop()
            if hasattr(case.backend, "close"):
                await case.backend.close()

    run(body)


def test_http_request_and_virtualhost_reach_the_server(tmp_path: Path) -> None:
    async def body() -> None:
        b = await HttpBackend(BODY).start()
        text = f"""
virtual_server 127.0.0.1 8080 {{
  protocol TCP
  lvs_method NAT
  delay_loop {LOOP}
  warmup 0
  virtualhost vs.example
  real_server 127.0.0.1 {b.port} {{
    HTTP_GET {{
      http_protocol 1.1
      url {{
        path /a
        virtualhost url.example
      }}
      url {{
        path /b
      }}
    }}
  }}
}}
"""
        rec = Recorder()
        m = manager(load(text), rec)
        await m.start()
        await until(lambda: len(b.requests) >= 2, what="two urls")
        await m.stop()
        await b.close()
        assert b.requests[0] == (
            b"GET /a HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
            b"Host: url.example\r\n\r\n"
        )
        assert b.requests[1].startswith(b"GET /b HTTP/1.1\r\n")
        assert b"Host: vs.example\r\n" in b.requests[1]

    run(body)


def test_ping_check_keeps_a_reachable_server_in(tmp_path: Path) -> None:
    async def body() -> None:
        text = f"""
virtual_server 127.0.0.1 8080 {{
  protocol TCP
  lvs_method NAT
  delay_loop {LOOP}
  warmup 0
  alpha
  real_server 127.0.0.1 8081 {{
    PING_CHECK {{
      connect_timeout 1
    }}
  }}
}}
"""
        rec = Recorder()
        m = manager(load(text), rec)
        await m.start()
        assert rec.dests() == {}  # alpha: out until the first successful echo
        await until(lambda: "127.0.0.1:8081" in rec.dests(), what="echo reply")
        (view,) = m.views()[1]
        assert view.checks[0].last_ok is True
        assert view.checks[0].reason == "echo reply"
        await m.stop()

    run(body)


def ssl_get_config(port: int, options: str, vs_extra: str = "") -> str:
    """One virtual server whose real server on `port` is checked by SSL_GET with `options`."""
    return f"""
virtual_server 127.0.0.1 8080 {{
  protocol TCP
  lvs_method NAT
  delay_loop {LOOP}
  warmup 0
  {vs_extra}
  real_server 127.0.0.1 {port} {{
    SSL_GET {{
      {options}
      url {{
        path /
        digest {MD5}
      }}
    }}
  }}
}}
"""


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("enable_sni\n      sni_name sni.example", "sni.example"),
        ("enable_sni", "vhost.example"),  # no sni_name: the virtualhost is sent
        ("", None),  # SNI only with enable_sni
    ],
)
def test_ssl_get_sends_sni_as_configured(
    tmp_path: Path, options: str, expected: str | None
) -> None:
    async def body() -> None:
        cert, key = self_signed(tmp_path)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        seen: list[str | None] = []
        ctx.sni_callback = lambda _sock, name, _ctx: seen.append(name)
        b = await HttpBackend(BODY).start(ctx)
        m = manager(
            load(ssl_get_config(b.port, options + "\n virtualhost vhost.example")), Recorder()
        )
        await m.start()
        try:
            await until(lambda: len(seen) >= 1, what="a TLS handshake")
            assert seen[0] == expected
        finally:
            await m.stop()
            await b.close()

    run(body)


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None, reason="needs root and nft")
def test_ping_check_removes_an_unreachable_server_and_restores_it(tmp_path: Path) -> None:
    """Echo requests to 127.0.0.77 are dropped by a throw-away nft table of this test (loopback
    only, deleted in every case): the real server leaves after retry+1 lost echoes and
    returns once they are answered again."""
    table = f"pylvs_test_ping_{os.getpid()}"
    drop = (
        f"table inet {table} {{ chain out {{ type filter hook output priority 0; "
        "ip daddr 127.0.0.77 icmp type echo-request drop; }; }"
    )

    async def body() -> None:
        text = f"""
virtual_server 127.0.0.1 8080 {{
  protocol TCP
  lvs_method NAT
  delay_loop {LOOP}
  warmup 0
  real_server 127.0.0.77 8081 {{
    PING_CHECK {{
      connect_timeout 0.2
      retry 1
      delay_before_retry {DBR}
    }}
  }}
}}
"""
        rec = Recorder()
        m = manager(load(text), rec)
        await m.start()
        try:
            assert rec.dests() == {"127.0.0.77:8081": 1}
            await asyncio.sleep(3 * LOOP)
            assert rec.dests() == {"127.0.0.77:8081": 1}  # answered: stays in
            subprocess.run(["nft", "-f", "-"], input=drop, text=True, check=True)
            await until(lambda: rec.dests() == {}, what="removal")
            (view,) = m.views()[1]
            assert view.checks[0].last_ok is False
            subprocess.run(["nft", "delete", "table", "inet", table], check=True)
            await until(lambda: rec.dests() == {"127.0.0.77:8081": 1}, what="re-add")
        finally:
            await m.stop()

    try:
        run(body)
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], capture_output=True)


class BareEofTls(ThreadedServer):
    """A TLS server that answers and then closes TCP without a TLS close_notify."""

    def __init__(self, tmp: Path) -> None:
        cert, key = self_signed(tmp)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        super().__init__()

    def serve(self, raw: socket.socket) -> None:
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except OSError:
            raw.close()
            return
        with tls, contextlib.suppress(OSError):
            tls.recv(4096)
            tls.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + BODY)
            socket.socket.shutdown(tls, socket.SHUT_RDWR)  # FIN, no close_notify


@pytest.mark.parametrize(("compliant", "up"), [(False, True), (True, False)])
def test_ssl_get_tls_compliant_needs_close_notify(
    tmp_path: Path, compliant: bool, up: bool
) -> None:
    server = BareEofTls(tmp_path)

    async def body() -> None:
        options = "tls_compliant" if compliant else ""
        m = manager(load(ssl_get_config(server.port, options, vs_extra="alpha")), Recorder())
        await m.start()
        try:
            await until(lambda: m.views()[1][0].checks[0].last_ok is not None, what="a probe")
            assert m.views()[1][0].checks[0].last_ok is up, m.views()[1][0].checks[0].reason
        finally:
            await m.stop()

    try:
        run(body)
    finally:
        server.close()
