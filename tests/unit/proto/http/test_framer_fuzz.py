"""Properties of the framer over generated and mutated messages (hypothesis).

* the same events come out however the bytes are split into reads (bodies may be cut into
  more pieces, their concatenation is the same), but for the two verdicts HAProxy itself
  makes on the bytes of one read: a target byte 0x7f..0xa3 (refused when it is among a
  read's last three bytes, let through inside a whole word before) and a response refused
  in the read of its head (then its head is not forwarded);
* a malformed message gives a refusal with HAProxy's status, never an exception;
* whatever llhttp's fast path accepts, the reference lexer (HAProxy's grammar) accepts with
  the same start line, fields, flags and length.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pylvs.proto.http.events import (
    BodyReceived,
    FramerEvent,
    HeadReceived,
    MessageEnded,
    MessageRejected,
    TunnelReceived,
)
from pylvs.proto.http.fast import FastLexer
from pylvs.proto.http.framer import Framer, _head_end
from pylvs.proto.http.head import Refusal, request_head, response_head
from pylvs.proto.http.limits import DEFAULT_LIMITS
from pylvs.proto.http.message import Flag, RequestHead, ResponseHead
from pylvs.proto.http.syntax import LexError, State, lex
from tests.unit.proto.http.http_strategies import mutated, requests, responses, splits

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REQUESTS = st.one_of(requests(), mutated(requests()))
RESPONSES = st.one_of(responses(), mutated(responses()))


def frame(pieces: list[bytes], request: bool, method: bytes = b"GET") -> list[FramerEvent]:
    """Feed `pieces`, going on to the next message after each end (as a driver does once
    the transaction is over), then EOF; return the events with bodies merged."""
    framer = Framer(request)
    framer.expect(method)
    events: list[FramerEvent] = []
    for piece in pieces:
        events += framer.feed(piece)
        while events and isinstance(events[-1], MessageEnded):
            more = framer.next_message()
            if not more:
                break
            events += more
    events += framer.feed_eof()
    return merge(events)


def merge(events: list[FramerEvent]) -> list[FramerEvent]:
    out: list[FramerEvent] = []
    for event in events:
        ev = event
        if isinstance(ev, MessageRejected):  # the status only: where depends on the reads
            ev = MessageRejected(Refusal(ev.refusal.status, State.DONE, 0, Flag.NONE), b"")
        last = out[-1] if out else None
        if isinstance(ev, BodyReceived) and isinstance(last, BodyReceived):
            out[-1] = BodyReceived(last.data + ev.data)
        elif isinstance(ev, TunnelReceived) and isinstance(last, TunnelReceived):
            out[-1] = TunnelReceived(last.data + ev.data)
        else:
            out.append(ev)
    if len(out) >= 2 and isinstance(out[-1], MessageRejected) and isinstance(out[-2], BodyReceived):
        # How much of a refused message's last body part came out first depends on the reads,
        # as the refusal's position does: a chunk's data is passed as it arrives and its CRLF
        # checked when it comes (HAProxy's h1_parse_msg_data, then h1_skip_chunk_crlf).
        del out[-2]
    return out


def _unforwarded(events: list[FramerEvent]) -> list[FramerEvent]:
    """A refused response's head and body dropped: whether it was forwarded before the
    refusal depends on the reads (framer._refuse_whole)."""
    if events and isinstance(events[-1], MessageRejected):
        heads = [i for i, e in enumerate(events) if isinstance(e, HeadReceived)]
        head = events[heads[-1]] if heads else None
        if isinstance(head, HeadReceived) and not (
            isinstance(head.head, ResponseHead) and head.head.informational
        ):
            return events[: heads[-1]] + events[-1:]
    return events


def _read_dependent_target(message: bytes) -> bool:
    """A byte HAProxy judges by where the read ends (syntax.uri_run) in the start line."""
    # the empty lines before a request are skipped (h1_headers_to_hdr_list): the start
    # line is the first one with something in it
    line = message.lstrip(b"\r\n").split(b"\n", 1)[0]
    return any(0x7F <= b <= 0xA3 for b in line)


def _statuses(events: list[FramerEvent]) -> list[int]:
    return [e.refusal.status for e in events if isinstance(e, MessageRejected)]


@FUZZ
@given(data=st.data(), message=REQUESTS)
def test_requests_frame_the_same_however_split(data: st.DataObject, message: bytes) -> None:
    whole = frame([message], request=True)
    pieces = data.draw(splits(message))
    if _read_dependent_target(message):
        assert all(s in (400, 413, 422) for s in _statuses(frame(pieces, request=True)))
        return
    assert frame(pieces, request=True) == whole
    assert all(s in (400, 413, 422) for s in _statuses(whole))
    assert all(isinstance(e, MessageRejected) for e in whole[-1:]) or not _statuses(whole)


@FUZZ
@given(data=st.data(), message=RESPONSES, method=st.sampled_from([b"GET", b"HEAD", b"CONNECT"]))
def test_responses_frame_the_same_however_split(
    data: st.DataObject, message: bytes, method: bytes
) -> None:
    whole = frame([message], request=False, method=method)
    pieces = data.draw(splits(message))
    split = frame(pieces, request=False, method=method)
    assert _unforwarded(split) == _unforwarded(whole)
    assert all(s == 502 for s in _statuses(whole))


@FUZZ
@given(junk=st.binary(max_size=300), request=st.booleans())
def test_any_bytes_get_a_verdict_not_an_exception(junk: bytes, request: bool) -> None:
    events = frame([junk], request)
    rejected = [e for e in events if isinstance(e, MessageRejected)]
    assert len(rejected) <= 1
    if rejected:
        assert events[-1] is rejected[0]


@FUZZ
@given(message=st.one_of(REQUESTS, RESPONSES))
@example(message=b"HTTP/1.1 200 \tK\r\n\r\n")  # a tab before the reason: skipped
def test_what_the_fast_path_accepts_the_reference_accepts_alike(message: bytes) -> None:
    request = not message.startswith((b"HTTP", b"HTTX", b"http/"))
    end = _head_end(message)
    if end < 0:
        return
    fast = FastLexer(request).lex(message[:end], DEFAULT_LIMITS.max_fields)
    if fast is None:
        return
    parts, status, st_fast = fast
    ref = lex(message, request, DEFAULT_LIMITS.max_fields)
    assert not isinstance(ref, LexError), ref
    assert ref.end == end
    assert ref.parts == parts
    assert ref.fields.kept == st_fast.kept
    assert ref.fields.flags == st_fast.flags
    assert ref.fields.length == st_fast.length
    limits = DEFAULT_LIMITS
    a: RequestHead | ResponseHead | Refusal
    b: RequestHead | ResponseHead | Refusal
    if request:
        a = request_head(parts, st_fast, end, 0, limits)
        b = request_head(ref.parts, ref.fields, end, 0, limits)
    else:
        assert ref.status == status
        a = response_head(
            parts, status, st_fast, end, version_at=0, request_method=b"GET", limits=limits
        )
        b = response_head(
            ref.parts,
            ref.status,
            ref.fields,
            end,
            version_at=0,
            request_method=b"GET",
            limits=limits,
        )
    assert type(a) is type(b)
    if not isinstance(a, Refusal):
        assert a == b


def test_a_refused_chunk_frames_the_same_whether_its_data_came_first() -> None:
    # Found by the property above: the chunk's first byte in one read, its bad CRLF ("c"
    # where CRLF belongs) in the next, passed that byte before the refusal.
    message = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\x00abc"
    whole = frame([message], request=True)
    assert _statuses(whole) == [400]
    assert frame([message[:51], message[51:]], request=True) == whole
