"""The sizes HAProxy's HTTP/1 parser works within, and how a message head is measured against them.

HAProxy 2.6 reads a connection into a buffer of `tune.bufsize` bytes (16384) that also holds
the HTX header (`struct htx`, 48 bytes: include/haproxy/htx-t.h), so at most 16336 raw bytes
wait for a head to complete (h1_recv, buf_room_for_htx_data).  A head that has not ended
when that much is buffered is refused (h1_parse_msg_hdrs: "headers are too large").

A complete head is then converted into HTX and must fit in what a channel buffer keeps free
for input: bufsize - sizeof(struct htx) - `tune.maxrewrite` (1024 by default, the room kept
for rules that add headers) = 15312 bytes (h1_rcv_buf, h1_postparse_req_hdrs).  The HTX size
of a head is h1_eval_htx_size(): one block header (8 bytes) and a `struct htx_sl` (20 bytes)
for the start line plus its three parts, 8 bytes plus name and value per header field, and
9 bytes for the end-of-headers block.

The header list has `tune.http.maxhdr` (101) slots, one of them for the end marker, so a
head may keep 100 fields; fields HAProxy drops while parsing (a repeated identical Host, a
repeated Content-Length, a Connection header left empty once `close`/`keep-alive` are
removed) are tested against the limit before they are dropped but take no slot
(h1_headers_to_hdr_list).  Trailers are held to the same two limits.

Every limit here gives HAProxy's verdict, a 400 for a request and a 502 for a response.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

HTX_STRUCT = 48  # sizeof(struct htx)
HTX_BLOCK = 8  # sizeof(struct htx_blk)
HTX_START_LINE = 20  # sizeof(struct htx_sl)


@dataclass(frozen=True, slots=True)
class Limits:
    """`tune.bufsize`, `tune.maxrewrite` and `tune.http.maxhdr` (HAProxy 2.6 defaults)."""

    bufsize: int = 16384
    maxrewrite: int = 1024
    max_http_hdr: int = 101

    def __post_init__(self) -> None:
        if self.bufsize <= HTX_STRUCT + self.maxrewrite:
            raise ValueError("tune.bufsize must exceed tune.maxrewrite plus the HTX header")
        if self.maxrewrite < 0 or self.max_http_hdr < 1:
            raise ValueError("tune.maxrewrite and tune.http.maxhdr must be positive")

    @property
    def raw_head(self) -> int:
        """Bytes buffered without a complete head before the head is refused (16336)."""
        return self.bufsize - HTX_STRUCT

    @property
    def htx_room(self) -> int:
        """The HTX size a complete head (or trailer block) may have (15312)."""
        return self.bufsize - HTX_STRUCT - self.maxrewrite

    @property
    def max_fields(self) -> int:
        """Header fields a head may keep (100): the last slot is the end marker."""
        return self.max_http_hdr - 1


DEFAULT_LIMITS = Limits()


def htx_head_size(parts: tuple[bytes, bytes, bytes], fields: Iterable[tuple[bytes, bytes]]) -> int:
    """h1_eval_htx_size(): the HTX size of a start line's three parts and its header fields."""
    size = HTX_BLOCK + HTX_START_LINE + len(parts[0]) + len(parts[1]) + len(parts[2])
    return size + htx_fields_size(fields)


def htx_fields_size(fields: Iterable[tuple[bytes, bytes]]) -> int:
    """h1_eval_htx_hdrs_size(): header (or trailer) fields plus their end block."""
    return sum(HTX_BLOCK + len(n) + len(v) for n, v in fields) + HTX_BLOCK + 1
