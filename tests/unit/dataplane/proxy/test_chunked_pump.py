"""The C pump's chunked reader (_chunked.h, through _pump.Dechunker) against the Python
reference, pylvs.proto.http.chunked: on the same bytes, cut anywhere, the same verdict (the
same refused offset, or the same chunk data, the same end and the same trailer fields), and
the chunks passed on with HAProxy's normalised size lines."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.dataplane.proxy import poller as poller_module
from pylvs.proto.http.chunked import ChunkedDecoder, ChunkError, Step
from pylvs.proto.http.events import BodyReceived, FramerEvent, TrailersReceived
from pylvs.proto.http.limits import DEFAULT_LIMITS

pump = poller_module._pump
pytestmark = pytest.mark.skipif(pump is None, reason="the C fast path (_pump) was not built")

CAP = DEFAULT_LIMITS.raw_head
LAST, REFUSED = 2, 3
FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Verdict:
    """What one reader made of a body: refused at `bad`, or ended (`done`) after `used`
    bytes with `data` and trailer `fields`, or waiting for more."""

    def __init__(self) -> None:
        self.bad: int | None = None
        self.done = False
        self.used = 0
        self.data = b""
        self.fields: tuple[tuple[bytes, bytes], ...] = ()

    def __repr__(self) -> str:
        return f"Verdict(bad={self.bad} done={self.done} used={self.used} data={self.data!r})"


def reference(data: bytes) -> Verdict:
    """pylvs.proto.http.chunked on the whole input."""
    v = Verdict()
    dec = ChunkedDecoder(DEFAULT_LIMITS)
    out: list[FramerEvent] = []
    try:
        v.used = dec.decode(data, out)
    except ChunkError as bad:
        v.bad = bad.position
        return v
    v.done = dec.step is Step.DONE
    v.data = b"".join(e.data for e in out if isinstance(e, BodyReceived))
    for e in out:
        if isinstance(e, TrailersReceived):
            v.fields = e.fields
    return v


def trailer_fields(block: bytes) -> tuple[tuple[bytes, bytes], ...] | int | None:
    """The reference's verdict on a trailer block alone: its fields, the refused offset, or
    None while it has not ended."""
    dec = ChunkedDecoder(DEFAULT_LIMITS)
    dec.step = Step.TRAILERS
    out: list[FramerEvent] = []
    try:
        used = dec.decode(block, out)
    except ChunkError as bad:
        return bad.position
    if dec.step is not Step.DONE:
        return None
    assert used == len(block)
    return next((e.fields for e in out if isinstance(e, TrailersReceived)), ())


def unchunk(wire: bytes) -> tuple[bytes, list[int]]:
    """The data and chunk sizes of what the C path passed on, which must be normalised:
    upper-case hex without leading zeros or extensions, CRLF everywhere."""
    data, sizes, pos = [], [], 0
    line = re.compile(rb"([1-9A-F][0-9A-F]*)\r\n")
    while pos < len(wire):
        m = line.match(wire, pos)
        assert m is not None, wire[pos:]
        size = int(m.group(1), 16)
        start = m.end()
        data.append(wire[start : start + size])
        sizes.append(size)
        pos = start + size
        if pos < len(wire):  # a chunk cut by the input's end has no CRLF yet
            assert wire[pos : pos + 2] == b"\r\n"
            pos += 2
    return b"".join(data), sizes


def c_reader(data: bytes, cuts: list[int]) -> tuple[Verdict, bytes, bytes]:
    """_pump.Dechunker fed `data` in pieces: its verdict, what it passed on, its block."""
    assert pump is not None
    d = pump.Dechunker(CAP)
    passed = []
    bounds = sorted({c for c in cuts if 0 < c < len(data)} | {0, len(data)})
    used = 0
    for a, b in itertools.pairwise(bounds):
        out, n = d.feed(data[a:b])
        passed.append(out)
        used += n
        if n < b - a:
            break
    kind, bad, payload, block = d.state()
    v = Verdict()
    v.used = used
    if kind == REFUSED:
        v.bad = bad
    v.done = kind == LAST
    wire = b"".join(passed)
    v.data, _ = unchunk(wire)
    assert len(v.data) == payload
    return v, wire, block


def same_verdict(data: bytes, cuts: list[int]) -> None:
    ref = reference(data)
    got, _, block = c_reader(data, cuts)
    if ref.bad is not None and got.bad is not None:
        assert got.bad == ref.bad, (ref, got)
        return
    if ref.bad is not None:
        # Refused in the trailer block, which the C path hands back raw (or holds, while no
        # empty line ended it): the reference's field rules refuse it at the same place.
        assert block, (ref, got)
        start = got.used - len(block)
        assert trailer_fields(block) == ref.bad - start, (ref, got, block)
        return
    assert got.bad is None, (ref, got)
    assert got.done == ref.done, (ref, got)
    if ref.done:
        assert got.used == ref.used and got.data == ref.data
        assert trailer_fields(block) == ref.fields
    else:
        assert ref.data.startswith(got.data) or got.data.startswith(ref.data)


# -- strategies: chunked bodies, mostly well-formed, often subtly not ------------------------

HEX = st.sampled_from(["%x", "%X", "%04x", "%02X", "0%x"])
AFTER_SIZE = st.sampled_from([b"", b"", b"", b" ", b"\t", b";a=b", b" ;ext", b";", b"; x y z"])
EOL = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b"\r\r\n", b" \n"])
TRAILERS = st.sampled_from(
    [
        b"\r\n",
        b"\n",
        b"X-Sum: 1\r\n\r\n",
        b"x-a: b\nx-c: d\n\n",
        b"Bad Field\r\n\r\n",
        b" folded\r\n\r\n",
        b"X: a\r\n b\r\n\r\n",
        b"X:\tv\r\n\r\n",
        b"X: v\r\r\n\r\n",
        b"X: v\r\n\r",
        b"\r\r\n",
        b"",
    ]
)
NEXT = st.sampled_from([b"", b"GET / HTTP/1.1\r\n\r\n", b"\r\n", b"0\r\n"])


@st.composite
def chunked(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    chunks = draw(st.lists(st.binary(min_size=1, max_size=40), max_size=5))
    if draw(st.booleans()):
        chunks.append(b"x" * draw(st.integers(1000, 5000)))
    wire = b""
    for c in chunks:
        wire += (draw(HEX) % len(c)).encode() + draw(AFTER_SIZE) + draw(EOL) + c + draw(EOL)
    wire += draw(st.sampled_from([b"0", b"000", b"0 ;x"])) + draw(EOL) + draw(TRAILERS)
    return wire + draw(NEXT), chunks


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    wire, _ = draw(chunked())
    for _ in range(draw(st.integers(0, 2))):
        if not wire:
            break
        at = draw(st.integers(0, len(wire) - 1))
        what = draw(st.sampled_from([b"", b"\r", b"\n", b"g", b" ", b";", b"F", b"0"]))
        wire = wire[:at] + what + wire[at + draw(st.integers(0, 1)) :]
    return wire


CUTS = st.lists(st.integers(0, 6000), max_size=8)


@FUZZ
@given(chunked(), CUTS)
def test_well_formed_bodies_pass_on_rechunked_and_end_where_the_reference_ends(
    body: tuple[bytes, list[bytes]], cuts: list[int]
) -> None:
    wire, _ = body
    same_verdict(wire, cuts)


@FUZZ
@given(mutated(), CUTS)
def test_broken_bodies_are_refused_at_the_reference_offset(wire: bytes, cuts: list[int]) -> None:
    same_verdict(wire, cuts)


def test_each_chunk_goes_on_with_a_normalised_size_line_and_the_trailers_come_back_raw() -> None:
    wire = b"0005;name=val\r\nhello\n10 \t\r\n" + b"a" * 16 + b"\r\n0;x\r\nX-Sum: 1\r\n\r\nGET"
    got, passed, block = c_reader(wire, [3, 9, 20])
    assert passed == b"5\r\nhello\r\n10\r\n" + b"a" * 16 + b"\r\n"
    assert block == b"X-Sum: 1\r\n\r\n"
    assert got.done and got.used == len(wire) - 3  # the next message is not read


@pytest.mark.parametrize(
    ("wire", "bad"),
    [
        (b"x\r\n", 0),  # no size
        (b" 5\r\n", 0),  # blanks before the size
        (b"5 5\r\n", 2),  # digits after blanks
        (b"5\rx", 2),  # CR without LF
        (b"5\r\nhello!", 8),  # data not followed by CRLF
        (b"5\r\nhello\rx", 9),
        (b"10000000000000\r\n", 0),  # 2^52: refused at the line's start
        (b"2\r\nab\r\n10000000000000 x\r\n", 7),  # ... before what follows on the line
        (b"FFFFFFFFFFFFFFFFFFFF", 0),  # ... even before the line ends
    ],
)
def test_refused_bytes(wire: bytes, bad: int) -> None:
    assert reference(wire).bad == bad
    for cuts in ([], list(range(len(wire)))):
        got, _, _ = c_reader(wire, cuts)
        assert got.bad == bad


def test_a_trailer_block_past_the_cap_is_handed_back_cut() -> None:
    assert pump is not None
    d = pump.Dechunker(16)
    out, used = d.feed(b"0\r\nX-Long: " + b"v" * 40 + b"\r\n\r\n")
    kind, _, _, block = d.state()
    assert (out, used, kind, block) == (b"", 3 + 16, LAST, b"X-Long: " + b"v" * 8)
