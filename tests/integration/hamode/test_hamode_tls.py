"""TLS on binds and to servers, against haproxy 2.6.12 on the same haproxy.cfg: what a TLS
client sees (the certificate SNI picks, the ALPN protocol, the ssl_fc* / ssl_c* fetches in a
`return`, a client certificate required and verified), TLS re-encrypted to servers in mode
tcp and mode http (`ssl verify required ca-file`, `sni str(...)`), and a client that speaks
garbage to a TLS port costing only its own connection.  The certificates (a CA, two server
certificates, a client certificate) are made by `openssl` in the test's directory."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pylvs.proto import x509
from tests.integration.hamode.hamode_helpers import KINDS, Proxy, free_port
from tests.integration.hamode.hamode_helpers import stats_command as cli
from tests.integration.hamode.tls_helpers import NEEDS, client_context, make_certs
from tests.integration.server_helpers import ThreadedServer

pytestmark = NEEDS


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certs(tmp_path_factory.mktemp("certs"))


class Echo(ThreadedServer):
    """A plain TCP server that sends back what it reads."""

    def __init__(self) -> None:
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(65536):
                conn.sendall(data)


@pytest.fixture
def echo() -> Iterator[Echo]:
    e = Echo()
    yield e
    e.close()


def _config(d: Path, ports: dict[str, int], echo_port: int) -> str:
    p = ports
    fetches = (
        '"sni=%[ssl_fc_sni] fc=%[ssl_fc] proto=%[ssl_fc_protocol] alpn=%[ssl_fc_alpn]'
        ' crt=%[ssl_c_used]\\n"'
    )
    client_fetches = '"dn=%[ssl_c_s_dn] cn=%[ssl_c_s_dn(CN)] verify=%[ssl_c_verify]\\n"'
    return f"""
defaults
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend https_in
    mode http
    bind 127.0.0.1:{p["https"]} ssl crt {d}/www.pem crt {d}/wild.pem alpn http/1.1
    http-request return status 200 content-type text/plain lf-string {fetches}

frontend mtls
    mode http
    bind 127.0.0.1:{p["mtls"]} ssl crt {d}/www.pem ca-file {d}/ca.pem verify required
    http-request return status 200 content-type text/plain lf-string {client_fetches}

frontend tls_tcp
    mode tcp
    bind 127.0.0.1:{p["tls_tcp"]} ssl crt {d}/www.pem
    default_backend echo

backend echo
    mode tcp
    server e 127.0.0.1:{echo_port}

frontend plain_tcp
    mode tcp
    bind 127.0.0.1:{p["plain_tcp"]}
    default_backend to_tls_tcp

backend to_tls_tcp
    mode tcp
    server t 127.0.0.1:{p["tls_tcp"]} ssl verify required ca-file {d}/ca.pem sni str(www.test.local)

frontend plain_http
    mode http
    bind 127.0.0.1:{p["plain_http"]}
    default_backend to_https

backend to_https
    mode http
    server h 127.0.0.1:{p["https"]} ssl verify required ca-file {d}/ca.pem sni str(a.wild.local)
"""


def _https(ctx: ssl.SSLContext, port: int, sni: str | None) -> tuple[str, str, str]:
    """One GET over TLS: the certificate's CN, the ALPN protocol, the body."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=sni) as s,
    ):
        der = s.getpeercert(binary_form=True)
        assert der is not None
        cn = x509.parse(der).common_names[0]
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return cn, s.selected_alpn_protocol() or "", data.split(b"\r\n\r\n", 1)[1].decode()


def _http(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode()


def _garbage(port: int) -> bytes:
    """What a client speaking plain HTTP to a TLS port gets back before the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            return b"<reset>"
        return b"<closed>" if not data else b"<data>"


def _scenario(proxy: Callable[..., Proxy], kind: str, d: Path, echo: Echo) -> dict[str, object]:
    ports = {n: free_port() for n in ("https", "mtls", "tls_tcp", "plain_tcp", "plain_http")}
    proxy(kind, _config(d, ports, echo.port), None)
    seen: dict[str, object] = {}
    ctx = client_context(d)
    seen["www"] = _https(ctx, ports["https"], "www.test.local")
    seen["wild"] = _https(ctx, ports["https"], "a.wild.local")
    seen["default"] = _https(ctx, ports["https"], None)
    seen["garbage"] = _garbage(ports["https"])
    seen["after garbage"] = _https(ctx, ports["https"], "www.test.local")[2]
    try:
        _https(ctx, ports["mtls"], "www.test.local")
        seen["no client cert"] = "served"
    except (ssl.SSLError, OSError):
        seen["no client cert"] = "refused"
    seen["client cert"] = _https(client_context(d, cert=True), ports["mtls"], "www.test.local")[2]
    with socket.create_connection(("127.0.0.1", ports["plain_tcp"]), timeout=5) as s:
        s.sendall(b"hello through two TLS hops\n")
        seen["tcp"] = s.recv(100)
    seen["http to a TLS server"] = _http(ports["plain_http"])
    return seen


def test_what_tls_clients_see_is_haproxys(
    proxy: Callable[..., Proxy], certs: Path, echo: Echo
) -> None:
    seen = {kind: _scenario(proxy, kind, certs, echo) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"], seen
    got = seen["pylvs"]
    assert got["www"] == (
        "www.test.local",
        "http/1.1",
        "sni=www.test.local fc=1 proto=TLSv1.3 alpn=http/1.1 crt=0\n",
    )
    assert got["wild"][0] == "wild"  # type: ignore[index]  # SNI matched *.wild.local
    assert got["default"][0] == "www.test.local"  # type: ignore[index]  # the first crt
    assert got["no client cert"] == "refused"
    assert got["client cert"] == "dn=/C=FR/O=Test/CN=client cn=client verify=0\n"
    assert got["tcp"] == b"hello through two TLS hops\n"
    assert str(got["http to a TLS server"]).startswith("sni=a.wild.local fc=1 ")


def test_a_garbage_client_is_counted_and_the_cli_shows_the_certificates(
    proxy: Callable[..., Proxy], certs: Path, tmp_path: Path
) -> None:
    """Each client that fails its handshake is one more `ssl_failed_handshake` of its
    frontend (the ssl stats module), the good ones `ssl_sess`; `show ssl cert` lists the
    bind's certificate with its fingerprint, `show ssl ca-file` the CA file, and `set server
    B/S ssl off` turns a server's TLS off (srv_use_ssl 0)."""
    sock = tmp_path / "stats.sock"
    port = free_port()
    cfg = (
        f"global\n    stats socket {sock} level admin\n"
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        f"frontend https_in\n    bind 127.0.0.1:{port} ssl crt {certs}/www.pem\n"
        "    http-request return status 200\n"
        f"backend b\n    server s 127.0.0.1:1 ssl ca-file {certs}/ca.pem\n"
    )
    proxy("pylvs", cfg, None)
    for _ in range(3):
        _garbage(port)
    _https(client_context(certs), port, "www.test.local")
    lines = cli(sock, "show stat -1 1 -1").splitlines()
    header = lines[0].lstrip("# ").split(",")
    row = dict(zip(header, lines[1].split(","), strict=False))
    assert (row["ssl_sess"], row["ssl_failed_handshake"]) == ("1", "3")
    # show info: every client's TLS connection counts (ssl_sock_init), the full handshakes
    # (one) are the key rate's (as haproxy 2.6.12 counts them)
    info = dict(x.split(": ", 1) for x in cli(sock, "show info").splitlines() if ": " in x)
    assert (info["CumSslConns"], info["SslFrontendMaxKeyRate"]) == ("4", "1")
    listed = cli(sock, "show ssl cert")
    assert listed == f"# filename\n{certs}/www.pem\n\n"
    detail = cli(sock, f"show ssl cert {certs}/www.pem")
    der = x509.pem_blocks((certs / "www.pem").read_text())[0]
    assert f"SHA1 FingerPrint: {x509.parse(der).sha1}\n" in detail
    assert f"{certs}/ca.pem - 1 certificate(s)" in cli(sock, "show ssl ca-file")
    assert cli(sock, "set server b/s ssl off") == "server ssl setting updated.\n\n"
    assert cli(sock, "show servers state b").splitlines()[2].split()[20] == "0"
