"""The control-socket line protocol and the default socket path."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.control.paths import default_control_path
from pylvs.control.protocol import (
    CHUNK,
    MAX_LINE,
    ProtocolError,
    Request,
    Response,
    decode_chunk,
    decode_request,
    decode_response,
)


def test_round_trip() -> None:
    req = Request("ipvsadm", ("-Ln", "--stats"), "stdin text\n")
    assert decode_request(req.encode()) == req
    resp = Response(2, "out\n", "err\n", {"k": [1, 2]})
    assert decode_response(resp.encode()) == resp


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json\n",
        b"[1, 2]\n",
        b'{"op": "rm -rf"}\n',
        b'{"op": "ipvsadm", "argv": "-Ln"}\n',
        b'{"op": "ipvsadm", "argv": [1]}\n',
        b'{"op": "ipvsadm", "stdin": 5}\n',
        b"\xff\xfe\n",
        b"{" + b" " * (MAX_LINE + 1) + b"}\n",
        b"[" * 100_000 + b"\n",  # used to raise RecursionError (issue 18 item 17)
        b'{"op": "ipvsadm", "argv": ' + b"[" * 5000 + b"]" * 5000 + b"}\n",
        b'{"op": "ipvsadm", "x": ' + b"1" * 5000 + b"}\n",  # Python's 4300-digit limit
        b'{"op": "ipvsadm", "x": -' + b"9" * 4400 + b"}\n",
    ],
)
def test_malformed_requests_are_protocol_errors(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_request(line)


@given(st.binary(max_size=200))
def test_decode_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_request(data)


def test_default_paths() -> None:
    assert default_control_path({"PYLVS_CONTROL": "/x.sock"}, uid=1000) == "/x.sock"
    assert default_control_path({}, uid=0) == "/run/pylvs/pylvs.sock"
    assert default_control_path({"XDG_RUNTIME_DIR": "/run/user/1000"}, uid=1000) == (
        "/run/user/1000/pylvs.sock"
    )
    assert default_control_path({}, uid=1000).endswith("/pylvs.sock")


def test_brackets_inside_strings_are_text() -> None:
    req = Request("ipvsadm", ("[" * 1000, "{" * 1000), "]" * 1000)
    assert decode_request(req.encode()) == req


def test_a_big_answer_streams_in_lines_no_limit_refuses() -> None:
    big = "TCP  10.0.0.1:80 wrr\n" * 100_000  # 2.1 MB: over the 1 MiB line limit
    resp = Response(0, big, "warning\n" * 3, {"k": 1})
    lines = list(resp.stream())
    assert len(lines) > 2 and all(len(line) <= MAX_LINE for line in lines)
    out: list[str] = []
    err: list[str] = []
    final = None
    for line in lines:
        item = decode_chunk(line)
        if isinstance(item, Response):
            final = item
        else:
            (out if item[0] == "out" else err).append(item[1])
    assert final == Response(0, "", "", {"k": 1})
    assert "".join(out) == big and "".join(err) == "warning\n" * 3
    assert all(len(t) <= CHUNK for t in out)


def test_a_small_answer_is_one_final_line() -> None:
    lines = list(Response(1, "", "").stream())
    assert len(lines) == 1 and decode_chunk(lines[0]) == Response(1, "", "")


@pytest.mark.parametrize(
    "line", [b'{"rc": true, "stdout": "", "stderr": ""}\n', b'{"out": 5}\n', b'{"err": []}\n']
)
def test_malformed_answers_are_protocol_errors(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_chunk(line)
