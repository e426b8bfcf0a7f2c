"""The traffic log lines of the pump's HTTP listeners, made straight from their records
(own.py's `_served`; issue 21 point 6: `option httplog` at the pump's speed).

own_facts.exchange rebuilds a session's Exchange from a record, with its session and
stream, for httplog.py's hook: the same line as a session's, byte for byte, at the cost
of a dozen objects and the log-format interpreter per line.  A listener whose format needs
no stream (no sample expression, only proto/log/fastline's variables) has a `RecordLog`
instead: the format compiled once (fastline.compile_line) over the record's fields as
httplog.end_of and httplog._stream read them from that Exchange — the dates of its steps
(ms from the exchange's start, rounded as end_of's `_ms`), the HTX sizes, the status, the
addresses (as the session's ipaddress objects print them), the live counters at the time
of the line — with what is the same for every line of the listener (the names, the
termination state "--", no cookie, no retry, the capture slots there are) written into
the format's text.  The line goes to the frontend's targets as httplog's does
(LogSender.line_sender: the header made once per second).  Other formats keep the
Exchange (own_facts.exchange).  tests/unit/dataplane/haproxy/http/test_own_log.py holds
both over random records and formats, byte for byte.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pylvs.dataplane.haproxy.httplog import LOG_INFO, cookie_mode
from pylvs.proto.log.fastline import compile_line
from pylvs.proto.rules.logfmt import LogFormat

from .added import captures
from .own_facts import _lexed

if TYPE_CHECKING:
    from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
    from pylvs.dataplane.haproxy.frontend import Frontend

# The record's fields a line reads (_h1own.h's PLAIN_ENDED record of a logging listener:
# own_facts.exchange names them): each fact as an expression over the record `r` and the
# server `_srv`, in the order they depend on each other.
_MS = "max(0, round((r[{}] - start) * 1000))"  # httplog._ms, inlined (a date always there)
COMPUTED = {
    "start": "r[10]",  # the accept, or the end of the previous exchange
    "accept": "start + _rt.wall_offset",
    "t_idle": _MS.format(11),  # the request's first byte
    "t_request": "t_idle",  # its head whole: it came in one read
    "t_queue": f"max({_MS.format(12)}, t_request)",  # the connect's start
    "t_connect": _MS.format(13),  # connected (or a pooled connection taken)
    "t_data": _MS.format(14),  # the response head
    "t_close": _MS.format(15),  # the end
    "status": "r[5]",
    "bytes_in": "r[21]",
    "bytes_out": "r[22]",
    "actconn": "_rt.conns",
    "feconn": "_fe.conns",
    "beconn": "_be.pool.lb.beconn",
    "srvconn": "_srv.lb.served",
    "ci": "_addr(r[17])",
    "cp": "r[18]",
    "fi": "_addr(r[19])",
    "fp": "r[20]",
    "srv": "_srv.spec.name.encode()",
    "si": "b'-' if _srv.spec.address is None else str(_srv.spec.address).encode()",
    "sp": "str(_srv.spec.port or 0).encode()",
    "log_counter": "_rt.process.log_counter",
    "line": "_request_line(r[16])",
    "req_caps": "_req_caps(r[16])",
    "res_caps": "_res_caps(r[24])",
}


@functools.lru_cache(maxsize=4096)
def _addr(text: str) -> bytes:
    """%ci / %fi of the pump's text: as the session's address object prints it."""
    return str(ipaddress.ip_address(text)).encode()


def _request_line(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """The request line as own_facts.request_head splits it (the stream's orig_*)."""
    line = raw.split(b"\n", 1)[0].rstrip(b"\r")
    method, _, rest = line.partition(b" ")
    target, _, version = rest.rpartition(b" ")
    return method, target, version


class RecordLog:
    """One listener's lines from its records (see the module doc)."""

    def __init__(self, fe: Frontend, be: BackendRuntime, line: Callable[..., bytes]) -> None:
        self.line = line
        self.dontlognull = fe.spec.log.dontlognull
        self.send = fe.runtime.logger.line_sender(fe.spec.log, LOG_INFO)

    def __call__(self, rec: tuple[Any, ...], srv: ServerRuntime) -> None:
        if self.dontlognull and not rec[21]:  # httplog's `ended`: a client that sent nothing
            return
        self.send(self.line(rec, srv))


def record_log(fe: Frontend, be: BackendRuntime) -> RecordLog | None:
    """The listener's RecordLog, or None when its format needs the Exchange."""
    fmt = fe.spec.log.format
    rules = fe.rules
    if not isinstance(fmt, LogFormat) or rules is None:  # no rules: no stream, no orig_*
        return None
    http = fe.spec.http
    req = http.request_captures if http is not None else ()
    res = http.response_captures if http is not None else ()
    slots = rules.capture_slots or (0, 0)
    n_req, n_res = max(len(req), slots[0]), max(len(res), slots[1])

    def pad(values: tuple[str | None, ...], n: int) -> list[bytes | None]:
        got = [None if v is None else v.encode("latin-1", "replace") for v in values]
        return got + [None] * (n - len(got))

    known: dict[str, object] = {
        "t_handshake": 0,
        "early": False,
        "mode_http": True,
        "term": b"--",
        "cookie_flags": b"NN" if cookie_mode(be) else b"--",
        "cli_cookie": None,
        "srv_cookie": None,
        "retries": 0,
        "redispatched": False,
        "srv_queue_pos": 0,
        "be_queue_pos": 0,
        "fe": fe.spec.name.encode(),
        "be": (be.rules.ref.name if be.rules is not None else be.spec.name).encode(),
        "hostname": fe.runtime.process.hostname.encode(),
        "pid": fe.runtime.process.pid,
        "unique_id": None,  # no unique-id-format: the pump's listeners have none
        "uniq_id": 0,  # the stream made for the line is the process's first
    }
    computed = dict(COMPUTED)
    if not n_req:
        known["req_caps"] = []
        del computed["req_caps"]
    if not n_res:
        known["res_caps"] = []
        del computed["res_caps"]
    env = {
        "_rt": fe.runtime,
        "_fe": fe,
        "_be": be,
        "_addr": _addr,
        "_request_line": _request_line,
        "_req_caps": lambda raw: pad(captures(_lexed(raw)[1], req), n_req),
        "_res_caps": lambda raw: pad(captures(_lexed(raw)[1], res), n_res),
    }
    line = compile_line(fmt, known, computed, "r, _srv", env)
    return None if line is None else RecordLog(fe, be, line)
