"""proto/sample/channel.py: a Channel's methods as hlua_channel_* do them (offsets from the
input's start or end, their range errors, 2.6's append at the input's start), the source's
later bytes kept behind a rewrite, and HTTP mode's refusals."""

from __future__ import annotations

from pylvs.proto.sample.channel import HTTP_MODE, ChannelBuf, run


def chan(data: bytes) -> ChannelBuf:
    c = ChannelBuf(False)
    c.sync(data)
    return c


def test_reads_and_takes() -> None:
    c = chan(b"GET x\nrest")
    assert run(c, False, "data", [1, 3]) == b"ET "
    assert run(c, False, "data", [-4]) == b"rest"
    assert run(c, False, "line", []) == b"GET x\n"
    assert run(c, False, "data", [999]) == (None, b"offset out of range.")
    assert run(c, False, "data", [0, 99]) == (None, b"length out of range.")
    assert run(c, False, "getline", []) == b"GET x\n"
    assert run(c, False, "getline", []) == b"rest"  # no LF: all there is
    assert run(c, False, "get", []) == b"" and not c.closed
    c.closed = True
    assert run(c, False, "get", []) is None


def test_edits_and_what_goes_out() -> None:
    c = chan(b"abcdef")
    assert run(c, False, "set", [b"XY", 1, 2]) == 2  # bc -> XY
    assert run(c, False, "insert", [b"<", -1]) == 1
    assert run(c, False, "append", [b"[a]"]) == 3  # at the input's start, as 2.6 does
    assert run(c, False, "prepend", [b"[p]"]) == 3
    assert run(c, False, "remove", [0, 1]) == 1
    assert run(c, False, "send", [b"S:"]) == 2
    assert run(c, False, "forward", [2]) == 2
    assert (run(c, False, "output", []), run(c, False, "input", [])) == (4, 10)
    assert c.changed and c.bytes_out() == b"S:p][a]aXYde<f"


def test_a_rewrite_keeps_what_came_since() -> None:
    c = chan(b"abc")
    run(c, False, "remove", [0, 1])
    assert c.sync(b"abcdef") == b"bcdef" and c.orig == 6


def test_http_mode_refuses_all_but_the_lengths() -> None:
    c = chan(b"body")
    assert run(c, True, "dup", []) == (None, HTTP_MODE)
    assert run(c, True, "send", [b"x"]) == (None, HTTP_MODE)
    assert run(c, True, "input", []) == 4 and run(c, True, "is_resp", []) is False
