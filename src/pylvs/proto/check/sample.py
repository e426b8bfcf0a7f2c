"""Sample expressions and log-format strings as HAProxy evaluates them inside a check.

A check's rules may compute what they send or expect: `send-lf`, `uri-lf`, `on-error`,
`status-code`, `set-var`, `connect port <expr>`.  HAProxy evaluates them in the check's own
session (src/tcpcheck.c, src/sample.c, src/log.c sess_build_logline): the fetches see the
check's variables (`check.*`, `sess.*`, `proc.*`), the backend and server, and the response
(`res.payload` reads the raw input buffer of a TCP check; `status`, `res.hdr` & co. the
response of an HTTP check).  This module evaluates the fetches and converters of that context
(`FETCHES`, `CONVERTERS`); the configuration reader refuses or warns about the others.

Values follow HAProxy's sample types and casts (sample.c sample_casts): a string cast from
binary stops at its first NUL, an integer read from a string takes its leading digits, a
missing sample prints as "-" in a log-format string (log.c lf_text_len).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

_T = TypeVar("_T")
BUFSIZE = 16384  # tune.bufsize: payload fetches refuse offsets past it


@dataclass(frozen=True, slots=True)
class Expr:
    """A sample expression: `fetch(args),conv(args),...` (args as written, unquoted)."""

    fetch: str
    args: tuple[str, ...] = ()
    converters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    text: str = ""


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A log-format string: literal text and `%[expr]` parts, in order."""

    parts: tuple[str | Expr, ...]
    text: str = ""

    @staticmethod
    def literal(text: str) -> LogFormat:
        return LogFormat((text,), text)


@dataclass(frozen=True, slots=True)
class Smp:
    """A sample: its HAProxy type (BOOL, SINT, STR, BIN, IPV4, IPV6) and value."""

    type: str
    value: int | bytes


@dataclass(frozen=True, slots=True)
class HttpView:
    """What an HTTP check's fetches see of the response (the HTX message)."""

    status: int
    reason: bytes
    version: bytes
    headers: tuple[tuple[bytes, bytes], ...]  # names lower-cased, in order
    body: bytes = b""


@dataclass(slots=True)
class Context:
    """Everything a check's expressions can read.  `vars` is the check's own variables
    (`check.*` and `sess.*`, reset at each run); `proc_vars` the process-wide ones."""

    backend: str = ""
    backend_id: int = 0
    server: str = ""
    server_id: int = 0
    vars: MutableMapping[str, Smp] = field(default_factory=dict)
    proc_vars: Mapping[str, Smp] = field(default_factory=dict)
    payload: bytes | None = None  # a TCP check's input buffer (None: HTTP check)
    http: HttpView | None = None
    wall: float = 0.0  # the date (seconds since the epoch), for date()
    hostname: str = ""
    environ: Mapping[str, str] = field(default_factory=dict)

    def get_var(self, name: str) -> Smp | None:
        if name.startswith("proc."):
            return self.proc_vars.get(name)
        return self.vars.get(name)


# -- casts ---------------------------------------------------------------------------------


def to_str(s: Smp) -> bytes | None:
    """sample_casts[*][STR]."""
    if s.type in ("STR",):
        assert isinstance(s.value, bytes)
        return s.value
    if s.type == "BIN":
        assert isinstance(s.value, bytes)
        return s.value.split(b"\0", 1)[0]
    if s.type in ("SINT", "BOOL"):
        return str(int(s.value)).encode()
    if s.type in ("IPV4", "IPV6"):
        assert isinstance(s.value, bytes)
        return s.value
    return None


def to_bin(s: Smp) -> bytes | None:
    """sample_casts[*][BIN]: integers as 8 bytes in network order."""
    if s.type in ("STR", "BIN"):
        assert isinstance(s.value, bytes)
        return s.value
    if s.type in ("SINT", "BOOL"):
        return (int(s.value) & (2**64 - 1)).to_bytes(8, "big")
    return None


def to_int(s: Smp) -> int | None:
    """sample_casts[*][SINT]: a string gives its leading (signed) digits (read_int64)."""
    if s.type in ("SINT", "BOOL"):
        return int(s.value)
    if s.type == "STR":
        assert isinstance(s.value, bytes)
        return read_int64(s.value) if s.value else None
    return None


def read_int64(text: bytes) -> int:
    i, sign = 0, 1
    if text[:1] in (b"-", b"+"):
        sign = -1 if text[:1] == b"-" else 1
        i = 1
    n = 0
    while i < len(text) and 48 <= text[i] <= 57:
        n = n * 10 + text[i] - 48
        i += 1
    return sign * n


def _signed64(n: int) -> int:
    n &= 2**64 - 1
    return n - 2**64 if n >= 2**63 else n


# -- fetches -------------------------------------------------------------------------------

Fetch = Callable[[Context, tuple[str, ...]], Smp | None]


def _str(text: str) -> Smp:
    return Smp("STR", text.encode("latin-1", "replace"))


def _payload(ctx: Context, args: tuple[str, ...]) -> Smp | None:
    """smp_fetch_payload on a check's input buffer: `len` 0 means up to the end."""
    data = ctx.payload
    if data is None or len(args) < 2:
        return None
    offset, size = int(args[0]), int(args[1])
    if size > BUFSIZE or offset + size > BUFSIZE or offset + size > len(data):
        return None
    return Smp("BIN", data[offset : offset + size] if size else data[offset:])


def _payload_lv(ctx: Context, args: tuple[str, ...]) -> Smp | None:
    """payload_lv(len_offset, len_size[, offset]): a length-prefixed block."""
    data = ctx.payload
    if data is None or len(args) < 2:
        return None
    loff, lsize = int(args[0]), int(args[1])
    if loff + lsize > len(data) or lsize <= 0:
        return None
    length = int.from_bytes(data[loff : loff + lsize], "big")
    start = loff + lsize
    if len(args) > 2 and args[2]:
        rel = int(args[2])
        start = loff + rel if rel >= 0 else loff + lsize + rel
    if start + length > len(data) or length > BUFSIZE:
        return None
    return Smp("BIN", data[start : start + length])


def _hdr_values(ctx: Context, name: str, full: bool) -> list[bytes] | None:
    http = ctx.http
    if http is None:
        return None
    key = name.lower().encode()
    out: list[bytes] = []
    for n, v in http.headers:
        if n != key:
            continue
        if full:
            out.append(v)
        else:
            out.extend(part.strip(b" \t") for part in v.split(b","))
    return out


def _hdr(full: bool) -> Fetch:
    def fetch(ctx: Context, args: tuple[str, ...]) -> Smp | None:
        if not args or not args[0]:
            return None
        values = _hdr_values(ctx, args[0], full)
        if not values:
            return None
        occ = int(args[1]) if len(args) > 1 and args[1] else -1
        if occ < 0:
            occ = len(values) + occ
        else:
            occ -= 1
        return Smp("STR", values[occ]) if 0 <= occ < len(values) else None

    return fetch


def _hdr_cnt(full: bool) -> Fetch:
    def fetch(ctx: Context, args: tuple[str, ...]) -> Smp | None:
        if ctx.http is None:
            return None
        if args and args[0]:
            values = _hdr_values(ctx, args[0], full) or []
            return Smp("SINT", len(values))
        return Smp("SINT", len(ctx.http.headers))

    return fetch


def _http(get: Callable[[HttpView], Smp]) -> Fetch:
    def fetch(ctx: Context, _args: tuple[str, ...]) -> Smp | None:
        return get(ctx.http) if ctx.http is not None else None

    return fetch


def _var(ctx: Context, args: tuple[str, ...]) -> Smp | None:
    value = ctx.get_var(args[0]) if args else None
    if value is None and len(args) > 1 and args[1]:
        return _str(args[1])
    return value


def _date(ctx: Context, args: tuple[str, ...]) -> Smp:
    return Smp("SINT", int(ctx.wall) + (int(args[0]) if args and args[0] else 0))


FETCHES: dict[str, Fetch] = {
    "always_true": lambda _c, _a: Smp("BOOL", 1),
    "always_false": lambda _c, _a: Smp("BOOL", 0),
    "str": lambda _c, a: _str(a[0]),
    "int": lambda _c, a: Smp("SINT", read_int64(a[0].encode())),
    "bin": lambda _c, a: Smp("BIN", binascii.unhexlify(a[0])),
    "bool": lambda _c, a: Smp("BOOL", int(a[0] not in ("", "0", "false"))),
    "var": _var,
    "be_name": lambda c, _a: _str(c.backend),
    "be_id": lambda c, _a: Smp("SINT", c.backend_id),
    "srv_name": lambda c, _a: _str(c.server),
    "srv_id": lambda c, _a: Smp("SINT", c.server_id),
    "hostname": lambda c, _a: _str(c.hostname),
    "env": lambda c, a: _str(c.environ[a[0]]) if a[0] in c.environ else None,
    "date": _date,
    "payload": _payload,
    "res.payload": _payload,
    "payload_lv": _payload_lv,
    "res.payload_lv": _payload_lv,
    "res.len": lambda c, _a: Smp("SINT", len(c.payload)) if c.payload is not None else None,
    "status": _http(lambda h: Smp("SINT", h.status)),
    "res.ver": _http(lambda h: Smp("STR", h.version.removeprefix(b"HTTP/"))),
    "res.body": _http(lambda h: Smp("BIN", h.body)),
    "res.body_len": _http(lambda h: Smp("SINT", len(h.body))),
    "res.body_size": _http(lambda h: Smp("SINT", len(h.body))),
    "res.hdr": _hdr(False),
    "res.fhdr": _hdr(True),
    "res.hdr_cnt": _hdr_cnt(False),
    "res.fhdr_cnt": _hdr_cnt(True),
}


# -- converters ----------------------------------------------------------------------------

Conv = Callable[[Smp, tuple[str, ...]], Smp | None]


def _bytes_conv(s: Smp, args: tuple[str, ...]) -> Smp | None:
    data = to_bin(s)
    if data is None:
        return None
    off = int(args[0])
    if len(data) <= off:
        return Smp(s.type if s.type in ("STR", "BIN") else "BIN", b"")
    data = data[off:]
    if len(args) > 1 and args[1]:
        data = data[: int(args[1])]
    return Smp(s.type if s.type in ("STR", "BIN") else "BIN", data)


def _hex2i(s: Smp, _a: tuple[str, ...]) -> Smp | None:
    data = to_str(s)
    if data is None:
        return None
    try:
        return Smp("SINT", _signed64(int(data, 16)) if data else 0)
    except ValueError:
        return None


def _int_op(op: Callable[[int, int], int | None]) -> Conv:
    def conv(s: Smp, args: tuple[str, ...]) -> Smp | None:
        a = to_int(s)
        b = read_int64(args[0].encode()) if args else 0
        if a is None:
            return None
        r = op(a, b)
        return None if r is None else Smp("SINT", _signed64(r))

    return conv


def _word(s: Smp, args: tuple[str, ...]) -> Smp | None:
    data = to_str(s)
    if data is None:
        return None
    index, delims = int(args[0]), args[1].encode()
    words = [w for w in _split_any(data, delims) if w]
    if index < 0:
        index = len(words) + index + 1
    return Smp("STR", words[index - 1]) if 1 <= index <= len(words) else None


def _field(s: Smp, args: tuple[str, ...]) -> Smp | None:
    data = to_str(s)
    if data is None:
        return None
    index, delims = int(args[0]), args[1].encode()
    parts = _split_any(data, delims)
    if index < 0:
        index = len(parts) + index + 1
    return Smp("STR", parts[index - 1]) if 1 <= index <= len(parts) else None


def _split_any(data: bytes, delims: bytes) -> list[bytes]:
    out, start = [], 0
    for i, c in enumerate(data):
        if c in delims:
            out.append(data[start:i])
            start = i + 1
    out.append(data[start:])
    return out


def _strip(data: bytes | None, chars: str, left: bool) -> Smp | None:
    if data is None:
        return None
    delims = chars.encode()
    return Smp("STR", data.lstrip(delims) if left else data.rstrip(delims))


def _b64dec(s: Smp, _a: tuple[str, ...]) -> Smp | None:
    data = to_bin(s)
    if data is None:
        return None
    try:
        return Smp("BIN", base64.b64decode(data, validate=True))
    except ValueError:
        return None


def _cut_crlf(data: bytes | None) -> Smp | None:
    if data is None:
        return None
    end = next((i for i, c in enumerate(data) if c in (10, 13)), len(data))
    return Smp("STR", data[:end])


def _str_conv(fn: Callable[[bytes], bytes]) -> Conv:
    def conv(s: Smp, _a: tuple[str, ...]) -> Smp | None:
        data = to_str(s)
        return None if data is None else Smp("STR", fn(data))

    return conv


CONVERTERS: dict[str, Conv] = {
    "hex": lambda s, _a: _maybe(to_bin(s), lambda d: Smp("STR", d.hex().upper().encode())),
    "hex2i": _hex2i,
    "htonl": lambda s, _a: _maybe(
        to_int(s), lambda n: Smp("BIN", (n & 0xFFFFFFFF).to_bytes(4, "big"))
    ),
    "cut_crlf": lambda s, _a: _cut_crlf(to_str(s)),
    "ltrim": lambda s, a: _strip(to_str(s), a[0], True),
    "rtrim": lambda s, a: _strip(to_str(s), a[0], False),
    "lower": _str_conv(bytes.lower),
    "upper": _str_conv(bytes.upper),
    "length": lambda s, _a: _maybe(to_str(s), lambda d: Smp("SINT", len(d))),
    "bytes": _bytes_conv,
    "base64": lambda s, _a: _maybe(to_bin(s), lambda d: Smp("STR", base64.b64encode(d))),
    "b64dec": _b64dec,
    "word": _word,
    "field": _field,
    "add": _int_op(lambda a, b: a + b),
    "sub": _int_op(lambda a, b: a - b),
    "mul": _int_op(lambda a, b: a * b),
    "div": _int_op(lambda a, b: int(a / b) if b else None),
    "mod": _int_op(lambda a, b: a - b * int(a / b) if b else None),
    "neg": _int_op(lambda a, _b: -a),
    "and": _int_op(lambda a, b: a & b),
    "or": _int_op(lambda a, b: a | b),
    "xor": _int_op(lambda a, b: a ^ b),
    "not": lambda s, _a: _maybe(to_int(s), lambda n: Smp("BOOL", int(not n))),
    "bool": lambda s, _a: _maybe(to_int(s), lambda n: Smp("BOOL", int(bool(n)))),
}


def _maybe(value: _T | None, fn: Callable[[_T], Smp]) -> Smp | None:
    return None if value is None else fn(value)


# -- evaluation ----------------------------------------------------------------------------


def evaluate(expr: Expr, ctx: Context) -> Smp | None:
    """The sample an expression gives in `ctx`, or None (no sample, as HAProxy's fetch
    returning 0)."""
    fetch = FETCHES.get(expr.fetch)
    if fetch is None:
        return None
    try:
        smp = fetch(ctx, expr.args)
        for name, args in expr.converters:
            if smp is None:
                return None
            conv = CONVERTERS.get(name)
            smp = conv(smp, args) if conv is not None else None
    except (ValueError, IndexError, binascii.Error):
        return None
    return smp


def render(fmt: LogFormat, ctx: Context) -> bytes:
    """sess_build_logline over a format: each expression cast to a string, "-" when it
    gives nothing (or an empty string)."""
    out: list[bytes] = []
    for part in fmt.parts:
        if isinstance(part, str):
            out.append(part.encode("latin-1", "replace"))
            continue
        smp = evaluate(part, ctx)
        text = to_str(smp) if smp is not None else None
        out.append(text if text else b"-")
    return b"".join(out)


def supported(expr: Expr) -> Sequence[str]:
    """The fetch and converters of `expr` this module cannot evaluate (the reader warns)."""
    missing = [] if expr.fetch in FETCHES else [expr.fetch]
    return missing + [name for name, _ in expr.converters if name not in CONVERTERS]
