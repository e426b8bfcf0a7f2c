"""genhash (keepalived --genhash / -T): fetch a URL as HTTP_GET / SSL_GET would and give the
MD5 digest of the body to paste into a `url { digest ... }` block
(keepalived/check/check_genhash.c; the digest is computed as check_http.c does)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from pylvs.health.checkers.base import client_ssl_context
from pylvs.health.checkers.http import Response, build_request, fetch, host_header
from pylvs.model.checks import CheckTarget, HttpProtocol


@dataclass(frozen=True, slots=True)
class GenhashRequest:
    server: str
    port: int
    url: str
    use_ssl: bool = False
    use_sni: bool = False
    virtualhost: str | None = None
    protocol: HttpProtocol = HttpProtocol.HTTP_1_0
    timeout: float = 5.0
    fwmark: int = 0


def resolve(server: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(server)
    except ValueError:
        info = socket.getaddrinfo(server, None, type=socket.SOCK_STREAM)
        return ipaddress.ip_address(info[0][4][0])


async def genhash(req: GenhashRequest) -> tuple[bytes, Response | None]:
    """(request sent, response); raises OSError / TimeoutError / ssl.SSLError."""
    conn = CheckTarget(resolve(req.server), req.port, req.timeout, fwmark=req.fwmark)
    request = build_request(req.url, req.protocol, host_header(conn, req.virtualhost))
    ctx = client_ssl_context(None, strict_eof=False) if req.use_ssl else None
    sni = req.virtualhost if req.use_ssl and req.use_sni else None
    return request, await fetch(conn, request, ssl_ctx=ctx, sni=sni)
