"""A TCP nameserver's connections (`nameserver NAME tcp@ADDR:PORT`), sans I/O, as HAProxy 2.6's
DNS stream server runs them (src/dns.c `dns_process_req`, `dns_session_io_handler`,
`dns_recv_nameserver`, `dns_session_release`, `dns_process_query_exp`,
`dns_process_idle_exp`; RFC 1035 §4.2.2 and RFC 7766 §6.2.1 for the framing).

Each message goes with its 2-byte length.  A query goes to the first session (connection)
with room (at most 4 queries pipelined), else to an idle one, else to a new one (unless the
nameserver line's `maxconn` are open: then it fails, counted snd_error); queries wait
in their session until it is connected.  Each query written gets the session's next id (1,
2, ...; the answer gets the resolver's id back); an answer with an id the session does not
know is dropped there.  A query unanswered for 5 s is forgotten (its slot stays taken, as
HAProxy's does).  When the server closes a session: an idle one (or one whose every query
was written) is freed; otherwise the written queries are dropped and the session connects
again for the others (unless none is left to write).  Every 5 s idle sessions are closed
when fewer sessions are active than at the busiest moment since the last look (HAProxy's
test: half the difference, and then every idle session goes).  Time is an argument (ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_PIPELINED = 4  # DNS_STREAM_MAX_PIPELINED_REQ
QUERY_TIMEOUT_MS = 5000
IDLE_PERIOD_MS = 5000
MAX_MESSAGE = 65535  # DNS_TCP_MSG_MAX_SIZE


@dataclass(frozen=True, slots=True)
class Connect:
    session: int


@dataclass(frozen=True, slots=True)
class Write:
    session: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    session: int


Action = Connect | Write | Close


@dataclass(eq=False)
class Session:
    """dns_session: one connection, its queries and the answer being read."""

    id: int
    connected: bool = False
    nb_queries: int = 0  # given to the session and not answered
    counter: int = 0  # the last id written
    unsent: list[bytes] = field(default_factory=list)
    onfly: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> (resolver's, expire)
    rx: bytearray = field(default_factory=bytearray)


class DnsStream:
    """dns_stream_server: a TCP nameserver's sessions."""

    def __init__(self, now_ms: int, maxconn: int = 0) -> None:
        self.maxconn = maxconn  # the nameserver line's `maxconn` (0: no limit)
        self.sessions: dict[int, Session] = {}
        self.free: list[Session] = []  # with room for a query, most recent first
        self.idle: list[Session] = []
        self.idle_conns = 0
        self.max_active = 0
        self.next_idle = now_ms + IDLE_PERIOD_MS
        self._ids = 0

    @property
    def cur_conns(self) -> int:
        return len(self.sessions)

    def submit(self, query: bytes) -> list[Action] | None:
        """dns_process_req: the query to a session (a new one when none has room); None
        when it cannot go (`maxconn` sessions busy: snd_error)."""
        if len(query) > MAX_MESSAGE or len(query) < 2:
            return None
        out: list[Action] = []
        ds = self.free[0] if self.free else None
        if ds is not None:
            ds.nb_queries += 1
            if ds.nb_queries >= MAX_PIPELINED:
                self.free.remove(ds)
        elif self.idle:
            ds = self.idle.pop(0)
            ds.nb_queries += 1
            self.idle_conns -= 1
            self.max_active = max(self.max_active, self.cur_conns - self.idle_conns)
            self.free.append(ds)
        elif self.maxconn and self.cur_conns >= self.maxconn:
            return None
        else:
            self._ids += 1
            ds = self.sessions[self._ids] = Session(self._ids)
            ds.nb_queries = 1
            self.free.insert(0, ds)
            out.append(Connect(ds.id))
        ds.unsent.append(query)
        return out

    def writes(self, now_ms: int) -> list[Action]:
        """What connected sessions have to write (dns_session_io_handler's output side)."""
        out: list[Action] = []
        for ds in self.sessions.values():
            if ds.connected and ds.unsent:
                out.append(Write(ds.id, self._frames(ds, now_ms)))
        return out

    def _frames(self, ds: Session, now_ms: int) -> bytes:
        data = bytearray()
        for query in ds.unsent:
            ds.counter = (ds.counter + 1) & 0xFFFF
            qid = int.from_bytes(query[:2], "big")
            ds.onfly[ds.counter] = (qid, now_ms + QUERY_TIMEOUT_MS)
            data += len(query).to_bytes(2, "big") + ds.counter.to_bytes(2, "big") + query[2:]
        ds.unsent.clear()
        return bytes(data)

    def connected(self, sid: int) -> None:
        ds = self.sessions.get(sid)
        if ds is not None:
            ds.connected = True

    def received(self, sid: int, data: bytes) -> list[bytes]:
        """The answers complete in `data` (the resolver's ids back); unknown ids dropped."""
        ds = self.sessions.get(sid)
        if ds is None:
            return []
        ds.rx += data
        out: list[bytes] = []
        while len(ds.rx) >= 2:
            size = int.from_bytes(ds.rx[:2], "big")
            if len(ds.rx) < 2 + size:
                break
            msg, ds.rx = bytes(ds.rx[2 : 2 + size]), ds.rx[2 + size :]
            known = ds.onfly.pop(int.from_bytes(msg[:2], "big"), None) if size >= 2 else None
            if known is None:
                continue
            out.append(known[0].to_bytes(2, "big") + msg[2:])
            self._answered(ds)
        return out

    def _answered(self, ds: Session) -> None:
        """dns_recv_nameserver: a slot freed; the session is free, or idle when empty."""
        for q in (self.free, self.idle):
            if ds in q:
                q.remove(ds)
        ds.nb_queries -= 1
        if ds.nb_queries:
            self.free.insert(0, ds)
        else:
            self.idle.insert(0, ds)
            self.idle_conns += 1

    def closed(self, sid: int) -> list[Action]:
        """dns_session_release: the connection is gone (the server closed it, it failed,
        or the idle task shut it)."""
        ds = self.sessions.get(sid)
        if ds is None:
            return []
        for q in (self.free, self.idle):
            if ds in q:
                q.remove(ds)
        if not ds.nb_queries:
            self.idle_conns -= 1
            del self.sessions[sid]
            return []
        if len(ds.onfly) == ds.nb_queries or not ds.unsent:
            # every query was written (or forgotten after 5 s: HAProxy would reconnect for
            # nothing, again at each close): nothing left to send
            del self.sessions[sid]
            return []
        ds.nb_queries -= len(ds.onfly)  # written, never to be answered
        ds.onfly.clear()
        ds.rx.clear()
        ds.connected = False
        if ds.nb_queries < MAX_PIPELINED:
            self.free.insert(0, ds)
        return [Connect(ds.id)]

    def failed(self, sid: int) -> None:
        """The connection could not be made: the session and its queries are dropped (the
        resolutions retry them at `timeout retry`)."""
        ds = self.sessions.pop(sid, None)
        if ds is None:
            return
        for q in (self.free, self.idle):
            if ds in q:
                q.remove(ds)

    def tick(self, now_ms: int) -> list[Action]:
        """dns_process_query_exp and dns_process_idle_exp."""
        for ds in self.sessions.values():
            for qid, (_orig, expire) in list(ds.onfly.items()):
                if expire <= now_ms:
                    del ds.onfly[qid]
        out: list[Action] = []
        if now_ms >= self.next_idle:
            active = self.cur_conns - self.idle_conns
            self.max_active = max(self.max_active, active)
            if (self.max_active - active) // 2:
                out.extend(Close(ds.id) for ds in self.idle)
                self.idle.clear()
            self.max_active = active
            self.next_idle = now_ms + IDLE_PERIOD_MS
        return out

    def next_wakeup(self) -> int:
        expiries = [e for ds in self.sessions.values() for _, e in ds.onfly.values()]
        return min([self.next_idle, *expiries])
