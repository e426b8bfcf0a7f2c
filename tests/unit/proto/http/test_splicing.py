"""When HAProxy 2.6 splices an HTTP/1 body or tunnel (proto/http/splicing.py, after
src/stream.c process_stream and src/mux_h1.c h1_process_demux), the default `maxpipes`
(haproxy.c compute_ideal_maxpipes) and the pipes in use against it; the H1 stats module's
counters in show stat's order (src/mux_h1.c)."""

from __future__ import annotations

import pytest

from pylvs.proto.http.h1counters import H1Counters
from pylvs.proto.http.splicing import AUTO, NONE, OFF, ON, Pipes, SpliceOptions, how, ideal_maxpipes

REQ = SpliceOptions(request=True)
RESP = SpliceOptions(response=True)
AUT = SpliceOptions(auto=True)


@pytest.mark.parametrize(
    ("client", "fe", "be", "expected"),
    [
        (True, REQ, NONE, ON),  # the client's bytes: splice-request, on either proxy
        (True, NONE, REQ, ON),
        (False, REQ, NONE, OFF),  # ... says nothing of the server's
        (False, NONE, RESP, ON),
        (False, RESP, NONE, ON),
        (True, RESP, NONE, OFF),
        (True, AUT, NONE, AUTO),  # auto: either way, once it streams fast
        (False, NONE, AUT, AUTO),
        (True, SpliceOptions(True, False, True), NONE, ON),  # forced beats auto
        (False, SpliceOptions(True, False, True), NONE, AUTO),
        (True, NONE, NONE, OFF),
    ],
)
def test_which_direction_splices(
    client: bool, fe: SpliceOptions, be: SpliceOptions, expected: int
) -> None:
    assert how(client, fe, be) == expected


def test_a_chunked_body_never_splices() -> None:
    both = SpliceOptions(True, True, True)
    assert how(True, both, both, chunked=True) == OFF
    assert how(False, both, both, chunked=True) == OFF


@pytest.mark.parametrize(("maxconn", "pipes"), [(0, 0), (3, 3), (4, 1), (500, 125), (4096, 1024)])
def test_the_default_maxpipes_is_a_quarter_of_maxconn(maxconn: int, pipes: int) -> None:
    assert ideal_maxpipes(maxconn) == pipes


def test_pipes_are_taken_up_to_the_limit_and_given_back() -> None:
    p = Pipes(2)
    assert p.take() and p.take()
    assert not p.take()  # a third stream copies (pipes_used < global.maxpipes)
    p.give()
    assert p.take()
    none = Pipes(0)
    assert not none.take()
    none.give()  # never below zero
    assert none.used == 0


def test_h1_counters_in_show_stat_order_with_the_pumps_pool_added() -> None:
    c = H1Counters()
    c.opened()
    c.opened()
    c.closed()
    c.stream_opened()
    c.stream_opened()
    c.stream_closed()
    c.bytes_in, c.bytes_out, c.spliced_in, c.spliced_out = 10, 20, 3, 4
    assert c.values() == (1, 1, 2, 2, 10, 20, 3, 4)
    pool = [5, 2]  # opened, closed by the pump's own server connections

    def source() -> tuple[int, int]:
        return pool[0], pool[1]

    c.sources.append(source)
    assert c.values()[:3] == (1 + 3, 1, 2 + 5)
    c.fold(source)  # the listener stops: its counts stay
    pool[:] = [100, 100]
    assert c.values()[:3] == (4, 1, 7)
    assert c.sources == []
