"""`show errors` as HAProxy 2.6.12 printed it after a bad request and a bad response.

tests/data/http/show_errors.txt was recorded by tests/data/http/capture.py; the dates and the
client ports are HAProxy's (read back from the capture), everything else is computed from
pylvs's framer refusing the same bytes.
"""

from __future__ import annotations

import datetime
import re

from pylvs.proto.http.events import MessageRejected
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.snapshot import (
    ErrorSnapshot,
    Peer,
    back_flags,
    dump_text,
    front_flags,
    render_errors,
)
from tests.unit.proto.http.http_corpus import DATA

DATE = re.compile(r"\[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d)\.(\d{3})\]")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def dates(text: str) -> list[datetime.datetime]:
    return [
        datetime.datetime(
            int(y), MONTHS.index(mon) + 1, int(d), int(h), int(mi), int(s), int(ms) * 1000
        )
        for d, mon, y, h, mi, s, ms in DATE.findall(text)
    ]


def refusal(data: bytes, request: bool) -> MessageRejected:
    (rejected,) = Framer(request).feed(data)
    assert isinstance(rejected, MessageRejected)
    return rejected


def test_show_errors_matches_haproxy() -> None:
    text = (DATA / "show_errors.txt").read_text()
    now, req_when, resp_when = dates(text)
    ports = [int(p) for p in re.findall(r"src 127\.0\.0\.1:(\d+)", text)]
    req = refusal(b"GET / HTTP/1.1\r\nhost: a\r\nbad header\r\n\r\n", request=True)
    resp = refusal(b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n", request=False)
    fe, be, s1 = Peer("fe", 2), Peer("be", 3), Peer("s1", 1)
    conn, stream = front_flags(not_first=False)
    first = ErrorSnapshot.of_refusal(
        req.refusal,
        req.buffer,
        when=req_when,
        proxy=fe,
        response=False,
        other_end=None,
        server=None,
        event=0,
        source=("127.0.0.1", ports[0]),
        conn_flags=conn,
        stream_flags=stream,
    )
    conn, stream = back_flags()
    second = ErrorSnapshot.of_refusal(
        resp.refusal,
        resp.buffer,
        when=resp_when,
        proxy=be,
        response=True,
        other_end=fe,
        server=s1,
        event=1,
        source=("127.0.0.1", ports[1]),
        conn_flags=conn,
        stream_flags=stream,
    )
    # the stats socket ends every answer with an empty line (the CLI's, not the command's)
    assert render_errors(now, 2, [first, second]) + "\n" == text


def test_long_lines_are_cut_at_80_characters_and_bytes_escaped() -> None:
    out = dump_text(b"A" * 100 + b"\\\x01\tz\n")
    first, second = out.splitlines()
    assert first == "  00000  " + "A" * 70 and len(first) == 79
    assert second == "  00070+ " + "A" * 30 + "\\\\\\x01\\tz\\n"
