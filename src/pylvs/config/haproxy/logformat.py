"""Log-format strings inside health checks (`send-lf`, `uri-lf`, `on-error`, ...): HAProxy
2.6's syntax read by lf_nodes.py (the one log-format reader), then held to what a check can
evaluate (src/log.c parse_logformat_string with SMP_VAL_BE_CHK_RUL).

An expression must be usable where the string is evaluated: in a check, the fetches of
SMP_VAL_BE_CHK_RUL (add_sample_to_logformat_list: "sample fetch <X> may not be reliably used
here because it needs '...' which is not available here").  The result is proto/check's
`LogFormat` (rendered by proto/rules/logfmt, the one renderer); what the check machine cannot
evaluate (an alias, flags, a fetch it does not implement) is returned beside the format for
an UNSUPPORTED warning.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pylvs.config.haproxy.compile_samples import context as compile_context
from pylvs.config.haproxy.fetches import FETCHES
from pylvs.config.haproxy.lf_nodes import (
    LfExpr,
    LfText,
    LfVar,
    LogFormatError,
    parse_log_format,
    src_names,
)
from pylvs.config.haproxy.samples import parse_sample
from pylvs.proto.check.rules import Ruleset
from pylvs.proto.check.sample import Expr, LogFormat
from pylvs.proto.sample import expr as sample_expr

# sample.c fetch_cap[]: the sources a tcp-check / http-check rule may read
CHECK_SOURCES = frozenset(
    {"CONST", "INTRN", "L4CLI", "BKEND", "SERVR", "L4SRV", "L5SRV", "L6RES", "HRSHV"}
    | {"HRSHP", "HRSBO"}
)


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


__all__ = ["LogFormatError", "check_missing", "parse", "src_names", "to_expr", "usable_in_check"]


def parse(text: str) -> tuple[LogFormat, list[str]]:
    """parse_logformat_string, in a check's context: the format, and what in it the check
    machine does not evaluate (aliases, `%{flags}`, fetches and converters it lacks), for
    an UNSUPPORTED warning.  Raises LogFormatError with HAProxy's message."""
    parts: list[str | Expr] = []
    missing: list[str] = []
    for node in parse_log_format(text):
        if not isinstance(node, LfExpr | LfVar):  # text (no separators: spaces are text here)
            parts.append(node.text if isinstance(node, LfText) else " ")
            continue
        if node.options:
            missing.append("%{" + ",".join(f"+{o}" for o in sorted(node.options)) + "}")
        if isinstance(node, LfVar):
            missing.append(f"%{node.name}")
            parts.append(Expr(f"%{node.name}", text=f"%{node.name}"))
        elif isinstance(node, LfExpr):
            parts.append(_check_expr(text, node))
            missing += check_missing(parts[-1])  # type: ignore[arg-type]
    return LogFormat(tuple(parts), text), missing


def _check_expr(text: str, node: LfExpr) -> Expr:
    """The expression of `%[...]`, compiled for proto/sample, if a check may use it."""
    s = node.sample
    if not usable_in_check(s.fetch):
        raise LogFormatError(
            f"sample fetch <{text[node.offset :]}> may not be reliably used here because it"
            f" needs '{src_names(FETCHES[s.fetch].use)}' which is not available here"
        )
    try:
        compiled = sample_expr.compile_sample(
            s.fetch, s.args, s.converters, s.text, compile_context()
        )
    except sample_expr.CompileError:
        compiled = None
    return Expr(s.fetch, s.args, s.converters, s.text, compiled)


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
