"""proto/log/syslog.py against the datagrams the real haproxy 2.6.12 sent
(tests/data/haproxy/log/recorded.json, tests/data/haproxy/log/capture.py): every header
format, `len` cuts in the header and in the message, levels and minimum levels,
`log-send-hostname` and `log-tag`, rebuilt byte for byte from the `log` lines as pylvs reads
them, the recorded process id and the time each datagram carries."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.model.proxy_log import LogTarget, ProxyLog
from pylvs.proto.log.syslog import Metadata, Sampler, frame, header, iso_time, legacy_time

RECORDED = json.loads((Path(__file__).parents[3] / "data/haproxy/log/recorded.json").read_text())
DOWN = (
    'Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused",'
    " check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active,"
    " 0 requeued, 0 remaining in queue."
)
NO_SERVER = "backend be has no server available!"
ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})\+00:00")
LEGACY = re.compile(r"([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)")


def global_log(lines: list[str]) -> tuple[ProxyLog, str | None]:
    text = "global\n" + "".join(f"    {x.replace('ADDR', '127.0.0.1:514')}\n" for x in lines)
    result = load_text(text, "g.cfg")
    assert result.ok, [str(p) for p in result.problems]
    spec = to_spec(result.config, result.problems).proxies
    return spec.log, spec.log_hostname


def when_of(datagram: str, year: int) -> datetime:
    """The time a recorded datagram carries (any, for formats without one)."""
    if m := ISO.search(datagram):
        return datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
    if m := LEGACY.search(datagram):
        return datetime.strptime(f"{year} {m.group(1)}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)
    return datetime(year, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("scenario", sorted(RECORDED["scenarios"]))
def test_datagrams_as_haproxy_sends_them(scenario: str) -> None:
    rec = RECORDED["scenarios"][scenario]
    log, host = global_log(rec["global"])
    meta = Metadata(log.tag or "haproxy", rec["pid"], host or "")
    year = int(ISO.search("".join(rec["datagrams"])).group(1)[:4])  # type: ignore[union-attr]
    expected = iter(rec["datagrams"])
    for level, text in ((1, DOWN), (0, NO_SERVER)):  # alert, then emerg
        for target in log.targets:
            if level > target.level:
                continue
            want = next(expected)
            got = frame(target, level, meta, text + "\n", when_of(want, year))
            assert got == want.encode("latin-1"), target
    assert next(expected, None) is None


def target(**kw: object) -> LogTarget:
    return LogTarget(kind=str(kw.pop("kind", "udp")), facility=16, **kw)  # type: ignore[arg-type]


WHEN = datetime(2026, 12, 6, 7, 40, 0, 123456, tzinfo=UTC)
META = Metadata("haproxy", 1234)


def test_legacy_date_pads_the_day_with_a_space_and_iso_keeps_the_offset() -> None:
    assert legacy_time(WHEN) == "Dec  6 07:40:00"
    assert legacy_time(WHEN.replace(day=16)) == "Dec 16 07:40:00"
    paris = WHEN.astimezone(timezone(timedelta(hours=1)))
    assert iso_time(paris) == "2026-12-06T08:40:00.123456+01:00"
    assert iso_time(WHEN.astimezone(timezone(timedelta(hours=-3, minutes=-30)))).endswith("-03:30")


def test_the_unspecified_format_is_local_or_rfc3164_with_a_host() -> None:
    assert "".join(header("", 16, 6, META, WHEN)) == "<134>Dec  6 07:40:00 haproxy[1234]: "
    with_host = Metadata("haproxy", 1234, "lb1")
    assert "".join(header("", 16, 6, with_host, WHEN)) == (
        "<134>Dec  6 07:40:00 lb1 haproxy[1234]: "
    )


def test_a_header_element_that_does_not_fit_is_left_out() -> None:
    """__do_send_log: the element that reaches `len` is cut, then replaced by the newline."""
    t = target(format="rfc3164", maxlen=80)
    long = Metadata("t" * 70, 1234)
    assert frame(t, 6, long, "hello", WHEN) == b"<134>Dec  6 07:40:00 localhost \n"


def test_a_descriptor_keeps_len_minus_one_bytes_before_the_newline() -> None:
    t = target(kind="fd", fd=1, format="raw", maxlen=80)
    got = frame(t, 6, META, "x" * 200, WHEN)
    assert got == b"x" * 79 + b"\n"
    udp = frame(target(format="raw", maxlen=80), 6, META, "x" * 200, WHEN)
    assert udp == b"x" * 80 + b"\n"


def test_the_minimum_level_raises_severe_lines_and_trailing_newlines_go() -> None:
    t = target(format="short", min_level=3)
    assert frame(t, 0, META, "boom\n\n\x00", WHEN) == b"<3>boom\n"
    assert frame(t, 6, META, "info", WHEN) == b"<6>info\n"


def test_sampling_takes_the_lines_of_each_range_in_turn() -> None:
    """`sample 1-2,5:6`: of every 6 lines, the 1st, 2nd and 5th."""
    s = Sampler(((1, 2), (5, 5)), 6)
    taken = [s.take() for _ in range(12)]
    assert taken == [True, True, False, False, True, False] * 2
