"""The TLS tests' marks, their certificates (made by tests/integration/certs.py: a CA, server
certificates signed by it, a client certificate) and the clients' contexts."""

from __future__ import annotations

import shutil
import socket
import ssl
from pathlib import Path

import pytest

from pylvs.proto import x509
from tests.integration.certs import make_ca as make_ca  # the tests import them from here
from tests.integration.certs import make_certs as make_certs
from tests.integration.certs import openssl as openssl
from tests.integration.certs import signed as signed
from tests.integration.hamode.hamode_helpers import HAPROXY

# the TLS tests compare with haproxy and make their certificates with openssl
NEEDS = [
    pytest.mark.slow,
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]


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
