"""Server connection reuse (`http-reuse`) as HAProxy 2.6 decides it, without the connections.

src/backend.c connect_server() and conn_backend_get(), src/server.c srv_add_to_idle_list()
and srv_cleanup_idle_conns(), include/haproxy/session.h, src/mux_h1.c h1_detach():

* a finished connection goes back to its server's *idle* list after its first transaction and
  to the *safe* list after a later one (a second request proved the server keeps connections
  alive); a *private* connection (always with `http-reuse never`; made private by a 401/407
  asking for NTLM or Negotiate) stays with its client session instead, which keeps at most
  `max-session-srv-conns` (5) of them;
* a request first looks at its own session's connections to the server; then, unless the
  mode is `never`: a request that is not its connection's first takes an idle connection,
  else a safe one; a first request takes a safe one with `aggressive` or `always`, and with
  `always` an idle one when no safe one is left; `safe` (the default) never gives a first
  request a shared connection.  Lists are used oldest first (HAProxy's trees return the
  first of equal keys);
* a server keeps at most `pool-max-conn` idle connections (unset: no limit); beyond the
  connections it has needed at once recently (`est_need_conns`), the purge run every
  `pool-purge-delay` (5 s) closes half the excess (plus one, as HAProxy's per-thread share
  comes out with one thread), oldest first, idle before safe.
  HAProxy's file-descriptor pressure rules (`pool-low-conn`, tune.pool-*-fd-ratio) are left
  out: they only act near the process's descriptor limit.

Connections are numbers the pool hands out (`opened`); servers and sessions are whatever
hashable values the driver uses for them.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field


class Reuse(enum.IntEnum):
    """`http-reuse` (PR_O_REUSE_*)."""

    NEVER = 0
    SAFE = 1
    AGGRESSIVE = 2
    ALWAYS = 3


@dataclass(slots=True)
class _Server:
    idle: deque[int] = field(default_factory=deque)
    safe: deque[int] = field(default_factory=deque)
    used: int = 0
    max_used: int = 0
    est_need: int = 0
    purge_at: float | None = None

    @property
    def idle_count(self) -> int:
        return len(self.idle) + len(self.safe)

    def use(self) -> None:
        self.used += 1
        self.max_used = max(self.max_used, self.used)
        self.est_need = max(self.est_need, self.used)


@dataclass(slots=True)
class _Conn:
    server: Hashable
    session: Hashable
    private: bool
    where: str = "used"  # used, idle, safe, session


class ServerPool:
    """The idle server connections of one backend and who may take them."""

    def __init__(
        self,
        mode: Reuse = Reuse.SAFE,
        *,
        max_idle: int | None = None,
        purge_delay: float = 5.0,
        session_max: int = 5,
    ) -> None:
        self.mode = mode
        self.max_idle = max_idle  # pool-max-conn
        self.purge_delay = purge_delay  # pool-purge-delay
        self.session_max = session_max  # max-session-srv-conns
        self._servers: dict[Hashable, _Server] = {}
        self._conns: dict[int, _Conn] = {}
        self._sessions: dict[Hashable, dict[Hashable, deque[int]]] = {}
        self._next = 1

    def _server(self, server: Hashable) -> _Server:
        srv = self._servers.get(server)
        if srv is None:
            srv = self._servers[server] = _Server()
        return srv

    def opened(self, server: Hashable, session: Hashable) -> int:
        """A new connection to `server` for `session`: its number."""
        conn = self._next
        self._next += 1
        self._conns[conn] = _Conn(server, session, private=self.mode is Reuse.NEVER)
        self._server(server).use()
        return conn

    def take(self, server: Hashable, session: Hashable, first: bool) -> int | None:
        """An idle connection to `server` a request of `session` may use, or None (open one).
        `first`: the request is its client connection's first."""
        own = self._sessions.get(session, {}).get(server)
        if own:
            return self._use(own.popleft())
        if self.mode is Reuse.NEVER:
            return None
        srv = self._servers.get(server)
        if srv is None:
            return None
        if not first:
            queue = srv.idle or srv.safe
        elif self.mode >= Reuse.AGGRESSIVE:
            queue = srv.safe or (srv.idle if self.mode is Reuse.ALWAYS else deque())
        else:
            return None
        return self._use(queue.popleft()) if queue else None

    def _use(self, conn: int) -> int:
        record = self._conns[conn]
        if record.where != "session":
            self._server(record.server).use()
        record.where = "used"
        return conn

    def make_private(self, conn: int, session: Hashable) -> None:
        """The server asked this connection's client to authenticate it (NTLM, Negotiate):
        from now on it serves `session` only."""
        record = self._conns[conn]
        record.private = True
        record.session = session

    def release(self, conn: int, safe: bool, now: float) -> bool:
        """The connection finished a transaction (`safe`: not its first); True if it is kept
        for reuse, False if it must be closed."""
        record = self._conns[conn]
        srv = self._server(record.server)
        if record.private:
            mine = self._sessions.setdefault(record.session, {})
            queue = mine.setdefault(record.server, deque())
            if sum(len(q) for q in mine.values()) >= self.session_max:
                self.closed(conn)
                return False
            queue.append(conn)
            record.where = "session"
            return True
        keep = (self.max_idle is None or srv.idle_count < self.max_idle) and (
            (not srv.safe and (safe or not srv.idle))
            or srv.used + srv.idle_count <= max(srv.used, srv.est_need)
        )
        if not keep or self.purge_delay <= 0:
            self.closed(conn)
            return False
        srv.used -= 1
        (srv.safe if safe else srv.idle).append(conn)
        record.where = "safe" if safe else "idle"
        if srv.purge_at is None:
            srv.purge_at = now + self.purge_delay
        return True

    def closed(self, conn: int) -> None:
        """The connection is gone (closed by either side, or by the pool's verdict)."""
        record = self._conns.pop(conn, None)
        if record is None:
            return
        srv = self._server(record.server)
        if record.where == "used":
            srv.used -= 1
        elif record.where == "session":
            queue = self._sessions.get(record.session, {}).get(record.server)
            if queue is not None and conn in queue:
                queue.remove(conn)
        else:
            queue = srv.safe if record.where == "safe" else srv.idle
            if conn in queue:
                queue.remove(conn)

    def session_ended(self, session: Hashable) -> list[int]:
        """The client connection closed: its private idle connections close with it."""
        gone = [c for q in self._sessions.pop(session, {}).values() for c in q]
        for conn in gone:
            self._conns.pop(conn, None)
        return gone

    def servers(self) -> list[Hashable]:
        return list(self._servers)

    def gauges(self, server: Hashable) -> tuple[int, int, int, int]:
        """A server's idle, safe and used connections and its est_need_conns (show stat's
        idle_conn_cur, safe_conn_cur, used_conn_cur, need_conn_est)."""
        srv = self._servers.get(server)
        if srv is None:
            return 0, 0, 0, 0
        return len(srv.idle), len(srv.safe), srv.used, srv.est_need

    @property
    def deadline(self) -> float | None:
        times = [s.purge_at for s in self._servers.values() if s.purge_at is not None]
        return min(times) if times else None

    def purge(self, now: float) -> list[int]:
        """srv_cleanup_idle_conns(): the idle connections to close now."""
        out: list[int] = []
        for srv in self._servers.values():
            if srv.purge_at is None or now < srv.purge_at:
                continue
            idle = srv.idle_count
            srv.purge_at = None
            if not idle:
                continue
            exceed = srv.used + idle - max(srv.max_used, srv.est_need)
            exceed = exceed // 2 + (exceed & 1)
            srv.est_need = max((srv.est_need + srv.max_used) // 2, srv.max_used)
            srv.max_used = srv.used
            # one thread's share is exceed * idle / idle + 1 connections (the +1 is HAProxy's)
            for _ in range(min(exceed + 1, idle) if exceed > 0 else 0):
                queue = srv.idle or srv.safe
                conn = queue.popleft()
                self._conns.pop(conn, None)
                out.append(conn)
            if srv.idle_count:
                srv.purge_at = now + self.purge_delay
        return out
