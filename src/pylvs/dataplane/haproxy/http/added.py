"""What HAProxy adds to or takes from a request and a response besides the rules:
`option forwardfor`, `option originalto` (src/http_ana.c http_process_request, steps 9 and
10: after every http-request rule of the frontend and the backend, appended as the last
field) and the `capture request header` / `capture response header` values kept for the
logs and `capture.req.hdr(N)` (http_capture_headers: the last occurrence wins, cut to its
`len`), and the cookie
`capture cookie` keeps (proto/http/cookie_response.captured).

The header name is the backend's when the backend sets the option, else the frontend's;
the header is added whenever either proxy asks for it, unless the address is in the
`except` network of either; with `if-none` (only when neither proxy adds it always) a
request that already carries the header keeps it as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.model.proxy_spec import AddedAddress, HttpSpec
from pylvs.model.service import Address
from pylvs.proto.http.cookie_response import captured
from pylvs.proto.http.message import Fields, RequestHead, first_field

if TYPE_CHECKING:
    from .exchange import Exchange


def added_fields(
    head: RequestHead, fe: HttpSpec | None, be: HttpSpec | None, src: Address, dst: Address
) -> Fields:
    """The fields to append to `head` for forwardfor and originalto."""
    out: list[tuple[bytes, bytes]] = []
    for pick, address in ((_forwardfor, src), (_originalto, dst)):
        f, b = pick(fe), pick(be)
        if f is None and b is None:
            continue
        name = (b if b is not None else f).header.lower().encode()  # type: ignore[union-attr]
        if _excepted(address, f) or _excepted(address, b):
            continue
        always = any(o is not None and not o.if_none for o in (f, b))
        if not always and first_field(head.fields, name) is not None:
            continue
        out.append((name, _text(address)))
    return tuple(out)


def _forwardfor(spec: HttpSpec | None) -> AddedAddress | None:
    return spec.forwardfor if spec is not None else None


def _originalto(spec: HttpSpec | None) -> AddedAddress | None:
    return spec.originalto if spec is not None else None


def _excepted(address: Address, option: AddedAddress | None) -> bool:
    net = option.except_net if option is not None else None
    return net is not None and address.version == net.version and address in net


def _text(address: Address) -> bytes:
    return str(address).encode()  # inet_ntop's text: a.b.c.d, or IPv6 (::ffff:a.b.c.d too)


def captures(fields: Fields, wanted: tuple[tuple[str, int], ...]) -> tuple[str | None, ...]:
    """The captured values (None: the header was absent), in declaration order."""
    out: list[str | None] = []
    for name, length in wanted:
        lname = name.lower().encode()
        value = None
        for n, v in fields:
            if n == lname:
                value = v[:length].decode("latin-1")
        out.append(value)
    return tuple(out)


def slots(values: tuple[str | None, ...]) -> list[bytes | None]:
    """Captured values as the stream's capture slots hold them: the `capture request
    header` slots are the first ones of the frontend's, shared with `http-request capture`
    (cfgparse-listen.c: one req_cap list), and filled before the rules run
    (http_wait_for_request), so `capture.req.hdr(N)` reads them."""
    return [None if v is None else v.encode("latin-1") for v in values]


def capture_cookie(x: Exchange, http: HttpSpec | None, head: RequestHead) -> None:
    """`capture cookie`'s request side, on the request the rules left (http_process_request
    and the tarpit path call http_manage_client_side_cookies)."""
    if http is not None and http.capture_cookie is not None:
        x.cli_cookie = captured(head.fields, *cookie_capture(http), response=False)


def cookie_capture(http: HttpSpec) -> tuple[bytes, int]:
    """`capture cookie`'s name and length."""
    assert http.capture_cookie is not None
    return http.capture_cookie[0].encode(), http.capture_cookie[1]
