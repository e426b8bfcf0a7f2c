"""Log-format strings as HAProxy 2.6 parses them (src/log.c parse_logformat_string), for the
places that evaluate them inside health checks (`send-lf`, `uri-lf`, `on-error`, ...).

Text, `%%`, `%[sample,converters]`, `%{flags}[...]` and the `%name` aliases.  An expression
must be usable where the string is evaluated: in a check, the fetches of SMP_VAL_BE_CHK_RUL
(add_sample_to_logformat_list: "sample fetch <X> may not be reliably used here because it
needs '...' which is not available here").  The result is proto/check's `LogFormat`; what the
check machine cannot evaluate (an alias, flags, a fetch it does not implement) is returned
beside the format for an UNSUPPORTED warning.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pylvs.config.haproxy.compile_samples import context as compile_context
from pylvs.config.haproxy.fetches import FETCHES
from pylvs.config.haproxy.samples import SampleError, parse_sample
from pylvs.proto.check.rules import Ruleset
from pylvs.proto.check.sample import Expr, LogFormat
from pylvs.proto.sample import expr as sample_expr

# src/log.c logformat_keywords
ALIASES = frozenset(
    {
        "o", "B", "CC", "CS", "H", "ID", "ST", "T", "Ta", "Tc", "Th", "Ti", "Tl", "Tq", "Tr", "TR",
        "Td", "Ts", "Tt", "Tu", "Tw", "U", "ac", "b", "bc", "bi", "bp", "bq", "ci", "cp", "f",
        "fc", "fi", "fp", "ft", "hr", "hrl", "hs", "hsl", "HM", "HP", "HPO", "HQ", "HU", "HV",
        "lc", "ms", "pid", "r", "rc", "rt", "s", "sc", "si", "sp", "sq", "sslc", "sslv", "t", "tr",
        "trg", "trl", "ts", "tsc",
    }
)  # fmt: skip

# sample.c fetch_src_names, by the SMP_USE_* names of config/haproxy/fetches.py
SRC_NAMES = {
    "CONST": "",
    "INTRN": "internal state",
    "LISTN": "listener",
    "FTEND": "frontend",
    "L4CLI": "client address",
    "L5CLI": "client-side connection",
    "TRACK": "track counters",
    "L6REQ": "request buffer",
    "HRQHV": "HTTP request headers",
    "HRQHP": "HTTP request",
    "HRQBO": "HTTP request body",
    "BKEND": "backend",
    "SERVR": "server",
    "L4SRV": "server address",
    "L5SRV": "server-side connection",
    "L6RES": "response buffer",
    "HRSHV": "HTTP response headers",
    "HRSHP": "HTTP response",
    "HRSBO": "HTTP response body",
    "RQFIN": "request buffer statistics",
    "RSFIN": "response buffer statistics",
    "TXFIN": "transaction statistics",
    "SSFIN": "session statistics",
}
_ORDER = list(SRC_NAMES)
# sample.c fetch_cap[]: the sources a tcp-check / http-check rule may read
CHECK_SOURCES = frozenset(
    {"CONST", "INTRN", "L4CLI", "BKEND", "SERVR", "L4SRV", "L5SRV", "L6RES", "HRSHV"}
    | {"HRSHP", "HRSBO"}
)


class LogFormatError(ValueError):
    pass


def src_names(use: tuple[str, ...]) -> str:
    """sample_src_names: the sources a fetch reads, comma-separated, in HAProxy's order."""
    names = [SRC_NAMES[u] for u in sorted(use, key=_ORDER.index) if SRC_NAMES.get(u)]
    return ",".join(names)


def usable_in_check(fetch: str) -> bool:
    f = FETCHES.get(fetch)
    return f is None or any(u in CHECK_SOURCES for u in f.use)


def to_expr(text: str) -> Expr:
    """A sample expression (raises SampleError with HAProxy's message), compiled for
    proto/sample when it can be (see `check_missing`)."""
    s = parse_sample(text)
    try:
        compiled = sample_expr.compile_sample(
            s.fetch, s.args, s.converters, text, compile_context()
        )
    except sample_expr.CompileError:
        compiled = None
    return Expr(s.fetch, s.args, s.converters, text, compiled)


def check_missing(expr: Expr) -> list[str]:
    """What of `expr` the check cannot evaluate, for an UNSUPPORTED warning: the fetch and
    converters proto/sample does not implement (or the whole expression, when it refused
    an argument)."""
    if expr.compiled is not None:
        return []
    names = [] if expr.fetch in sample_expr.FETCHES else [expr.fetch]
    names += [n for n, _a in expr.converters if n not in sample_expr.CONVERTERS]
    return names or [expr.text]


def parse(text: str) -> tuple[LogFormat, list[str]]:
    """parse_logformat_string, in a check's context: the format, and what in it the check
    machine does not evaluate (aliases, `%{flags}`, fetches and converters it lacks), for
    an UNSUPPORTED warning.  Raises LogFormatError with HAProxy's message."""
    parts: list[str | Expr] = []
    missing: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        nxt = text[i + 1 : i + 2]
        if c != "%" or nxt == "%":
            literal.append(c)
            i += 1 if c != "%" else 2
            continue
        item, i = _percent(text, i, missing)
        if isinstance(item, str):  # '%' followed by another character: literal text
            literal.append(item)
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(item)
    if literal:
        parts.append("".join(literal))
    return LogFormat(tuple(parts), text), missing


def _percent(text: str, i: int, missing: list[str]) -> tuple[str | Expr, int]:
    """What the '%' at `i` starts (an expression, an alias, or literal text) and where
    the text goes on; adds what the check machine lacks to `missing`."""
    nxt = text[i + 1 : i + 2]
    if nxt == "":
        raise LogFormatError("truncated line after '%'")
    if nxt.isdigit() or nxt in (" ", "\t"):
        raise LogFormatError(
            f"unexpected variable name near '{nxt}' at position {i + 1} line : '{text}'."
            " Maybe you want to write a single '%', use the syntax '%%'"
        )
    i += 1
    if text[i] == "{":
        end = text.find("}", i)
        if end < 0:
            raise LogFormatError(f"truncated line after '{text[i + 1 :]}'")
        flags = text[i + 1 : end]
        missing.append(f"%{{{flags}}}")
        i = end + 1
        if i >= len(text) or not (text[i] == "[" or text[i].isalnum()):
            raise LogFormatError(
                f"parse argument modifier without variable name near '%{{{flags}}}'"
            )
    if text[i] == "[":
        expr, i = _expression(text, i + 1)
        missing += check_missing(expr)
        return expr, i
    if not text[i].isalpha():
        return "%" + text[i], i + 1
    j = i
    while j < len(text) and text[j].isalnum():
        j += 1
    name = text[i:j]
    if name not in ALIASES:
        raise LogFormatError(
            f"no such format variable '{name}'. If you wanted to emit the '%' character"
            " verbatim, you need to use '%%'"
        )
    missing.append(f"%{name}")
    return Expr(f"%{name}", text=f"%{name}"), j


def _expression(text: str, start: int) -> tuple[Expr, int]:
    """The expression of `%[...]` at `start`: up to the first ']' outside parentheses."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"" and depth:
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "]" and depth <= 0:
            break
        i += 1
    body = text[start:i]
    try:
        expr = to_expr(body)
    except SampleError as e:
        raise LogFormatError(f"failed to parse sample expression <{text[start:]}> : {e}") from None
    if not usable_in_check(expr.fetch):
        fetch = FETCHES[expr.fetch]
        raise LogFormatError(
            f"sample fetch <{text[start:]}> may not be reliably used here because it needs"
            f" '{src_names(fetch.use)}' which is not available here"
        )
    if i >= len(text):
        raise LogFormatError(f"missing ']' after '{body}'")
    return expr, i + 1


def compile_ruleset(ruleset: Ruleset) -> Ruleset:
    """A ruleset proto/check built by itself (the protocol checks', the agent's), its
    expressions compiled as the reader compiles a written one (proto does not know
    HAProxy's keyword signatures, config/haproxy/fetches.py)."""
    rules = tuple(_compiled(r) for r in ruleset.rules)
    return dataclasses.replace(ruleset, rules=rules)


def _compiled(value: Any) -> Any:
    if isinstance(value, Expr):
        return value if value.compiled is not None else to_expr(value.text)
    if isinstance(value, LogFormat):
        return LogFormat(tuple(_compiled(p) for p in value.parts), value.text)
    if isinstance(value, tuple):
        return tuple(_compiled(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _compiled(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value
