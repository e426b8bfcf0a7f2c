"""Playbooks for the TCP relay machine (mitmproxy style): a list of events, and after each the
exact commands the machine must answer, in order.

Each playbook is played twice on fresh machines: the first time the answers come from the
rules, the second time from the machine's table of answers, and both must be the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pylvs.proto.conntrack.states import TcpEvent
from pylvs.proto.relay import (
    ABORTED,
    ACCEPTED,
    CLIENT,
    CONNECT_TIMED_OUT,
    CONNECTED,
    DATA,
    EOF_CLOSE,
    EOF_SHUT,
    EXPIRED,
    HELD,
    PEER_EOF,
    READING,
    RELEASED,
    SERVER,
    WRITE,
    Close,
    CloseSide,
    Connect,
    ConnectFailed,
    Connecting,
    CountError,
    DataQueued,
    Drain,
    EofRead,
    Event,
    Failed,
    FastClosed,
    FastShut,
    Flushed,
    Half,
    Handover,
    HungUp,
    Read,
    Record,
    RelayMachine,
    RelayParams,
    ShutWrite,
    Spilled,
    StartTimer,
    StopTimer,
    Unwatch,
    Watch,
)

SMALL = RelayParams(high_water=100, low_water=10, connect_timeout=5.0)
BOTH = DATA | EOF_SHUT
# An event and the commands expected (mypy joins a literal list of commands to object).
Step = tuple[Event, Sequence[object]]


def rec(event: TcpEvent) -> Record:
    return Record(event)


def play(steps: list[Step], *, fast: bool = True, params: RelayParams = SMALL) -> RelayMachine:
    """Play `steps` on two fresh machines in turn; returns the second."""
    machine = RelayMachine(params, fast=fast)
    for _ in range(2):
        machine = RelayMachine(params, fast=fast)
        for i, (event, expected) in enumerate(steps):
            got = list(machine.handle(event))
            assert got == list(expected), f"step {i} ({event}): got {got}"
    return machine


# The start every connected relay shares: accepted, connected at once (loopback).
ACCEPT = (
    ACCEPTED,
    [rec(TcpEvent.CLIENT_CONNECTED), Watch(CLIENT, READING), Connect()],
)
CONNECT_FAST = (
    CONNECTED,
    [
        rec(TcpEvent.BACKEND_CONNECTED),
        Watch(SERVER, READING),
        Handover(CLIENT, BOTH),
        Handover(SERVER, BOTH),
    ],
)
CONNECT_SLOW = (CONNECTED, [rec(TcpEvent.BACKEND_CONNECTED), Watch(SERVER, READING)])


def test_a_request_response_connection_runs_in_the_c_path_from_connect_to_close() -> None:
    """Both sockets are handed over once connected; the C path takes the server's EOF (shut
    the client down) and then the client's (close both); the table sees each step."""
    m = play(
        [
            ACCEPT,
            CONNECT_FAST,
            (FastShut(SERVER), [rec(TcpEvent.SERVER_EOF), Handover(CLIENT, EOF_CLOSE)]),
            (FastClosed(CLIENT), [rec(TcpEvent.CLIENT_EOF), Close(False, False)]),
            (EofRead(CLIENT), []),  # over: nothing more
        ]
    )
    assert m.done and m.state.c2s is m.state.s2c is Half.SHUT


def test_the_same_connection_in_pure_python() -> None:
    """Without the C path the driver reads the EOFs: the server's is passed on by
    shutdown(2), the client's last one by the close (one system call less)."""
    play(
        [
            ACCEPT,
            CONNECT_SLOW,
            (
                EofRead(SERVER),
                [rec(TcpEvent.SERVER_EOF), ShutWrite(CLIENT), Watch(SERVER, 0)],
            ),
            (EofRead(CLIENT), [rec(TcpEvent.CLIENT_EOF), Close(False, False)]),
        ],
        fast=False,
    )


def test_client_half_close_first_still_gets_the_reply() -> None:
    play(
        [
            ACCEPT,
            CONNECT_SLOW,
            (EofRead(CLIENT), [rec(TcpEvent.CLIENT_EOF), ShutWrite(SERVER), Watch(CLIENT, 0)]),
            # The reply flows; then the server's EOF ends it.
            (EofRead(SERVER), [rec(TcpEvent.SERVER_EOF), Close(False, False)]),
        ],
        fast=False,
    )


def test_a_connect_in_progress_has_a_deadline_and_stops_it_when_done() -> None:
    play(
        [
            ACCEPT,
            (Connecting(now=100.0), [StartTimer(105.0), Watch(SERVER, READING | WRITE)]),
            (
                CONNECTED,
                [
                    StopTimer(),
                    rec(TcpEvent.BACKEND_CONNECTED),
                    Watch(SERVER, READING),
                    Handover(CLIENT, BOTH),
                    Handover(SERVER, BOTH),
                ],
            ),
            (CONNECT_TIMED_OUT, []),  # a late timer: the connect won
        ]
    )


def test_a_connect_that_times_out_resets_the_client_and_counts() -> None:
    play(
        [
            ACCEPT,
            (Connecting(now=0.0), [StartTimer(5.0), Watch(SERVER, READING | WRITE)]),
            (
                CONNECT_TIMED_OUT,
                [CountError("timed out"), rec(TcpEvent.SERVER_RESET), Close(True, False)],
            ),
            (CONNECTED, []),
        ]
    )


def test_a_refused_connect_resets_the_client_and_counts_with_its_reason() -> None:
    play(
        [
            ACCEPT,
            (
                ConnectFailed("Connection refused"),
                [CountError("Connection refused"), rec(TcpEvent.SERVER_RESET), Close(True, False)],
            ),
        ]
    )


def test_what_the_client_sends_before_the_connect_is_queued_then_sent_then_its_eof() -> None:
    """Data and EOF before the real server is up wait; the EOF is recorded once it is up
    (after BACKEND_CONNECTED) and passed on once the data is written."""
    m = play(
        [
            ACCEPT,
            (DataQueued(SERVER, 5), []),
            (EofRead(CLIENT), [Watch(CLIENT, 0)]),
            (Connecting(now=0.0), [StartTimer(5.0), Watch(SERVER, READING | WRITE)]),
            (
                CONNECTED,
                [StopTimer(), rec(TcpEvent.BACKEND_CONNECTED), rec(TcpEvent.CLIENT_EOF)],
            ),
            (
                Flushed(SERVER, 0),
                [ShutWrite(SERVER), Watch(SERVER, READING), Handover(SERVER, EOF_CLOSE)],
            ),
        ]
    )
    assert m.state.c2s is Half.SHUT and not m.eof_pending(SERVER)


def test_an_eof_alone_before_the_connect_is_passed_on_when_connected() -> None:
    m = RelayMachine(SMALL)
    m.handle(ACCEPTED)
    m.handle(EofRead(CLIENT))
    assert m.eof_pending(SERVER)
    assert list(m.handle(CONNECTED)) == [
        rec(TcpEvent.BACKEND_CONNECTED),
        rec(TcpEvent.CLIENT_EOF),
        ShutWrite(SERVER),
        Watch(SERVER, READING),
    ]


def test_backpressure_pauses_the_source_above_the_high_mark_and_resumes_below_the_low() -> None:
    play(
        [
            ACCEPT,
            CONNECT_FAST,
            # The client is slow: the C path hands back what it did not take.
            (Spilled(SERVER, 50), [Watch(CLIENT, READING | WRITE)]),
            # More, up to the high mark: the server is no longer read, nor relayed in C.
            (DataQueued(CLIENT, 120), [Watch(SERVER, 0)]),
            (Flushed(CLIENT, 60), []),  # above the low mark: still paused
            (Flushed(CLIENT, 10), [Watch(SERVER, READING)]),  # at the low mark: resumed
            (Flushed(CLIENT, 0), [Watch(CLIENT, READING), Handover(SERVER, BOTH)]),
        ]
    )


def test_an_eof_behind_queued_bytes_waits_for_them() -> None:
    play(
        [
            ACCEPT,
            CONNECT_SLOW,
            (DataQueued(CLIENT, 50), [Watch(CLIENT, READING | WRITE)]),
            (
                EofRead(SERVER),
                [rec(TcpEvent.SERVER_EOF), Watch(SERVER, 0)],
            ),
            (Flushed(CLIENT, 20), []),
            (Flushed(CLIENT, 0), [ShutWrite(CLIENT), Watch(CLIENT, READING)]),
        ],
        fast=False,
    )


def test_resets_are_recorded_for_their_side_and_reset_the_other() -> None:
    play(
        [
            ACCEPT,
            CONNECT_FAST,
            (Failed(CLIENT), [rec(TcpEvent.CLIENT_RESET), Close(False, True)]),
        ]
    )
    play(
        [
            ACCEPT,
            CONNECT_FAST,
            (Failed(SERVER), [rec(TcpEvent.SERVER_RESET), Close(True, False)]),
        ]
    )


def test_expiry_and_stop_reset_both_sides() -> None:
    play([ACCEPT, CONNECT_FAST, (EXPIRED, [Close(True, True)]), (ABORTED, [])])
    play([ACCEPT, (ABORTED, [Close(True, True)])])


def test_a_hang_up_on_a_paused_side_reads_it_and_one_on_a_finished_socket_unwatches_it() -> None:
    play(
        [
            ACCEPT,
            CONNECT_SLOW,
            (DataQueued(CLIENT, 200), [Watch(CLIENT, READING | WRITE), Watch(SERVER, 0)]),
            (HungUp(SERVER), [Read(SERVER)]),
        ],
        fast=False,
    )
    # The client sent EOF and got the server's: its socket is over both ways while the
    # server still has the client's last bytes to take.
    play(
        [
            ACCEPT,
            CONNECT_SLOW,
            (DataQueued(SERVER, 20), [Watch(SERVER, READING | WRITE)]),
            (EofRead(CLIENT), [rec(TcpEvent.CLIENT_EOF), Watch(CLIENT, 0)]),
            (EofRead(SERVER), [rec(TcpEvent.SERVER_EOF), ShutWrite(CLIENT), Watch(SERVER, WRITE)]),
            (HungUp(CLIENT), [Unwatch(CLIENT)]),
            (Flushed(SERVER, 0), [Close(False, False)]),
        ],
        fast=False,
    )


def test_a_slow_reader_that_half_closes_in_c_keeps_its_queue_flushed() -> None:
    """The C path took the client's EOF and set its epoll mask to 0: bytes still wait for
    the client, so it is watched for writing again (the server's side went back to Python
    with the spill already)."""
    play(
        [
            ACCEPT,
            CONNECT_FAST,
            (Spilled(SERVER, 50), [Watch(CLIENT, READING | WRITE)]),
            (
                FastShut(CLIENT),
                [rec(TcpEvent.CLIENT_EOF), Watch(CLIENT, WRITE)],
            ),
        ]
    )


# -- held relays (the real server was deleted) ---------------------------------------------


def test_a_held_client_is_not_read_but_watched_for_its_fin_and_the_server_still_flows() -> None:
    m = play(
        [
            ACCEPT,
            CONNECT_FAST,
            (HELD, [Watch(CLIENT, PEER_EOF), Handover(CLIENT, 0)]),
            (HELD, []),
            (RELEASED, [Watch(CLIENT, READING), Handover(CLIENT, BOTH)]),
        ]
    )
    assert not m.held


def test_a_held_client_that_closes_is_drained_and_closed_at_once() -> None:
    """Its FIN is not passed on nor recorded (IPVS drops it); its socket is closed, its data
    waits; when the server comes back they go on, and the relay ends as any other."""
    m = play(
        [
            ACCEPT,
            CONNECT_FAST,
            (HELD, [Watch(CLIENT, PEER_EOF), Handover(CLIENT, 0)]),
            (HungUp(CLIENT), [Drain(CLIENT)]),
            (DataQueued(SERVER, 10), []),
            (
                EofRead(CLIENT),
                [CloseSide(CLIENT), Watch(SERVER, PEER_EOF), Handover(SERVER, 0)],
            ),
        ]
    )
    assert not m.client_open and m.state.s2c is Half.GONE
    after: list[Step] = [
        (RELEASED, [rec(TcpEvent.CLIENT_EOF), Watch(SERVER, PEER_EOF | WRITE)]),
        (Flushed(SERVER, 0), [ShutWrite(SERVER), Watch(SERVER, PEER_EOF)]),
        (HungUp(SERVER), [rec(TcpEvent.SERVER_EOF), Close(False, False)]),
    ]
    for event, expected in after:
        assert list(m.handle(event)) == list(expected)


def test_a_held_closed_client_whose_server_never_comes_back_ends_on_the_timer() -> None:
    play(
        [
            ACCEPT,
            CONNECT_SLOW,
            (HELD, [Watch(CLIENT, PEER_EOF)]),
            (HungUp(CLIENT), [Drain(CLIENT)]),
            (EofRead(CLIENT), [CloseSide(CLIENT), Watch(SERVER, PEER_EOF)]),
            (EXPIRED, [Close(True, True)]),
        ],
        fast=False,
    )


def test_a_held_client_that_hangs_up_after_the_servers_eof_goes_on_when_it_is_back() -> None:
    play(
        [
            ACCEPT,
            CONNECT_FAST,
            (HELD, [Watch(CLIENT, PEER_EOF), Handover(CLIENT, 0)]),
            (FastShut(SERVER), [rec(TcpEvent.SERVER_EOF)]),
            (HungUp(CLIENT), [Drain(CLIENT)]),
            (DataQueued(SERVER, 10), []),
            (EofRead(CLIENT), [CloseSide(CLIENT)]),
            (RELEASED, [rec(TcpEvent.CLIENT_EOF), Watch(SERVER, WRITE)]),
            (Flushed(SERVER, 0), [Close(False, False)]),
        ]
    )


def test_a_held_clients_reset_is_not_recorded_but_resets_the_server() -> None:
    play(
        [
            ACCEPT,
            CONNECT_SLOW,
            (HELD, [Watch(CLIENT, PEER_EOF)]),
            (Failed(CLIENT), [Close(False, True)]),
        ],
        fast=False,
    )


def test_bytes_queued_towards_a_held_server_wait_for_it() -> None:
    play(
        [
            ACCEPT,
            CONNECT_SLOW,
            (DataQueued(SERVER, 5), [Watch(SERVER, READING | WRITE)]),
            (HELD, [Watch(CLIENT, PEER_EOF), Watch(SERVER, READING)]),
            (RELEASED, [Watch(CLIENT, READING), Watch(SERVER, READING | WRITE)]),
        ],
        fast=False,
    )


def test_a_relay_held_while_connecting_starts_held() -> None:
    play(
        [
            ACCEPT,
            (HELD, [Watch(CLIENT, PEER_EOF)]),
            (Connecting(now=0.0), [StartTimer(5.0), Watch(SERVER, READING | WRITE)]),
            (CONNECTED, [StopTimer(), rec(TcpEvent.BACKEND_CONNECTED), Watch(SERVER, READING)]),
            (RELEASED, [Watch(CLIENT, READING)]),
        ],
        fast=False,
    )


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="low-water"):
        RelayParams(high_water=10, low_water=10)
    with pytest.raises(ValueError, match="connect timeout"):
        RelayParams(connect_timeout=0)


def test_an_event_made_anew_means_the_same_as_its_constant() -> None:
    a, b = RelayMachine(SMALL, fast=True), RelayMachine(SMALL, fast=True)
    for ev in (ACCEPTED, CONNECTED):
        a.handle(ev)
        b.handle(ev)
    assert a.handle(FastShut(SERVER)) == b.handle(FastShut(SERVER)) != ()
    assert a.state is b.state
