"""HTTP/1 message heads as HAProxy 2.6 keeps them once parsed (its HTX form), and their framing.

A head holds what HAProxy forwards: the start line as received (HAProxy rewrites only the
version on output, see encode.py), header names in lower case (htx_add_header() lowercases
every name, which is why HAProxy 2.x sends `host:` and `content-type:`), values with their
surrounding blanks trimmed and folded lines joined by spaces, and without the fields its parser
drops (a repeated identical Host or Content-Length, the `close`/`keep-alive` tokens of
Connection, Content-Length beside Transfer-Encoding, Upgrade on a request with a body).

`Flag` holds the H1_MF_* bits of include/haproxy/h1.h (plain ints: an enum.IntFlag operation
costs a microsecond, and heads are made on the hot path) so that a `show errors` record can
print them as HAProxy does; `Body` is what the bytes after the head are.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pylvs.sched.base import HttpRequest

Fields = tuple[tuple[bytes, bytes], ...]


class Flag:
    """include/haproxy/h1.h H1_MF_* (the h1m flags `show errors` prints), as plain ints."""

    NONE = 0
    CLEN = 0x1  # content-length present
    CHNK = 0x2  # chunked is the last transfer coding
    RESP = 0x4  # a response
    VER_11 = 0x10  # version 1.1 or above
    CONN_CLO = 0x20  # "connection: close" (or forced close)
    CONN_KAL = 0x40  # "connection: keep-alive"
    CONN_UPG = 0x80  # "connection: upgrade"
    XFER_LEN = 0x100  # the body length can be determined
    XFER_ENC = 0x200  # transfer-encoding present
    NO_PHDR = 0x400  # (parser setting, always on in 2.6)
    HDRS_ONLY = 0x800  # parsing a trailer block
    CLEAN_CONN_HDR = 0x1000  # (parser setting, always on in 2.6)
    METH_CONNECT = 0x2000  # a response to CONNECT
    METH_HEAD = 0x4000  # a response to HEAD
    UPG_WEBSOCKET = 0x8000  # "upgrade: websocket"
    TE_CHUNKED = 0x10000  # "chunked" seen in transfer-encoding
    TE_OTHER = 0x20000  # another transfer coding seen
    # Not an H1_MF_* bit: HTX_SL_F_NORMALIZED_URI, an HTTP/2 request's absolute target made
    # from :scheme and :authority, written in origin form on HTTP/1 (h1_get_uri)
    NORMALIZED_URI = 0x1000000


def flag_names(flags: int) -> list[str]:
    """The names of the bits set in `flags` (for messages and debugging)."""
    return [k for k, v in vars(Flag).items() if k.isupper() and v and flags & v == v]


# The settings mux_h1 gives every message parser it starts (h1s_new).
PARSER_FLAGS = Flag.NO_PHDR | Flag.CLEAN_CONN_HDR


class Body(enum.Enum):
    """What follows a head."""

    NONE = "none"  # nothing: the message ends with its head
    LENGTH = "length"  # `length` bytes (Content-Length)
    CHUNKED = "chunked"  # chunked transfer coding, then trailers
    UNTIL_CLOSE = "until-close"  # a response without a length: everything until EOF
    TUNNEL = "tunnel"  # a 101 or a 2xx to CONNECT: raw bytes both ways from here on


@dataclass(frozen=True, slots=True)
class RequestHead:
    """A parsed request head (start line, fields) and how its body is framed."""

    method: bytes
    target: bytes
    version: bytes
    fields: Fields
    flags: int
    body: Body = Body.NONE
    length: int = 0

    @property
    def version_11(self) -> bool:
        return bool(self.flags & Flag.VER_11)

    @property
    def is_head(self) -> bool:
        return self.method == b"HEAD"

    @property
    def is_connect(self) -> bool:
        return self.method == b"CONNECT"

    @property
    def wants_upgrade(self) -> bool:
        """Connection: upgrade on a bodyless request (HTX_SL_F_CONN_UPG)."""
        return bool(self.flags & Flag.CONN_UPG)

    def field(self, name: bytes) -> bytes | None:
        """The first value of field `name` (lower case), or None."""
        return first_field(self.fields, name)

    def view(self) -> HttpRequest:
        """The request as the balance algorithms and rules read it (sched.base.HttpRequest)."""
        return HttpRequest.of(
            self.method.decode("latin-1"),
            self.target.decode("latin-1"),
            [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self.fields],
            self.version.decode("latin-1"),
        )


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """A parsed response head and how its body is framed (given the request it answers)."""

    version: bytes
    status: int
    code: bytes  # the status as written (HAProxy forwards it as is: "200", "0200")
    reason: bytes
    fields: Fields
    flags: int
    body: Body = Body.NONE
    length: int = 0

    @property
    def version_11(self) -> bool:
        return bool(self.flags & Flag.VER_11)

    @property
    def informational(self) -> bool:
        """An interim response (1xx other than 101): the final one follows."""
        return 100 <= self.status < 200 and self.status != 101

    def field(self, name: bytes) -> bytes | None:
        return first_field(self.fields, name)


def first_field(fields: Fields, name: bytes) -> bytes | None:
    for n, v in fields:
        if n == name:
            return v
    return None
