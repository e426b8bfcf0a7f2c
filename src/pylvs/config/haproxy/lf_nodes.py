"""Log-format strings as HAProxy 2.6 parses them (src/log.c parse_logformat_string): the
values of `http-request set-header`, `set-path`, `use_backend %[...]`, `redirect location`,
`return lf-string`, ... and of `log-format` itself.

A string is literal text, `%%` (a literal '%'), `%[expr]` (a sample expression, read with
sample_parse_expr up to the closing bracket) and `%NAME` (a log variable such as `%ci`,
one of ALIASES), the last two optionally preceded by `{+Q,-M,...}` options.  A
'%' followed by a digit or a blank, or ending the string, is an error, as in HAProxy.
Spaces are literal text except in `log-format` lines (LOG_OPT_MERGE_SPACES), where runs of
them are one separator; `merge_spaces` keeps them apart for that use.  (The health checks'
logformat.py reads the same syntax into proto/check's simpler form.)
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.config.haproxy.fetch_cap import CAP
from pylvs.config.haproxy.fetches import FETCHES
from pylvs.config.haproxy.model import Sample
from pylvs.config.haproxy.samples import SampleError, parse_sample_prefix

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


def src_names(use: tuple[str, ...]) -> str:
    """sample_src_names: the sources a fetch reads, comma-separated, in HAProxy's order."""
    names = [SRC_NAMES[u] for u in sorted(use, key=_ORDER.index) if SRC_NAMES.get(u)]
    return ",".join(names)


# log.c var_args_list: the options a `%{...}` may set or clear
OPTIONS = frozenset({"M", "Q", "X", "E"})


class LogFormatError(ValueError):
    """A string HAProxy refuses (its message)."""


@dataclass(frozen=True, slots=True)
class LfText:
    text: str


@dataclass(frozen=True, slots=True)
class LfSeparator:
    """One or more spaces of a `log-format` line (merged into one on output)."""


@dataclass(frozen=True, slots=True)
class LfExpr:
    sample: Sample
    options: frozenset[str] = frozenset()
    offset: int = 0  # where the expression starts in the string (after "%[")


@dataclass(frozen=True, slots=True)
class LfVar:
    name: str
    options: frozenset[str] = frozenset()


LfNode = LfText | LfSeparator | LfExpr | LfVar


def _options(arg: str, base: frozenset[str] = frozenset()) -> frozenset[str]:
    """`+Q,-M`: the options set (log.c parse_logformat_var_args; unknown ones are ignored
    there too), from `base`."""
    out: set[str] = set(base)
    for word in arg.split(","):
        if len(word) >= 2 and word[0] in "+-" and word[1:] in OPTIONS:
            if word[0] == "+":
                out.add(word[1:])
            else:
                out.discard(word[1:])
    return frozenset(out)


def parse_log_format(
    fmt: str, *, merge_spaces: bool = False, mandatory: bool = False
) -> tuple[LfNode, ...]:
    """The nodes of `fmt`; raises LogFormatError.  `mandatory`: every node starts with the
    `M` option (a traffic log line's LOG_OPT_MANDATORY: a missing value prints "-")."""
    base = frozenset({"M"}) if mandatory else frozenset()
    nodes: list[LfNode] = []
    text: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c == " " and merge_spaces:
            _flush(text, nodes)
            while i < n and fmt[i] == " ":
                i += 1
            nodes.append(LfSeparator())
        elif c != "%":
            text.append(c)
            i += 1
        else:
            i, base = _percent(fmt, i + 1, text, nodes, base)
    _flush(text, nodes)
    return tuple(nodes)


def _flush(text: list[str], nodes: list[LfNode]) -> None:
    if text:
        nodes.append(LfText("".join(text)))
        text.clear()


def _percent(
    fmt: str, i: int, text: list[str], nodes: list[LfNode], base: frozenset[str]
) -> tuple[int, frozenset[str]]:
    """What follows a '%' at `i`: literal text, an expression or a variable; where the
    string goes on, and the options the nodes after it start from: `%{+X,-M}o` (the global
    option, LOG_FMT_GLOBAL) adds no node but sets them (parse_logformat_var's defoptions)."""
    n = len(fmt)
    if i >= n:
        raise LogFormatError("truncated line after '%'")
    c = fmt[i]
    if c == "%":
        text.append("%")
        return i + 1, base
    if c.isdigit() or c in " \t":
        raise LogFormatError(
            f"unexpected variable name near '{c}' at position {i} line : '{fmt}'. Maybe"
            " you want to write a single '%', use the syntax '%%'"
        )
    options = base
    if c == "{":
        end = fmt.find("}", i + 1)
        if end < 0:
            raise LogFormatError(f"truncated line after '{fmt[i + 1 :]}'")
        arg = fmt[i + 1 : end]
        i = end + 1
        if i >= n or not (fmt[i] == "[" or fmt[i].isalnum()):
            raise LogFormatError(f"parse argument modifier without variable name near '%{{{arg}}}'")
        options = _options(arg, base)
        c = fmt[i]
    if c == "[":
        _flush(text, nodes)
        return _expr(fmt, i + 1, options, nodes), base
    if c.isalpha():
        _flush(text, nodes)
        start = i
        while i < n and fmt[i].isalnum():
            i += 1
        if fmt[start:i] not in ALIASES:
            raise LogFormatError(
                f"no such format variable '{fmt[start:i]}'. If you wanted to emit the '%'"
                " character verbatim, you need to use '%%'"
            )
        if fmt[start:i] == "o":
            return i, options
        nodes.append(LfVar(fmt[start:i], options))
        return i, base
    text.append("%" + c)  # other characters after '%' stay literal (LF_INIT)
    return i + 1, base


def _expr(fmt: str, start: int, options: frozenset[str], nodes: list[LfNode]) -> int:
    try:
        sample, used = parse_sample_prefix(fmt[start:])
    except SampleError as e:
        raise LogFormatError(f"failed to parse sample expression <{fmt[start:]}> : {e}") from None
    end = start + used
    if end >= len(fmt) or fmt[end] != "]":
        if end < len(fmt) and fmt[end].isprintable():
            raise LogFormatError(f"expected ']' after '{fmt[start:end]}', but found '{fmt[end]}'")
        raise LogFormatError(f"missing ']' after '{fmt[start:end]}'")
    nodes.append(LfExpr(sample, options, start))
    return end + 1


def is_constant(nodes: tuple[LfNode, ...]) -> bool:
    return all(isinstance(n, LfText) for n in nodes)


# The places (fetch_cap.py) a rule set's log-format strings are evaluated at, by rule set,
# for a frontend and for a backend (http_act.c, tcp_rules.c, http_rules.c parsers)
PLACES: dict[str, tuple[str, str]] = {
    "http-request": ("FE_HRQ_HDR", "BE_HRQ_HDR"),
    "http-response": ("FE_HRS_HDR", "BE_HRS_HDR"),
    "http-after-response": ("FE_HRS_HDR", "BE_HRS_HDR"),
    "tcp-request connection": ("FE_CON_ACC", ""),
    "tcp-request session": ("FE_SES_ACC", ""),
    "tcp-request content": ("FE_REQ_CNT", "BE_REQ_CNT"),
    "tcp-response content": ("FE_RES_CNT", "BE_RES_CNT"),
}


def unusable(
    fmt: str, nodes: tuple[LfNode, ...], rule_set: str, frontend: bool, backend: bool
) -> str | None:
    """add_sample_to_logformat_list's check: the message for the first expression whose
    fetch reads nothing available where `rule_set` runs, else None."""
    fe_place, be_place = PLACES[rule_set]
    places = {p for p, side in ((fe_place, frontend), (be_place, backend)) if p and side}
    for node in nodes:
        if not isinstance(node, LfExpr):
            continue
        fetch = FETCHES.get(node.sample.fetch)
        if fetch is None or any(places & CAP.get(use, frozenset()) for use in fetch.use):
            continue
        return (
            f"sample fetch <{fmt[node.offset :]}> may not be reliably used here because it"
            f" needs '{src_names(fetch.use)}' which is not available here"
        )
    return None


def l6_fetches(fmt: str, nodes: tuple[LfNode, ...]) -> list[str]:
    """The expressions of an HTTP log-format string whose fetch reads a raw buffer (HAProxy
    warns they are ignored there), as the warning quotes them."""
    out = []
    for node in nodes:
        if isinstance(node, LfExpr):
            fetch = FETCHES.get(node.sample.fetch)
            if fetch is not None and {"L6REQ", "L6RES"} & set(fetch.use):
                out.append(fmt[node.offset :])
    return out
