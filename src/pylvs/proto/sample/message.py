"""The HTTP message the rules read and edit: a start line and a header list, as HTX holds them.

HAProxy 2.6 keeps a parsed message as HTX blocks: one start line (method, target, version for
a request; version, status, reason for a response) and one block per header field, its name
in lower case (htx_add_header lowercases), its value with the surrounding blanks trimmed.
Fetches read it (src/http_fetch.c through src/http_htx.c http_find_header) and actions edit
it in place (src/http_htx.c http_add_header, http_replace_header_value, ...).

`values(name)` is what `hdr()` sees: every occurrence split at the commas that are not
inside double quotes, each part trimmed of spaces and tabs (http_find_hdr_value_end);
`full_values(name)` is `fhdr()`: whole field values.  Names compare without case.

A message may have a `room`: how many bytes its HTX form may still grow (the buffer's HTX
size less what the message and its buffered body already use: reading stops
`tune.maxrewrite` short of the end, which is what rewrites grow into).  An edit that
would go past it fails and leaves the message as it was, as htx_add_header and
htx_replace_blk_value fail on a full buffer; the rule then counts a failed rewrite (and,
in strict mode, answers 500).  None means no limit.  The driver that owns the buffer sets it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Field = tuple[bytes, bytes]

HTX_BLK = 8  # sizeof(struct htx_blk): every block's overhead
HTX_SL = 20  # sizeof(struct htx_sl) without its strings


def find_value_end(value: bytes, start: int) -> int:
    """http.c http_find_hdr_value_end: the next comma outside double quotes (or the end)."""
    quoted = pair = False
    for i in range(start, len(value)):
        c = value[i]
        if pair:
            pair = False
        elif quoted:
            if c == 0x5C:
                pair = True
            elif c == 0x22:
                quoted = False
        elif c == 0x22:
            quoted = True
        elif c == 0x2C:
            return i
    return len(value)


def split_values(value: bytes) -> list[bytes]:
    """The comma-separated values of one field value as __http_find_header walks them."""
    if 0x2C not in value:
        return [value.strip(b" \t")]
    out: list[bytes] = []
    i, n, first = 0, len(value), True
    while True:
        if not first:
            if i >= n:
                break
            if value[i] == 0x2C:
                i += 1
        first = False
        while i < n and value[i] in (0x20, 0x09):
            i += 1
        end = find_value_end(value, i)
        j = end
        while j > i and value[j - 1] in (0x20, 0x09):
            j -= 1
        out.append(value[i:j])
        i = end
    return out


class HttpMessage:
    """A request or response head, editable in place (see the module doc)."""

    __slots__ = ("fields", "method", "reason", "request", "room", "status", "uri", "version")

    def __init__(
        self,
        *,
        request: bool,
        fields: Sequence[Field] = (),
        method: bytes = b"",
        uri: bytes = b"",
        version: bytes = b"HTTP/1.1",
        status: int = 0,
        reason: bytes = b"",
        room: int | None = None,
    ) -> None:
        self.request = request
        self.method = method
        self.uri = uri
        self.version = version
        self.status = status
        self.reason = reason
        self.fields: list[Field] = [(n.lower(), v) for n, v in fields]
        self.room = room

    @classmethod
    def make_request(
        cls, method: bytes, uri: bytes, fields: Sequence[Field] = (), version: bytes = b"HTTP/1.1"
    ) -> HttpMessage:
        return cls(request=True, method=method, uri=uri, version=version, fields=fields)

    @classmethod
    def make_response(
        cls,
        status: int,
        reason: bytes = b"",
        fields: Sequence[Field] = (),
        version: bytes = b"HTTP/1.1",
    ) -> HttpMessage:
        return cls(request=False, status=status, reason=reason, version=version, fields=fields)

    def copy(self) -> HttpMessage:
        out = HttpMessage(request=self.request, room=self.room)
        out.method, out.uri, out.version = self.method, self.uri, self.version
        out.status, out.reason = self.status, self.reason
        out.fields = list(self.fields)
        return out

    # -- reading ------------------------------------------------------------------------

    def values(self, name: bytes) -> list[bytes]:
        """Every comma-separated value of the fields called `name` (hdr()); an empty name
        means every field."""
        wanted = name.lower()
        out: list[bytes] = []
        for n, v in self.fields:
            if not wanted or n == wanted:
                out.extend(split_values(v))
        return out

    def full_values(self, name: bytes) -> list[bytes]:
        """Every whole value of the fields called `name` (fhdr()), without the blanks
        around it (__http_find_header trims both ends of a full value too)."""
        wanted = name.lower()
        return [v.strip(b" \t") for n, v in self.fields if not wanted or n == wanted]

    def names(self) -> list[bytes]:
        return [n for n, _ in self.fields]

    def first(self, name: bytes) -> bytes | None:
        wanted = name.lower()
        for n, v in self.fields:
            if n == wanted:
                return v
        return None

    # -- size accounting ---------------------------------------------------------------

    def _fits(self, growth: int) -> bool:
        if self.room is None or growth <= 0:
            if self.room is not None:
                self.room -= growth
            return True
        if growth > self.room:
            return False
        self.room -= growth
        return True

    def start_line_size(self) -> int:
        if self.request:
            return HTX_BLK + HTX_SL + len(self.method) + len(self.uri) + len(self.version)
        return HTX_BLK + HTX_SL + len(self.version) + 3 + len(self.reason)

    # -- editing (each returns False when the message has no room left) ----------------

    def add(self, name: bytes, value: bytes) -> bool:
        """http_add_header: a new field at the end of the list."""
        if not self._fits(HTX_BLK + len(name) + len(value)):
            return False
        self.fields.append((name.lower(), value))
        return True

    def delete(self, match: Callable[[bytes], bool]) -> None:
        """Remove every field whose name `match`es (del-header)."""
        kept = [f for f in self.fields if not match(f[0])]
        freed = sum(HTX_BLK + len(n) + len(v) for n, v in self.fields if match(n))
        self.fields = kept
        if self.room is not None:
            self.room += freed

    def set(self, name: bytes, value: bytes) -> bool:
        """set-header: remove every `name` field, then add one."""
        wanted = name.lower()
        old = [(n, v) for n, v in self.fields if n == wanted]
        freed = sum(HTX_BLK + len(n) + len(v) for n, v in old)
        if not self._fits(HTX_BLK + len(name) + len(value) - freed):
            return False
        self.fields = [f for f in self.fields if f[0] != wanted]
        self.fields.append((wanted, value))
        return True

    def replace_at(self, index: int, value: bytes) -> bool:
        """A field's whole value replaced (replace-header, replace-value)."""
        name, old = self.fields[index]
        if not self._fits(len(value) - len(old)):
            return False
        self.fields[index] = (name, value)
        return True

    def set_start(
        self,
        *,
        method: bytes | None = None,
        uri: bytes | None = None,
        status: int | None = None,
        reason: bytes | None = None,
    ) -> bool:
        """Rewrite parts of the start line (http_replace_req_meth/uri, res status)."""
        before = self.start_line_size()
        saved = (self.method, self.uri, self.status, self.reason)
        if method is not None:
            self.method = method
        if uri is not None:
            self.uri = uri
        if status is not None:
            self.status = status
        if reason is not None:
            self.reason = reason
        if not self._fits(self.start_line_size() - before):
            self.method, self.uri, self.status, self.reason = saved
            return False
        return True

    def __repr__(self) -> str:
        line = (
            f"{self.method!r} {self.uri!r} {self.version!r}"
            if self.request
            else f"{self.version!r} {self.status} {self.reason!r}"
        )
        return f"HttpMessage({line}, {self.fields!r})"


# -- the request target (src/http.c http_uri_parser, http_parse_path) -----------------------


def uri_parts(uri: bytes) -> tuple[bytes | None, bytes | None, bytes | None]:
    """(scheme with "://", authority, path with query) of a request target, None for the
    parts it does not have: origin form has only a path, "*" and "" have nothing, the
    authority form of CONNECT has only an authority."""
    if not uri or uri[:1] == b"*":
        return None, None, None
    if uri[:1] == b"/":
        return None, None, uri
    i = 0
    scheme = None
    if uri[:1].isalpha():
        i = 1
        while i < len(uri) and (uri[i : i + 1].isalnum() or uri[i : i + 1] in (b"+", b"-", b".")):
            i += 1
        if uri[i : i + 3] == b"://":
            scheme = uri[: i + 3]
            i += 3
        else:
            i = 0
    if scheme is None:
        return None, uri, None  # authority form: no path
    slash = uri.find(b"/", i)
    authority = uri[i:] if slash < 0 else uri[i:slash]
    path = None if slash < 0 else uri[slash:]
    return scheme, authority, path


def uri_path(uri: bytes) -> bytes | None:
    """The path and query of a target (http_parse_path), None when it has none."""
    return uri_parts(uri)[2]


def authority_host(authority: bytes) -> bytes:
    """http_parse_authority(parser, no_userinfo=1): the authority after any `user@`."""
    at = authority.rfind(b"@")
    return authority[at + 1 :] if at >= 0 else authority
