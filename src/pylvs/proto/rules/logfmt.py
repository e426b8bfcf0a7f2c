"""Log-format strings, compiled and built for a stream (src/log.c build_logline; HAProxy 2.6).

Rules use them for header values, paths, backend names, redirect targets and reply bodies.
In those (LOG_OPT_HTTP) a sample's text has the bytes HTTP forbids in a field value
(0x00-0x08, 0x0a-0x1f, 0x7f) written as `%XX` (upper-case hex, log.c http_encode_map) and
`+Q` adds no quotes; a missing sample writes nothing.  Outside HTTP (`log-format`), `+Q`
quotes, `+M` writes `-` for a missing value, and a value stops at its first NUL
(lf_text_len).  `+E` escapes `"`, `\\` and `]` with a backslash (rfc5424_escape_map, after
the HTTP encoding in rules: lf_encode_chunk); `+X` writes addresses and ports in upper-case
hex, most significant byte first (lf_ip, lf_port).  Separators (runs of spaces of a
log-format line) are written once, never first (build_logline's last_isspace starts true).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Expr
from pylvs.proto.sample.message import uri_parts
from pylvs.proto.sample.stream import Stream

_HEX = b"0123456789ABCDEF"
_ENCODED = frozenset(range(0x00, 0x09)) | frozenset(range(0x0A, 0x20)) | {0x7F}


_ESCAPED = frozenset(b'"\\]')  # rfc5424_escape_map


def http_encode(data: bytes, escape: bool = False) -> bytes:
    """encode_chunk with http_encode_map; `escape` (+E): lf_encode_chunk's backslashes."""
    if not any(b in _ENCODED or (escape and b in _ESCAPED) for b in data):
        return data
    out = bytearray()
    for b in data:
        if b in _ENCODED:
            out += b"%" + _HEX[b >> 4 : (b >> 4) + 1] + _HEX[b & 15 : (b & 15) + 1]
        elif escape and b in _ESCAPED:
            out += b"\\" + bytes((b,))
        else:
            out.append(b)
    return bytes(out)


def rfc5424_escape(data: bytes) -> bytes:
    """escape_string with rfc5424_escape_map."""
    return bytes(
        bytearray().join(b"\\" + bytes((b,)) if b in _ESCAPED else bytes((b,)) for b in data)
    )


def _ip(addr: object) -> bytes:
    return b"-" if addr is None else str(addr).encode()


BADREQ = b"<BADREQ>"  # log.c: %HM, %HU, %HP, %HPO, %HQ, %HV of a stream without txn->uri


def _line(s: Stream) -> tuple[bytes, bytes, bytes] | None:
    """The request line as received (txn->uri: the rules' rewrites do not show), or the
    request's own when it was not kept; None without a request."""
    if s.orig_method is not None and s.orig_uri is not None:
        return s.orig_method, s.orig_uri, s.orig_version or b""
    req = s.request
    return None if req is None else (req.method, req.uri, req.version)


def _uri_part(s: Stream, part: str) -> bytes:
    return uri_part(_line(s), part)


def uri_part(line: tuple[bytes, bytes, bytes] | None, part: str) -> bytes:
    """log.c's LOG_FMT_HTTP_* on txn->uri: %HM the method, %HV the version, %HU the target,
    %HP it up to its '?', %HQ from its '?' on (nothing without one), %HPO the path alone."""
    if line is None:
        return BADREQ
    method, uri, version = line
    if part == "HM":
        return method
    if part == "HV":
        return version
    if part == "HU":
        return uri
    q = uri.find(b"?")
    if part == "HQ":
        return b"" if q < 0 else uri[q:]
    if part == "HPO":  # http_parse_path: no scheme nor authority
        path = uri_parts(uri)[2] or b""
        q = path.find(b"?")
    else:  # HP: the target as sent, scheme and authority included for an absolute URI
        path = uri
    return path if q < 0 else path[:q]


# The log variables rules may use (log.c logformat_keywords), each as a stream reader.
VARIABLES: dict[str, Callable[[Stream], bytes]] = {
    "ci": lambda s: _ip(s.src),
    "cp": lambda s: str(s.src_port).encode(),
    "fi": lambda s: _ip(s.dst),
    "fp": lambda s: str(s.dst_port).encode(),
    "f": lambda s: s.frontend.name.encode(),
    "ft": lambda s: s.frontend.name.encode(),
    "b": lambda s: (s.backend or s.frontend).name.encode(),
    "s": lambda s: b"<NOSRV>" if s.server is None else s.server.name.encode(),
    "si": lambda s: b"-" if s.server is None else _ip(s.server.address),
    "sp": lambda s: b"-" if s.server is None else str(s.server.port or 0).encode(),
    "H": lambda s: s.process.hostname.encode(),
    "ID": lambda s: s.unique_id or b"",
    "pid": lambda s: str(s.process.pid).encode(),
    "rt": lambda s: str(s.uniq_id).encode(),
    "lc": lambda s: str(s.process.log_counter).encode(),
    "ST": lambda s: str(s.status).encode(),
    "HM": lambda s: _uri_part(s, "HM"),
    "HV": lambda s: _uri_part(s, "HV"),
    "HU": lambda s: _uri_part(s, "HU"),
    "HP": lambda s: _uri_part(s, "HP"),
    "HPO": lambda s: _uri_part(s, "HPO"),
    "HQ": lambda s: _uri_part(s, "HQ"),
}


def _hex_ip(addr: object) -> bytes:
    packed = getattr(addr, "packed", None)
    return b"-" if packed is None else packed.hex().upper().encode()


def _hex_port(port: int | None) -> bytes:
    return b"%04X" % ((port or 0) & 0xFFFF)


# The variables `+X` writes in hex (lf_ip / lf_port with LOG_OPT_HEXA).
HEX_VARIABLES: dict[str, Callable[[Stream], bytes]] = {
    "ci": lambda s: _hex_ip(s.src),
    "cp": lambda s: _hex_port(s.src_port),
    "fi": lambda s: _hex_ip(s.dst),
    "fp": lambda s: _hex_port(s.dst_port),
    "si": lambda s: b"-" if s.server is None else _hex_ip(s.server.address),
    "sp": lambda s: b"-" if s.server is None else _hex_port(s.server.port),
}


@dataclass(frozen=True, slots=True)
class Sep:
    pass


@dataclass(frozen=True, slots=True)
class SampleNode:
    expr: Expr
    options: frozenset[str]


@dataclass(frozen=True, slots=True)
class VarNode:
    name: str
    read: Callable[[Stream], bytes | None]  # None: writes nothing, not even a separator's end
    options: frozenset[str]


Node = bytes | Sep | SampleNode | VarNode


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A compiled log-format string; `http` for the rules' strings (LOG_OPT_HTTP)."""

    nodes: tuple[Node, ...]
    http: bool = True
    text: str = ""

    @property
    def constant(self) -> bytes | None:
        """The string itself when it has no variable part."""
        if all(isinstance(n, bytes) for n in self.nodes):
            return b"".join(n for n in self.nodes if isinstance(n, bytes))
        return None

    def build(self, s: Stream) -> bytes:
        out: list[bytes] = []
        last_space = True
        for node in self.nodes:
            if isinstance(node, bytes):
                out.append(node)
                last_space = False
            elif isinstance(node, Sep):
                if not last_space:
                    out.append(b" ")
                    last_space = True
            elif isinstance(node, SampleNode):
                smp = node.expr.eval_as(s, ty.STR)
                out.append(self._value(None if smp is None else smp.text, node.options))
                last_space = False
            else:
                value = node.read(s)
                if value is None:  # e.g. %hr without captures: build_logline writes nothing
                    continue
                out.append(self._value(value, node.options))
                last_space = False
        return b"".join(out)

    def _value(self, value: bytes | None, options: frozenset[str]) -> bytes:
        if self.http:
            return http_encode(value or b"", "E" in options)
        return log_value(value, options)


def log_value(value: bytes | None, options: frozenset[str]) -> bytes:
    """A value as a `log-format` line writes it (lf_text_len: up to a NUL; +E, +Q, +M)."""
    if value:
        value = value.split(b"\0", 1)[0]
        if "E" in options:
            value = rfc5424_escape(value)
    if "Q" in options:
        return b'"' + (value or b"") + b'"'
    if not value:
        return b"-" if "M" in options else b""
    return value


def literal(text: bytes) -> LogFormat:
    return LogFormat((text,), text=text.decode("latin-1"))
