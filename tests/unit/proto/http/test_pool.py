"""`http-reuse` decisions, on the scenarios of HAProxy 2.6's own regression tests
(reg-tests/connection/http_reuse_{never,safe,aggressive,always}.vtc: which request opens a new
server connection, which reuses whose) and on src/server.c's idle pool rules."""

from __future__ import annotations

from pylvs.proto.http.conn.pool import Reuse, ServerPool


class Receiver:
    """Plays a vtc scenario: clients send requests one at a time over the pool; the server
    side records, per request, whether it was its connection's first and which client
    opened that connection (the `http_first_req` and `client-id` the vtc checks)."""

    def __init__(self, pool: ServerPool) -> None:
        self.pool = pool
        self.opener: dict[int, str] = {}
        self.served: dict[int, int] = {}
        self.now = 0.0

    def request(self, client: str, first: bool) -> tuple[bool, str]:
        conn = self.pool.take("srv", client, first)
        if conn is None:
            conn = self.pool.opened("srv", client)
            self.opener[conn] = client
        self.served[conn] = self.served.get(conn, 0) + 1
        self.now += 1
        self.pool.release(conn, safe=self.served[conn] > 1, now=self.now)
        return self.served[conn] == 1, self.opener[conn]

    def client(self, name: str, requests: int) -> list[tuple[bool, str]]:
        return [self.request(name, first=i == 0) for i in range(requests)]


def test_safe_with_one_idle_connection_gives_second_requests_the_first_clients() -> None:
    r = Receiver(ServerPool(Reuse.SAFE, max_idle=1))
    assert r.client("c1", 3) == [(True, "c1"), (False, "c1"), (False, "c1")]
    assert r.client("c2", 3) == [(True, "c2"), (False, "c1"), (False, "c1")]
    assert r.client("c3", 3) == [(True, "c3"), (False, "c1"), (False, "c1")]


def test_aggressive_gives_first_requests_proven_connections_only() -> None:
    r = Receiver(ServerPool(Reuse.AGGRESSIVE))
    assert r.client("c1", 1) == [(True, "c1")]
    assert r.client("c2", 2) == [(True, "c2"), (False, "c1")]
    assert r.client("c3", 1) == [(False, "c1")]  # c1's connection is on the safe list now


def test_always_gives_first_requests_any_idle_connection() -> None:
    r = Receiver(ServerPool(Reuse.ALWAYS))
    assert r.client("c1", 1) == [(True, "c1")]
    assert r.client("c2", 2) == [(False, "c1"), (False, "c1")]


def test_never_keeps_connections_with_their_client() -> None:
    r = Receiver(ServerPool(Reuse.NEVER))
    assert r.client("c1", 2) == [(True, "c1"), (False, "c1")]
    assert r.client("c2", 2) == [(True, "c2"), (False, "c2")]
    assert sorted(r.pool.session_ended("c1")) == [1]


def test_a_private_connection_serves_only_its_session_and_sessions_keep_five() -> None:
    pool = ServerPool(Reuse.ALWAYS)
    conn = pool.opened("srv", "c1")
    pool.make_private(conn, "c1")  # a 401 asking for NTLM
    assert pool.release(conn, safe=False, now=0.0)
    assert pool.take("srv", "c2", first=False) is None
    assert pool.take("srv", "c1", first=False) == conn
    pool.release(conn, safe=True, now=0.0)
    others = [pool.opened(f"s{i}", "c1") for i in range(5)]
    for c in others:
        pool.make_private(c, "c1")
    kept = [pool.release(c, safe=False, now=0.0) for c in others]
    assert kept == [True, True, True, True, False]  # max-session-srv-conns 5


def test_pool_max_conn_bounds_the_idle_connections() -> None:
    pool = ServerPool(Reuse.SAFE, max_idle=1)
    a, b = pool.opened("srv", "c1"), pool.opened("srv", "c2")
    assert pool.release(a, safe=False, now=0.0)
    assert not pool.release(b, safe=False, now=0.0)


def test_the_purge_closes_half_the_idle_excess_plus_one_every_purge_delay() -> None:
    pool = ServerPool(Reuse.SAFE, purge_delay=5.0)
    conns = [pool.opened("srv", f"c{i}") for i in range(6)]  # six used at once
    for c in conns:
        assert pool.release(c, safe=True, now=1.0)
    assert pool.deadline == 6.0
    assert pool.purge(5.9) == []
    assert pool.purge(6.0) == []  # six were needed at once: no excess
    assert pool.deadline == 11.0
    assert pool.purge(11.0) == []  # none used since, but the estimate only halves (to 3)
    assert pool.purge(16.0) == conns[:3]  # excess 6 - 3 = 3: half rounded up, plus one
    assert pool.purge(21.0) == conns[3:5]  # estimate 1: excess 2 -> 1 + 1
    assert pool.purge(26.0) == conns[5:]
    assert pool.deadline is None


def test_a_connection_closed_by_its_server_leaves_the_pool() -> None:
    pool = ServerPool(Reuse.SAFE)
    conn = pool.opened("srv", "c1")
    pool.release(conn, safe=False, now=0.0)
    pool.closed(conn)
    assert pool.take("srv", "c1", first=False) is None
