"""The control-socket line protocol and the default socket path."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.control.paths import default_control_path
from pylvs.control.protocol import (
    MAX_LINE,
    ProtocolError,
    Request,
    Response,
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
