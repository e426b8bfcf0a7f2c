"""`new|set|commit|abort|del|show ssl cert` on the stats socket against haproxy 2.6.12 on the
same haproxy.cfg: the same answers (ssl_ckch.c's messages), and a committed certificate is
the one the next handshakes get, an uncommitted one is not."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import KINDS, Proxy, free_port
from tests.integration.hamode.hamode_helpers import stats_command as cli
from tests.integration.hamode.tls_helpers import NEEDS, make_certs, peer_cn, signed

pytestmark = NEEDS


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = make_certs(tmp_path_factory.mktemp("certs"))
    signed(d, "app", "/CN=app.test.local", "DNS:app.test.local")
    return d


def _cn(d: Path, port: int) -> str:
    ctx = ssl.create_default_context(cafile=str(d / "ca.pem"))
    ctx.check_hostname = False
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="www.test.local") as s,
    ):
        return peer_cn(s)


def _scenario(proxy: Callable[..., Proxy], kind: str, d: Path) -> list[str]:
    port = free_port()
    sock = d / f"{kind}-{port}.sock"
    www = d / f"{kind}-www.pem"  # each run commits into its own file's store
    www.write_text((d / "www.pem").read_text())
    proxy(
        kind,
        f"global\n    stats socket {sock} level admin\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        f"    timeout server 5s\nlisten tls\n    bind 127.0.0.1:{port} ssl crt {www}\n"
        "    server s 127.0.0.1:1\n",
        None,
    )
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    app = (d / "app.pem").read_text()
    cert_only = (d / "app.crt").read_text()
    seen = [_cn(d, port)]

    def say(command: str, payload: str | None = None) -> None:
        text = command if payload is None else f"{command} <<\n{payload.strip()}\n"
        seen.append(cli(sock, text).replace(str(d), "D").replace(kind, "KIND"))

    say(f"set ssl cert {d}/nowhere.pem", app)
    say(f"commit ssl cert {www}")
    say(f"abort ssl cert {www}")
    say(f"set ssl cert {www}", app)
    say("show ssl cert")
    seen.append(_cn(d, port))  # not committed yet
    say(f"set ssl cert {www}", app)
    say(f"commit ssl cert {d}/other.pem")
    say(f"commit ssl cert {www}")
    say("show ssl cert")
    seen.append(_cn(d, port))  # committed: the new certificate
    say(f"set ssl cert {www}", cert_only)
    say(f"commit ssl cert {www}")
    say(f"abort ssl cert {d}/other.pem")
    say(f"abort ssl cert {www}")
    say(f"new ssl cert {d}/new.pem")
    say(f"new ssl cert {d}/new.pem")
    say(f"del ssl cert {www}")
    say(f"del ssl cert {d}/new.pem")
    say(f"del ssl cert {d}/new.pem")
    return seen


def test_ssl_cert_commands_are_haproxys(proxy: Callable[..., Proxy], certs: Path) -> None:
    seen = {kind: _scenario(proxy, kind, certs) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"], seen
    got = seen["pylvs"]
    assert got[0] == "www.test.local"
    assert got[6] == "www.test.local"  # a transaction is not used before its commit
    assert got[11] == "app.test.local"
    assert "Success!" in got[9]
