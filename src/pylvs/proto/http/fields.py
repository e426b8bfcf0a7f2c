"""What HAProxy 2.6 does with each header field while it parses a head, and with the URI authority.

The rules of src/h1.c (h1_headers_to_hdr_list and the helpers it calls), applied to one
field at a time by both head lexers (the llhttp fast path and the reference lexer in
syntax.py), so that both keep, drop, rewrite and refuse exactly the same fields:

* Content-Length (h1_parse_cont_len_header, with the 2.6 fix that refuses empty values): a
  comma-separated list of digit strings, all equal, and equal to any earlier Content-Length;
  the first field is kept holding only the last digits written ("3, 3" becomes "3"), later
  ones are dropped;
* Transfer-Encoding (h1_parse_xfer_enc_header): codings are compared without case; chunked
  twice is refused, and so is, in a request, any coding after chunked;
* Connection (h1_parse_connection_header with H1_MF_CLEAN_CONN_HDR): `close` and
  `keep-alive` set flags and are removed from the value, other tokens stay; a field left
  empty is dropped;
* Upgrade (h1_parse_upgrade_header): notes whether `websocket` is offered;
* Host (requests): a second Host must equal the first (without case) and is dropped; the
  first is checked against the request target's authority once the head is complete
  (h1_validate_connect_authority / h1_validate_mismatch_authority, where a default port on
  one side equals no port on the other, and CONNECT's Host loses a default port).

Each check reports failure by returning False (or an error code); the caller knows where
the field is and turns it into HAProxy's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .message import Flag

LWS = b" \t\r\n"
DIGITS = b"0123456789"


@dataclass(slots=True)
class FieldState:
    """What the fields seen so far of one head established (part of HAProxy's h1m)."""

    flags: int
    request: bool
    length: int = 0
    kept: list[tuple[bytes, bytes]] = field(default_factory=list)
    host: int = -1  # index in `kept` of the first Host field

    def take(self, name: bytes, value: bytes) -> bool:
        """Apply HAProxy's rule for one field (name as written, value trimmed).

        Returns False when HAProxy refuses the field; otherwise the field is kept (lower-cased
        name, possibly rewritten value) or dropped, and the flags are updated.
        """
        lname = name.lower()
        special = SPECIAL.get(lname)
        if special is not None:
            return special(self, lname, value)
        self.kept.append((lname, value))
        return True


def _content_length(st: FieldState, lname: bytes, value: bytes) -> bool:
    parsed = parse_content_length(value, st.length if st.flags & Flag.CLEN else None)
    if parsed is None:
        return False
    length, word = parsed
    first = not st.flags & Flag.CLEN
    st.flags |= Flag.CLEN
    st.length = length
    if first:
        st.kept.append((lname, word))
    return True


def parse_content_length(value: bytes, previous: int | None) -> tuple[int, bytes] | None:
    """h1_parse_cont_len_header(): (length, last digit string written), or None if refused."""
    end = len(value)
    pos = 0
    length = previous
    word = b""
    while True:
        if pos >= end:
            return None  # empty value, or nothing after a comma
        if value[pos] in LWS:
            pos += 1
            continue
        stop = pos
        while stop < end and value[stop] in DIGITS:
            stop += 1
        if stop == pos:
            return None
        word = value[pos:stop]
        if len(word.lstrip(b"0")) > 20:
            return None  # past HAProxy's unsigned 64-bit overflow checks
        number = int(word)
        if number >= 1 << 64:
            return None
        while stop < end and value[stop] in LWS:
            stop += 1
        if stop < end and value[stop] != 0x2C:  # ','
            return None
        if length is not None and number != length:
            return None
        length = number
        if stop == end:
            return number, word
        pos = stop + 1


def _transfer_encoding(st: FieldState, lname: bytes, value: bytes) -> bool:
    st.flags |= Flag.XFER_ENC
    for word in list_words(value):
        st.flags &= ~Flag.CHNK
        if word.lower() == b"chunked":
            if st.flags & Flag.TE_CHUNKED:
                return False  # RFC 7230 3.3.1: chunked applied twice
            st.flags |= Flag.TE_CHUNKED | Flag.CHNK
        else:
            if st.request and st.flags & Flag.TE_CHUNKED:
                return False  # a request's last coding must be chunked
            st.flags |= Flag.TE_OTHER
    st.kept.append((lname, value))
    return True


def _connection(st: FieldState, lname: bytes, value: bytes) -> bool:
    kept = clean_connection(st, value)
    if kept:
        st.kept.append((lname, kept))
    return True


def clean_connection(st: FieldState, value: bytes) -> bytes:
    """h1_parse_connection_header() with H1_MF_CLEAN_CONN_HDR: set the flags, return the value
    without its `close` and `keep-alive` tokens (the text is kept as written until a token is
    removed, later tokens are then appended after a bare comma)."""
    single = _SINGLE_TOKEN.get(value.lower())
    if single is not None:  # the usual one-token field
        st.flags |= single
        return b""
    out = b""
    contiguous = True  # nothing removed yet: `out` is a prefix of `value`
    pos = 0
    end = len(value)
    while pos < end:
        if value[pos] in LWS:
            pos += 1
            continue
        stop = value_end(value, pos)
        word = value[pos:stop].rstrip(LWS)
        low = word.lower()
        if low == b"keep-alive":
            st.flags |= Flag.CONN_KAL
            contiguous = False
        elif low == b"close":
            st.flags |= Flag.CONN_CLO
            contiguous = False
        else:
            if low == b"upgrade":
                st.flags |= Flag.CONN_UPG
            if contiguous:
                out = value[:stop]
            else:
                out = out + b"," + word if out else word
        pos = stop + 1 if stop < end else stop
    return out


_SINGLE_TOKEN = {b"keep-alive": Flag.CONN_KAL, b"close": Flag.CONN_CLO}


def _upgrade(st: FieldState, lname: bytes, value: bytes) -> bool:
    st.flags &= ~Flag.UPG_WEBSOCKET
    if any(word.lower() == b"websocket" for word in list_words(value)):
        st.flags |= Flag.UPG_WEBSOCKET
    st.kept.append((lname, value))
    return True


def _host(st: FieldState, lname: bytes, value: bytes) -> bool:
    if not st.request:
        st.kept.append((lname, value))
        return True
    if st.host < 0:
        st.host = len(st.kept)
        st.kept.append((lname, value))
        return True
    return st.kept[st.host][1].lower() == value.lower()  # equal: dropped


SPECIAL = {
    b"content-length": _content_length,
    b"transfer-encoding": _transfer_encoding,
    b"connection": _connection,
    b"upgrade": _upgrade,
    b"host": _host,
}


def value_end(value: bytes, pos: int) -> int:
    """http_find_hdr_value_end(): the next comma outside a quoted string, or the end."""
    end = len(value)
    quoted = pair = False
    while pos < end:
        c = value[pos]
        if pair:
            pair = False
        elif quoted:
            if c == 0x5C:  # backslash
                pair = True
            elif c == 0x22:
                quoted = False
        elif c == 0x22:
            quoted = True
        elif c == 0x2C:
            return pos
        pos += 1
    return pos


def list_words(value: bytes) -> list[bytes]:
    """The comma-separated words of a list field as h1.c walks them (empty words included)."""
    words = []
    pos = 0
    end = len(value)
    while pos < end:
        if value[pos] in LWS:
            pos += 1
            continue
        stop = value_end(value, pos)
        words.append(value[pos:stop].rstrip(LWS))
        pos = stop + 1 if stop < end else stop
    return words


def complete(st: FieldState, method: bytes, target: bytes) -> str | None:
    """The end of h1_headers_to_hdr_list(): a request's authority is checked against Host;
    Transfer-Encoding wins over Content-Length (which is removed and forces a close) and
    forces a close with HTTP/1.0; a request's last coding must be chunked (RFC 7230 3.3.3).

    Returns None, "authority" or "coding" (what HAProxy refuses).
    """
    if st.request and not check_authority(st, method, target):
        return "authority"
    if not st.flags & Flag.XFER_ENC:
        return None
    if st.flags & Flag.CLEN:
        st.flags = (st.flags | Flag.CONN_CLO) & ~Flag.CLEN
        st.length = 0
        host = st.kept[st.host] if st.host >= 0 else None
        st.kept = [f for f in st.kept if f[0] != b"content-length"]
        if host is not None:
            st.host = next(i for i, f in enumerate(st.kept) if f is host)
    elif not st.flags & Flag.VER_11:
        st.flags |= Flag.CONN_CLO
    if st.request and not st.flags & Flag.CHNK:
        return "coding"
    return None


# The authority of a request target (src/http.c http_parse_scheme / http_parse_authority).


def target_scheme_authority(target: bytes) -> tuple[bytes | None, bytes | None]:
    """(scheme with its "://", authority without userinfo) of a request target, or None."""
    if not target or target[:1] in (b"/", b"*"):
        return None, None
    scheme = None
    rest = target
    if target[:1].isalpha():
        i = 1
        while i < len(target) and (target[i : i + 1].isalnum() or target[i] in b"+-."):
            i += 1
        if target[i : i + 3] == b"://":
            scheme = target[: i + 3]
            rest = target[i + 3 :]
    slash = rest.find(b"/")
    authority = rest if slash < 0 else rest[:slash]
    at = authority.rfind(b"@")
    return scheme, authority[at + 1 :]


def host_port(host: bytes) -> bytes | None:
    """http_get_host_port(): the digits after the last ':' (b"" for "host:"), or None."""
    i = len(host)
    while i > 0 and host[i - 1 : i].isdigit():
        i -= 1
    if i == 0 or host[i - 1] != 0x3A:  # ':'
        return None
    return host[i:]


def default_port(scheme: bytes | None, port: bytes) -> bool:
    """http_is_default_port(): an empty port, or 80/443 (for their scheme, when one is known)."""
    if not port:
        return True
    if scheme is None:
        return port in (b"443", b"80")
    s = scheme.lower()
    return (port == b"443" and s == b"https://") or (port == b"80" and s == b"http://")


def check_authority(st: FieldState, method: bytes, target: bytes) -> bool:
    """The checks h1_headers_to_hdr_list() makes once a request head is complete."""
    scheme, authority = target_scheme_authority(target)
    host = st.kept[st.host][1] if st.host >= 0 else None
    if method == b"CONNECT":
        if not authority:
            return False
        uri_port = host_port(authority)
        if uri_port is None:
            return False
        uri_host = authority[: len(authority) - len(uri_port) - 1]
        if host is None:
            return True
        port = host_port(host)
        if port is not None:
            bare = host[: len(host) - len(port) - 1]
            if bare.lower() != uri_host.lower() or port != uri_port:
                return False
            if default_port(None, uri_port):
                st.kept[st.host] = (b"host", bare)  # normalised
            return True
        return default_port(None, uri_port) and host.lower() == uri_host.lower()
    if host is None or not authority or authority.lower() == host.lower():
        return True
    return _mismatch_allowed(scheme, authority, host)


def _mismatch_allowed(scheme: bytes | None, authority: bytes, host: bytes) -> bool:
    """h1_validate_mismatch_authority(): default ports make different spellings equal."""
    if scheme is None:
        return False
    uri_port = host_port(authority)
    uri_host = authority if uri_port is None else authority[: len(authority) - len(uri_port) - 1]
    port = host_port(host)
    bare = host if port is None else host[: len(host) - len(port) - 1]
    if uri_port is None and port is None:
        return False
    if uri_port is not None and not default_port(scheme, uri_port):
        return False
    if port is not None and not default_port(scheme, port):
        return False
    return uri_host.lower() == bare.lower()
