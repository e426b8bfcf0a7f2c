"""Certificates for the TLS tests, made by `openssl` in the test's directory (a CA, server
certificates signed by it, a client certificate), and the clients' contexts."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from pylvs.proto import x509
from tests.integration.hamode.hamode_helpers import HAPROXY

# the TLS tests compare with haproxy and make their certificates with openssl
NEEDS = [
    pytest.mark.slow,
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def signed(d: Path, name: str, subject: str, san: str | None) -> None:
    """NAME.pem: a certificate signed by the test CA (ca.pem, ca.key), then its key."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", subject, cwd=d)  # fmt: skip
    ext = d / f"{name}.ext"
    ext.write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", "-extfile", ext.name,
            cwd=d)  # fmt: skip
    (d / f"{name}.pem").write_text(
        (d / f"{name}.crt").read_text() + (d / f"{name}.key").read_text()
    )


def make_ca(d: Path) -> None:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/O=Test/CN=Test CA", cwd=d)  # fmt: skip


def make_certs(d: Path) -> Path:
    """The CA, www.pem (www.test.local), wild.pem (*.wild.local), client.pem (CN client)."""
    make_ca(d)
    signed(d, "www", "/CN=www.test.local", "DNS:www.test.local")
    signed(d, "wild", "/CN=wild", "DNS:*.wild.local")
    signed(d, "client", "/C=FR/O=Test/CN=client", None)
    return d


def client_context(d: Path, *, cert: bool = False, alpn: tuple[str, ...] = ("h2", "http/1.1")
                   ) -> ssl.SSLContext:  # fmt: skip
    """A client trusting the test CA (names unchecked: the tests pick them with SNI)."""
    ctx = ssl.create_default_context(cafile=str(d / "ca.pem"))
    ctx.check_hostname = False
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if cert:
        ctx.load_cert_chain(str(d / "client.pem"))
    return ctx


def peer_cn(s: ssl.SSLSocket) -> str:
    der = s.getpeercert(binary_form=True)
    assert der is not None
    return x509.parse(der).common_names[0]


def read_all(s: socket.socket) -> bytes:
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


def server_side(ctx: ssl.SSLContext, raw: socket.socket) -> ssl.SSLSocket | None:
    """`raw` wrapped for the server side, its handshake not made yet; None (and `raw`
    closed) when the peer left before saying anything (a proxy whose own client failed
    connects, then resets: wrap_socket would leave its SSLSocket unclosed)."""
    try:
        if not raw.recv(1, socket.MSG_PEEK):
            raise ConnectionResetError
        return ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
    except OSError:
        raw.close()
        return None
