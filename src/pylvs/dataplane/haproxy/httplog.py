"""The traffic log of `mode http` frontends: one line per request, from the HTTP driver's
`on_end` hook (src/stream.c: the final strm_log of each stream, HAProxy making a stream per
request; src/log.c sess_build_logline; doc/configuration.txt 8.2.3 `option httplog`).

A frontend with `log` targets and a format (`option httplog`, `log-format`, ...) logs each
exchange once it ends, at level info, with the facts of its `Exchange` put in proto/log's
`StreamEnd`: the dates and the timers from the exchange's start (the accept, or the end of the
previous request on a kept-alive connection), the bytes each way, the termination state, the
counters.  The line is built over the request's rules stream (its variables, captures, last
rule, the request line as received), or, for a request refused before its head was whole,
over a stream of its own (`%r` is then `<BADREQ>`).  Without a format, the accept's "Connect
from" line is all (frontend.py).  `option dontlognull` leaves out an exchange whose client
sent nothing; `option logasap` logs when the response head is sent, with "+" before `%Tt`
and `%B`.

Timers as HAProxy counts them for HTTP: `%Tw`, `%Tc` and `%Tr` are -1 for a request that
never reached a server (denied, redirected, answered by the proxy), and `%TR` is -1 for one
whose head never came whole.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from pylvs.proto.log.traffic import LoggedStream, StreamEnd
from pylvs.proto.sample.stream import ProxyRef, ServerRef, Session, Stream

if TYPE_CHECKING:
    from .backend import BackendRuntime
    from .frontend import Frontend
    from .http.exchange import Exchange
    from .runtime import ProxyRuntime

LOG_INFO = 6


def install(runtime: ProxyRuntime) -> None:
    """Log the exchanges of the runtime's frontends that have a format: mode http ones,
    and mode tcp ones whose streams became HTTP (switch-mode, a mode http backend: each
    request is a stream HAProxy logs with the frontend's format, tcplog's too)."""
    logging = {
        name: fe
        for name, fe in runtime.frontends.items()
        if fe.logger is not None and fe.spec.log.format is not None and _http_streams(fe)
    }
    if not logging:
        return
    early: set[int] = set()  # the exchanges logged when their response started (logasap)

    def responded(x: Exchange) -> None:  # once http-after-response ran (http_ana.c)
        fe = logging.get(x.frontend)
        if fe is not None and fe.spec.log.logasap:
            early.add(id(x))
            _send(fe, x, early=True)

    def ended(x: Exchange) -> None:
        fe = logging.get(x.frontend)
        if fe is None or not x.logged:
            return
        if id(x) in early:
            early.discard(id(x))
        elif not (fe.spec.log.dontlognull and not x.bytes_in):
            _send(fe, x, early=False)

    if any(fe.spec.log.logasap for fe in logging.values()):
        runtime.http.on_written.append(responded)
    runtime.http.on_end.append(ended)
    runtime.http.log = ended


def _http_streams(fe: Frontend) -> bool:
    """Whether a frontend's streams may be HTTP ones: mode http, a `switch-mode http` rule
    (its spec has HTTP settings), or a mode http backend among those it may reach (a
    `%[...]` name may reach any)."""
    if fe.http is not None or fe.spec.http is not None:
        return True
    names = [fe.spec.default_backend]
    for rule in fe.rules.switching if fe.rules is not None else ():
        name = rule.backend.constant
        if name is None:
            return True
        names.append(name.decode("latin-1"))
    backends = fe.runtime.backends
    return any(
        b is not None and b.spec.mode == "http" for b in map(backends.get, filter(None, names))
    )


def _ms(start: float, t: float | None) -> int:
    return -1 if t is None else max(0, round((t - start) * 1000))


def end_of(fe: Frontend, x: Exchange, *, early: bool) -> StreamEnd:
    """The exchange's facts as a log line reports them."""
    rt = fe.runtime
    start = x.started_at
    now = rt.ctx.clock()
    t_request = _ms(start, x.head_at) if x.request is not None else -1
    t_queue = -1
    if x.connect_at is not None:
        t_queue = _ms(start, x.dequeued_at or x.connect_at)
    elif x.queued_at is not None:  # gave up in the queue: the time it waited
        t_queue = _ms(start, x.dequeued_at or x.ended_at or now)
    be, srv = x.backend, x.server
    return StreamEnd(
        accept=start + rt.wall_offset,
        t_queue=max(t_queue, t_request) if t_queue >= 0 else -1,
        t_connect=_ms(start, x.connected_at),
        t_close=_ms(start, now if early else x.ended_at),
        t_idle=_ms(start, x.request_at),
        t_request=t_request,
        t_data=_ms(start, x.response_at),
        bytes_in=x.bytes_in,
        bytes_out=x.bytes_out,
        term=x.termination,
        actconn=rt.conns,
        feconn=fe.conns,
        beconn=be.pool.lb.beconn if be is not None else 0,
        srvconn=srv.lb.served if srv is not None else 0,
        retries=x.retries,
        redispatched=x.redispatched,
        early=early,
        mode="http",
        cli_cookie=x.cli_cookie,
        srv_cookie=x.srv_cookie,
        cookie_flags=x.cookie_flags if cookie_mode(be) else "--",
    )


def cookie_mode(be: BackendRuntime | None) -> bool:
    """PR_CK_ANY: the backend's `cookie` line names a mode or `indirect` (log.c prints the
    cookie letters of %tsc only then; a passive `cookie NAME` gets "--")."""
    ck = be.spec.cookie if be is not None else None
    return ck is not None and (ck.rewrite or ck.insert or ck.prefix or ck.indirect)


def _stream(fe: Frontend, x: Exchange) -> Stream:
    st = x.stream
    if st is None:
        src = ipaddress.ip_address(x.src[0]) if x.src[0] else None
        sess = Session(fe.runtime.process, _ref(fe), src=src, src_port=x.src[1])
        st = LoggedStream(sess, now=fe.runtime.wall())
    if x.backend is not None:
        # the backend's own reference carries its timeouts (be_server_timeout, ...)
        rules = x.backend.rules
        spec = x.backend.spec
        st.backend = rules.ref if rules is not None else ProxyRef(spec.name, spec.id, mode="http")
    if x.server is not None:
        s = x.server.spec
        st.server = ServerRef(s.name, s.id, s.address, s.port, s.weight)
    elif x.applet is not None:  # log.c: an applet's name where a server's would be
        st.server = ServerRef(x.applet, 0)
    st.status = x.status
    if x.request_captures and not st.captures.request:
        st.captures.request = [_bytes(v) for v in x.request_captures]
    if x.response_captures and not st.captures.response:
        st.captures.response = [_bytes(v) for v in x.response_captures]
    slots = fe.rules.capture_slots if fe.rules is not None else None
    if slots is not None and x.stream is not None:
        # every slot is written, those no capture filled empty (not for a request refused
        # before its head was whole: txn->req.cap is not there, nothing is written)
        req, res = slots
        caps = st.captures
        caps.request.extend([None] * (req - len(caps.request)))
        caps.response.extend([None] * (res - len(caps.response)))
    return st


def _ref(fe: Frontend) -> ProxyRef:
    return ProxyRef(fe.spec.name, fe.spec.id, mode="http")


def _bytes(value: str | None) -> bytes | None:
    return None if value is None else value.encode("latin-1", "replace")


def _send(fe: Frontend, x: Exchange, *, early: bool) -> None:
    fmt = fe.spec.log.format
    assert fmt is not None
    st = _stream(fe, x)
    st.end = end_of(fe, x, early=early)  # type: ignore[attr-defined]  # traffic.py reads it
    fe.runtime.logger.send(fe.spec.log, LOG_INFO, fmt.build(st))
