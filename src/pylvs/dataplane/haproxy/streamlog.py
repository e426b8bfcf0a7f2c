"""A frontend's traffic logs: what HAProxy 2.6 sends to a frontend's `log` targets about its
streams (src/frontend.c frontend_accept, src/stream.c stream_process_counters and the final
log of process_stream, src/log.c strm_log / sess_build_logline).

* A frontend with targets but no log format (`option tcplog`, `log-format`, ...) logs
  "Connect from SRC:PORT to DST:PORT (FRONTEND/TCP)" at each accept, at level info.
* One with a format logs each stream's line at its end (info), with the end facts
  proto/log/traffic.py prints; with `option logasap` once the server is connected instead
  ("+" before %Tt and %B); with `option dontlognull` not at all for a client that sent
  nothing.  A connection `tcp-request connection reject` refused is no stream: no line.
* When the runtime stops (a soft stop: `pylvs haproxy` on SIGUSR1, `pylvs run` on SIGTERM,
  a reload that replaces the proxies), each proxy logs "Proxy NAME stopped (cumulated
  conns: FE: N, BE: M)." at warning (src/proxy.c proxy_cond_disable).

Only frontends with targets have a `FrontendLog`; their streams carry a `StreamLog` (the
few facts the session does not keep: when its server was assigned and connected, why it
ended, its own byte counts), so a frontend that does not log pays one `is None` test at
each step of a stream.

The termination state as HAProxy computes it for mode tcp (sess_set_term_flags and the
error reports of process_stream): a normal end "--"; a reset from the client "CD", from the
server "SD"; an idle timeout "cD" (client side) or "sD" (server side: `timeout server`
shorter than `timeout client`); a refused or failed connect "SC", a connect timeout "sC"; no
server at all "SC" (<NOSRV>); a full server queue "SQ", `timeout queue` "sQ", a client
leaving the queue "CQ"; a stream cut from the stats socket or by a stop "K" in its phase.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from pylvs.model.proxy_log import ProxyLog
from pylvs.model.proxy_spec import ConnFacts
from pylvs.model.stats import Counters
from pylvs.proto.log import traffic as tr
from pylvs.proto.log.traffic import LoggedStream, StreamEnd
from pylvs.proto.sample.stream import Process, ProxyRef, ServerRef, Session, Stream

if TYPE_CHECKING:
    from .frontend import Frontend
    from .runtime import ProxyRuntime
    from .session_base import SessionBase

LOG_WARNING, LOG_INFO = 4, 6
_GIVE_UP = {  # HaSession._give_up's reasons (before a server was connected)
    "no server available": tr.SERVER + tr.CONNECT,
    "server queue full": tr.SERVER + tr.QUEUE,
    "timeout queue": tr.SERVER_TIMEOUT + tr.QUEUE,
    "client aborted while queued": tr.CLIENT + tr.QUEUE,
    "stopping": tr.KILLED + tr.QUEUE,
}


class _Tee:
    """A count of the stream's own that also moves its parent's by as much."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.own = name, "_" + name

    def __get__(self, obj: StreamCounters, owner: type | None = None) -> int:
        return int(getattr(obj, self.own))

    def __set__(self, obj: StreamCounters, value: int) -> None:
        parent = obj.parent
        setattr(parent, self.name, getattr(parent, self.name) + value - getattr(obj, self.own))
        setattr(obj, self.own, value)


class StreamCounters(Counters):
    """A stream's own byte counts that also count on the frontend's (the relay adds to
    `svc`; the frontend's counters move with the traffic as before)."""

    __slots__ = ("_conns", "_inbytes", "_inpkts", "_outbytes", "_outpkts", "parent")
    inpkts = _Tee()
    inbytes = _Tee()
    outpkts = _Tee()
    outbytes = _Tee()
    conns = _Tee()

    def __init__(self, parent: Counters) -> None:  # no super(): the counts are _Tee's
        self.parent = parent
        self._conns = self._inpkts = self._inbytes = self._outpkts = self._outbytes = 0


class FrontendLog:
    """The traffic log of one frontend that has `log` targets (see the module doc)."""

    def __init__(self, frontend: Frontend) -> None:
        self.frontend = frontend
        self.runtime = frontend.runtime
        self.log = frontend.spec.log
        self.ref = ProxyRef(frontend.spec.name, frontend.spec.id, mode=frontend.spec.mode)
        self.process = Process(hostname=socket.gethostname(), pid=os.getpid())
        # 'c' or 's' for an idle timeout: the side whose timeout is the shorter one
        self.server_first: dict[str, bool] = {}

    def accepted(self, facts: ConnFacts) -> None:
        """frontend_accept's line for a frontend without a log format."""
        if self.log.format is None:
            self.runtime.logger.send(
                self.log,
                LOG_INFO,
                f"Connect from {facts.src}:{facts.src_port} to {facts.dst}:{facts.dst_port}"
                f" ({self.frontend.spec.name}/{'HTTP' if self.ref.mode == 'http' else 'TCP'})",
            )

    def start(self, s: SessionBase) -> StreamLog | None:
        """The stream's log, when its line is to be written; without a format, the accept's
        "Connect from" line (once the connection and content rules let the stream start)."""
        if self.log.format is None:
            self.accepted(s.facts)
            return None
        out = StreamLog(self, self.runtime.wall())
        out.counters = StreamCounters(s.svc)
        s.svc = out.counters
        return out

    def timed_out_by_server(self, s: SessionBase) -> bool:
        got = self.server_first.get(s.be.spec.name)
        if got is None:
            client = self.frontend.spec.client_ms
            server = s.be.spec.server_ms
            got = client is not None and server is not None and server < client
            self.server_first[s.be.spec.name] = got
        return got


class StreamLog:
    """One logged stream's facts while it runs (see the module doc)."""

    __slots__ = (
        "counters",
        "done",
        "fe",
        "reason",
        "resets",
        "t_connect",
        "t_queue",
        "wall",
        "why",
    )

    def __init__(self, fe: FrontendLog, wall: float) -> None:
        self.fe = fe
        self.wall = wall  # the accept date
        self.t_queue = -1  # ms after the accept
        self.t_connect = -1
        self.reason = ""  # why the connect failed (the relay's CountError)
        self.why = ""  # "timeout" | "killed" | "denied": how the runtime ended it
        self.counters: StreamCounters | None = None
        self.done = False
        self.resets = (False, False)  # the relay's Close: (client reset, server reset)

    def _ms(self) -> int:
        return max(0, int((self.fe.runtime.wall() - self.wall) * 1000))

    def assigned(self) -> None:
        """A server slot is the stream's (t_queue)."""
        self.t_queue = self._ms()

    def connected(self, s: SessionBase) -> None:
        self.t_connect = self._ms()
        if self.fe.log.logasap:
            self._send(s, tr.NONE + tr.NONE, early=True)

    def ended(self, s: SessionBase, reset_client: bool, reset_server: bool) -> None:
        """The relay closed (Close's resets tell who broke it)."""
        if self.why == "killed":
            term = tr.KILLED + (tr.DATA if self.t_connect >= 0 else tr.CONNECT)
        elif self.why == "denied":  # tcp-response content reject: SF_ERR_PRXCOND, SF_FINST_D
            term = tr.PROXY + tr.DATA
        elif self.t_connect < 0:
            term = _GIVE_UP.get(self.reason) or (
                (tr.SERVER_TIMEOUT if self.reason == "connect timeout" else tr.SERVER) + tr.CONNECT
            )
        elif self.why == "timeout":
            side = tr.SERVER_TIMEOUT if self.fe.timed_out_by_server(s) else tr.CLIENT_TIMEOUT
            term = side + tr.DATA
        elif reset_client != reset_server:
            term = (tr.CLIENT if reset_server else tr.SERVER) + tr.DATA
        else:
            term = tr.NONE + tr.NONE
        self._final(s, term)

    def gave_up(self, s: SessionBase, why: str) -> None:
        """No server was connected: queue full or timed out, no server, client gone."""
        self._final(s, _GIVE_UP.get(why, tr.SERVER + tr.CONNECT))

    def _final(self, s: SessionBase, term: str) -> None:
        if self.done:
            return
        counters = self.counters
        if self.fe.log.dontlognull and (counters is None or not counters.inbytes):
            return
        self._send(s, term, early=False)

    def _send(self, s: SessionBase, term: str, *, early: bool) -> None:
        self.done = True
        fe = self.fe
        counters = self.counters
        picked = s.picked
        f = s.facts
        end = StreamEnd(
            accept=self.wall,
            t_queue=self.t_queue,
            t_connect=self.t_connect,
            t_close=self.t_connect if early else self._ms(),
            bytes_in=counters.inbytes if counters is not None else 0,
            bytes_out=counters.outbytes if counters is not None else 0,
            term=term,
            actconn=fe.runtime.conns,
            feconn=fe.frontend.conns,
            beconn=s.be.pool.lb.beconn,
            srvconn=picked.served if picked is not None else 0,
            retries=s.retries,
            early=early,
        )
        st: Stream | None = s.stream  # the rules' stream: its variables, its session's
        if st is None:
            sess = Session(
                fe.process, fe.ref, src=f.src, src_port=f.src_port, dst=f.dst, dst_port=f.dst_port
            )
            st = LoggedStream(sess, now=fe.runtime.wall())
        st.end = end  # type: ignore[attr-defined]  # what proto/log/traffic's variables read
        st.backend = ProxyRef(s.be.spec.name, s.be.spec.id, mode="tcp")
        if picked is not None:
            spec = s.be.runtime_of(picked).spec
            st.server = ServerRef(spec.name, spec.id, spec.address, spec.port)
        elif self.reason and not self.reason.startswith(("no server", "server queue")):
            st.server = None
        fmt = fe.log.format
        assert fmt is not None
        fe.runtime.logger.send(fe.log, LOG_INFO, fmt.build(st))


def stopped(runtime: ProxyRuntime) -> None:
    """proxy_cond_disable's line for every proxy once its listeners are closed (a stop):
    "Proxy NAME stopped (cumulated conns: FE: N, BE: M)." at warning, to the proxy's
    targets; the proxies that listen first, then the backends, in the file's order, then
    HAProxy's internal <HTTPCLIENT> proxy, which logs to the global targets (2.6 sends that
    line too)."""
    spec = runtime.spec
    names = {f.name for f in spec.frontends}
    lines: list[tuple[ProxyLog, str, int, int]] = []
    for f in spec.frontends:
        fe = runtime.frontends.get(f.name)
        be = runtime.backends.get(f.name)
        lines.append(
            (
                f.log,
                f.name,
                fe.total + fe.denied if fe is not None else 0,
                be.counters.conns if be is not None else 0,
            )
        )
    for b in spec.backends:
        if b.name not in names:
            be = runtime.backends.get(b.name)
            lines.append((b.log, b.name, 0, be.counters.conns if be is not None else 0))
    lines.append((spec.log, "<HTTPCLIENT>", 0, 0))
    for log, name, fe_conns, be_conns in lines:
        runtime.logger.send(
            log,
            LOG_WARNING,
            f"Proxy {name} stopped (cumulated conns: FE: {fe_conns}, BE: {be_conns}).",
        )
