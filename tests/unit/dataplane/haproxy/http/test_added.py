"""option forwardfor / originalto and the header captures (dataplane/haproxy/http/added.py),
as src/http_ana.c http_process_request and http_capture_headers do them."""

from __future__ import annotations

import ipaddress

from pylvs.dataplane.haproxy.http.added import added_fields, captures
from pylvs.model.proxy_spec import AddedAddress, HttpSpec
from pylvs.proto.http.events import HeadReceived
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.message import RequestHead

ip = ipaddress.ip_address
SRC, DST = ip("192.0.2.7"), ip("198.51.100.1")


def head(raw: bytes) -> RequestHead:
    (event, *_) = Framer(request=True).feed(raw)
    assert isinstance(event, HeadReceived) and isinstance(event.head, RequestHead)
    return event.head


PLAIN = head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
WITH_XFF = head(b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n")


def spec(ff: AddedAddress | None = None, ot: AddedAddress | None = None) -> HttpSpec:
    return HttpSpec(forwardfor=ff, originalto=ot)


def test_forwardfor_appends_the_client_address_lower_cased() -> None:
    fe = spec(AddedAddress("X-Forwarded-For"))
    assert added_fields(PLAIN, fe, None, SRC, DST) == ((b"x-forwarded-for", b"192.0.2.7"),)
    # appended even when one is there (always), unless if-none
    assert added_fields(WITH_XFF, fe, None, SRC, DST) == ((b"x-forwarded-for", b"192.0.2.7"),)
    none = spec(AddedAddress("X-Forwarded-For", if_none=True))
    assert added_fields(WITH_XFF, none, None, SRC, DST) == ()
    # if-none counts only when no proxy asks for it always
    assert added_fields(WITH_XFF, none, fe, SRC, DST) != ()


def test_the_backends_header_name_wins_and_either_except_network_excludes() -> None:
    fe = spec(AddedAddress("X-Client", ipaddress.ip_network("10.0.0.0/8")))
    be = spec(AddedAddress("X-Real-IP"))
    assert added_fields(PLAIN, fe, be, SRC, DST) == ((b"x-real-ip", b"192.0.2.7"),)
    assert added_fields(PLAIN, fe, be, ip("10.1.2.3"), DST) == ()
    six = ip("2001:db8::1")
    assert added_fields(PLAIN, fe, None, six, DST) == ((b"x-client", b"2001:db8::1"),)


def test_originalto_carries_the_destination() -> None:
    fe = spec(ot=AddedAddress("X-Original-To"))
    assert added_fields(PLAIN, fe, None, SRC, DST) == ((b"x-original-to", b"198.51.100.1"),)
    both = spec(AddedAddress("X-Forwarded-For"), AddedAddress("X-Dst"))
    assert added_fields(PLAIN, both, None, SRC, DST) == (
        (b"x-forwarded-for", b"192.0.2.7"),
        (b"x-dst", b"198.51.100.1"),
    )


def test_captures_keep_the_last_occurrence_cut_to_len() -> None:
    h = head(
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: first\r\nUser-Agent: curl/8\r\nX-A: second\r\n\r\n"
    )
    got = captures(h.fields, (("x-a", 3), ("User-Agent", 20), ("missing", 5)))
    assert got == ("sec", "curl/8", None)
