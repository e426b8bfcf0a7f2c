"""The hot path of head parsing: llhttp (Node.js's HTTP parser, through httptools) lexes a
complete head, HAProxy's field rules (fields.py) run on what it found.

llhttp in its strict mode accepts less than HAProxy in places (methods it does not know, bare
LF line ends, folded lines, control bytes in values, Content-Length lists, Content-Length beside
Transfer-Encoding) and more in others ('#' in the target), so this path only ever *accepts*:
it returns the lexed head when llhttp took it whole and every HAProxy check that llhttp does not
make passed, and None otherwise; the framer then asks the reference lexer (syntax.py), whose
verdict is final.  The property test in tests/unit/proto/http checks that whatever this path
accepts, the reference lexer accepts identically.

A parser object is reused while the messages it sees end with their head (llhttp then waits
for the next one); one that took a head announcing a body is dropped, since only the head is
fed to it (bodies are framed by the framer, by HAProxy's rules).
"""

from __future__ import annotations

import re

import httptools

from .fields import SPECIAL, FieldState, complete
from .message import PARSER_FLAGS, Flag
from .syntax import version_11

# HAProxy's request-target bytes: %x21-7E except '#' (src/h1.c, H1_MSG_RQURI)
_TARGET = re.compile(rb"[\x21\x22\x24-\x7e]+")
# The empty lines HAProxy lets precede a start line (llhttp also skips a lone CR)
_LEADING = re.compile(rb"(?:\r\n|\n)*[^\r\n]")


class _Collector:
    """The httptools callbacks: remember what the head said."""

    __slots__ = ("begun", "completed", "done", "fields", "reason", "url")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.begun = 0
        self.done = False
        self.completed = False
        self.url = b""
        self.reason = b""
        self.fields: list[tuple[bytes, bytes]] = []

    def on_message_begin(self) -> None:
        self.begun += 1

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name, value))

    def on_headers_complete(self) -> None:
        self.done = True

    def on_message_complete(self) -> None:
        self.completed = True


class FastLexer:
    """llhttp over one connection's heads, in one direction."""

    __slots__ = ("_collector", "_parser", "request")

    def __init__(self, request: bool) -> None:
        self.request = request
        self._collector = _Collector()
        self._parser: httptools.HttpRequestParser | httptools.HttpResponseParser | None = None

    def _take_parser(self) -> httptools.HttpRequestParser | httptools.HttpResponseParser:
        parser = self._parser
        if parser is None:
            if self.request:
                parser = httptools.HttpRequestParser(self._collector)
            else:
                parser = httptools.HttpResponseParser(self._collector)
        self._parser = None
        return parser

    def lex(  # noqa: C901 - the parser's hot path, inlined on purpose (bench/http_parse_bench.py)
        self, head: bytes, max_fields: int
    ) -> tuple[tuple[bytes, bytes, bytes], int, FieldState] | None:
        """(start-line parts, status, fields) of the complete head `head`, or None."""
        if head[:1] in b"\r\n" and _LEADING.match(head) is None:
            return None
        c = self._collector
        c.reset()
        parser = self._take_parser()
        try:
            parser.feed_data(head)
        except httptools.HttpParserUpgrade as up:
            if up.args[0] != len(head):
                return None
        except httptools.HttpParserError:
            return None
        else:
            if c.completed:
                self._parser = parser  # the message ended with its head: llhttp waits anew
        if c.begun != 1 or not c.done:
            return None
        text = parser.get_http_version()
        if text == "0.9":
            return None  # llhttp reads a line without a version as 0.9; HAProxy refuses it
        version = b"HTTP/" + text.encode()
        flags = PARSER_FLAGS
        if version_11(version):
            flags |= Flag.VER_11
        if isinstance(parser, httptools.HttpRequestParser):
            method = parser.get_method()
            if _TARGET.fullmatch(c.url) is None:
                return None
            parts = (method, c.url, version)
            status = 0
            st = FieldState(flags, True)
        else:
            status = parser.get_status_code()
            if status < 100:
                return None  # llhttp reads 3 digits; the status as written is not known
            # h1_parse_msg_hdrs skips every space and tab before the reason (RPCODE_SP)
            parts = (version, b"%d" % status, c.reason.lstrip(b" \t"))
            st = FieldState(flags | Flag.RESP, False)
        kept = st.kept
        for name, value in c.fields:
            lname = name.lower()
            rule = SPECIAL.get(lname)
            if rule is None:
                kept.append((lname, value.rstrip(b" \t")))
            elif not rule(st, lname, value.rstrip(b" \t")):
                return None
        if len(kept) > max_fields:
            return None  # (also covers a field met while the list was full)
        if complete(st, parts[0], parts[1]) is not None:
            return None
        return parts, status, st
