"""The accept rate limits: global `maxconnrate`, `maxsessrate`, `maxsslrate` and a frontend's
`rate-limit sessions`, as HAProxy 2.6's listener_accept applies them (src/listener.c).

Before each batch of accepts HAProxy asks every limit that applies to the listener how many
more events its counter may take this second (freq_ctr_remain over 1 s: the process's
sessions, its connections, its TLS sessions for a TLS bind, the frontend's sessions); the
smallest bounds the batch.  When one is 0 the listener waits (LI_LIMITED) for
next_event_delay of that counter, at least 1 ms, then accepts again.  The counters are those
`show info` shows: ConnRate (global.conn_per_sec, counted at each accept), SessRate
(global.sess_per_sec, counted once a session is made), SslRate (global.ssl_per_sec, a TLS
bind's sessions: tls.TlsCounters.sessions) and the frontend's rate (fe_sess_per_sec, the
`rate` of show stat: Frontend.sess_rate).

`room()` answers for one frontend and one kind of bind: how many accepts may happen now and,
when none, in how many seconds one may.  The Python accept loop asks it before each accept
(frontend.py `_room`: at 0 the listener pauses until then); the pump's plain listeners get
it as their room until Python's next recount (plain.py), and when that room is used up the
listening socket's event goes to the Python loop, which waits as above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.model.proxy_spec import ProxiesSpec

from .rules import RATE_PERIOD_MS, Rate

if TYPE_CHECKING:
    from .frontend import Frontend

UNLIMITED = 1 << 30


class AcceptRates:
    """The process's accept counters and limits (see the module doc)."""

    __slots__ = ("conn_limit", "conns", "sess_limit", "sessions", "ssl_limit", "ssl_sessions")

    def __init__(self, spec: ProxiesSpec, ssl_sessions: Rate) -> None:
        self.conns = Rate()  # global.conn_per_sec
        self.sessions = Rate()  # global.sess_per_sec
        self.ssl_sessions = ssl_sessions  # global.ssl_per_sec (tls_hooks.py counts it)
        self.conn_limit = spec.maxconnrate
        self.sess_limit = spec.maxsessrate
        self.ssl_limit = spec.maxsslrate

    def limited(self, fe: Frontend) -> bool:
        """Whether any limit applies to `fe`'s listeners."""
        return bool(self.conn_limit or self.sess_limit or self.ssl_limit or fe.spec.rate_limit)

    def room(self, fe: Frontend, tls: bool, now: float) -> tuple[int, float]:
        """(accepts allowed now, seconds until the next one may come when none is):
        listener_accept's order, the global session, connection and TLS limits, then the
        frontend's."""
        return _room(
            (
                (self.sessions, self.sess_limit),
                (self.conns, self.conn_limit),
                (self.ssl_sessions, self.ssl_limit if tls else 0),
                (fe.sess_rate, fe.spec.rate_limit),
            ),
            now,
        )

    def process_room(self, now: float) -> int:
        """The accepts the process's limits allow now on a bind without TLS, whichever
        frontend's (the pump's room for all its listeners)."""
        return _room(((self.sessions, self.sess_limit), (self.conns, self.conn_limit)), now)[0]

    def frontend_room(self, fe: Frontend, now: float) -> int:
        """The accepts `fe`'s own limit allows now."""
        return _room(((fe.sess_rate, fe.spec.rate_limit),), now)[0]

    def connection(self, fe: Frontend, now: float) -> None:
        """A connection accepted on `fe` (proxy_inc_fe_conn_ctr, global.conn_per_sec)."""
        fe.conn_rate.count(now)
        self.conns.count(now)

    def set_limit(self, kind: str, value: int) -> None:
        """`set rate-limit connections|sessions|ssl-sessions global <value>` (cli.c)."""
        if kind == "connections":
            self.conn_limit = value
        elif kind == "sessions":
            self.sess_limit = value
        else:
            self.ssl_limit = value

    def session(self, fe: Frontend, now: float) -> None:
        """A session made on `fe` (proxy_inc_fe_sess_ctr, and the process's count)."""
        fe.total += 1
        self.session_rates(fe, now)

    def session_rates(self, fe: Frontend, now: float) -> None:
        """The session's rates alone: a stream waiting for its content rules counts there
        from the start of the wait (HAProxy made the session at the accept, before any
        content rule; its `stot` comes with the rules' verdict, inspect.py)."""
        fe.sess_rate.count(now)
        self.sessions.count(now)


def _room(limits: tuple[tuple[Rate, int], ...], now: float) -> tuple[int, float]:
    now_ms = int(now * 1000)
    allowed = UNLIMITED
    for rate, limit in limits:
        if not limit:
            continue
        left = rate.ctr.remain(RATE_PERIOD_MS, limit, 0, now_ms)
        if not left:
            return 0, rate.ctr.next_event_delay(RATE_PERIOD_MS, limit, 0, now_ms) / 1000
        allowed = min(allowed, left)
    return allowed, 0.0
