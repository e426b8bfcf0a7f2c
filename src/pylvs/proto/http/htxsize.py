"""What an HTTP/1 message weighs in HAProxy's channel totals, which are the byte counts of
its traffic logs (%U, %B) for HTTP streams (HAProxy 2.6: src/stream.c stream_process_counters
sets logs.bytes_in/out from req/res.total; src/stconn.c adds to `total` what a mux's
rcv_buf returned, and src/mux_h1.c h1_process_demux returns the HTX data it added;
http_reply_message and the redirect add their reply's HTX data with channel_add_input).

HTX data counts payloads, not block headers: a start line is its `struct htx_sl` (20 bytes)
and its three parts (for a response: version, status code as written, reason), each header
or trailer field its name and value, the end of the headers one byte, and a chunked
message's end of trailers one byte (with or without trailers); a body is its payload, chunk
framing not included; tunnelled bytes count as they are.  The fields are those HAProxy keeps
(the parser's Connection cleaning applied), names lower-cased: a RequestHead's or
ResponseHead's.
"""

from __future__ import annotations

from collections.abc import Iterable

from .limits import HTX_START_LINE
from .message import RequestHead, ResponseHead

END = 1  # an HTX_BLK_EOH or HTX_BLK_EOT block's one byte


def fields_size(fields: Iterable[tuple[bytes, bytes]]) -> int:
    """Header or trailer fields' names and values."""
    return sum(len(n) + len(v) for n, v in fields)


def head_size(parts: tuple[bytes, bytes, bytes], fields: Iterable[tuple[bytes, bytes]]) -> int:
    """A head's HTX data: start line, fields, end of headers."""
    return (
        HTX_START_LINE + len(parts[0]) + len(parts[1]) + len(parts[2]) + fields_size(fields) + END
    )


def request_size(head: RequestHead) -> int:
    return head_size((head.method, head.target, head.version), head.fields)


def response_size(head: ResponseHead) -> int:
    return head_size((head.version, head.code, head.reason), head.fields)
