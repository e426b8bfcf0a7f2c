"""A body the rules wait for: `http-request|http-response wait-for-body` and `option
http-buffer-request` (src/http_ana.c http_wait_for_msg_body, http_wait_for_request_body).

While a message's rules wait, what arrives of its body is kept here, in order, beside the
events that carry it (they go on once the wait ends), and the rules see it as `req.body` /
`res.body`.  A wait ends when the body is whole (its end, or trailers, arrived), when the
buffer is full (HAProxy's channel_htx_full: the head's HTX size and the data reach the
buffer less `tune.maxrewrite`, limits.Limits.htx_room; the data is counted as one HTX block),
when `at-least` bytes came, or at its deadline (a 408 for a request, a 504 for a response:
the rules answer them).  A request that waits and says `Expect: 100-continue` gets the
interim `100 Continue` from the proxy, and the field is not forwarded
(http_handle_expect_hdr).
"""

from __future__ import annotations

from dataclasses import replace

from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.limits import DEFAULT_LIMITS, Limits, htx_head_size
from pylvs.proto.http.message import Body, RequestHead, ResponseHead

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _has_body(head: RequestHead | ResponseHead) -> bool:
    return (
        head.body is Body.CHUNKED
        or head.body is Body.UNTIL_CLOSE
        or (head.body is Body.LENGTH and head.length > 0)
    )


class BodySoFar:
    """What has arrived of one message's body while its rules wait."""

    __slots__ = ("continued", "data", "done", "room")

    def __init__(self, head: RequestHead | ResponseHead, limits: Limits = DEFAULT_LIMITS) -> None:
        self.data = bytearray()
        self.continued = False  # Expect: 100-continue looked at
        self.done: bool = not _has_body(head)
        parts = (
            (head.method, head.target, head.version)
            if isinstance(head, RequestHead)
            else (head.version, head.code, head.reason)
        )
        used = htx_head_size(parts, head.fields) + 8  # the data block's header
        self.room = limits.htx_room - used

    @property
    def full(self) -> bool:
        return len(self.data) >= self.room

    def take(self, item: object) -> bool:
        """A request's client-side event or a response's server command: whether it
        changed what the rules see (a cut response ends the wait too: CF_SHUTR)."""
        if self.done:
            return False
        kind = type(item)
        if kind in _DATA:
            self.data += item.data  # type: ignore[attr-defined]
            return True
        if kind in _ENDS:
            self.done = True
            return True
        return False


_DATA = frozenset({ev.DataForwarded, cmd.DeliverData})
_ENDS = frozenset(
    {ev.EndForwarded, ev.TrailersForwarded, ev.ClientShut}
    | {cmd.DeliverEnd, cmd.DeliverTrailers, cmd.DeliverCut}
)


def wants_continue(head: RequestHead) -> bool:
    """An HTTP/1.1 request with `Expect: 100-continue` (HTTP_MSGF_VER_11, the value is
    compared without case)."""
    value = head.field(b"expect")
    return head.version_11 and value is not None and value.lower() == b"100-continue"


def without_expect(head: RequestHead) -> RequestHead:
    return replace(head, fields=tuple(f for f in head.fields if f[0] != b"expect"))
