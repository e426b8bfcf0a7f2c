"""HAProxy's own answers, byte for byte as the real haproxy 2.6.12 sent them.

tests/data/http/answers/ was recorded by tests/data/http/capture.py: `deny-N` through
`http-request deny deny_status N` (the stream's HTX path), `parser-*` and `timeout-408-*` from
the HTTP/1 multiplexer (raw), the others from the situations named.
"""

from __future__ import annotations

import pytest

from pylvs.proto.http import connmode
from pylvs.proto.http.answers import STATUSES, Answer, raw_page
from pylvs.proto.http.message import Flag
from tests.unit.proto.http.http_corpus import DATA, load

ANSWERS = load("answers.json")["answers"]
KAL = connmode.Mode.KEEP_ALIVE
GET11 = Flag.VER_11 | Flag.XFER_LEN


def captured(name: str) -> bytes:
    return (DATA / "answers" / f"{name}.http").read_bytes()


@pytest.mark.parametrize("status", [s for s in STATUSES if s != 200])
def test_deny_status_pages_are_haproxys_htx_form(status: int) -> None:
    data, want = Answer.page(status).write(connmode.Want.KEEP_ALIVE, b"GET", GET11, KAL)
    assert data == captured(f"deny-{status}")
    record = ANSWERS[f"deny-{status}"]
    assert (want is connmode.Want.CLOSE) == record["closed"]
    assert record["kept_alive"] in (None, want is connmode.Want.KEEP_ALIVE)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("parser-400-bad-header", 400),
        ("parser-400-too-big", 400),
        ("parser-413-get-body-http10", 413),
        ("parser-422-unknown-te", 422),
        ("timeout-408-partial", 408),
        ("timeout-408-silent", 408),
    ],
)
def test_the_multiplexers_own_answers_are_sent_raw_and_close(name: str, status: int) -> None:
    assert raw_page(status) == captured(name)
    assert ANSWERS[name]["closed"] is True


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("server-garbage-502", 502),
        ("no-server-503", 503),
        ("server-timeout-504", 504),
        ("rewrite-failed-500", 500),
    ],
)
def test_stream_answers_use_the_htx_form_and_keep_the_client(name: str, status: int) -> None:
    data, want = Answer.page(status).write(connmode.Want.KEEP_ALIVE, b"GET", GET11, KAL)
    assert data == captured(name)
    assert want is connmode.Want.KEEP_ALIVE
    assert ANSWERS[name]["closed"] is False


def test_an_answer_to_head_has_no_body_and_http10_clients_are_closed() -> None:
    data, _ = Answer.page(503).write(connmode.Want.KEEP_ALIVE, b"HEAD", GET11, KAL)
    assert data.endswith(b"\r\n\r\n") and b"<html>" not in data
    data, want = Answer.page(403).write(connmode.Want.CLOSE, b"GET", Flag.XFER_LEN, KAL)
    assert want is connmode.Want.CLOSE and b"connection: close\r\n" in data


def test_an_answer_before_the_request_was_read_whole_closes() -> None:
    _, want = Answer.page(403).write(connmode.Want.KEEP_ALIVE, b"POST", GET11, KAL, early=True)
    assert want is connmode.Want.CLOSE


def test_an_errorfile_is_parsed_like_haproxy_and_a_bad_one_refused() -> None:
    raw = b"HTTP/1.0 503 Busy\r\nX-Why: Maint\r\nContent-Length: 4\r\n\r\nbusy"
    data, _ = Answer.of(raw).write(connmode.Want.KEEP_ALIVE, b"GET", GET11, KAL)
    assert data == b"HTTP/1.0 503 Busy\r\nx-why: Maint\r\ncontent-length: 4\r\n" + (
        b"connection: keep-alive\r\n\r\nbusy"
    )
    with pytest.raises(ValueError, match="Content-Length"):
        Answer.of(b"HTTP/1.1 503 Busy\r\nContent-Length: 9\r\n\r\nbusy")


def test_an_errorfile_without_length_is_sent_as_is_then_closed() -> None:
    raw = b"HTTP/1.0 403 Forbidden\r\nConnection: close\r\nX-A: 1\r\n\r\nno\n"
    data, want = Answer.of(raw).write(connmode.Want.KEEP_ALIVE, b"GET", GET11, KAL)
    assert data == b"HTTP/1.0 403 Forbidden\r\nx-a: 1\r\n\r\nno\n"
    assert want is connmode.Want.CLOSE


def test_an_errorfile_whose_body_does_not_match_its_length_or_is_chunked_is_refused() -> None:
    with pytest.raises(ValueError, match="Content-Length"):
        Answer.of(b"HTTP/1.1 403 F\r\nContent-Length: 5\r\n\r\nno")
    with pytest.raises(ValueError, match="chunk"):
        Answer.of(b"HTTP/1.1 403 F\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")


def test_an_empty_error_message_sends_nothing() -> None:
    page = Answer.nothing(503)
    assert page.silent and page.head.status == 503 and not Answer.page(503).silent


def test_a_101_the_rules_made_has_no_length_nor_connection_field_and_closes() -> None:
    """`http-request return` turned into a 101 by `http-after-response set-status`
    (websocket.vtc's server): haproxy 2.6.12 writes the head without the return's
    Content-Length (skipped below 200) and without a connection field of its own
    (H1S_F_HAVE_O_CONN), then closes, whatever the client asked."""
    raw = (
        b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n"
        b"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\ncontent-length: 0\r\n\r\n"
    )
    answer = Answer.of(raw)
    for flags in (GET11, GET11 | Flag.CONN_UPG | Flag.UPG_WEBSOCKET):
        data, want = answer.write(connmode.Want.KEEP_ALIVE, b"GET", flags, KAL)
        assert data == raw.replace(b"content-length: 0\r\n", b"")
        assert want is connmode.Want.CLOSE
