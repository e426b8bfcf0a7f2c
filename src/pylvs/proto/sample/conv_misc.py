"""Converters that reach beyond the sample (src/sample.c, src/vars.c, src/http_conv.c,
src/backend.c; HAProxy 2.6): `json_query`, `set-var`/`unset-var`, `capture-req`/`capture-res`,
`utime`/`ltime`/`http_date`, `nbsrv`, `srv_queue`.

`json_query(path[,"int"])` reads a JSON document with mjson's paths: `$`, `.key` (a `\\.`
inside a key is a dot), `[index]`; a number becomes its `%g` text (or a 53-bit integer with
"int"), true/false a boolean, a string its unescaped text; null, arrays, objects and invalid
documents give nothing.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Args, CompileContext, CompileError, compile_var, converter
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp
from pylvs.proto.sample.vars import CONDITIONS, VarName

# -- json_query -------------------------------------------------------------------------------

JSON_INT_MAX = (1 << 53) - 1


def _check_json_query(a: Args, ctx: CompileContext) -> Args:
    if not a[0]:
        raise CompileError("json_path must not be empty")
    as_int = False
    if a[1]:
        if a[1] != b"int":
            raise CompileError('output_type only supports "int" as argument')
        as_int = True
    return (_parse_path(a[0]), as_int)


def _parse_path(path: bytes) -> list[str | int] | None:
    """mjson's path: `$` then `.key` and `[n]` steps (None: a path mjson never matches)."""
    text = path.decode("latin-1")
    if not text.startswith("$"):
        return None
    steps: list[str | int] = []
    i = 1
    while i < len(text):
        if text[i] == ".":
            i += 1
            key = ""
            while i < len(text) and text[i] not in ".[":
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                key += text[i]
                i += 1
            steps.append(key)
        elif text[i] == "[":
            end = text.find("]", i)
            if end < 0 or not text[i + 1 : end].isdigit():
                return None
            steps.append(int(text[i + 1 : end]))
            i = end + 1
        else:
            return None
    return steps


class _Number(str):
    """A JSON number kept as its text (mjson returns tokens)."""


def _first_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, v)  # mjson finds the first occurrence of a key
    return out


def json_lookup(document: bytes, steps: list[str | int] | None) -> Any:
    if steps is None:
        return None
    try:
        value: Any = json.loads(
            document.decode("utf-8"),
            parse_int=_Number,
            parse_float=_Number,
            parse_constant=lambda c: None,
            object_pairs_hook=_first_pairs,
        )
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
            value = value[step]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return None
    return value


def _strtoll(text: str) -> int:
    """strtoll(token, NULL, 0) on a JSON number's text: the leading integer part."""
    sign = -1 if text.startswith("-") else 1
    digits = ""
    for c in text.lstrip("-+"):
        if not c.isdigit():
            break
        digits += c
    return sign * int(digits) if digits else 0


@converter("json_query", check=_check_json_query)
def _json_query(s: Stream, smp: Smp, a: Args) -> Smp | None:
    value = json_lookup(smp.text, a[0])
    if isinstance(value, _Number):
        if a[1]:
            n = _strtoll(value)
            return Smp(ty.SINT, n) if -JSON_INT_MAX <= n <= JSON_INT_MAX else None
        return Smp(ty.STR, (b"%g" % float(value)))
    if value is True or value is False:
        return Smp(ty.BOOL, 1 if value else 0)
    if isinstance(value, str):
        return Smp(ty.STR, value.encode("utf-8"))
    return None


# -- variables as converters -----------------------------------------------------------------


def _check_set_var(a: Args, ctx: CompileContext) -> Args:
    name = compile_var(a[0].decode("latin-1"), ctx)
    conditions: list[str] = []
    for arg in a[1:]:
        if arg is None:
            break
        cond = arg.decode("latin-1")
        if cond not in CONDITIONS:
            break  # smp_conv_store stops at the first unknown word
        conditions.append(cond)
    return (name, frozenset(conditions))


@converter("set-var", check=_check_set_var)
def _set_var(s: Stream, smp: Smp, a: Args) -> Smp | None:
    name: VarName = a[0]
    scope = s.scope(name.scope)
    if scope is not None:
        scope.set(name.name, smp, a[1])
    return smp


def _check_unset_var(a: Args, ctx: CompileContext) -> Args:
    return (compile_var(a[0].decode("latin-1"), ctx),)


@converter("unset-var", check=_check_unset_var)
def _unset_var(s: Stream, smp: Smp, a: Args) -> Smp | None:
    scope = s.scope(a[0].scope)
    if scope is not None:
        scope.unset(a[0].name)
    return smp


# -- captures ---------------------------------------------------------------------------------


def _capture(response: bool) -> Callable[[Stream, Smp, Args], Smp | None]:
    def fn(s: Stream, smp: Smp, a: Args) -> Smp | None:
        slots = s.captures.response if response else s.captures.request
        lengths = s.captures.response_len if response else s.captures.request_len
        idx = a[0]
        if not 0 <= idx < len(slots):
            return None
        slots[idx] = smp.text[: lengths[idx]]
        return smp

    return fn


converter("capture-req")(_capture(False))
converter("capture-res")(_capture(True))


# -- dates -------------------------------------------------------------------------------------


def _check_time(a: Args, ctx: CompileContext) -> Args:
    return a


def _strftime(fmt: bytes, seconds: int, local: bool) -> bytes | None:
    try:
        when = (
            datetime.datetime.fromtimestamp(seconds)
            if local
            else datetime.datetime.fromtimestamp(seconds, datetime.UTC)
        )
        return when.strftime(fmt.decode("latin-1")).encode("latin-1", "replace")
    except (OverflowError, OSError, ValueError):
        return None


@converter("utime", check=_check_time)
def _utime(s: Stream, smp: Smp, a: Args) -> Smp | None:
    out = _strftime(a[0], smp.num + (a[1] or 0), local=False)
    return None if out is None else Smp(ty.STR, out)


@converter("ltime", check=_check_time)
def _ltime(s: Stream, smp: Smp, a: Args) -> Smp | None:
    out = _strftime(a[0], smp.num + (a[1] or 0), local=True)
    return None if out is None else Smp(ty.STR, out)


_DAYS = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_MONTHS = tuple(b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())


def http_date(seconds: int) -> bytes | None:
    """An IMF-fixdate (RFC 7231 §7.1.1.1): `Sun, 06 Nov 1994 08:49:37 GMT`."""
    try:
        t = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return b"%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[t.weekday()], t.day, _MONTHS[t.month - 1], t.year, t.hour, t.minute, t.second,
    )  # fmt: skip


def _check_http_date(a: Args, ctx: CompileContext) -> Args:
    unit = a[1] or b"s"
    if unit not in (b"s", b"ms", b"us"):
        raise CompileError(
            f"Invalid unit {unit.decode('latin-1')} for http_date. Expects 's', 'ms' or 'us'"
        )
    return (a[0] or 0, {b"s": 1, b"ms": 1000, b"us": 1_000_000}[unit])


@converter("http_date", check=_check_http_date)
def _http_date(s: Stream, smp: Smp, a: Args) -> Smp | None:
    out = http_date(smp.num // a[1] + a[0])
    return None if out is None else Smp(ty.STR, out)


# -- live counters -------------------------------------------------------------------------------


@converter("nbsrv")
def _nbsrv(s: Stream, smp: Smp, a: Args) -> Smp | None:
    live = s.process.live
    if live is None:
        return None
    count = live.backend_servers_up(smp.text.decode("latin-1"))
    return None if count is None else Smp(ty.SINT, count)


@converter("srv_queue")
def _srv_queue(s: Stream, smp: Smp, a: Args) -> Smp | None:
    live = s.process.live
    backend, slash, server = smp.text.decode("latin-1").partition("/")
    if live is None or not slash:
        return None
    queue = live.server_queue(backend, server)
    return None if queue is None else Smp(ty.SINT, queue)
