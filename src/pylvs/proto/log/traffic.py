"""A stream's traffic log line: the facts at its end and the log variables that print them
(HAProxy 2.6 configuration manual §8.2 log formats, §8.4 timing events, §8.5 termination
states; src/log.c sess_build_logline, src/stream.c strm_logs).

`StreamEnd` is what a driver knows when a stream ends (or, with `option logasap`, when it is
connected): the accept date, the timers in milliseconds since the accept (-1: never
reached), the bytes each way, the termination state, the counters and queue positions.
A driver puts it on a `LoggedStream` (proto/sample's Stream with these facts) and builds the
frontend's log-format over it (proto/rules/logfmt.LogFormat.build): the variables below read
it, the rules' variables (`%ci`, `%ft`, `%b`, `%s`, ...) and the samples read the stream.

Timers as sess_build_logline prints them: `%Tw` = t_queue - t_request (t_request is -1 in a
TCP stream: HAProxy prints one more than the time spent before the server was assigned),
`%Tc` = t_connect - t_queue, `%Tt` = t_close, each -1 when its event never happened; `%Tt`
and `%B` are prefixed with "+" when the line is logged before the end (`option logasap`).

The termination state (`%ts`): the first character says who or what ended the stream
(sess_term_cond "-LcCsSPRIDKUI"), the second in which phase (sess_fin_state "-RCHDLQT").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pylvs.proto.sample.stream import Stream

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# src/log.c: the formats the options stand for
TCPLOG = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
HTTPLOG = (
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc"
    " %sq/%bq %hr %hs %{+Q}r"
)
CLF_HTTPLOG = (
    '%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc'
    " %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
)

# Who ended the stream (SF_ERR_*) and in which phase (SF_FINST_*).
NONE, LOCAL, CLIENT_TIMEOUT, CLIENT, SERVER_TIMEOUT, SERVER = "-", "L", "c", "C", "s", "S"
PROXY, RESOURCE, INTERNAL, DOWN, KILLED, UP = "P", "R", "I", "D", "K", "U"
REQUEST, CONNECT, HEADERS, DATA, LAST, QUEUE, TARPIT = "R", "C", "H", "D", "L", "Q", "T"


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """What a stream's log line reports (see the module doc); times in ms from the accept."""

    accept: float  # the accept date, seconds since the epoch
    t_queue: int = -1  # a server was assigned (left the queue)
    t_connect: int = -1  # the server's connection was established
    t_close: int = 0  # the end (or the time of the line, with logasap)
    t_handshake: int = 0
    t_idle: int = -1
    t_request: int = -1  # the request was complete (HTTP); -1 in a TCP stream
    t_data: int = -1  # the response headers came (HTTP)
    bytes_in: int = 0  # from the client
    bytes_out: int = 0  # to the client
    term: str = "--"  # the termination state
    actconn: int = 0  # streams of the process
    feconn: int = 0  # streams of the frontend
    beconn: int = 0  # streams of the backend
    srvconn: int = 0  # streams of the server
    retries: int = 0
    redispatched: bool = False
    srv_queue_pos: int = 0
    be_queue_pos: int = 0
    early: bool = False  # logged before the end (option logasap): "+" before %Tt and %B
    mode: str = "tcp"  # the backend's ("http": %Td from the response)
    cli_cookie: bytes | None = None  # %CC: the persistence cookie the client sent
    srv_cookie: bytes | None = None  # %CS: the one the server set
    cookie_flags: str = "--"  # %tsc's last two: sess_cookie / sess_set_cookie ("NI", ...)


class LoggedStream(Stream):
    """A stream with its end facts, for the log variables."""

    end: StreamEnd


def _zone(t: datetime) -> str:
    offset = t.astimezone().utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    hh, mm = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else '+'}{hh:02d}{mm:02d}"


def split_time(when: float) -> tuple[int, int]:
    """`when` as datetime.fromtimestamp splits it: whole seconds and microseconds, rounded
    half to even (CPython's _PyTime_ObjectToTimeval), so that a date made from the second
    alone plus these microseconds is the one fromtimestamp makes."""
    frac, whole = math.modf(when)
    us = round(frac * 1e6)
    if us >= 1_000_000:
        us -= 1_000_000
        whole += 1.0
    elif us < 0:
        us += 1_000_000
        whole -= 1.0
    return int(whole), us


class _PerSecond:
    """A date's text made once per second (HAProxy formats its dates once per loop turn:
    the millions of lines of a busy second share their second's text)."""

    __slots__ = ("make", "second", "text")

    def __init__(self, make: Callable[[int], bytes]) -> None:
        self.make = make
        self.second: int | None = None
        self.text = b""

    def __call__(self, second: int) -> bytes:
        if second != self.second:
            self.text = self.make(second)
            self.second = second
        return self.text


def _clf_text(second: int, gmt: bool) -> bytes:
    t = datetime.fromtimestamp(second, UTC) if gmt else datetime.fromtimestamp(second)
    zone = "+0000" if gmt else _zone(t)
    return f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year:04d}:{t:%H:%M:%S} {zone}".encode()


def _accept_text(second: int) -> bytes:
    t = datetime.fromtimestamp(second)
    return (
        f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year:04d}:{t.hour:02d}:{t.minute:02d}:"
        f"{t.second:02d}."
    ).encode()


_CLF_GMT = _PerSecond(lambda second: _clf_text(second, True))
_CLF_LOCAL = _PerSecond(lambda second: _clf_text(second, False))
_ACCEPT = _PerSecond(_accept_text)


def clf_bytes(when: float, gmt: bool) -> bytes:
    """gmt2str_log / localdate2str_log: b'06/Dec/2026:07:54:01 +0000'."""
    return (_CLF_GMT if gmt else _CLF_LOCAL)(split_time(when)[0])


def accept_bytes(when: float) -> bytes:
    """date2str_log: b'06/Dec/2026:07:54:01.680' (local time)."""
    second, us = split_time(when)
    return b"%s%03d" % (_ACCEPT(second), us // 1000)


def clf_date(when: float, *, gmt: bool) -> str:
    """gmt2str_log / localdate2str_log: '06/Dec/2026:07:54:01 +0000'."""
    return clf_bytes(when, gmt).decode()


def accept_date(when: float) -> str:
    """date2str_log: '06/Dec/2026:07:54:01.680' (local time)."""
    return accept_bytes(when).decode()


def _end(s: Stream) -> StreamEnd:
    end = getattr(s, "end", None)
    return end if isinstance(end, StreamEnd) else StreamEnd(accept=s.now)


def _num(n: int) -> bytes:
    return str(n).encode()


def _tw(s: Stream) -> bytes:
    e = _end(s)
    return _num(e.t_queue - e.t_request if e.t_queue >= 0 else -1)


def _tc(s: Stream) -> bytes:
    e = _end(s)
    return _num(e.t_connect - e.t_queue if e.t_connect >= 0 else -1)


def _early(s: Stream, n: int) -> bytes:
    return (b"+" if _end(s).early else b"") + _num(n)


def _retries(s: Stream) -> bytes:
    e = _end(s)
    return (b"+" if e.redispatched else b"") + _num(e.retries)


def _request_start(e: StreamEnd) -> float:
    """%tr's date: the accept plus the idle and handshake times."""
    return e.accept + (e.t_idle + e.t_handshake if e.t_idle >= 0 else 0) / 1000


def _active(e: StreamEnd) -> int:
    """%Ta = Tt - Th - Ti."""
    return e.t_close - (e.t_idle + e.t_handshake if e.t_idle >= 0 else 0)


def _data(s: Stream) -> bytes:
    e = _end(s)
    start = e.t_data if e.mode == "http" else e.t_connect
    return _num(e.t_close - start if start >= 0 else -1)


# lf_encode_string's maps, as bytes: bytes.translate deletes them in C, the test for
# "nothing to encode" (nearly always) without a Python loop over the line
_URL_ENCODED = bytes(range(32)) + bytes(range(127, 256)) + b'"#'
_HDR_ENCODED = _URL_ENCODED + b"{|}"


def _encode(data: bytes, encoded: bytes) -> bytes:
    """lf_encode_string: the bytes of the map as '#XX'."""
    if len(data.translate(None, encoded)) == len(data):
        return data
    return b"".join(b"#%02X" % b if b in encoded else bytes((b,)) for b in data)


def request_line(method: bytes | None, uri: bytes | None, version: bytes | None) -> bytes:
    """%r: the request line as received (txn->uri), '<BADREQ>' without one."""
    if method is None or uri is None:
        return b"<BADREQ>"
    line = method + b" " + uri
    if version:
        line += b" " + version
    return _encode(line, _URL_ENCODED)


def _request_line(s: Stream) -> bytes:
    return request_line(s.orig_method, s.orig_uri, s.orig_version)


def captures_text(values: list[bytes | None], braces: bool) -> bytes | None:
    """%hr/%hs ('{a|b}') and %hrl/%hsl ('a b'); nothing at all without captures."""
    if not values:
        return None
    parts = [_encode(v, _HDR_ENCODED) if v is not None else b"" for v in values]
    if braces:
        return b"{" + b"|".join(parts) + b"}"
    return b" ".join(p or b"-" for p in parts)


# The log variables a traffic line adds to the rules' (log.c logformat_keywords).
LOG_VARIABLES: dict[str, Callable[[Stream], bytes | None]] = {
    "t": lambda s: accept_bytes(_end(s).accept),
    "Tw": _tw,
    "Tc": _tc,
    "Tt": lambda s: _early(s, _end(s).t_close),
    "Th": lambda s: _num(_end(s).t_handshake),
    "Ti": lambda s: _num(_end(s).t_idle),
    "B": lambda s: _early(s, _end(s).bytes_out),
    "U": lambda s: _num(_end(s).bytes_in),
    "ts": lambda s: _end(s).term.encode(),
    "ac": lambda s: _num(_end(s).actconn),
    "fc": lambda s: _num(_end(s).feconn),
    "bc": lambda s: _num(_end(s).beconn),
    "sc": lambda s: _num(_end(s).srvconn),
    "rc": _retries,
    "sq": lambda s: _num(_end(s).srv_queue_pos),
    "bq": lambda s: _num(_end(s).be_queue_pos),
    "ms": lambda s: f"{int(_end(s).accept * 1000) % 1000:03d}".encode(),
    # HTTP: what a mode http driver's StreamEnd and stream carry
    "tr": lambda s: accept_bytes(_request_start(_end(s))),
    "trg": lambda s: clf_bytes(_request_start(_end(s)), True),
    "trl": lambda s: clf_bytes(_request_start(_end(s)), False),
    "T": lambda s: clf_bytes(_end(s).accept, True),
    "Tl": lambda s: clf_bytes(_end(s).accept, False),
    "TR": lambda s: _num(
        _end(s).t_request - _end(s).t_idle - _end(s).t_handshake if _end(s).t_request >= 0 else -1
    ),
    "Tq": lambda s: _num(_end(s).t_request),
    "Tr": lambda s: _num(_end(s).t_data - _end(s).t_connect if _end(s).t_data >= 0 else -1),
    "Ta": lambda s: _early(s, _active(_end(s))),
    "Td": _data,
    "Tu": lambda s: _early(s, _end(s).t_close - max(_end(s).t_idle, 0)),
    "CC": lambda s: _end(s).cli_cookie or b"",
    "CS": lambda s: _end(s).srv_cookie or b"",
    "tsc": lambda s: (_end(s).term + _end(s).cookie_flags).encode(),
    "r": _request_line,
    "hr": lambda s: captures_text(s.captures.request, True),
    "hs": lambda s: captures_text(s.captures.response, True),
    "hrl": lambda s: captures_text(s.captures.request, False),
    "hsl": lambda s: captures_text(s.captures.response, False),
}
