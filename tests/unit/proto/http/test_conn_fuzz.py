"""The connection machines under random event sequences (hypothesis): they never raise, say
nothing once closed, close at most once and last, and a timer that fired at the deadline
leaves them closed or with a later deadline (no busy timer loop)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.client import ClientMachine, Front
from pylvs.proto.http.conn.server import Back, ServerMachine
from pylvs.proto.http.connmode import Mode
from pylvs.proto.http.events import HeadReceived
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.message import RequestHead, ResponseHead
from pylvs.proto.http.timeouts import Timeouts
from tests.unit.proto.http.http_strategies import mutated, requests, responses

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIMEOUTS = Timeouts(client=5, server=5, connect=1, http_request=2, http_keep_alive=1, tunnel=3)


def first_head(data: bytes, request: bool) -> RequestHead | ResponseHead:
    event = Framer(request=request).feed(data)[0]
    assert isinstance(event, HeadReceived), event
    return event.head


HEAD = first_head(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", request=False)
REQ = first_head(b"GET / HTTP/1.1\r\n\r\n", request=True)
assert isinstance(HEAD, ResponseHead) and isinstance(REQ, RequestHead)

CLIENT_EVENTS = st.one_of(
    st.builds(ev.DataRead, st.one_of(requests(), mutated(requests()))),
    st.sampled_from(
        [
            ev.EofRead(),
            ev.TimerFired(),
            ev.WriteBlocked(),
            ev.WriteDrained(),
            ev.Stopping(),
            ev.ResponseStarted(HEAD),
            ev.ResponseData(b"ok"),
            ev.ResponseEnded(),
            ev.ResponseCut(),
            ev.ServerFailed(502),
            ev.ServerFailed(504),
            ev.TunnelDelivered(b"t"),
            ev.ServerShut(),
        ]
    ),
)
SERVER_EVENTS = st.one_of(
    st.builds(ev.DataRead, st.one_of(responses(), mutated(responses()))),
    st.sampled_from(
        [
            ev.EofRead(),
            ev.TimerFired(),
            ev.Connected(),
            ev.ConnectFailed(),
            ev.HeadForwarded(REQ, True, Mode.KEEP_ALIVE),
            ev.DataForwarded(b"x"),
            ev.EndForwarded(),
            ev.TunnelForwarded(b"t"),
            ev.ClientShut(),
            ev.ClientAborted(),
            ev.Stopping(),
        ]
    ),
)


def check(machine: ClientMachine | ServerMachine, steps: list[tuple[object, float]]) -> None:
    """Run the steps; a timer fires exactly at the machine's deadline when one is set."""
    now = 0.0
    closed = False
    for event, delay in steps:
        now += delay
        fired = isinstance(event, ev.TimerFired)
        if fired and machine.deadline is not None:
            now = max(now, machine.deadline)
        out = machine.handle(event, now)  # type: ignore[arg-type]
        if closed:
            assert out == []
            continue
        closes = [c for c in out if isinstance(c, cmd.Close)]
        assert len(closes) <= 1
        if closes:
            assert out[-1] is closes[0]  # nothing is asked of a closed machine
            closed = True
        elif fired:
            deadline = machine.deadline
            assert deadline is None or deadline > now  # a fired timer never stays overdue


@FUZZ
@given(st.lists(st.tuples(CLIENT_EVENTS, st.floats(0, 3)), max_size=25))
def test_client_machine_survives_any_sequence(steps: list[tuple[object, float]]) -> None:
    check(ClientMachine(Front(timeouts=TIMEOUTS), now=0.0), steps)


@FUZZ
@given(st.lists(st.tuples(SERVER_EVENTS, st.floats(0, 3)), max_size=25))
def test_server_machine_survives_any_sequence(steps: list[tuple[object, float]]) -> None:
    check(ServerMachine(Back(timeouts=TIMEOUTS)), steps)
