"""`http-request normalize-uri NORMALIZER` (src/uri_normalizer.c, src/http_act.c
http_action_normalize_uri; HAProxy 2.6, an experimental action there).

Normalizers: path-merge-slashes, path-strip-dot, path-strip-dotdot [full],
percent-decode-unreserved [strict], percent-to-uppercase [strict], query-sort-by-name,
fragment-strip, fragment-encode.  The path ones act on the path without its query, the
percent and fragment ones on the path with it; a target without a path is left alone.  A
`strict` normalizer that meets a '%' not followed by two hex digits makes the request
invalid (400).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.rules.http_edit import failed_rewrite, replace_path, replace_query
from pylvs.proto.sample.message import uri_path

NORMALIZERS = frozenset(
    {
        "path-merge-slashes",
        "path-strip-dot",
        "path-strip-dotdot",
        "percent-decode-unreserved",
        "percent-to-uppercase",
        "query-sort-by-name",
        "fragment-strip",
        "fragment-encode",
    }
)
_HEX = frozenset(b"0123456789abcdefABCDEF")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class InvalidInputError(ValueError):
    pass


def merge_slashes(path: bytes) -> bytes:
    out = bytearray()
    for c in path:
        if c == 0x2F and out.endswith(b"/"):
            continue
        out.append(c)
    return bytes(out)


def strip_dot(path: bytes) -> bytes:
    """uri_normalizer_path_dot: `.` segments go with the slash after them."""
    out = bytearray()
    rest = path
    while rest:
        cut = rest.find(b"/")
        seg, rest, slash = (rest, b"", False) if cut < 0 else (rest[:cut], rest[cut + 1 :], True)
        if seg != b".":
            out += seg
            if slash:
                out += b"/"
    return bytes(out)


def strip_dotdot(path: bytes, full: bool) -> bytes:
    """uri_normalizer_path_dotdot, walking the path backwards as HAProxy does."""
    out = bytearray()
    offset = len(path) - 1
    up = 0
    if offset >= 2 and path[offset - 2 : offset + 1] == b"/..":
        up, offset = 1, offset - 2
    while offset >= 0:
        if offset >= 3 and path[offset - 3 : offset + 1] == b"/../":
            up += 1
            offset -= 3
            continue
        if up > 0:
            offset -= 1
            if offset >= 0:
                up -= 1
                while offset >= 0 and path[offset] != 0x2F:
                    offset -= 1
        else:
            seg = bytearray([path[offset]])
            offset -= 1
            while offset >= 0 and path[offset] != 0x2F:
                seg.insert(0, path[offset])
                offset -= 1
            out[0:0] = seg
    if up > 0:
        out[0:0] = b"/"
        if not full:
            out[0:0] = b"/.." * up
    return bytes(out)


def percent(path: bytes, *, decode: bool, strict: bool) -> bytes:
    out = bytearray()
    i, n = 0, len(path)
    while i < n:
        c = path[i]
        i += 1
        if c != 0x25:
            out.append(c)
            continue
        if i + 1 < n and path[i] in _HEX and path[i + 1] in _HEX:
            pair = path[i : i + 2]
            i += 2
            value = int(pair, 16)
            if decode and value in _UNRESERVED:
                out.append(value)
            else:
                out += b"%" + (pair if decode else pair.upper())
            continue
        if strict:
            raise InvalidInputError
        out.append(c)
    return bytes(out)


def query_sort(query: bytes) -> bytes:
    """`query` with its leading '?': parameters sorted by name, stable."""
    params = query[1:].split(b"&") if len(query) > 1 else []
    params.sort(key=lambda p: p.split(b"=", 1)[0])
    return query[:1] + b"&".join(params)


def fragment_encode(path: bytes) -> bytes:
    return path.replace(b"#", b"%23")


@dataclass(frozen=True, slots=True)
class NormalizeUri:
    normalizer: str
    option: bool = False  # `full` for path-strip-dotdot, `strict` for the percent ones

    def rewrite(self, uri: bytes) -> bytes | None:
        path = uri_path(uri)
        if path is None:
            return None
        bare = path.split(b"?", 1)[0]
        name = self.normalizer
        if name == "path-merge-slashes":
            return replace_path(uri, merge_slashes(bare), False)
        if name == "path-strip-dot":
            return replace_path(uri, strip_dot(bare), False)
        if name == "path-strip-dotdot":
            return replace_path(uri, strip_dotdot(bare, self.option), False)
        if name == "query-sort-by-name":
            cut = path.find(b"?")
            query = b"" if cut < 0 else path[cut:]
            return replace_query(uri, query_sort(query)) if query else uri
        if name == "percent-to-uppercase":
            return replace_path(uri, percent(path, decode=False, strict=self.option), True)
        if name == "percent-decode-unreserved":
            return replace_path(uri, percent(path, decode=True, strict=self.option), True)
        if name == "fragment-strip":
            return replace_path(uri, path.split(b"#", 1)[0], True)
        return replace_path(uri, fragment_encode(path), True)

    def run(self, x: Exec) -> Ret:
        msg = x.stream.request
        if msg is None:
            return Ret.CONT
        try:
            new = self.rewrite(msg.uri)
        except InvalidInputError:
            return Ret.INV
        if new is None or new == msg.uri:
            return Ret.CONT
        return Ret.CONT if msg.set_start(uri=new) else failed_rewrite(x)
