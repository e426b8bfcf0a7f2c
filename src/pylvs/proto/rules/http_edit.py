"""The HTTP actions that edit a message: headers and the start line (src/http_act.c
http_action_set_header, http_action_replace_header, http_action_del_header,
http_action_set_req_line, http_action_replace_uri, action_http_set_status,
http_action_normalize_uri; src/http_htx.c http_replace_req_*; src/http_ana.c
http_replace_hdrs; HAProxy 2.6).

`set-header` builds its value before removing the old fields (so `%[req.hdr(x)]` still sees
them), `replace-header` matches a regex against each whole field value and
`replace-value` against each comma-separated value; a match replaces the whole value by
the replacement with its `\\N` references filled (tools.c exp_replace).  `replace-path`,
`replace-pathq` and `replace-uri` do the same on the path, the path with its query, or the
target.  A rewrite that does not fit (the message's `room`) is a failed rewrite: counted,
and an error (500 for requests, 502 for responses) unless `strict-mode off`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pylvs.proto.rules.commands import LogFailedRewrite, SendEarlyHint
from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.rules.logfmt import LogFormat
from pylvs.proto.rules.replies import reason
from pylvs.proto.sample.message import HttpMessage, find_value_end, uri_parts


def message(x: Exec) -> HttpMessage | None:
    """The message the running rule set edits."""
    s = x.stream
    return s.response if x.rule_set in ("http-response", "http-after-response") else s.request


def failed_rewrite(x: Exec) -> Ret:
    """http_act.c fail_rewrite: the frontend counts it, the backend once it is assigned
    (SF_BE_ASSIGNED: after the switching rules), the server whose response it was."""
    txn = x.txn
    txn.failed_rewrites += 1
    if txn.backend is not None:
        txn.failed_rewrites_be += 1
    if x.stream.server is not None and x.rule_set in ("http-response", "http-after-response"):
        txn.failed_rewrites_srv += 1
    x.emit(LogFailedRewrite(x.proxy))
    response = x.rule_set in ("http-response", "http-after-response")
    return Ret.ERR if (txn.strict_res if response else txn.strict) else Ret.CONT


def exp_replace(template: bytes, m: re.Match[bytes]) -> bytes | None:
    """tools.c exp_replace: `\\0`..`\\9` are groups (nothing when unset), `\\xHH` a byte,
    any other `\\c` the character c; None (a failed rewrite) for a template ending in a
    backslash."""
    out = bytearray()
    i, n = 0, len(template)
    groups = m.re.groups
    while i < n:
        c = template[i]
        i += 1
        if c != 0x5C:
            out.append(c)
            continue
        if i >= n:
            return None
        nxt = template[i]
        if 0x30 <= nxt <= 0x39:
            num = nxt - 0x30
            if num <= groups and m.group(num) is not None:
                out += m.group(num)
            i += 1
        elif nxt == 0x78:
            digits = template[i + 1 : i + 3].upper()
            if len(digits) < 2:
                return None
            hi, lo = (d - 0x30 - (7 if d > 0x39 else 0) for d in digits)
            out.append(((hi << 4) + lo) & 0xFF)
            i += 3
        else:
            out.append(nxt)
            i += 1
    return bytes(out)


class _RewriteError(Exception):
    pass


def _replaced(template: bytes, m: re.Match[bytes]) -> bytes:
    out = exp_replace(template, m)
    if out is None:
        raise _RewriteError
    return out


@dataclass(frozen=True, slots=True)
class SetHeader:
    """`set-header` (replace=True) and `add-header`."""

    name: bytes
    value: LogFormat
    replace: bool

    def run(self, x: Exec) -> Ret:
        msg = message(x)
        if msg is None:
            return Ret.CONT
        value = self.value.build(x.stream)
        ok = msg.set(self.name, value) if self.replace else msg.add(self.name, value)
        return Ret.CONT if ok else failed_rewrite(x)


@dataclass(frozen=True, slots=True)
class EarlyHint:
    """`early-hint NAME FMT`: a field of a 103 response sent before the final one.  A 103
    is started when none is pending and sent once the next rule is not an unconditional
    early-hint (http_action_early_hint, as 2.6.12 behaves); only HTTP/1.1 clients get
    one."""

    name: bytes
    value: LogFormat

    def run(self, x: Exec) -> Ret:
        req = x.stream.request
        if req is None or req.version < b"HTTP/1.1":
            return Ret.CONT
        field = (self.name.lower(), self.value.build(x.stream))
        x.txn.early_hints.append(field)
        nxt = x.next_rule
        if nxt is None or not isinstance(nxt.action, EarlyHint) or nxt.cond is not None:
            x.emit(SendEarlyHint(tuple(x.txn.early_hints)))
            x.txn.early_hints.clear()
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class DelHeader:
    """`del-header NAME [-m str|beg|end|sub|reg]` (names compare without case except with
    `reg`, which HAProxy runs as written)."""

    name: bytes
    method: str = "str"
    regex: re.Pattern[bytes] | None = None

    def matches(self, field: bytes) -> bool:
        name = self.name.lower()
        if self.method == "str":
            return field == name
        if self.method == "beg":
            return field.startswith(name)
        if self.method == "end":
            return field.endswith(name)
        if self.method == "sub":
            return name in field
        return self.regex is not None and self.regex.search(field) is not None

    def run(self, x: Exec) -> Ret:
        msg = message(x)
        if msg is not None:
            msg.delete(self.matches)
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class ReplaceHeader:
    """`replace-header NAME REGEX FMT` (full=True) and `replace-value`."""

    name: bytes
    regex: re.Pattern[bytes]
    replacement: LogFormat
    full: bool

    def run(self, x: Exec) -> Ret:
        msg = message(x)
        if msg is None:
            return Ret.CONT
        template = self.replacement.build(x.stream)
        wanted = self.name.lower()
        for index, (name, value) in enumerate(list(msg.fields)):
            if name != wanted:
                continue
            try:
                new = self._rewrite(value, template)
            except _RewriteError:
                return failed_rewrite(x)
            if new is not None and new != value and not msg.replace_at(index, new):
                return failed_rewrite(x)
        return Ret.CONT

    def _rewrite(self, value: bytes, template: bytes) -> bytes | None:
        if self.full:
            m = self.regex.search(value)
            return None if m is None else _replaced(template, m)
        out = bytearray()
        last = 0
        for start, end, vstart, vend in value_spans(value):
            m = self.regex.search(value[vstart:vend])
            if m is None:
                continue
            # http_replace_header_value replaces the value with the blanks around it
            out += value[last:start] + _replaced(template, m)
            last = end
        return None if not last else bytes(out + value[last:])


def value_spans(value: bytes) -> list[tuple[int, int, int, int]]:
    """Each comma-separated value of a field as __http_find_header walks it: (start, end)
    with the blanks around it, (vstart, vend) without them."""
    spans = []
    i, n = 0, len(value)
    while True:
        start = i
        while i < n and value[i] in (0x20, 0x09):
            i += 1
        vstart = i
        end = find_value_end(value, i)
        vend = end
        while vend > vstart and value[vend - 1] in (0x20, 0x09):
            vend -= 1
        spans.append((start, end, vstart, vend))
        if end >= n:
            return spans
        i = end + 1


def _path_span(uri: bytes) -> tuple[int, int, int]:
    """(start of the path, end of the path without query, end of the path with query) in
    `uri`; the whole target when it has no path (http_replace_req_path)."""
    path = uri_parts(uri)[2]
    start = 0 if path is None else len(uri) - len(path)
    cut = uri.find(b"?", start)
    return start, (len(uri) if cut < 0 else cut), len(uri)


def replace_path(uri: bytes, new: bytes, with_query: bool) -> bytes:
    start, end, total = _path_span(uri)
    return uri[:start] + new + uri[(total if with_query else end) :]


def replace_query(uri: bytes, query: bytes) -> bytes:
    """http_replace_req_query with `query` starting with the '?' set-query prepends."""
    cut = uri.find(b"?")
    if cut >= 0:
        return uri[: cut + 1] + query[1:]
    return uri + query if len(query) > 1 else uri


def update_host(msg: HttpMessage, uri: bytes) -> None:
    """http_update_host (src/http_htx.c): an absolute target's authority becomes the value
    of every Host field, each where it is (http_replace_header_value: not moved to the end,
    as set-header would); a request without one gets none."""
    scheme, authority, _ = uri_parts(uri)
    if scheme is None or authority is None:
        return
    host = authority[authority.rfind(b"@") + 1 :]
    for i, (name, _value) in enumerate(msg.fields):
        if name == b"host":
            msg.replace_at(i, host)


@dataclass(frozen=True, slots=True)
class SetStartLine:
    """`set-method`, `set-path`, `set-pathq`, `set-query`, `set-uri`."""

    what: str  # "method" | "path" | "pathq" | "query" | "uri"
    value: LogFormat

    def run(self, x: Exec) -> Ret:
        msg = x.stream.request
        if msg is None:
            return Ret.CONT
        value = self.value.build(x.stream)
        if self.what == "method":
            ok = msg.set_start(method=value)
        elif self.what in ("path", "pathq"):
            ok = msg.set_start(uri=replace_path(msg.uri, value, self.what == "pathq"))
        elif self.what == "query":
            ok = msg.set_start(uri=replace_query(msg.uri, b"?" + value))
        else:
            ok = msg.set_start(uri=value)
            if ok:
                update_host(msg, value)
        return Ret.CONT if ok else failed_rewrite(x)


@dataclass(frozen=True, slots=True)
class ReplaceStartLine:
    """`replace-path`, `replace-pathq`, `replace-uri REGEX FMT`."""

    what: str  # "path" | "pathq" | "uri"
    regex: re.Pattern[bytes]
    replacement: LogFormat

    def run(self, x: Exec) -> Ret:
        msg = x.stream.request
        if msg is None:
            return Ret.CONT
        uri = msg.uri
        if self.what == "uri":
            subject = uri
        else:
            start, end, total = _path_span(uri)
            subject = uri[start : (total if self.what == "pathq" else end)]
        if not subject:
            return Ret.CONT
        m = self.regex.search(subject)
        if m is None:
            return Ret.CONT
        new = exp_replace(self.replacement.build(x.stream), m)
        if new is None:
            return failed_rewrite(x)
        if self.what == "uri":
            ok = msg.set_start(uri=new)
            if ok:
                update_host(msg, new)
        else:
            ok = msg.set_start(uri=replace_path(uri, new, self.what == "pathq"))
        return Ret.CONT if ok else failed_rewrite(x)


@dataclass(frozen=True, slots=True)
class SetStatus:
    """`set-status CODE [reason TEXT]` (http_res_set_status)."""

    status: int
    reason: bytes | None = None

    def run(self, x: Exec) -> Ret:
        msg = x.stream.response
        if msg is None:
            return Ret.CONT
        text = self.reason if self.reason is not None else reason(self.status)
        if not msg.set_start(status=self.status, reason=text):
            return failed_rewrite(x)
        x.stream.status = self.status
        return Ret.CONT
