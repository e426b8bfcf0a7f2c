"""HAProxy's HTTP cache in the mode http driver: the cache applet's answer and the cache
filter's storing (src/cache.c http_cache_io_handler, cache_store_http_payload,
cache_store_http_end; the rules: proto/cache/, the actions: proto/rules/cache_actions.py).

Two hooks, each a call from the driver:

* `hit(x, st)` once the request phases went on (`Go`) with an entry cache-use found: the
  entry's head with `Age` added last (and 304 Not Modified for a conditional request that
  matches, without the body), as the response phases see a server's (the backend's then the
  frontend's http-response rules, http-after-response), or their answer instead; the body
  goes with it (none for HEAD).  The exchange is logged with `<CACHE>` as its server and
  no server is connected.  A response stored chunked is sent chunked (a chunk per stored
  block).  The compression filter, after the cache's, compresses the hit as it would a
  server's response.
* `Storer.see(event)` for each event of the response cache-store opened an entry for,
  before compression: the body's data appended (an HTX data block each, 4 bytes more), the
  entry completed at the end of the response; dropped when it grows past
  `max-object-size`, fails to find room, or the response does not end.  While it stores, the
  body stays in Python (passing.py does not hand it to the pump).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pylvs.dataplane.haproxy.http import compress
from pylvs.proto.cache.store import END_BLOCK, Entry, HttpCache
from pylvs.proto.http.answers import Answer
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.encode import chunk, last_chunk
from pylvs.proto.http.htxsize import response_size
from pylvs.proto.http.message import Body, Flag, ResponseHead
from pylvs.proto.rules.cache_actions import CACHE_SERVICE, CacheState
from pylvs.proto.rules.ruleset import Service, Verdict

if TYPE_CHECKING:
    from .exchange import Exchange
    from .stream import HttpSession
    from .upstream import Upstream

CACHE_APPLET = "<CACHE>"  # what %s logs for a response from the cache


def state_of(stream: object) -> CacheState | None:
    got = getattr(stream, "cache_state", None)
    return got if isinstance(got, CacheState) else None


def raw_response(entry: Entry, now: int, not_modified: bool) -> bytes:
    """The entry as an HTTP/1.1 message with its length (its fields as stored, Age last)."""
    status, reason = (304, b"Not Modified") if not_modified else (entry.status, entry.reason)
    fields = [(n, v) for n, v in entry.fields if n != b"transfer-encoding"]
    body = b"".join(entry.body)
    if not any(n == b"content-length" for n, _ in fields):
        fields.append((b"content-length", b"%d" % len(body)))
    fields.append((b"age", b"%d" % entry.age_at(now)))
    head = b"HTTP/1.1 %d %s\r\n" % (status, reason)
    head += b"".join(n + b": " + v + b"\r\n" for n, v in fields)
    return head + b"\r\n" + (b"" if not_modified else body)


def hit_answer(st: CacheState, now: int) -> Answer:
    """The cache applet's response for the entry cache-use found: a body stored chunked
    goes out chunked again, its Transfer-Encoding where the server had it."""
    entry = st.hit
    assert entry is not None
    try:
        page = Answer.of(raw_response(entry, now, st.not_modified))
    except ValueError:  # http_cache_io_handler's error path: the 500
        return Answer.page(500)
    if any(n == b"content-length" for n, _ in entry.fields):
        return page
    fields = (*entry.fields, (b"age", b"%d" % entry.age_at(now)))
    flags = (page.head.flags & ~Flag.CLEN) | Flag.CHNK | Flag.XFER_ENC | Flag.TE_CHUNKED
    head = replace(page.head, fields=fields, flags=flags, body=Body.CHUNKED, length=0)
    body = b"".join(chunk(d) for d in entry.body) + last_chunk() if page.body else b""
    return Answer(head, body)


def counted(x: Exchange, st: CacheState | None) -> None:
    """The lookups and hits cache-use counted, for the stats (http_stats.py)."""
    if st is not None and st.counted:
        x.cache_counts = list(st.counted)
        st.counted.clear()


def answered(up: Upstream, verdict: Verdict, now: float) -> bool:
    """The request phases' verdict: the lookups counted, and on a hit (the cache applet as
    the stream's target: a `Service`) the answer from the cache through the response phases
    (False: no hit, the verdict stands)."""
    s, x, phases = up.s, up.x, up.s.phases
    stream = phases.stream if phases is not None else None
    st = state_of(stream)
    if x is None or st is None or stream is None or phases is None:
        return False
    counted(x, st)
    got_cache = stream.process.caches.get(st.hit_cache)
    if not isinstance(verdict, Service) or verdict.name != CACHE_SERVICE:
        return False
    if st.hit is None or not isinstance(got_cache, HttpCache):
        return False
    x.applet = CACHE_APPLET
    x.connect_at = x.connected_at = x.response_at = now  # the applet: Tw, Tc, Tr are 0
    page = hit_answer(st, got_cache.seconds(now))
    fe, be = s.fe.spec.http, x.backend.spec.http if x.backend is not None else None
    if x.request is not None and compress.configured(fe, be):  # the compression filter
        compress.request(x, fe, be, x.request)
        compress.select(x, fe, be, page.head)
        stream.comp_algo = x.comp_algo
    got = phases.response(page.head, now)
    if got is None:  # http-response reject / silent-drop
        x.termination = "PH"
        s.drop(reset=False)
        return True
    if isinstance(got, ResponseHead):
        # %B counts what the applet wrote, not what the response rules then added
        x.bytes_out -= response_size(got) - response_size(page.head)
        page = _compressed(x, got, page.body, s.http.comp_level)
    elif isinstance(got, Answer):
        page = got
    up._answer(page, "LR")
    return True


def _compressed(x: Exchange, head: ResponseHead, body: bytes, level: int) -> Answer:
    """The hit as the compression filter after the cache's passes it on: compressed when
    the filter chose to (its head, the body in one chunk), else as it is."""
    head, comp = compress.response(x, head, level)
    if comp is None:
        return Answer(head, body)
    out = comp.events(ev.ResponseData(body)) + comp.events(ev.ResponseEnded())
    data = b"".join(e.data for e in out if isinstance(e, ev.ResponseData))
    return Answer(head, (chunk(data) if data else b"") + last_chunk())


def storer(s: HttpSession) -> Storer | None:
    """The store cache-store opened for the response now going out, if any.  A backend's
    cache filter comes after the frontend's compression filter: a response that filter
    compresses is not stored (cache_store_post_analyze, HTTP_MSGF_COMPRESSING)."""
    st = state_of(s.phases.stream if s.phases is not None else None)
    if st is None or st.storing is None:
        return None
    cache, entry = st.storing
    st.storing = None
    fe = s.fe.spec.http
    if (
        s.comp is not None
        and fe is not None
        and fe.compression
        and st.store_proxy != s.fe.spec.name
    ):
        cache.abandon(entry)
        return None
    return Storer(cache, entry)


class Storer:
    """The cache filter's payload side for one response (see the module doc)."""

    __slots__ = ("cache", "entry")

    def __init__(self, cache: HttpCache, entry: Entry) -> None:
        self.cache = cache
        self.entry = entry

    def see(self, event: object) -> bool:
        """One event the client machine gets; False once storing is over."""
        kind = type(event)
        if kind is ev.ResponseData:
            data = event.data  # type: ignore[attr-defined]
            return not data or self.cache.append(self.entry, 4 + len(data), data)
        if kind is ev.ResponseTrailers:
            return True
        if kind is ev.ResponseEnded:
            chunked = not any(n == b"content-length" for n, _ in self.entry.fields)
            if chunked and not self.cache.append(self.entry, END_BLOCK):  # the end of trailers
                return False
            self.cache.finish(self.entry)
            return False
        if kind is ev.ResponseStarted:
            return True
        self.cache.abandon(self.entry)  # cut, failed: never completed
        return False

    def abandon(self) -> None:
        if not self.entry.complete:
            self.cache.abandon(self.entry)
