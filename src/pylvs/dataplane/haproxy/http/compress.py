"""HTTP compression in the mode http driver: the streaming side of src/flt_http_comp.c (the rules
are proto/http/compress.py's).

Three hooks, each a call from the driver:

* `request(x, fe, be, head)`: once the request rules ran and the backend is known (the
  filter's request `http_headers`), the algorithm for the exchange and the head to forward
  (`compression offload` drops Accept-Encoding);
* `select(x, fe, be, head)`: the server's head as it came, before the response rules (the
  filter's AN_RES_WAIT_HTTP post-analyser: `res.comp` and `res.comp_algo` read its verdict);
* `response(x, head, level)`: after every response rule: the head to write and the
  `Compressor` of its body, or the head unchanged and None;
* `Compressor.events(event)`: each event the client machine gets while the body is
  compressed: the data compressed chunk by chunk (a zlib stream, flushed after each read
  as HAProxy flushes after each block, finished at the end or before the trailers), never
  the whole body held; the body then stays in Python (passing.py does not hand it to the
  pump).  A body with a known length is finished with its last bytes, as HAProxy finishes
  on its last data block.

zlib runs at `tune.comp.maxlevel` (default 1) with HAProxy's zlib settings (a 32 KiB
window: tune.zlib.windowsize 15, memory level 8).  The installed haproxy is built with
libslz (USE_SLZ) whose deflate stream differs from zlib's at the same level: what the
client decompresses is the same, the compressed bytes are not.  The counters are HAProxy's:
comp_in / comp_out (what went into and came out of a compressor, level > 0), comp_byp (what
`identity` passed), comp_rsp (the compressed responses), on the frontend and the backend.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import TYPE_CHECKING

from pylvs.proto.http import compress as rules
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.htxsize import END, fields_size
from pylvs.proto.http.message import Body, RequestHead, ResponseHead

if TYPE_CHECKING:
    from pylvs.model.proxy_spec import CompressionSpec, HttpSpec

    from .exchange import Exchange

# the zlib wbits of each algorithm (compression.c gzip_init / deflate_init / raw_def_init)
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "raw-deflate": -zlib.MAX_WBITS}
_MEMLEVEL = 8  # tune.zlib.memlevel's default


def _specs(
    fe: HttpSpec | None, be: HttpSpec | None
) -> tuple[CompressionSpec | None, CompressionSpec | None]:
    return (
        fe.compression if fe is not None else None,
        be.compression if be is not None else None,
    )


def configured(fe: HttpSpec | None, be: HttpSpec | None) -> bool:
    """Either proxy has `compression` (the filter is attached to its streams)."""
    f, b = _specs(fe, be)
    return f is not None or b is not None


def request(
    x: Exchange, fe: HttpSpec | None, be: HttpSpec | None, head: RequestHead
) -> RequestHead:
    """The algorithm for the exchange (x.comp_algo) and the request head to forward."""
    f, b = _specs(fe, be)
    if f is None and b is None:
        return head
    choice = rules.choose(head, f, b)
    x.comp_algo = choice.algo
    return head if choice.fields is head.fields else replace(head, fields=choice.fields)


def select(x: Exchange, fe: HttpSpec | None, be: HttpSpec | None, head: ResponseHead) -> None:
    """The server's head as it came, before the response rules (the filter's post-analyser
    on AN_RES_WAIT_HTTP, which is what `res.comp` reads): x.comp_algo stays only when it
    is compressed."""
    req = x.request
    if x.comp_algo is None or req is None:
        return
    f, b = _specs(fe, be)
    if not rules.compressible(head, req, f, b):
        x.comp_algo = None


def response(x: Exchange, head: ResponseHead, level: int) -> tuple[ResponseHead, Compressor | None]:
    """After every response rule: the head to write and its body's compressor (None: the
    body goes as it comes)."""
    algo = x.comp_algo
    if algo is None:
        return head, None
    known = head.length if head.body is Body.LENGTH else None
    chunked = head.body is Body.CHUNKED
    return rules.compressed_head(head, algo), Compressor(x, algo, level, known, chunked)


class Compressor:
    """One response body compressed as it streams (see the module doc)."""

    __slots__ = ("chunked", "identity", "left", "x", "z")

    def __init__(
        self, x: Exchange, algo: str, level: int, length: int | None, chunked: bool
    ) -> None:
        self.x = x
        self.chunked = chunked  # its trailer and end blocks count as passed (below)
        self.left = length  # the body's bytes still to come, when its length is known
        self.identity = algo == "identity"
        self.z = (
            None
            if self.identity
            else zlib.compressobj(level, zlib.DEFLATED, _WBITS[algo], _MEMLEVEL)
        )

    def events(self, event: ev.ClientEvent) -> tuple[ev.ClientEvent, ...]:
        """What the client machine gets for `event` (none of the body as it came)."""
        if isinstance(event, ev.ResponseData):
            data = event.data
            last = self.left is not None and len(data) >= self.left
            if self.left is not None:
                self.left -= len(data)
            out = self._add(data, last)
            return (ev.ResponseData(out),) if out else ()
        if isinstance(event, (ev.ResponseTrailers, ev.ResponseEnded)):
            out = self._add(b"", last=True)
            # comp_http_payload counts a chunked message's trailer blocks and its end block
            # (HTX_BLK_TLR, HTX_BLK_EOT) as consumed and forwarded, by their HTX sizes
            if isinstance(event, ev.ResponseTrailers):
                self._passed(fields_size(event.fields))
            else:
                if self.chunked:
                    self._passed(END)
                self.x.comp_counts[3] = 1  # comp_http_end: a compressed response
            return (ev.ResponseData(out), event) if out else (event,)
        return (event,)

    def _passed(self, n: int) -> None:
        counts = self.x.comp_counts
        if self.identity:
            counts[2] += n
        else:
            counts[0] += n
            counts[1] += n

    def _add(self, data: bytes, last: bool) -> bytes:
        counts = self.x.comp_counts
        if self.identity:
            counts[2] += len(data)
            return data
        z = self.z
        if z is None:  # finished already (a known length's last bytes came)
            return b""
        out = z.compress(data) + z.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
        if last:
            self.z = None
        counts[0] += len(data)
        counts[1] += len(out)
        return out
