"""system/logsend.py's line_sender (the pump's traffic lines, one header a second) against
`send` (a header per line): the same datagrams to the same targets, in the same order,
for every header format, cut lengths, levels and samples, across second boundaries (the
writes recorded, no socket opened)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.model.proxy_log import FORMATS, LogTarget, ProxyLog
from pylvs.system.logsend import LogSender

BASE = datetime(2026, 12, 6, 7, 54, 1).timestamp()


def sender(walls: list[float], hostname: str | None) -> tuple[LogSender, list[tuple[int, bytes]]]:
    got: list[tuple[int, bytes]] = []
    times = iter(walls)
    s = LogSender(ProxyLog(tag="g"), hostname=hostname, wall=lambda: next(times))
    s._write = lambda out, data: got.append((out.number, data))  # type: ignore[method-assign]
    return s, got


_TARGET = st.builds(
    lambda fmt, kind, maxlen, level, sample: LogTarget(
        kind=kind,
        facility=16,
        host="127.0.0.1",
        fd=1,
        format=fmt,
        level=level,
        maxlen=maxlen,
        sample=sample,
        sample_size=3 if sample else 0,
    ),
    st.sampled_from(["", *FORMATS]),
    st.sampled_from(["udp", "fd"]),
    st.sampled_from([1024, 60, 20, 5, 0]),
    st.integers(0, 7),
    st.sampled_from([(), ((1, 1),), ((2, 3),)]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_TARGET, min_size=1, max_size=3),
    st.lists(st.floats(0, 0.7, allow_nan=False), min_size=1, max_size=6),
    st.sampled_from([None, "", "lb1"]),
    st.sampled_from([None, "tag"]),
    st.sampled_from([6, 3]),
)
def test_line_sender_sends_what_send_sends(
    targets: list[LogTarget], steps: list[float], host: str | None, tag: str | None, level: int
) -> None:
    walls = [BASE]
    for step in steps:
        walls.append(walls[-1] + step)
    proxy = ProxyLog(targets=tuple(targets), tag=tag)
    lines = [b"line %d of a traffic log\n\x00" % i for i in range(len(walls))]
    old, want = sender(list(walls), host)
    new, got = sender(list(walls), host)
    for line in lines:
        old.send(proxy, level, line)
    send = new.line_sender(proxy, level)
    for line in lines:
        send(line)
    assert got == want


def test_a_proxy_without_targets_sends_nothing() -> None:
    s, got = sender([], None)
    s.line_sender(ProxyLog(), 6)(b"x")
    assert got == []
