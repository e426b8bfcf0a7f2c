"""HTTP compression's rules as HAProxy 2.6 applies them (src/flt_http_comp.c): which algorithm
a request asks for, whether a response is compressed, and the head a compressed response gets.

* The request (select_compression_request_header, once the request rules ran and the backend
  is known): no compression for an old user agent announcing itself "Mozilla/4" unless it is
  MSIE 6 SP2 or later; the backend's algorithm list, else the frontend's; each comma-separated
  element of every Accept-Encoding field is a token and an optional q-value (thousandths,
  http_parse_qvalue); the first element with the highest q that names an algorithm of the
  list (`*` names the list's first) wins.  `compression offload` (either proxy) then removes
  every Accept-Encoding field from the forwarded request.  Nothing matched: `identity`, if
  the list has it (it compresses nothing but still re-frames the answer).
* The response (select_compression_response_header, on the server's head before the
  response rules): an algorithm was chosen, request and response are HTTP/1.1, the method
  is not HEAD, the status is 200-203, the body has a known length (Content-Length or
  chunked, not a close-delimited body) and is not empty (a Content-Length of 0, a 204 or
  304, a HEAD's answer), no Content-Encoding,
  no `Cache-Control: no-transform`, at most one ETag and a well-formed one, a Content-Type
  not `multipart*` and starting with one of the `compression type`s (backend's, else the
  frontend's; none listed: any, and no Content-Type needed).
* The head (set_compression_response_header, after every response rule): Content-Length
  removed, `Transfer-Encoding: chunked` unless already chunked, a strong ETag made weak,
  `Vary: Accept-Encoding` and Content-Encoding (not for identity) added, each at the end
  (the order haproxy 2.6.12 writes them in).

Algorithm lists are kept in HAProxy's order: each `algo` word goes first (comp_append_algo
prepends), and a proxy's own words come before those it inherited from its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model.proxy_spec import CompressionSpec

from .fields import LWS, list_words
from .message import Body, Fields, Flag, RequestHead, ResponseHead
from .syntax import TCHAR

# compression.c comp_algos[]: the name in the configuration -> the Accept-Encoding /
# Content-Encoding token ("raw-deflate" answers to "deflate" too)
ALGORITHMS: dict[str, str] = {
    "identity": "identity",
    "deflate": "deflate",
    "raw-deflate": "deflate",
    "gzip": "gzip",
}

_COMPRESSED_STATUSES = frozenset({200, 201, 202, 203})


@dataclass(frozen=True, slots=True)
class Choice:
    """The algorithm chosen for a request, and the forwarded request's fields (offload)."""

    algo: str | None
    fields: Fields


def word_match(sample: bytes, word: bytes) -> bool:
    """tools.c word_match(): `word` case-insensitively, then only blanks."""
    if len(sample) < len(word):
        return False
    for a, b in zip(sample, word, strict=False):
        c = a ^ b
        if c and c != 0x20:
            return False
    return all(ch in b" \t" for ch in sample[len(word) :])


def parse_qvalue(text: bytes) -> int:
    """http.c http_parse_qvalue(): "1", "0.5", "0.125" -> thousandths, at most 1000."""
    if not text[:1].isdigit():
        return 1000
    q = (text[0] - 48) * 1000
    if text[1:2] == b".":
        for i, weight in ((2, 100), (3, 10), (4, 1)):
            if not text[i : i + 1].isdigit():
                break
            q += (text[i] - 48) * weight
    return min(q, 1000)


def _q(element: bytes, toklen: int) -> int:
    """The first `q=` parameter after the token (1000 without one)."""
    rest = element[toklen:]
    while True:
        rest = rest.lstrip(LWS)
        if not rest.startswith(b";"):
            return 1000
        rest = rest[1:].lstrip(LWS)
        if not rest:
            return 1000
        if rest.startswith(b"q="):
            return parse_qvalue(rest[2:])
        at = rest.find(b";")
        if at < 0:
            return 1000
        rest = rest[at:]


def _old_agent(agent: bytes | None) -> bool:
    """A "Mozilla/4" user agent other than MSIE 6 SP2 and later gets nothing compressed."""
    if agent is None or len(agent) < 9 or not agent.startswith(b"Mozilla/4"):
        return False
    if len(agent) < 31 or agent[25:30] != b"MSIE " or agent[30] < ord("6"):
        return True
    return agent[30] == ord("6") and (len(agent) < 54 or agent[51:54] != b"SV1")


def _first(fields: Fields, name: bytes) -> bytes | None:
    return next((v for n, v in fields if n == name), None)


def choose(request: RequestHead, fe: CompressionSpec | None, be: CompressionSpec | None) -> Choice:
    """The algorithm for `request` (None: none) and its fields as forwarded."""
    fields = request.fields
    if _old_agent(_first(fields, b"user-agent")):
        return Choice(None, fields)
    algos = (be.algos if be is not None else ()) or (fe.algos if fe is not None else ())
    best_q, chosen = 0, None
    for name, value in fields:
        if name != b"accept-encoding":
            continue
        for element in list_words(value):
            toklen = 0
            while toklen < len(element) and element[toklen] in TCHAR:
                toklen += 1
            q = _q(element, toklen)
            if q <= best_q:
                continue
            token = element[:toklen]
            for algo in algos:
                if element[:1] == b"*" or word_match(token, ALGORITHMS[algo].encode()):
                    chosen, best_q = algo, q
                    break
    if chosen is not None:
        if (be is not None and be.offload) or (fe is not None and fe.offload):
            fields = tuple(f for f in fields if f[0] != b"accept-encoding")
        return Choice(chosen, fields)
    return Choice("identity" if "identity" in algos else None, fields)


def compressible(
    response: ResponseHead,
    request: RequestHead,
    fe: CompressionSpec | None,
    be: CompressionSpec | None,
) -> bool:
    """Whether the response to `request` (an algorithm was chosen for it) is compressed."""
    if not (response.version_11 and request.version_11) or request.method == b"HEAD":
        return False
    if response.status not in _COMPRESSED_STATUSES:
        return False
    # a length (Content-Length, chunked) and a body: a Content-Length of 0 is bodyless in
    # HTX (h1_htx.c: HTX_SL_F_BODYLESS), a close-delimited body has no HTTP_MSGF_XFER_LEN
    if response.body not in (Body.LENGTH, Body.CHUNKED):
        return False
    fields = response.fields
    if any(n == b"content-encoding" for n, _ in fields):
        return False
    for n, v in fields:
        if n == b"cache-control" and any(word_match(w, b"no-transform") for w in list_words(v)):
            return False
    etags = [v for n, v in fields if n == b"etag"]
    if len(etags) > 1 or (etags and not _valid_etag(etags[0])):
        return False
    types = (be.types if be is not None else ()) or (fe.types if fe is not None else ())
    ctype = _first(fields, b"content-type")
    if ctype is None:
        return not types
    if ctype[:9].lower() == b"multipart":
        return False
    low = ctype.lower()
    return not types or any(low.startswith(t.lower().encode()) for t in types)


def _valid_etag(etag: bytes) -> bool:
    """http.h http_get_etag_type() is not ETAG_INVALID."""
    if len(etag) < 2 or not etag.endswith(b'"'):
        return False
    return etag[:1] == b'"' or etag[:3] == b'W/"'


def compressed_head(head: ResponseHead, algo: str) -> ResponseHead:
    """The response head as a compressed body goes out (chunked, without its length)."""
    fields = [f for f in head.fields if f[0] != b"content-length"]
    flags = head.flags & ~Flag.CLEN
    if not flags & Flag.CHNK:
        fields.append((b"transfer-encoding", b"chunked"))
        flags |= Flag.XFER_ENC | Flag.CHNK | Flag.TE_CHUNKED | Flag.XFER_LEN
    for i, (n, v) in enumerate(fields):
        if n == b"etag":
            if v[:1] == b'"':
                fields[i] = (n, b"W/" + v)
            break
    fields.append((b"vary", b"Accept-Encoding"))
    if algo != "identity":  # last (2.6.12 adds it once the rest is done)
        fields.append((b"content-encoding", ALGORITHMS[algo].encode()))
    return ResponseHead(
        head.version, head.status, head.code, head.reason, tuple(fields), flags, Body.CHUNKED, 0
    )
