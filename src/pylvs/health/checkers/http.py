"""HTTP_GET and SSL_GET: fetch each `url`, judge status code, MD5 digest and regex.

The request is keepalived's template byte for byte (check/check_http.c `request_template`):

    GET <path> HTTP/1.<0|1>\\r\\n
    User-Agent: KeepAliveClient\\r\\n
    [Connection: close\\r\\n]                    (http_protocol 1.0C and 1.1)
    Host: <vhost> | <ip>:<port> | [<ipv6>]:<port>\\r\\n
    \\r\\n

The Host is the url's virtualhost, else the checker's (already resolved: checker > real
server > virtual server), else the connect address and port.  The response is read to EOF
(each read bounded by connect_timeout); the digest is the MD5 of everything after the header
block (`http_handle_response`).  SSL_GET sends SNI with `enable_sni` (sni_name, else the
virtualhost) and, without `tls_compliant`, accepts a server that closes without close_notify.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import ssl as ssl_mod
from dataclasses import dataclass

from pylvs.health.checkers.base import (
    Driver,
    ProbeContext,
    ProbeResult,
    client_ssl_context,
    register,
)
from pylvs.health.checkers.connect import close_stream, error_text, open_stream
from pylvs.health.checkers.tls import TlsStream
from pylvs.model.checks import CheckSpec, CheckTarget, HttpProbe, HttpProtocol, UrlSpec

USER_AGENT = "KeepAliveClient"
REGEX_FLAGS = {"caseless": re.I, "multiline": re.M, "dotall": re.S, "extended": re.X}


def host_header(conn: CheckTarget, vhost: str | None) -> str:
    if vhost:
        return vhost
    if conn.address.version == 6:
        return f"[{conn.address}]:{conn.port}"
    return f"{conn.address}:{conn.port}"


def build_request(path: str, protocol: HttpProtocol, host: str) -> bytes:
    minor = 1 if protocol is HttpProtocol.HTTP_1_1 else 0
    close = "" if protocol is HttpProtocol.HTTP_1_0 else "Connection: close\r\n"
    return (
        f"GET {path} HTTP/1.{minor}\r\nUser-Agent: {USER_AGENT}\r\n{close}Host: {host}\r\n\r\n"
    ).encode()


@dataclass(frozen=True, slots=True)
class Response:
    status: int  # 0 when the status line could not be read
    header: bytes
    body: bytes

    @property
    def digest(self) -> str:
        return hashlib.md5(self.body, usedforsecurity=False).hexdigest()


def parse_response(raw: bytes) -> Response | None:
    """Split header and body (None when no header block ended: keepalived's "no data")."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        pos = raw.find(sep)
        if pos >= 0:
            header, body = raw[:pos], raw[pos + len(sep) :]
            break
    else:
        return None
    first = header.split(b"\n", 1)[0].split()
    status = 0
    if len(first) >= 2 and first[0].startswith(b"HTTP/") and first[1].isdigit():
        status = int(first[1])
    return Response(status, header, body)


def judge(url: UrlSpec, resp: Response | None) -> str:
    """ "" when the URL passes, else keepalived's reason (http_handle_response)."""
    if resp is None:
        return "Read, no data received"
    if not 100 <= resp.status <= 599 or not url.accepts(resp.status):
        return f"HTTP status code error ({resp.status})"
    if url.digest and resp.digest != url.digest.lower():
        return f"MD5 digest error ({resp.digest})"
    if url.regex is not None:
        flags = 0
        for opt in url.regex_options:
            flags |= REGEX_FLAGS.get(opt, 0)
        pattern = re.compile(url.regex.encode(), flags)
        m = pattern.search(resp.body, url.regex_min_offset)
        if m is not None and url.regex_max_offset and m.start() > url.regex_max_offset:
            m = None
        if (m is not None) == url.regex_no_match:
            return "Regex match failed"
    return ""


async def fetch(
    conn: CheckTarget,
    request: bytes,
    *,
    ssl_ctx: ssl_mod.SSLContext | None = None,
    sni: str | None = None,
) -> Response | None:
    """Send `request`, read to EOF; raises OSError / TimeoutError / ssl.SSLError."""
    reader, writer = await open_stream(conn)
    if ssl_ctx is not None:
        try:
            tls = TlsStream(reader, writer, ssl_ctx, sni, conn.timeout)
            await tls.handshake()
            await tls.send(request)
            body = await tls.read_all()
        finally:
            await close_stream(writer)
        return parse_response(body)
    try:
        writer.write(request)
        async with asyncio.timeout(conn.timeout):
            await writer.drain()
        chunks: list[bytes] = []
        while True:
            async with asyncio.timeout(conn.timeout):
                chunk = await reader.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        await close_stream(writer)
    return parse_response(b"".join(chunks))


@register("HTTP_GET")
@register("SSL_GET")
class HttpDriver(Driver):
    KIND = "HTTP_GET"

    def __init__(self, check: CheckSpec, ctx: ProbeContext) -> None:
        super().__init__(check, ctx)
        assert isinstance(check.probe, HttpProbe)
        self.spec: HttpProbe = check.probe
        self._ssl: ssl_mod.SSLContext | None = None
        if self.spec.tls:
            self._ssl = client_ssl_context(self.ctx.ssl, strict_eof=self.spec.tls_compliant)

    def request(self, url: UrlSpec) -> tuple[bytes, str | None]:
        vhost = url.virtualhost or self.spec.virtualhost
        sni = None
        if self.spec.tls and self.spec.enable_sni:
            sni = self.spec.sni_name or vhost
        req = build_request(url.path, self.spec.protocol, host_header(self.target, vhost))
        return req, sni

    async def probe(self, url: int = 0) -> ProbeResult:
        u = self.spec.urls[url]
        request, sni = self.request(u)
        try:
            resp = await fetch(self.target, request, ssl_ctx=self._ssl, sni=sni)
        except ssl_mod.SSLError as exc:
            return ProbeResult(False, f"{u.path}: SSL handshake/communication error: {exc.reason}")
        except (OSError, TimeoutError) as exc:
            return ProbeResult(False, f"{u.path}: {error_text(exc)}")
        reason = judge(u, resp)
        if reason:
            return ProbeResult(False, f"{u.path}: {reason}")
        assert resp is not None
        return ProbeResult(True, f"{u.path}: HTTP {resp.status}")
