"""What seed users write with TLS, against haproxy 2.6.12 on the same haproxy.cfg: a plain
bind redirecting to HTTPS (`redirect scheme https if !{ ssl_fc }`), `bind ... ssl crt DIR
alpn h2,http/1.1` (SNI picks the certificate; HTTP/2 over TLS reaches the HTTP/2 front
end), `X-Forwarded-Proto` and `ssl_fc_sni` passed on, the global `ssl-default-bind-*`
settings, and a backend re-encrypting to a TLS server (`ssl verify required ca-file`,
`sni`) that its health checks reach over TLS too.  The certificates are made by `openssl`
in the test's directory (tls_helpers.py)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import h2.connection
import h2.events
import pytest

from pylvs.proto import proxyproto
from tests.integration.hamode.hamode_helpers import KINDS, Proxy, Servers, both, free_port
from tests.integration.hamode.hamode_helpers import stats_command as cli
from tests.integration.hamode.tls_helpers import (
    NEEDS,
    client_context,
    make_certs,
    peer_cn,
    read_all,
    signed,
)
from tests.integration.server_helpers import ThreadedServer

pytestmark = NEEDS


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = make_certs(tmp_path_factory.mktemp("certs"))
    signed(d, "app", "/CN=app.test.local", "DNS:app.test.local")
    crts = d / "crts"
    crts.mkdir()
    for name in ("www", "wild"):  # loaded in name order: wild.pem first (the default)
        (crts / f"{name}.pem").write_text((d / f"{name}.pem").read_text())
    return d


class App(ThreadedServer):
    """A TLS HTTP/1.1 server: each answer tells the SNI it was reached with and the
    request's X-Forwarded-Proto / X-Client-SNI headers."""

    def __init__(self, d: Path) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(d / "app.pem"))
        self.ctx.sni_callback = self._sni
        self.names: dict[int, str | None] = {}
        self.resumed: list[bool] = []  # per connection: whether it resumed a session
        self.failed: list[str] = []  # the handshakes that failed, and why (told on failure)
        super().__init__()

    def _sni(self, obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.names[id(obj)] = name

    def serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            s = self.ctx.wrap_socket(raw, server_side=True)
        except OSError as exc:  # ssl.SSLError too
            self.failed.append(f"{time.monotonic():.3f} {exc!r}")
            raw.close()
            return
        with contextlib.suppress(OSError), s:
            sni = self.names.pop(id(s), None)
            self.resumed.append(bool(s.session_reused))
            buf = b""
            while True:  # kept alive until the request says close (or the peer closes)
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
                body = (
                    f"sni={sni} path={lines[0].split()[1]} xfp={fields.get('x-forwarded-proto')}"
                    f" csni={fields.get('x-client-sni')}\n"
                ).encode()
                close = fields.get("connection", "").lower() == "close"
                s.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    + (b"Connection: close\r\n" if close else b"")
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                if close:
                    return


@pytest.fixture
def app(certs: Path) -> Iterator[App]:
    a = App(certs)
    yield a
    a.close()


def _config(d: Path, p: dict[str, int], app_port: int, sock: Path) -> str:
    return f"""
global
    stats socket {sock} level admin
    ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
    ssl-default-server-options ssl-min-ver TLSv1.2

defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend www
    bind 127.0.0.1:{p["http"]}
    bind 127.0.0.1:{p["https"]} ssl crt {d}/crts alpn h2,http/1.1
    bind 127.0.0.1:{p["tls12"]} ssl crt {d}/www.pem ssl-max-ver TLSv1.2
    option disable-h2-upgrade
    redirect scheme https code 301 if !{{ ssl_fc }}
    http-request set-header X-Forwarded-Proto https if {{ ssl_fc }}
    http-request set-header X-Client-SNI %[ssl_fc_sni] if {{ ssl_fc_has_sni }}
    default_backend app

backend app
    option httpchk GET /health
    server s1 127.0.0.1:{app_port} ssl verify required ca-file {d}/ca.pem """ + (
        "sni str(app.test.local) check inter 300ms\n"
    )


def _get(ctx: ssl.SSLContext, port: int, sni: str | None) -> tuple[str, str, str, str]:
    """One HTTP/1.1 GET over TLS: the certificate's CN, the ALPN protocol, status, body."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=sni) as s,
    ):
        s.sendall(b"GET /x HTTP/1.1\r\nHost: www.test.local\r\nConnection: close\r\n\r\n")
        head, _, body = read_all(s).partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode()
        return peer_cn(s), s.selected_alpn_protocol() or "", status, body.decode()


def _h2_get(ctx: ssl.SSLContext, port: int, sni: str) -> tuple[str, str, str, str]:
    """One HTTP/2 GET over TLS (ALPN h2): CN, ALPN protocol, :status, body."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=sni) as s,
    ):
        conn = h2.connection.H2Connection()
        conn.initiate_connection()
        conn.send_headers(
            1,
            [(":method", "GET"), (":path", "/x"), (":scheme", "https"),
             (":authority", "www.test.local")],
            end_stream=True,
        )  # fmt: skip
        s.sendall(conn.data_to_send())
        status, body, done = "", b"", False
        while not done:
            data = s.recv(65536)
            if not data:
                break
            for e in conn.receive_data(data):
                if isinstance(e, h2.events.ResponseReceived):
                    status = dict(e.headers).get(b":status", b"").decode()
                elif isinstance(e, h2.events.DataReceived):
                    body += e.data
                    conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                elif isinstance(e, h2.events.StreamEnded):
                    done = True
            s.sendall(conn.data_to_send())
        return peer_cn(s), s.selected_alpn_protocol() or "", status, body.decode()


def _kept_alive(ctx: ssl.SSLContext, port: int, n: int) -> list[str]:
    """`n` GETs on one TLS connection: each response's status line and body."""
    got: list[str] = []
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="www.test.local") as s,
    ):
        buf = b""
        for i in range(n):
            s.sendall(f"GET /k{i} HTTP/1.1\r\nHost: www.test.local\r\n\r\n".encode())
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, _, buf = buf.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            size = next(
                int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length")
            )
            while len(buf) < size:
                buf += s.recv(65536)
            got.append(lines[0] + " " + buf[:size].decode())
            buf = buf[size:]
    return got


def _redirect(port: int) -> tuple[str, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /x?y=1 HTTP/1.1\r\nHost: www.test.local\r\nConnection: close\r\n\r\n")
        head = read_all(s).split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    location = next((h for h in head if h.lower().startswith("location:")), "")
    return head[0], location


def _check(sock: Path) -> tuple[str, str, str]:
    """The server's status, check_status and check_code once its first checks ran, read
    between two checks: while one runs, haproxy shows its status as "* L7OK" and its code
    reset to 0 (a check in progress: CHK_ST_INPROGRESS)."""
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline:  # a busy box: not bound yet
        time.sleep(0.05)
    while True:
        lines = cli(sock, "show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, x.split(","), strict=False)) for x in lines[1:] if x]
        row = next(r for r in rows if r["pxname"] == "app" and r["svname"] == "s1")
        done = row["check_status"] and not row["check_status"].startswith("* ")
        if (done and row["status"] == "UP") or time.monotonic() > deadline:
            return row["status"], row["check_status"], row["check_code"]
        time.sleep(0.2)


def _scenario(proxy: Callable[..., Proxy], kind: str, d: Path, app: App) -> dict[str, object]:
    ports = {n: free_port() for n in ("http", "https", "tls12")}
    sock = d / f"{kind}-{ports['http']}.sock"
    p = proxy(kind, _config(d, ports, app.port, sock), None)
    h1 = client_context(d, alpn=("http/1.1",))
    steps: dict[str, Callable[[], object]] = {
        "check": lambda: _check(sock),
        "redirect": lambda: _redirect(ports["http"]),
        "h1 www": lambda: _get(h1, ports["https"], "www.test.local"),
        "h1 wild": lambda: _get(h1, ports["https"], "a.wild.local"),
        "h1 no sni": lambda: _get(h1, ports["https"], None),
        "h2": lambda: _h2_get(client_context(d), ports["https"], "www.test.local"),
        "kept alive": lambda: _kept_alive(h1, ports["https"], 4),
        "no alpn": lambda: _get(client_context(d, alpn=()), ports["https"], "www.test.local")[:3],
        "tls12": lambda: _tls12(d, ports["tls12"]),
    }
    seen: dict[str, object] = {}
    for name, step in steps.items():
        try:
            seen[name] = step()
        except Exception as exc:  # which proxy and step, and what the two sides saw
            exc.add_note(f"{kind}, step {name!r} at {time.monotonic():.3f}")
            exc.add_note(f"the app's failed handshakes: {app.failed}")
            exc.add_note(f"{kind}'s output:\n{p.output()}")
            raise
    return seen


def _tls12(d: Path, port: int) -> tuple[str | None, str, str | None]:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        client_context(d).wrap_socket(raw, server_hostname="www.test.local") as s,
    ):
        cipher = s.cipher()
        return s.version(), cipher[0] if cipher else "", s.selected_alpn_protocol()


def test_seed_users_tls_front_and_back_are_haproxys(
    proxy: Callable[..., Proxy], certs: Path, app: App
) -> None:
    seen = {kind: _scenario(proxy, kind, certs, app) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"], seen
    got = seen["pylvs"]
    assert got["check"] == ("UP", "L7OK", "200")
    assert got["redirect"] == (
        "HTTP/1.1 301 Moved Permanently",
        "location: https://www.test.local/x?y=1",
    )
    answer = "sni=app.test.local path=/x xfp=https csni={}\n"
    assert got["h1 www"] == (
        "www.test.local", "http/1.1", "HTTP/1.1 200 OK", answer.format("www.test.local")
    )  # fmt: skip
    assert got["h1 wild"] == ("wild", "http/1.1", "HTTP/1.1 200 OK", answer.format("a.wild.local"))
    assert got["h1 no sni"][0] == "wild"  # type: ignore[index]  # the directory's first
    assert got["h1 no sni"][3] == answer.format(None)  # type: ignore[index]
    assert got["h2"] == ("www.test.local", "h2", "200", answer.format("www.test.local"))
    assert got["kept alive"] == [
        f"HTTP/1.1 200 OK sni=app.test.local path=/k{i} xfp=https csni=www.test.local\n"
        for i in range(4)
    ]
    assert got["no alpn"] == ("www.test.local", "", "HTTP/1.1 200 OK")
    assert got["tls12"] == ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", None)


def _tlvs(header: bytes) -> bytes:
    """A v2 header's TLVs (what follows the IPv4 addresses and ports)."""
    assert header.startswith(proxyproto.SIGNATURE), header
    size = int.from_bytes(header[14:16], "big")
    return header[16 + 12 : 16 + size]


def test_proxy_v2_tlvs_tell_the_clients_tls_as_haproxys(
    proxy: Callable[..., Proxy], certs: Path
) -> None:
    """After a TLS bind, a server's PROXY v2 header carries the ALPN protocol (without
    options too), the SNI as authority, and the SSL TLV: client flags (TLS, a verified
    client certificate), the version, the client's CN, the bind certificate's key and
    signature algorithms and the cipher."""

    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("full")
        servers.add("bare")
        port, bare = free_port(), free_port()
        d = certs
        tls = f"ssl crt {d}/www.pem ca-file {d}/ca.pem verify optional alpn http/1.1"
        text = (
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
            "    timeout server 5s\n"
            f"listen full\n    bind 127.0.0.1:{port} {tls}\n"
            f"    server s 127.0.0.1:{servers['full'].port} send-proxy-v2 proxy-v2-options"
            " ssl,cert-cn,cert-key,cert-sig,ssl-cipher,authority\n"
            f"listen bare\n    bind 127.0.0.1:{bare} {tls}\n"
            f"    server s 127.0.0.1:{servers['bare'].port} send-proxy-v2\n"
        )
        proxy(kind, text, None)
        for p, cert in ((port, True), (port, False), (bare, False)):
            ctx = client_context(d, cert=cert, alpn=("http/1.1",))
            with (
                socket.create_connection(("127.0.0.1", p), timeout=5) as raw,
                ctx.wrap_socket(raw, server_hostname="www.test.local") as s,
            ):
                s.sendall(b"hello")
                s.recv(10)
        return [_tlvs(h).hex() for h in servers["full"].received + servers["bare"].received]

    got = both(proxy, run)["pylvs"]
    assert isinstance(got, list)
    full, no_cert, bare = (bytes.fromhex(x) for x in got)
    assert bare == b"\x01\x00\x08http/1.1"  # ALPN alone
    assert b"\x02\x00\x0ewww.test.local" in full  # the SNI as authority
    ssl_tlv = full[full.index(b"\x20") :]
    assert ssl_tlv[3:8] == b"\x07\0\0\0\0"  # TLS, a client certificate verified: 0
    for sub in (b"\x21\x00\x07TLSv1.3", b"\x22\x00\x06client", b"\x25\x00\x07RSA2048",
                b"\x24\x00\x0aRSA-SHA256"):  # fmt: skip
        assert sub in ssl_tlv
    assert no_cert[no_cert.index(b"\x20") :][3:8] == b"\x01\0\0\0\0"


def test_server_tls_sessions_are_resumed_unless_no_ssl_reuse(
    proxy: Callable[..., Proxy], certs: Path, app: App
) -> None:
    """`ssl-reuse` (the default): a server connection resumes the session the previous one
    got (TLS 1.3 tickets included), as haproxy does; `no-ssl-reuse`: a full handshake each
    time."""
    seen: dict[str, list[list[bool]]] = {}
    for kind in KINDS:
        ports = {n: free_port() for n in ("reuse", "never")}
        backends = ""
        for name, word in (("reuse", ""), ("never", " no-ssl-reuse")):
            backends += (
                f"listen {name}\n    bind 127.0.0.1:{ports[name]}\n    http-reuse never\n"
                f"    server s 127.0.0.1:{app.port} ssl verify none{word}\n"
            )
        proxy(kind, "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
              "    timeout server 5s\n" + backends, None)  # fmt: skip
        seen[kind] = []
        for name in ("reuse", "never"):
            app.resumed.clear()
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", ports[name]), timeout=5) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    read_all(s)
            seen[kind].append(list(app.resumed))
    for kind in KINDS:
        reuse, never = seen[kind]
        assert reuse[0] is False and any(reuse[1:]), (kind, seen)
        assert never == [False, False, False], (kind, seen)
    assert seen["pylvs"][0] == [False, True, True]


def _offers_psk(hello: bytes) -> bool:
    """Whether a TLS ClientHello (its first record) offers a session to resume: the
    pre_shared_key extension (41, RFC 8446 section 4.2.11)."""
    at = 5 + 4 + 2 + 32  # record header, handshake header, version, random
    at += 1 + hello[at]  # session id
    at += 2 + int.from_bytes(hello[at : at + 2], "big")  # cipher suites
    at += 1 + hello[at]  # compression methods
    end = at + 2 + int.from_bytes(hello[at : at + 2], "big")
    at += 2
    while at + 4 <= end:
        kind, size = int.from_bytes(hello[at : at + 2], "big"), hello[at + 2 : at + 4]
        if kind == 41:
            return True
        at += 4 + int.from_bytes(size, "big")
    return False


class RefusingResumption(App):
    """The app, but a ClientHello offering a session is answered by a close (a server that
    lost or refuses its ticket keys, as a restarted one may): `hellos` tells each
    connection's offer."""

    def __init__(self, d: Path) -> None:
        self.hellos: list[str] = []
        super().__init__(d)

    def serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        hello, deadline = b"", time.monotonic() + 5
        with contextlib.suppress(OSError):  # the whole first record, left to the handshake
            while time.monotonic() < deadline:
                hello = raw.recv(65536, socket.MSG_PEEK)
                if not hello or len(hello) >= 5 + int.from_bytes(hello[3:5], "big"):
                    break
                time.sleep(0.01)
        if _offers_psk(hello):
            self.hellos.append("resume")
            raw.close()
            return
        self.hellos.append("full")
        super().serve(raw)


def test_a_failed_handshake_drops_the_servers_session_as_haproxy(
    proxy: Callable[..., Proxy], certs: Path
) -> None:
    """A server refusing the session offered: the attempt fails, the session kept for the
    server is dropped (ssl_sock_handshake's out_error), so the retry makes a full handshake
    and the request is answered; a kept session would fail every retry (a 503)."""
    seen: dict[str, tuple[list[str], list[str]]] = {}
    for kind in KINDS:
        app = RefusingResumption(certs)
        try:
            port = free_port()
            # nbthread 1: haproxy keeps a server's session per thread (reused_sess[tid]), a
            # second connection on its other thread offers none (reg-tests ssl_reuse.vtc)
            proxy(kind, "global\n    nbthread 1\n"
                  "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
                  f"    timeout server 5s\nlisten app\n    bind 127.0.0.1:{port}\n"
                  "    http-reuse never\n"
                  f"    server s 127.0.0.1:{app.port} ssl verify none\n", None)  # fmt: skip
            statuses = []
            for _ in range(2):
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    statuses.append(read_all(s).split(b"\r\n", 1)[0].decode())
            seen[kind] = (statuses, list(app.hellos))
        finally:
            app.close()
    assert seen["pylvs"] == seen["haproxy"], seen
    assert seen["pylvs"] == (["HTTP/1.1 200 OK"] * 2, ["full", "resume", "full"])
