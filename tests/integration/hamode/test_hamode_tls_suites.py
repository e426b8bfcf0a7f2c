"""The TLS settings of Debian's default haproxy.cfg and of the tutorials, against haproxy
2.6.12 on the same file, as `openssl s_client` sees them: `crt-base` / `ca-base` (relative
`crt`, `crt-list` lines), TLS 1.3 `ciphersuites` (global default, per bind, per server),
`curves` / `ecdhe` / `ssl-default-bind-curves` (the key exchange group), and the DH
settings (`tune.ssl.default-dh-param`, DH parameters in a certificate file, none: no DHE)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pylvs.proto import proxyproto
from tests.integration.hamode.hamode_helpers import KINDS, Proxy, Servers, both, free_port
from tests.integration.hamode.hamode_helpers import stats_command as cli
from tests.integration.hamode.tls_helpers import (
    NEEDS,
    make_certs,
    openssl,
    read_all,
    server_side,
)
from tests.integration.server_helpers import ThreadedServer

pytestmark = NEEDS


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = make_certs(tmp_path_factory.mktemp("certs"))
    priv = d / "private"
    priv.mkdir()
    (priv / "www.pem").write_text((d / "www.pem").read_text())
    openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe3072",
            "-out", "dh.pem", cwd=d)  # fmt: skip
    (priv / "dh-www.pem").write_text((d / "www.pem").read_text() + (d / "dh.pem").read_text())
    (d / "list.txt").write_text("wild.pem\n")  # under crt-base: private/wild.pem
    (priv / "wild.pem").write_text((d / "wild.pem").read_text())
    return d


class Recorder(ThreadedServer):
    """A TLS server that answers each connection with the suite it negotiated."""

    def __init__(self, d: Path) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(d / "www.pem"))
        super().__init__()

    def serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        s = server_side(self.ctx, raw)
        if s is None:
            return
        with contextlib.suppress(OSError), s:
            s.do_handshake()
            cipher = s.cipher()
            s.sendall(f"{s.version()} {cipher[0] if cipher else ''}\n".encode())


@pytest.fixture
def recorder(certs: Path) -> Iterator[Recorder]:
    r = Recorder(certs)
    yield r
    r.close()


def s_client(port: int, *args: str) -> tuple[str, str]:
    """The suite `openssl s_client` negotiated ("(NONE)": the handshake failed) and the
    server's temporary key (the group or DH size)."""
    got = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
         "www.test.local", *args],
        input=b"", capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    out = got.stdout.decode(errors="replace")
    cipher = next((x.split("Cipher is ")[1] for x in out.splitlines() if "Cipher is " in x), "")
    key = next((x.split(": ", 1)[1] for x in out.splitlines() if "Server Temp Key" in x), "")
    return cipher.strip(), key.strip()


def _config(d: Path, p: dict[str, int], recorder: int) -> str:
    return f"""
global
    ca-base {d}
    crt-base {d}/private
    ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
    ssl-default-bind-curves X25519:P-256
    ssl-default-server-ciphersuites TLS_AES_256_GCM_SHA384
    tune.ssl.default-dh-param 2048

defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s

listen plain
    bind 127.0.0.1:{p["defaults"]} ssl crt www.pem ca-file ca.pem verify optional
    bind 127.0.0.1:{p["own"]} ssl crt www.pem ciphersuites TLS_AES_256_GCM_SHA384 curves P-384
    bind 127.0.0.1:{p["ecdhe"]} ssl crt www.pem ecdhe secp521r1
    bind 127.0.0.1:{p["dh"]} ssl crt dh-www.pem
    bind 127.0.0.1:{p["list"]} ssl crt-list {d}/list.txt
    server s 127.0.0.1:{recorder} ssl verify required ca-file ca.pem

listen own
    bind 127.0.0.1:{p["srv"]}
    server s 127.0.0.1:{recorder} ssl verify none ciphersuites TLS_CHACHA20_POLY1305_SHA256
"""


def _nodh(d: Path, port: int, ecdhe: int, recorder: int) -> str:
    """Without global defaults: DHE ciphers allowed but no DH parameters anywhere (Debian's
    case), and `ecdhe` (which the global `ssl-default-bind-curves` would override)."""
    return (
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        f"    timeout server 5s\nlisten nodh\n    bind 127.0.0.1:{port} ssl crt {d}/www.pem"
        f" ciphers DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\n"
        f"    bind 127.0.0.1:{ecdhe} ssl crt {d}/www.pem ecdhe secp521r1\n"
        f"    server s 127.0.0.1:{recorder} ssl verify none\n"
    )


def _scenario(proxy: Callable[..., Proxy], kind: str, d: Path, rec: Recorder) -> dict[str, object]:
    ports = {
        n: free_port() for n in ("defaults", "own", "ecdhe", "ecdhe2", "dh", "list", "srv", "nodh")
    }
    proxy(kind, _config(d, ports, rec.port), None)
    proxy(kind, _nodh(d, ports["nodh"], ports["ecdhe2"], rec.port), None)
    tls13, tls12 = ("-tls1_3",), ("-tls1_2",)
    dhe = (*tls12, "-cipher", "DHE-RSA-AES128-GCM-SHA256")
    return {
        "defaults": s_client(ports["defaults"], *tls13),
        "defaults chacha": s_client(
            ports["defaults"], *tls13, "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"
        ),
        "defaults refused": s_client(
            ports["defaults"], *tls13, "-ciphersuites", "TLS_AES_256_GCM_SHA384"
        ),
        "defaults p256": s_client(ports["defaults"], *tls13, "-groups", "P-256"),
        "own": s_client(ports["own"], *tls13),
        "own refused": s_client(ports["own"], *tls13, "-ciphersuites", "TLS_AES_128_GCM_SHA256"),
        "own x25519": s_client(ports["own"], *tls13, "-groups", "X25519"),
        "ecdhe under curves": s_client(ports["ecdhe"], *tls12),
        "ecdhe": s_client(ports["ecdhe2"], *tls12),
        "dhe default": s_client(ports["defaults"], *dhe),
        "dhe file": s_client(ports["dh"], *dhe),
        "dhe none": s_client(ports["nodh"], *dhe),
        "list": s_client(ports["list"], *tls13),
        "server default": _relayed(ports["defaults"], d),
        "server own": _relayed(ports["srv"], None),
    }


def _relayed(port: int, d: Path | None) -> str:
    """What the recorder told of the server-side handshake (through a TLS bind when `d`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        if d is None:
            return read_all(raw).decode()
        ctx = ssl.create_default_context(cafile=str(d / "ca.pem"))
        with ctx.wrap_socket(raw, server_hostname="www.test.local") as s:
            return read_all(s).decode()


def test_suites_groups_and_dh_are_haproxys(
    proxy: Callable[..., Proxy], certs: Path, recorder: Recorder
) -> None:
    seen = {kind: _scenario(proxy, kind, certs, recorder) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"], seen
    got = seen["pylvs"]
    assert got["defaults"] == ("TLS_AES_128_GCM_SHA256", "X25519, 253 bits")
    assert got["defaults chacha"][0] == "TLS_CHACHA20_POLY1305_SHA256"  # type: ignore[index]
    assert got["defaults refused"] == ("(NONE)", "")
    assert got["defaults p256"] == ("TLS_AES_128_GCM_SHA256", "ECDH, prime256v1, 256 bits")
    assert got["own"] == ("TLS_AES_256_GCM_SHA384", "ECDH, secp384r1, 384 bits")
    assert got["own refused"] == ("(NONE)", "")
    assert got["own x25519"] == ("(NONE)", "")
    assert got["ecdhe under curves"] == ("ECDHE-RSA-AES128-GCM-SHA256", "X25519, 253 bits")
    assert got["ecdhe"] == ("ECDHE-RSA-AES256-GCM-SHA384", "ECDH, secp521r1, 521 bits")
    assert got["dhe default"] == ("DHE-RSA-AES128-GCM-SHA256", "DH, 2048 bits")
    assert got["dhe file"] == ("DHE-RSA-AES128-GCM-SHA256", "DH, 3072 bits")
    assert got["dhe none"] == ("(NONE)", "")
    assert got["list"][0] == "TLS_AES_128_GCM_SHA256"  # type: ignore[index]
    assert got["server default"] == "TLSv1.3 TLS_AES_256_GCM_SHA384\n"
    assert got["server own"] == "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256\n"


def test_send_proxy_v2_ssl_sends_haproxys_tlvs(proxy: Callable[..., Proxy], certs: Path) -> None:
    """`send-proxy-v2-ssl` / `send-proxy-v2-ssl-cn`: the PROXY v2 header after a TLS bind,
    byte for byte as haproxy's (addresses and ports aside: each run has its own)."""

    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        names = ("ssl", "cn", "off")
        words = ("send-proxy-v2-ssl", "send-proxy-v2-ssl-cn",
                 "send-proxy-v2-ssl-cn no-send-proxy-v2-ssl-cn")  # fmt: skip
        text = "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        text += "    timeout server 5s\n"
        ports = {}
        for name, word in zip(names, words, strict=True):
            servers.add(name)
            ports[name] = free_port()
            text += (
                f"listen {name}\n    bind 127.0.0.1:{ports[name]} ssl crt {certs}/www.pem"
                f" ca-file {certs}/ca.pem verify optional\n"
                f"    server s 127.0.0.1:{servers[name].port} {word}\n"
            )
        proxy(kind, text, None)
        ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        ctx.check_hostname = False
        ctx.load_cert_chain(str(certs / "client.pem"))
        for name in names:
            with (
                socket.create_connection(("127.0.0.1", ports[name]), timeout=5) as raw,
                ctx.wrap_socket(raw, server_hostname="www.test.local") as s,
            ):
                s.sendall(b"hello")
                s.recv(10)
        return [_after_addresses(h).hex() for n in names for h in servers[n].received]

    got = both(proxy, run)["pylvs"]
    assert isinstance(got, list) and len(got) == 3
    with_ssl, with_cn, off = (bytes.fromhex(x) for x in got)
    assert with_ssl.startswith(b"\x20") and b"\x21\x00\x07TLSv1.3" in with_ssl
    assert b"\x22\x00\x06client" not in with_ssl
    assert b"\x22\x00\x06client" in with_cn
    assert off == b""  # `no-send-proxy-v2-ssl-cn`: no PROXY header at all


def _after_addresses(header: bytes) -> bytes:
    """What follows a v2 header's IPv4 addresses and ports: its TLVs (b"": no header)."""
    if not header.startswith(proxyproto.SIGNATURE):
        return b""
    size = int.from_bytes(header[14:16], "big")
    return header[16 + 12 : 16 + size]


def _lifetime(port: int) -> str:
    got = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3", "-ign_eof"],
        input=b"", capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    out = got.stdout.decode(errors="replace")
    return next((x.strip() for x in out.splitlines() if "lifetime hint" in x), "")


def _resumed(port: int, d: Path) -> list[str]:
    """Two TLS 1.2 connections, the second offering the first's session (by its ID)."""
    sess = d / f"sess-{port}"
    seen = []
    for opt in ("-sess_out", "-sess_in"):
        got = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", opt,
             str(sess)],
            input=b"", capture_output=True, timeout=20, check=False,
        )  # fmt: skip
        out = got.stdout.decode(errors="replace").splitlines()
        seen.append(next((x.split(",")[0] for x in out if x.startswith(("New,", "Reused,"))), ""))
    return seen


def _held(port: int, d: Path) -> tuple[str, str]:
    """One TLS connection kept open while a second one is tried: what each saw."""
    ctx = ssl.create_default_context(cafile=str(d / "ca.pem"))
    ctx.check_hostname = False
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="www.test.local") as first,
    ):
        try:  # timeout client 5s: haproxy never answers, pylvs closes it then
            with (
                socket.create_connection(("127.0.0.1", port), timeout=2) as raw2,
                ctx.wrap_socket(raw2, server_hostname="www.test.local") as second,
            ):
                second_saw = second.version() or ""
        except (ssl.SSLError, OSError) as exc:
            second_saw = type(exc).__name__
        return first.version() or "", second_saw


def _sessions_config(d: Path, port: int, global_: str, server: int) -> str:
    return (
        f"global\n{global_}    ssl-default-bind-options no-tls-tickets\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        f"    timeout server 5s\nlisten tls\n    bind 127.0.0.1:{port} ssl crt {d}/www.pem\n"
        f"    server s 127.0.0.1:{server}\n"
    )


def test_session_cache_lifetime_and_maxsslconn_are_haproxys(
    proxy: Callable[..., Proxy], certs: Path
) -> None:
    """`tune.ssl.lifetime` (the tickets' lifetime hint), `tune.ssl.cachesize 0` (no
    resumption by session ID), `maxsslconn` (a TLS connection over the limit is closed
    before its handshake; show info's MaxSslConns)."""
    seen: dict[str, object] = {}
    backend = socket.create_server(("127.0.0.1", 0))  # connections wait in its backlog
    held_by = backend.getsockname()[1]
    for kind in KINDS:
        ports = {n: free_port() for n in ("limited", "sessions", "nocache")}
        sock = certs / f"{kind}-{ports['limited']}.sock"
        limited = f"    stats socket {sock} level admin\n    maxsslconn 1\n"
        proxy(kind, _sessions_config(certs, ports["limited"], limited, held_by), None)
        sessions = "    tune.ssl.lifetime 2m\n"  # a refused server: clients closed at once
        proxy(kind, _sessions_config(certs, ports["sessions"], sessions, 1), None)
        nocache = "    tune.ssl.cachesize 0\n"
        proxy(kind, _sessions_config(certs, ports["nocache"], nocache, 1), None)
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        seen[kind] = {
            "held": _held(ports["limited"], certs),
            "info": [x for x in cli(sock, "show info").splitlines() if "MaxSslConns" in x],
            "hint": _lifetime(ports["sessions"]),
            "cache": _resumed(ports["sessions"], certs),
            "no cache": _resumed(ports["nocache"], certs),
        }
    backend.close()
    assert seen["pylvs"] == seen["haproxy"], seen
    got = seen["pylvs"]
    assert isinstance(got, dict)
    assert got["cache"] == ["New", "Reused"]
    assert got["no cache"][0] == "New" and "Reused" not in got["no cache"]
    assert got["held"] == ("TLSv1.3", "TimeoutError")
    assert got["info"] == ["MaxSslConns: 1"]
    assert got["hint"] == "TLS session ticket lifetime hint: 120 (seconds)"
