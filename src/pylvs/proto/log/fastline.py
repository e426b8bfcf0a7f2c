"""A traffic log-format compiled into one function per format (src/log.c sess_build_logline,
specialised: HAProxy walks a format's node list for each line; here the walk happens once).

proto/rules/logfmt.LogFormat.build is the interpreter: per node, a type test, a reader
called on a LoggedStream that reads its StreamEnd (proto/log/traffic.py), the value's
treatment (logfmt.log_value) looked up by its options. A driver that has a line's facts at
hand without a stream (the pump's records: dataplane/haproxy/http/own_log.py) gives
`compile_line` the format and, for each fact of FACTS it can give, either its value (the
same for every line: `known`) or a Python expression that computes it from the function's
arguments and the facts before it (`computed`, which may hold steps of its own too). The
result is one generated function: the facts the format needs, computed once each; every
value whose facts are all known written into the format's text at compile time (the
separators too: with no value that may be absent, whether a separator writes its space is
known then); one `bytes % (...)` for the line. Anything else — a sample expression
`%[...]`, a variable outside VARIABLES (or one whose reader is not the interpreter's), a
fact the driver does not give, a rules' format (LOG_OPT_HTTP) — gives None: the interpreter
stays that format's builder.

The facts, as the interpreter's readers see them (StreamEnd's fields, the stream's):
times in ms from the accept (`accept`, seconds since the epoch), the counters, `term` and
`cookie_flags` as bytes, `ci`/`fi` the addresses as %ci prints them (b"-" for none), `fe`,
`be`, `srv` the names as %ft, %b and %s print them, `line` the request line as received
(method, target, version; None: none, <BADREQ>), `req_caps`/`res_caps` the capture slots (a
computed one must never be empty: an empty list writes nothing at all, a known one may),
`si`/`sp` the server's address and port as %si and %sp print them (b"-" without a server),
`hostname`, `pid`, `log_counter` the process's, `unique_id` and `uniq_id` the stream's.
tests/unit/proto/log/test_fastline.py holds every variable and random formats against the
interpreter, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from pylvs.proto.rules.logfmt import (
    VARIABLES,
    LogFormat,
    Sep,
    VarNode,
    log_value,
    rfc5424_escape,
    uri_part,
)

from .traffic import LOG_VARIABLES, accept_bytes, captures_text, clf_bytes, request_line

FACTS = (
    "accept", "t_handshake", "t_idle", "t_request", "t_queue", "t_connect", "t_data",
    "t_close", "early", "mode_http", "bytes_in", "bytes_out", "term", "cookie_flags",
    "cli_cookie", "srv_cookie", "actconn", "feconn", "beconn", "srvconn", "retries",
    "redispatched", "srv_queue_pos", "be_queue_pos", "status", "ci", "cp", "fi", "fp", "fe",
    "be", "srv", "line", "req_caps", "res_caps", "si", "sp", "hostname", "pid", "unique_id",
    "uniq_id", "log_counter",
)  # fmt: skip

INT, RAW, TEXT, OPT = "int", "raw", "text", "opt"  # how a value is written (module doc)

_START = "(accept + (t_idle + t_handshake if t_idle >= 0 else 0) / 1000)"  # %tr's date
_ACTIVE = "t_close - (t_idle + t_handshake if t_idle >= 0 else 0)"  # %Ta
_DATA = "(t_data if mode_http else t_connect)"  # where %Td starts

# Each variable: how it is written and its value over the facts (traffic.py's and
# logfmt.py's readers, as expressions).  INT: an int, never empty, never escaped; RAW:
# bytes that are never empty and hold nothing to escape; TEXT: bytes (or None) that go
# through log_value; OPT: TEXT, or None for nothing at all (not even a separator's end).
VARS: dict[str, tuple[str, str]] = {
    "t": (RAW, "_adate(accept)"),
    "tr": (RAW, f"_adate({_START})"),
    "trg": (RAW, f"_clf({_START}, True)"),
    "trl": (RAW, f"_clf({_START}, False)"),
    "T": (RAW, "_clf(accept, True)"),
    "Tl": (RAW, "_clf(accept, False)"),
    "ms": (RAW, 'b"%03d" % (int(accept * 1000) % 1000)'),
    "Tw": (INT, "(t_queue - t_request if t_queue >= 0 else -1)"),
    "Tc": (INT, "(t_connect - t_queue if t_connect >= 0 else -1)"),
    "Tt": (RAW, "_plus(early, t_close)"),
    "Th": (INT, "t_handshake"),
    "Ti": (INT, "t_idle"),
    "B": (RAW, "_plus(early, bytes_out)"),
    "U": (INT, "bytes_in"),
    "ts": (TEXT, "term"),
    "ac": (INT, "actconn"),
    "fc": (INT, "feconn"),
    "bc": (INT, "beconn"),
    "sc": (INT, "srvconn"),
    "rc": (RAW, "_plus(redispatched, retries)"),
    "sq": (INT, "srv_queue_pos"),
    "bq": (INT, "be_queue_pos"),
    "TR": (INT, "(t_request - t_idle - t_handshake if t_request >= 0 else -1)"),
    "Tq": (INT, "t_request"),
    "Tr": (INT, "(t_data - t_connect if t_data >= 0 else -1)"),
    "Ta": (RAW, f"_plus(early, {_ACTIVE})"),
    "Td": (INT, f"(t_close - {_DATA} if {_DATA} >= 0 else -1)"),
    "Tu": (RAW, "_plus(early, t_close - max(t_idle, 0))"),
    "CC": (TEXT, "cli_cookie or b''"),
    "CS": (TEXT, "srv_cookie or b''"),
    "tsc": (TEXT, "term + cookie_flags"),
    "r": (TEXT, "_reqline(line)"),
    "hr": (OPT, "_caps(req_caps, True)"),
    "hs": (OPT, "_caps(res_caps, True)"),
    "hrl": (OPT, "_caps(req_caps, False)"),
    "hsl": (OPT, "_caps(res_caps, False)"),
    "ci": (TEXT, "ci"),
    "cp": (INT, "cp"),
    "fi": (TEXT, "fi"),
    "fp": (INT, "fp"),
    "f": (TEXT, "fe"),
    "ft": (TEXT, "fe"),
    "b": (TEXT, "be"),
    "s": (TEXT, "srv"),
    "ST": (INT, "status"),
    "si": (TEXT, "si"),
    "sp": (TEXT, "sp"),
    "H": (TEXT, "hostname"),
    "pid": (INT, "pid"),
    "ID": (TEXT, "unique_id or b''"),
    "rt": (INT, "uniq_id"),
    "lc": (INT, "log_counter"),
    **{p: (TEXT, f"_part(_hline(line), {p!r})") for p in ("HM", "HV", "HU", "HP", "HPO", "HQ")},
}

# With `early` (or `redispatched`) known false, "+" is never written: plain ints.
_NO_PLUS: dict[str, tuple[str, str]] = {
    "Tt": ("early", "t_close"),
    "B": ("early", "bytes_out"),
    "Ta": ("early", _ACTIVE),
    "Tu": ("early", "t_close - max(t_idle, 0)"),
    "rc": ("redispatched", "retries"),
}

# The interpreter's readers: a node whose reader is another (a hex one, an unknown
# variable's) is not the variable of VARS.
_READERS = {**VARIABLES, **LOG_VARIABLES}

_HELPERS: dict[str, object] = {
    "_adate": accept_bytes,
    "_clf": clf_bytes,
    "_reqline": lambda line: b"<BADREQ>" if line is None else request_line(*line),
    "_hline": lambda line: None if line is None else (line[0], line[1], line[2] or b""),
    "_caps": captures_text,
    "_part": uri_part,
    "_plus": lambda flag, n: b"+%d" % n if flag else b"%d" % n,
    "_esc": rfc5424_escape,
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FACT_SET = frozenset(FACTS)


def _uses(expr: str, names: frozenset[str] | set[str] = _FACT_SET) -> set[str]:
    return {n for n in _NAME.findall(expr) if n in names}


def _variable(node: VarNode, known: Mapping[str, object]) -> tuple[str, str] | None:
    if _READERS.get(node.name) is not node.read:
        return None
    plain = _NO_PLUS.get(node.name)
    if plain is not None and plain[0] in known and known[plain[0]] is False:
        return INT, plain[1]
    return VARS.get(node.name)


def _written(kind: str, value: object, options: frozenset[str]) -> bytes:
    """A known value as the line writes it."""
    if kind == INT:
        assert isinstance(value, int)
        text = b"%d" % value
        return b'"' + text + b'"' if "Q" in options else text
    if kind == RAW:
        assert isinstance(value, bytes)
        return b'"' + value + b'"' if "Q" in options else value
    assert value is None or isinstance(value, bytes)
    return log_value(value, options)


class _Source:
    """The generated function's pieces: its statements, its format and arguments."""

    def __init__(self) -> None:
        self.text: list[bytes] = []  # the format's text, '%' doubled, '%d' / '%s' slots
        self.args: list[str] = []
        self.body: list[str] = []

    def literal(self, data: bytes) -> None:
        self.text.append(data.replace(b"%", b"%%"))

    def slot(self, kind: str, expr: str, options: frozenset[str]) -> None:
        quote = b'"' if "Q" in options else b""
        if kind in (INT, RAW):
            self.text.append(quote + (b"%d" if kind == INT else b"%s") + quote)
            self.args.append(expr)
            return
        name = f"_a{len(self.args)}"
        self.body.append(f"    {name} = {expr}")
        # log_value, unrolled for these options (the interpreter's call per value)
        self.body.append(f"    {name} = {name}.split(b'\\0', 1)[0] if {name} else b''")
        if "E" in options:
            self.body.append(f"    {name} = _esc({name})")
        if "M" in options and "Q" not in options:
            self.body.append(f"    {name} = {name} or b'-'")
        self.text.append(quote + b"%s" + quote)
        self.args.append(name)


def compile_line(
    fmt: LogFormat,
    known: Mapping[str, object],
    computed: Mapping[str, str],
    params: str,
    env: Mapping[str, object],
) -> Callable[..., bytes] | None:
    """`fmt` as one function of `params` (see the module doc), or None."""
    if fmt.http:
        return None
    src = _Source()
    used: set[str] = set()
    last_space = True  # build_logline's: a separator is never written first
    for node in fmt.nodes:
        if isinstance(node, bytes):
            src.literal(node)
            last_space = False
        elif isinstance(node, Sep):
            if not last_space:
                src.literal(b" ")
                last_space = True
        elif not isinstance(node, VarNode):  # a sample expression: the stream's
            return None
        else:
            var = _variable(node, known)
            if var is None:
                return None
            kind, expr = var
            facts = _uses(expr)
            if not facts <= known.keys() | computed.keys():
                return None
            if facts <= known.keys():
                value = eval(expr, dict(_HELPERS), dict(known))  # our own text
                if kind == OPT and value is None:
                    continue  # nothing, and the separators as if it were not there
                src.literal(_written(kind, value, node.options))
            else:
                src.slot(kind, expr, node.options)
                used |= facts
            last_space = False
    return _function(src, used, known=known, computed=computed, params=params, env=env,
                     text=fmt.text)  # fmt: skip


def _function(
    src: _Source,
    used: set[str],
    *,
    known: Mapping[str, object],
    computed: Mapping[str, str],
    params: str,
    env: Mapping[str, object],
    text: str,
) -> Callable[..., bytes]:
    needed = set(used)
    names = _FACT_SET | computed.keys()  # a driver's own steps may come before the facts
    for fact in reversed(list(computed)):  # a computed fact may need earlier ones
        if fact in needed:
            needed |= _uses(computed[fact], names)
    lines = [f"def _log_line({params}):"]
    lines += [f"    {fact} = {expr}" for fact, expr in computed.items() if fact in needed]
    lines += src.body
    line = b"".join(src.text)
    if src.args:
        lines.append(f"    return {line!r} % ({', '.join(src.args)},)")
    else:
        lines.append(f"    return {line % ()!r}")  # the '%' undoubled
    namespace: dict[str, object] = {**_HELPERS, **env}
    namespace.update((k, v) for k, v in known.items() if k in needed)
    exec(compile("\n".join(lines), f"<log-format {text!r}>", "exec"), namespace)
    made = namespace["_log_line"]
    assert callable(made)
    return made
