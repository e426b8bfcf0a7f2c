"""The renderers' rules on states and values the recording does not reach.

Server status texts (stats_fill_sv_stats_computestate: going up/down, NOLB, DRAIN, agents,
tracking, resolution), field encodings (CSV quoting, floats, the JSON integer range, the
page's digit grouping), listener states, `show errors` and `show sess` with captured data.
"""

from __future__ import annotations

import dataclasses

import pytest

from pylvs.control.haproxy import fields as fld
from pylvs.control.haproxy.rows import listener_row, server_state_text
from pylvs.control.haproxy.stat import StatOptions, render_stat
from pylvs.control.haproxy.streams import (
    error_block,
    human_time,
    session_id,
    session_line,
    session_pointer,
)
from pylvs.model.proxies import (
    ADMF_FDRAIN,
    ADMF_FMAINT,
    ADMF_IMAINT,
    ADMF_RMAINT,
    SRV_RUNNING,
    SRV_STARTING,
    SRV_STOPPED,
    SRV_STOPPING,
    BackendView,
    CheckView,
    Counters,
    ErrorCapture,
    ListenerView,
    ProxiesSnapshot,
    ProxyView,
    ServerView,
    SessionView,
)

CHECK = CheckView(rise=2, fall=3)  # full health: 4


def sv(state: int = SRV_RUNNING, admin: int = 0, health: int = 4, **kw: object) -> ServerView:
    check = kw.pop("check", dataclasses.replace(CHECK, health=health))
    return ServerView("s", 1, op_state=state, admin=admin, check=check, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("server", "text"),
    [
        (sv(), "UP"),
        (sv(health=3), "UP 2/3"),
        (sv(health=2), "UP 1/3"),
        (sv(SRV_STARTING), "UP"),
        (sv(admin=ADMF_FDRAIN), "DRAIN"),
        (sv(admin=ADMF_FDRAIN, health=3), "DRAIN 2/3"),
        (sv(SRV_STOPPING), "NOLB"),
        (sv(SRV_STOPPING, health=3), "NOLB 2/3"),
        (sv(SRV_STOPPED, health=0), "DOWN"),
        (sv(SRV_STOPPED, health=1), "DOWN 1/2"),
        (sv(SRV_STOPPED, admin=ADMF_FMAINT, health=0), "MAINT"),
        (sv(SRV_STOPPED, admin=ADMF_RMAINT | ADMF_FMAINT), "MAINT (resolution)"),
        (sv(SRV_STOPPED, admin=ADMF_IMAINT, tracked="be/t"), "MAINT (via be/t)"),
        (sv(check=CheckView(configured=False, enabled=False)), "no check"),
        (sv(SRV_STOPPED, check=CheckView(configured=False, enabled=False)), "DOWN"),
        (sv(agent=CheckView(agent=True, health=1, rise=1, fall=1)), "UP"),
        (sv(SRV_STOPPED, agent=CheckView(agent=True, health=0, rise=1, fall=1)), "DOWN (agent)"),
        (sv(admin=ADMF_FDRAIN, agent=CheckView(agent=True, health=1)), "DRAIN (agent)"),
    ],
)
def test_server_status_text(server: ServerView, text: str) -> None:
    assert server_state_text(server) == text


def test_a_tracking_server_shows_the_tracked_chain_health() -> None:
    tracked = sv(tracked="be/t", track_check=dataclasses.replace(CHECK, health=3))
    assert server_state_text(tracked) == "UP 2/3"


@pytest.mark.parametrize(
    ("value", "raw"),
    [("plain", "plain"), ("a,b", '"a,b"'), ('say "hi"', '"say ""hi"""'), ("l\nf", '"l\nf"')],
)
def test_csv_quotes_only_when_needed(value: str, raw: str) -> None:
    assert fld.raw(fld.text(value)) == raw


def test_numbers_wrap_as_c_stores_them() -> None:
    assert fld.u32(-1).value == 4294967295
    assert fld.s32(4294967295).value == -1
    assert fld.raw(fld.flt(12.5)) == "12.5" and fld.raw(fld.flt(3.0)) == "3"


def test_json_refuses_integers_beyond_2_53() -> None:
    assert fld.json_value(fld.u64(2**53 - 1)) is not None
    assert fld.json_value(fld.u64(2**53)) is None


def test_the_page_groups_digits_as_haproxy_does() -> None:
    assert fld.thousands(999) == "999"
    assert fld.thousands(1234567) == '<span class="rls">1</span>23<span class="rls">4</span>567'


def test_listener_status_follows_its_limits() -> None:
    px = ProxyView("fe", 2, frontend=None)
    row = listener_row(px, ListenerView("l", 1, nbconn=5, maxconn=5), True)
    status = row[17]
    assert status is not None and status.value == "FULL"
    row = listener_row(px, ListenerView("l", 1, limited=True), True)
    assert row[17] is not None and row[17].value == "WAITING"


def test_a_json_row_with_an_oversized_counter_becomes_the_error_object() -> None:
    px = ProxyView("be", 3, backend=BackendView(counters=Counters(bytes_in=2**60)), servers=())
    snapshot = ProxiesSnapshot(now=100.0, proxies=(px,))
    text = render_stat(snapshot, StatOptions(fmt="json"))
    assert text == '[{"errorStr":"output buffer too short"}]\n'


def test_human_time() -> None:
    assert [human_time(t) for t in (0, 59, 61, 3600, 3661, 90061, -1)] == [
        "0s",
        "59s",
        "1m1s",
        "1h",
        "1h1m",
        "1d1h",
        "?",
    ]


def test_session_pointers_read_back() -> None:
    assert session_id(session_pointer(42)) == 42
    assert session_id(session_pointer(42) + 8) is None


def test_a_session_line_names_its_proxies_and_server() -> None:
    s = SessionView(
        7,
        src="10.0.0.1",
        src_port=4242,
        frontend="fe",
        backend="be",
        server="s1",
        accepted=90.0,
        client_fd=12,
        server_fd=13,
    )
    line = session_line(s, 100.0)
    assert line.startswith(
        f"0x{session_pointer(7):x}: proto=tcpv4 src=10.0.0.1:4242 fe=fe be=be srv=s1 "
    )
    assert " age=10s " in line and "fd=12]" in line and "fd=13]" in line


def test_an_error_capture_prints_its_buffer() -> None:
    es = ErrorCapture(
        "fe",
        2,
        False,
        when=0.0,
        other="be",
        other_id=3,
        event=5,
        src="1.2.3.4",
        src_port=80,
        error_at=4,
        data=b"GET\x01 / HTTP/1.1\r\n",
    )
    text = error_block(es)
    assert "frontend fe (#2): invalid request\n  backend be (#3), server <NONE> (#-1)" in text
    assert "event #5, src 1.2.3.4:80\n" in text
    assert "len 17, wraps at 0, error at position 4\n" in text
    assert text.endswith("  00000  GET\\x01 / HTTP/1.1\\r\\n\n")
