"""Verifying peers as haproxy 2.6.12 does, on the same haproxy.cfg: a server's name
(`verifyhost`, else the SNI sent: ssl_sock_srv_verifycbk), `crl-file` on servers and binds,
`strict-sni`, `crt-ignore-err`, the CA names a bind sends (`no-ca-names`), and the SNI and
ALPN of TLS health checks (`check-sni`, `check-alpn`).  What a client sees (status lines,
handshake alerts, `openssl s_client`'s CA names) must be the same under both."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.certs import self_signed
from tests.integration.hamode.hamode_helpers import KINDS, Proxy, free_port
from tests.integration.hamode.tls_helpers import (
    NEEDS,
    make_certs,
    openssl,
    read_all,
    server_side,
    signed,
)
from tests.integration.server_helpers import ThreadedServer

pytestmark = NEEDS


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = make_certs(tmp_path_factory.mktemp("certs"))
    signed(d, "revoked", "/CN=revoked", None)  # a client certificate, revoked
    signed(d, "gone", "/CN=www.test.local", "DNS:www.test.local")  # a server's, revoked
    (d / "ca.cnf").write_text(
        "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\n"
        "default_md=sha256\ndefault_crl_days=2\n"
    )
    (d / "index.txt").write_text("")
    (d / "crlnumber").write_text("01\n")
    for name in ("revoked", "gone"):
        openssl("ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem",
                "-revoke", f"{name}.crt", cwd=d)  # fmt: skip
    openssl("ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-gencrl",
            "-out", "crl.pem", cwd=d)  # fmt: skip
    self_signed(d, "self", "/CN=self")
    return d


class App(ThreadedServer):
    """A TLS HTTP server: answers 200 and records each request's path, SNI and ALPN."""

    def __init__(self, d: Path, cert: str) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(d / cert))
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.ctx.sni_callback = self._sni
        self.names: dict[int, str | None] = {}
        self.seen: list[tuple[str, str | None, str | None]] = []
        super().__init__()

    def _sni(self, obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.names[id(obj)] = name

    def serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        s = server_side(self.ctx, raw)  # None: a client that gave up (a failed verification)
        if s is None:
            return
        with contextlib.suppress(OSError), s:
            s.do_handshake()
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(65536)
                if not chunk:
                    return
                head += chunk
            path = head.split(b" ", 2)[1].decode()
            self.seen.append((path, self.names.pop(id(s), None), s.selected_alpn_protocol()))
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


@pytest.fixture
def apps(certs: Path) -> Iterator[tuple[App, App]]:
    good, gone = App(certs, "www.pem"), App(certs, "gone.pem")
    yield good, gone
    good.close()
    gone.close()


SERVERS = {
    "vh ok": "app ssl verify required ca-file {d}/ca.pem verifyhost WWW.test.local",
    "vh bad": "app ssl verify required ca-file {d}/ca.pem verifyhost other.test.local",
    "vh none": "app ssl verify none verifyhost other.test.local",
    "sni ok": "app ssl verify required ca-file {d}/ca.pem sni str(www.test.local)",
    "sni bad": "app ssl verify required ca-file {d}/ca.pem sni str(bad.test.local)",
    "sni wins": (
        "app ssl verify required ca-file {d}/ca.pem sni str(bad.test.local)"
        " verifyhost www.test.local"
    ),
    "crl ok": "app ssl verify required ca-file {d}/ca.pem crl-file {d}/crl.pem",
    "crl revoked": "gone ssl verify required ca-file {d}/ca.pem crl-file {d}/crl.pem",
}
BINDS = {
    "strict": "crt {d}/www.pem crt {d}/wild.pem strict-sni",
    "crl": "crt {d}/www.pem verify required ca-file {d}/ca.pem crl-file {d}/crl.pem",
    # a self-signed client certificate: X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT (18)
    "ignored": "crt {d}/www.pem verify required ca-file {d}/ca.pem crt-ignore-err 10,18",
    "not ignored": "crt {d}/www.pem verify required ca-file {d}/ca.pem crt-ignore-err 20",
    "all ignored": "crt {d}/www.pem verify required ca-file {d}/ca.pem crt-ignore-err all",
    "ca ignored": "crt {d}/www.pem verify required ca-file {d}/ca.pem ca-ignore-err all",
    "names": "crt {d}/www.pem verify optional ca-file {d}/ca.pem",
    "no names": "crt {d}/www.pem verify optional ca-file {d}/ca.pem no-ca-names",
}


def _config(d: Path, ports: dict[str, int], apps: tuple[App, App]) -> str:
    text = (
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
        "    timeout server 5s\n    retries 0\n"
    )
    where = {"app": f"127.0.0.1:{apps[0].port}", "gone": f"127.0.0.1:{apps[1].port}"}
    for i, (name, line) in enumerate(SERVERS.items()):
        target, _, rest = line.format(d=d).partition(" ")
        text += f"listen s{i}\n    bind 127.0.0.1:{ports[name]}\n"
        text += f"    server s {where[target]} {rest}\n"
    for i, (name, line) in enumerate(BINDS.items()):
        text += f"listen b{i}\n    bind 127.0.0.1:{ports[name]} ssl {line.format(d=d)}\n"
        text += f"    server s {where['app']} ssl verify none\n"
    text += (
        f"listen checked\n    bind 127.0.0.1:{ports['checked']}\n    option httpchk GET /health\n"
        f"    server s {where['app']} ssl verify required ca-file {d}/ca.pem check inter 300ms"
        " check-sni www.test.local check-alpn http/1.1 verifyhost other.test.local\n"
        f"listen checked_bad\n    bind 127.0.0.1:{ports['checked bad']}\n"
        "    option httpchk GET /bad-health\n"
        f"    server s {where['app']} ssl verify required ca-file {d}/ca.pem check inter 300ms"
        " check-sni chk.test.local verifyhost www.test.local\n"
        f"listen checked_plain\n    bind 127.0.0.1:{ports['checked plain']}\n"
        "    option httpchk GET /plain-health\n"
        f"    server s {where['app']} ssl verify none check inter 300ms alpn h2,http/1.1"
        " sni str(www.test.local)\n"
    )
    return text


def _status(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return read_all(s).split(b"\r\n", 1)[0].decode()


def _tls_status(d: Path, port: int, sni: str | None, cert: str | None) -> str:
    """A GET over TLS: the status line, or the SSL error the client met."""
    ctx = ssl.create_default_context(cafile=str(d / "ca.pem"))
    ctx.check_hostname = False
    if cert is not None:
        ctx.load_cert_chain(str(d / cert))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=sni) as s,
        ):
            s.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return read_all(s).split(b"\r\n", 1)[0].decode() or "closed"
    except ssl.SSLError as exc:
        return f"SSLError {exc.reason}"
    except OSError as exc:
        return type(exc).__name__


def _ca_names(port: int) -> str:
    got = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
         "www.test.local"],
        input=b"", capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    lines = got.stdout.decode(errors="replace").splitlines()
    at = next((i for i, x in enumerate(lines) if "client certificate CA names" in x), None)
    return "" if at is None else " ".join(lines[at : at + 2]).strip()


def _checks(app: App, path: str, wait: float = 10) -> list[tuple[str, str | None, str | None]]:
    """The first health check request `app` got on `path` (none within `wait` seconds)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        got = [x for x in app.seen if x[0] == path]
        if got:
            return got[:1]
        time.sleep(0.1)
    return []


def _scenario(proxy: Callable[..., Proxy], kind: str, d: Path, apps: tuple[App, App]) -> object:
    names = [*SERVERS, *BINDS, "checked", "checked bad", "checked plain"]
    ports = {n: free_port() for n in names}
    apps[0].seen.clear()
    proxy(kind, _config(d, ports, apps), None)
    seen: dict[str, object] = {n: _status(ports[n]) for n in SERVERS}
    seen["strict www"] = _tls_status(d, ports["strict"], "www.test.local", None)
    seen["strict wild"] = _tls_status(d, ports["strict"], "a.wild.local", None)
    seen["strict other"] = _tls_status(d, ports["strict"], "other.local", None)
    seen["strict none"] = _tls_status(d, ports["strict"], None, None)
    seen["bind crl good"] = _tls_status(d, ports["crl"], "www.test.local", "client.pem")
    seen["bind crl revoked"] = _tls_status(d, ports["crl"], "www.test.local", "revoked.pem")
    for name in ("ignored", "not ignored", "all ignored", "ca ignored"):
        seen[name] = _tls_status(d, ports[name], "www.test.local", "self.pem")
    seen["names"] = _ca_names(ports["names"])
    seen["no names"] = _ca_names(ports["no names"])
    seen["check"] = _checks(apps[0], "/health")
    seen["check bad"] = _checks(apps[0], "/bad-health", wait=2)
    seen["check plain"] = _checks(apps[0], "/plain-health")
    return seen


def test_peers_are_verified_as_haproxy_verifies_them(
    proxy: Callable[..., Proxy], certs: Path, apps: tuple[App, App]
) -> None:
    seen = {kind: _scenario(proxy, kind, certs, apps) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"], seen
    got = seen["pylvs"]
    assert isinstance(got, dict)
    ok, down = "HTTP/1.1 200 OK", "HTTP/1.1 503 Service Unavailable"
    assert [got[n] for n in SERVERS] == [ok, down, ok, ok, down, down, ok, down]
    assert got["strict www"] == got["strict wild"] == ok
    assert got["strict other"] == got["strict none"] == "SSLError TLSV1_UNRECOGNIZED_NAME"
    assert got["bind crl good"] == ok
    assert got["bind crl revoked"] == "SSLError SSLV3_ALERT_CERTIFICATE_REVOKED"
    assert got["ignored"] == got["all ignored"] == ok
    assert got["not ignored"] == got["ca ignored"] == "SSLError TLSV1_ALERT_UNKNOWN_CA"
    assert "Acceptable client certificate CA names" in str(got["names"])
    assert "CN = Test CA" in str(got["names"])
    assert str(got["no names"]).startswith("No client certificate CA names sent")
    # `check-sni` is the name sent and verified (over `verifyhost`), `check-alpn` the
    # protocols offered; without them a check sends no SNI (not the server's `sni`) and the
    # server's `alpn`
    assert got["check"] == [("/health", "www.test.local", "http/1.1")]
    assert got["check bad"] == []
    assert got["check plain"] == [("/plain-health", None, "http/1.1")]


def test_crt_list_lines_verify_as_haproxys(
    proxy: Callable[..., Proxy], certs: Path, apps: tuple[App, App]
) -> None:
    """A crt-list line's `[verify required ca-file ...]` is what a client reaching its
    certificate by SNI meets (ssl_sock_switchctx_set: the verify mode and CA names go with
    the context), while the default line verifies nobody."""
    listing = certs / "verify-list.txt"
    listing.write_text(
        f"{certs}/www.pem\n{certs}/wild.pem [verify required ca-file {certs}/ca.pem]\n"
    )
    seen: dict[str, list[str]] = {}
    for kind in KINDS:
        port = free_port()
        proxy(
            kind,
            "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten l\n    bind 127.0.0.1:{port} ssl crt-list {listing}\n"
            f"    server s 127.0.0.1:{apps[0].port} ssl verify none\n",
            None,
        )
        seen[kind] = [
            _tls_status(certs, port, "www.test.local", None),
            _tls_status(certs, port, "a.wild.local", None),
            _tls_status(certs, port, "a.wild.local", "client.pem"),
        ]
    assert seen["pylvs"] == seen["haproxy"], seen
    ok = "HTTP/1.1 200 OK"
    assert seen["pylvs"] == [ok, "SSLError TLSV13_ALERT_CERTIFICATE_REQUIRED", ok]
