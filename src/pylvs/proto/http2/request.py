"""An HTTP/2 request's header list as HAProxy 2.6 turns it into a request (its HTX form).

The rules of src/h2.c h2_make_htx_request / h2_prepare_htx_reqline (RFC 9113 section 8.3,
RFC 8441 section 4), on the list HPACK decoded:

* names must be lower-case tokens (pseudo-headers from their second character); a value
  holding NUL, CR or LF, a repeated pseudo-header, one after a regular field, `:status`, a
  missing `:method`/`:scheme`/`:path` (CONNECT: `:authority` only; extended CONNECT:
  `:protocol` with all of them), an empty or relative `:path` (other than `*`), the
  connection-specific fields (Connection, Proxy-Connection, Keep-Alive, Upgrade,
  Transfer-Encoding), a TE other than `trailers`, Content-Length values that differ: the
  request is malformed, the stream is reset (PROTOCOL_ERROR);
* a method that is not a token, a scheme that is not RFC 3986's, a target holding blanks or
  controls: HTX_FL_PARSING_ERROR, which the stream answers with a 400;
* the target is `scheme://authority/path` when `:authority` came (HTX_SL_F_NORMALIZED_URI
  for http and https: HTTP/1 output then writes the path alone), `:path` otherwise, the
  authority alone for CONNECT; the version is "HTTP/2.0";
* `:authority` becomes the Host field (first, before the regular ones) and any Host the
  client sent is dropped; without `:authority` a Host field is kept as sent;
* Cookie fields are joined into one with "; " (RFC 9113 section 8.2.3), placed last;
* extended CONNECT becomes `GET` with `upgrade: <:protocol>` and `connection: upgrade`;
* then the scheme-based normalisation of HTTP/1's absolute targets (head.py).

The body: none with END_STREAM on the HEADERS frame or a Content-Length of 0 (HTX
BODYLESS), Content-Length bytes, else chunked on HTTP/1 output (encode.py adds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.proto.http.head import normalize_target
from pylvs.proto.http.message import Body, Flag, RequestHead
from pylvs.proto.http.syntax import TCHAR

# bits of a request head's flags beyond the H1_MF_* ones (message.Flag): HTX start-line flags
NORMALIZED_URI = Flag.NORMALIZED_URI

_PSEUDO = {b":method", b":scheme", b":authority", b":path", b":protocol"}
_FORBIDDEN = {b"connection", b"proxy-connection", b"keep-alive", b"upgrade", b"transfer-encoding"}
_SCHEME_REST = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


@dataclass(frozen=True, slots=True)
class Malformed:
    """The list breaks RFC 9113's rules: the stream is reset with PROTOCOL_ERROR."""

    why: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """HTX_FL_PARSING_ERROR: the request is answered with a 400 (as HTTP/1's parser would)."""

    why: str
    method: bytes
    target: bytes


@dataclass(frozen=True, slots=True)
class H2Request:
    """A request head and what the HTTP/2 side must remember of it."""

    head: RequestHead
    protocol: bytes | None  # extended CONNECT's :protocol (RFC 8441)
    length: int | None  # the Content-Length announced, if any
    ws_key: bytes | None = None  # the Sec-WebSocket-Key made for the HTTP/1 side


def _bad_value(value: bytes) -> bool:
    return b"\0" in value or b"\r" in value or b"\n" in value


def _bad_name(name: bytes) -> bool:
    start = 1 if name[:1] == b":" else 0
    if len(name) <= start:
        return True
    return any(c not in TCHAR or 0x41 <= c <= 0x5A for c in name[start:])


def content_length(value: bytes, known: int | None) -> int | Malformed | None:
    """h2_parse_cont_len_header(): the length a field says (equal to `known`, if any)."""
    result = known
    for raw in value.split(b","):
        word = raw.strip(b" \t")
        if not word.isdigit() or not word.isascii():
            return Malformed("invalid content-length")
        n = int(word)
        if result is not None and n != result:
            return Malformed("content-length mismatch")
        result = n
    return result if result is not None else Malformed("empty content-length")


def _scheme_ok(scheme: bytes) -> bool:
    """http_validate_scheme(): ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )."""
    return bool(scheme) and scheme[:1].isalpha() and all(c in _SCHEME_REST for c in scheme)


@dataclass(slots=True)
class _List:
    """What the header list said, sorted out (h2_make_htx_request's loop)."""

    pseudo: dict[bytes, bytes] = field(default_factory=dict)
    regular: list[tuple[bytes, bytes]] = field(default_factory=list)
    cookies: list[bytes] = field(default_factory=list)
    host: bytes | None = None
    length: int | None = None

    def take(self, name: bytes, value: bytes) -> Malformed | None:
        if _bad_name(name):
            return Malformed("invalid header name")
        if _bad_value(value):
            return Malformed("forbidden character in a value")
        if name[:1] == b":":
            if name not in _PSEUDO:
                return Malformed(f"unexpected pseudo-header {name!r}")
            if name in self.pseudo or self.regular or self.cookies or self.host is not None:
                return Malformed("repeated or misplaced pseudo-header")
            self.pseudo[name] = value
        elif name == b"host":
            if self.host is None:
                self.host = value
        elif name == b"content-length":
            n = content_length(value, self.length)
            if isinstance(n, Malformed):
                return n
            if self.length is None:
                self.regular.append((name, str(n).encode()))
            self.length = n
        elif name in _FORBIDDEN or (name == b"te" and value != b"trailers"):
            return Malformed(f"connection-specific field {name!r}")
        elif name == b"cookie":
            self.cookies.append(value)
        else:
            self.regular.append((name, value))
        return None

    def fields(self) -> list[tuple[bytes, bytes]]:
        """Host (from :authority first), the regular fields, the joined Cookie."""
        out: list[tuple[bytes, bytes]] = []
        host = self.pseudo.get(b":authority", self.host)
        if host is not None:
            out.append((b"host", host))
        out.extend(self.regular)
        if self.cookies:
            out.append((b"cookie", b"; ".join(self.cookies)))
        return out


def _invalid(method: bytes, target: bytes, scheme: bytes | None) -> Invalid | None:
    """HTX_FL_PARSING_ERROR's causes."""
    if any(c not in TCHAR for c in method):
        return Invalid("method", method, target)
    if any(c <= 0x20 or c == 0x7F for c in target):
        return Invalid("target", method, target)
    if scheme is not None and scheme.lower() not in (b"http", b"https") and not _scheme_ok(scheme):
        return Invalid("scheme", method, target)
    return None


def request(
    headers: list[tuple[bytes, bytes]], end_stream: bool, ws_key: bytes = b""
) -> H2Request | Malformed | Invalid:
    """The request HEADERS (and CONTINUATION) carried, `end_stream` if they ended the stream.
    `ws_key`: a fresh Sec-WebSocket-Key (base64 of 16 random bytes) for an extended CONNECT
    to WebSocket that has none (mux_h1.c h1_generate_random_ws_input_key: HTTP/1 servers
    need one; the accept value they answer is checked against it, stream.py)."""
    parsed = _List()
    for name, value in headers:
        refused = parsed.take(name, value)
        if refused is not None:
            return refused
    line = _request_line(parsed.pseudo)
    if isinstance(line, Malformed):
        return line
    method, target, flags, protocol = line
    scheme = parsed.pseudo.get(b":scheme")
    invalid = _invalid(method, target, scheme)
    if invalid is not None:
        return invalid
    fields = parsed.fields()
    length = parsed.length
    body, size = Body.CHUNKED, 0
    if method == b"CONNECT" or protocol is not None:  # a tunnel: no body, no length
        body = Body.NONE
        fields = [f for f in fields if f[0] != b"content-length"]
    else:
        if length is not None:
            flags |= Flag.CLEN
            body, size = Body.LENGTH, length
        if end_stream or length == 0:
            body, size = Body.NONE, 0
    made = None
    if protocol is not None:
        fields += [(b"upgrade", protocol), (b"connection", b"upgrade")]
        flags |= Flag.CONN_UPG
        if protocol.lower() == b"websocket":
            flags |= Flag.UPG_WEBSOCKET
            if ws_key and not any(n == b"sec-websocket-key" for n, _ in fields):
                made = ws_key
                fields.append((b"sec-websocket-key", ws_key))
    if scheme is not None:
        target, fields = normalize_target(target, fields)
    head = RequestHead(method, target, b"HTTP/2.0", tuple(fields), flags, body, size)
    return H2Request(head, protocol, length, made)


def _request_line(pseudo: dict[bytes, bytes]) -> tuple[bytes, bytes, int, bytes | None] | Malformed:
    """h2_prepare_htx_reqline(): method, target, flags and :protocol, or why not."""
    method = pseudo.get(b":method")
    scheme = pseudo.get(b":scheme")
    path = pseudo.get(b":path")
    authority = pseudo.get(b":authority")
    protocol = pseudo.get(b":protocol")
    flags = Flag.VER_11 | Flag.XFER_LEN
    if not method:
        return Malformed("missing :method")
    if method == b"CONNECT" and protocol is None:
        if scheme is not None or path is not None or authority is None:
            return Malformed("CONNECT needs :authority alone")
        return method, authority, flags, None
    if protocol is not None and (method != b"CONNECT" or authority is None):
        return Malformed(":protocol outside extended CONNECT")
    if scheme is None or path is None:
        return Malformed("missing :scheme or :path")
    if not path or (path[:1] != b"/" and path != b"*"):
        return Malformed("invalid :path")
    if protocol is not None:
        method = b"GET"
    if authority is None:
        return method, path, flags, protocol
    target = scheme + b"://" + authority + (path if path != b"*" else b"")
    if scheme.lower() in (b"http", b"https"):
        flags |= NORMALIZED_URI
    return method, target, flags, protocol
