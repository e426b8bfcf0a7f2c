"""`tcp-check expect` / `http-check expect` and `http-check send`, read as HAProxy 2.6 reads
them (src/tcpcheck.c parse_tcpcheck_expect, parse_tcpcheck_send_http).

An expect has one pattern (string, rstring, binary, rbinary, string-lf, binary-lf for TCP;
status, rstatus, hdr, fhdr, string, rstring, string-lf for HTTP), `!` to invert it, and
options (min-recv, comment, on-success, on-error, ok-status, error-status, tout-status,
status-code).  Regexes compile as PCRE does for HAProxy (case-sensitive, except header names).
"""

from __future__ import annotations

import re

from pylvs.config.haproxy.checkrules import Parsed, RuleError, _binary, _expr, _lf
from pylvs.config.haproxy.pcre_words import pcre2_error
from pylvs.proto.check.rules import Expect, ExpectKind, HeaderMatch, HttpSend, Match
from pylvs.proto.check.sample import LogFormat
from pylvs.proto.check.status import ERROR_STATUSES, OK_STATUSES, TIMEOUT_STATUSES

_TCP_PATTERNS = {
    "string": ExpectKind.STRING,
    "rstring": ExpectKind.STRING_REGEX,
    "binary": ExpectKind.BINARY,
    "rbinary": ExpectKind.BINARY_REGEX,
    "string-lf": ExpectKind.STRING_LF,
    "binary-lf": ExpectKind.BINARY_LF,
}
_HTTP_PATTERNS = {
    "string": ExpectKind.HTTP_BODY,
    "rstring": ExpectKind.HTTP_BODY_REGEX,
    "string-lf": ExpectKind.HTTP_BODY_LF,
    "status": ExpectKind.HTTP_STATUS,
    "rstatus": ExpectKind.HTTP_STATUS_REGEX,
}
_BAD_HTTP = (
    "'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status',"
    " '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{}' as argument."
)
_BAD_TCP = (
    "'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf'"
    "'[!]rbinary', '[!]binary-lf' or comment but got '{}' as argument."
)
_ANY_PATTERN = ("string", "rstring", "string-lf")
_TCP_ONLY = ("binary", "rbinary", "binary-lf")
_HTTP_ONLY = ("status", "rstatus", "hdr", "fhdr")
_OPTIONS = ("comment", "on-success", "on-error", "ok-status", "error-status", "tout-status")


def _regex(pattern: str, case: bool = True) -> re.Pattern[bytes]:
    try:
        return re.compile(pattern.encode("latin-1"), 0 if case else re.IGNORECASE)
    except re.error as e:
        said, at = pcre2_error(pattern, e)
        raise RuleError(f"regex '{pattern}' is invalid (error={said}, erroffset={at})") from None


class _Expect:
    """The state of parse_tcpcheck_expect's argument loop."""

    def __init__(self, http: bool) -> None:
        self.http = http
        self.kind: ExpectKind | None = None
        self.pattern = ""
        self.inverse = False
        self.opts: dict[str, object] = {}
        self.min_recv = -1
        self.header: tuple[bool, str, str, Match, str | None, str, Match] | None = None
        self.unsupported: list[str] = []


def parse_expect(args: list[str], http: bool) -> Parsed:
    if len(args) < 2 or not args[1]:
        raise RuleError("expects at least a matching pattern as arguments")
    st = _Expect(http)
    i = 1
    while i < len(args):
        in_pattern = False
        word = args[i]
        while word.startswith("!"):  # [!] inverts the pattern that follows
            in_pattern = True
            st.inverse = not st.inverse
            word = word[1:]
        if in_pattern and not word:
            i += 1
            word = args[i] if i < len(args) else ""
        i = _one(st, args, i, word, in_pattern)
    return _build(st)


def _one(st: _Expect, args: list[str], i: int, word: str, in_pattern: bool) -> int:
    """One argument of the loop (and its values); where the next one starts."""
    value = args[i + 1] if i + 1 < len(args) else ""
    if word in ("min-recv", "custom", *_OPTIONS, "status-code") and in_pattern:
        raise RuleError(f"[!] not supported with '{word}'")
    if word == "min-recv":
        if not value:
            raise RuleError(f"'{word}' expects a integer as argument")
        n = _atol(value)
        if n < -1 or n > 2**31 - 1:
            raise RuleError(f"'{word}' expects -1 or an integer from 0 to INT_MAX")
        st.min_recv = n
        return i + 2
    patterns = _HTTP_PATTERNS if st.http else _TCP_PATTERNS
    if word in _ANY_PATTERN or word in _TCP_ONLY or word in _HTTP_ONLY:
        if (word in _TCP_ONLY and st.http) or (word in _HTTP_ONLY and not st.http):
            raise RuleError((_BAD_HTTP if st.http else _BAD_TCP).format(word))
        if st.kind is not None:
            raise RuleError("only on pattern expected")
        if word in ("hdr", "fhdr"):
            return _header(st, args, i, word)
        st.kind = patterns[word]
        if not value:
            raise RuleError(f"'{word}' expects a <pattern> as argument")
        st.pattern = value
        return i + 2
    if word == "custom":
        if st.kind is not None:
            raise RuleError("only on pattern expected")
        st.kind = ExpectKind.CUSTOM
        return i + 1
    if word in _OPTIONS or word == "status-code":
        return _option(st, word, value, i)
    raise RuleError((_BAD_HTTP if st.http else _BAD_TCP).format(word))


def _option(st: _Expect, word: str, value: str, i: int) -> int:
    if not value:
        what = "an expression" if word == "status-code" else "a string"
        raise RuleError(f"'{word}' expects {what} as argument")
    if word == "comment":
        st.opts["comment"] = value
    elif word in ("on-success", "on-error"):
        st.opts[word.replace("-", "_")] = _lf(value, st.unsupported, value)
    elif word == "status-code":
        st.opts["status_code"] = _expr(value, "status-code", st.unsupported)
    else:
        table, attr, allowed = {
            "ok-status": (OK_STATUSES, "ok_status", "'L4OK', 'L6OK', 'L7OK' or 'L7OKC'"),
            "error-status": (
                ERROR_STATUSES,
                "error_status",
                "'L4CON', 'L6RSP', 'L7RSP' or 'L7STS'",
            ),
            "tout-status": (TIMEOUT_STATUSES, "timeout_status", "'L4TOUT', 'L6TOUT' or 'L7TOUT'"),
        }[word]
        status = table.get(value.upper())
        if status is None:
            raise RuleError(f"'{word}' only supports {allowed} status (got '{value}').")
        st.opts[attr] = status
    return i + 2


def _header(st: _Expect, args: list[str], i: int, word: str) -> int:
    """`[!] hdr|fhdr name|name-lf [-m M] PAT [value|value-lf [-m M] PAT]`."""
    st.kind = ExpectKind.HTTP_HEADER
    full = word == "fhdr"
    a = args + [""] * 6
    if not a[i + 1] or not a[i + 2] or a[i + 1] not in ("name", "name-lf"):
        raise RuleError(
            f"'{word}' expects at the name keyword as first argument followed by a pattern"
        )
    name_lf = a[i + 1] == "name-lf"
    i += 2
    name_match, i = _match(word, a, i, name_lf)
    npat = a[i]
    if a[i + 1] not in ("value", "value-lf"):
        st.header = (full, npat, "lf" if name_lf else "", name_match, None, "", Match.STR)
        return i + 1
    value_lf = a[i + 1] == "value-lf"
    vmatch = Match.STR
    if a[i + 2] == "-m":
        vmatch, _ = _match(word, a, i + 2, value_lf)
        i += 2
    if not a[i + 2]:
        raise RuleError(f"'{word}' expect a pattern with the value keyword")
    vpat = a[i + 2]
    nlf, vlf = "lf" if name_lf else "", "lf" if value_lf else ""
    st.header = (full, npat, nlf, name_match, vpat, vlf, vmatch)
    return i + 3


def _match(word: str, a: list[str], i: int, lf: bool) -> tuple[Match, int]:
    if a[i] != "-m":
        return Match.STR, i
    method = a[i + 1]
    if not method:
        raise RuleError(
            f"'{word}' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')"
        )
    try:
        m = Match(method)
    except ValueError:
        raise RuleError(
            f"'{word}' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '{method}')"
        ) from None
    if m is Match.REG and lf:
        raise RuleError(
            f"'{word}': log-format string is not supported with a regex matching method"
        )
    return m, i + 2


def _atol(text: str) -> int:
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def _codes(pattern: str) -> tuple[tuple[int, int], ...]:
    """The list of status codes and ranges of `expect status` ("200-399,404")."""
    out = []
    p = 0
    while True:
        m = re.match(r"\d*", pattern[p:])
        assert m is not None
        c1 = c2 = int(m.group() or 0)
        p += m.end()
        if pattern[p : p + 1] == "-":
            m = re.match(r"\d*", pattern[p + 1 :])
            assert m is not None
            c2 = int(m.group() or 0)
            p += 1 + m.end()
        if c1 > c2:
            raise RuleError(f"invalid range of status codes '{pattern}'")
        out.append((c1, c2))
        if p >= len(pattern):
            return tuple(out)
        if pattern[p] != ",":
            raise RuleError(f"invalid character '{pattern[p]}' in the list of status codes")
        p += 1


def _build(st: _Expect) -> Parsed:
    kind, pattern = st.kind, st.pattern
    if kind is None:
        raise RuleError("pattern not found")
    fields: dict[str, object] = dict(st.opts)
    fields.update(kind=kind, inverse=st.inverse, min_recv=st.min_recv)
    if kind is ExpectKind.HTTP_STATUS:
        fields["codes"] = _codes(pattern)
    elif kind in (ExpectKind.STRING, ExpectKind.HTTP_BODY):
        fields["data"] = pattern.encode("latin-1")
    elif kind is ExpectKind.BINARY:
        try:
            fields["data"] = _binary(pattern)
        except ValueError as e:
            raise RuleError(f"invalid binary string ({e})") from None
    elif kind in (
        ExpectKind.STRING_REGEX,
        ExpectKind.BINARY_REGEX,
        ExpectKind.HTTP_STATUS_REGEX,
        ExpectKind.HTTP_BODY_REGEX,
    ):
        fields["regex"] = _regex(pattern)
    elif kind in (ExpectKind.STRING_LF, ExpectKind.BINARY_LF, ExpectKind.HTTP_BODY_LF):
        fields["fmt"] = _lf(pattern, st.unsupported, pattern)
    elif kind is ExpectKind.HTTP_HEADER:
        assert st.header is not None
        fields["header"] = _header_match(st.header, st.unsupported)
    return Parsed(Expect(**fields), st.unsupported)  # type: ignore[arg-type]


def _header_match(
    spec: tuple[bool, str, str, Match, str | None, str, Match], unsupported: list[str]
) -> HeaderMatch:
    full, npat, nlf, nmatch, vpat, vlf, vmatch = spec
    name: str | LogFormat | re.Pattern[bytes] = npat
    if nmatch is Match.REG:
        name = _regex(npat, case=False)
    elif nlf:
        name = _lf(npat, unsupported, npat)
    value: str | LogFormat | re.Pattern[bytes] | None = vpat
    if vpat is not None:
        if vmatch is Match.REG:
            value = _regex(vpat)
        elif vlf:
            value = _lf(vpat, unsupported, npat)
    return HeaderMatch(name, nmatch, value, vmatch, full)


_SEND_WORDS = ("meth", "uri", "uri-lf", "ver", "body", "body-lf", "comment")


def parse_send_http(args: list[str]) -> Parsed:
    """`http-check send [meth M] [uri U|uri-lf F] [ver V] [hdr N V]... [body B|body-lf F]`."""
    fields: dict[str, object] = {}
    headers: list[tuple[str, LogFormat]] = []
    unsupported: list[str] = []
    host: str | None = None
    i = 1
    while i < len(args):
        word = args[i]
        if word == "hdr":
            if i + 2 >= len(args) or not args[i + 1] or not args[i + 2]:
                raise RuleError("'hdr' expects <name> and <value> as arguments")
            name, value = args[i + 1], args[i + 2]
            if name.lower() == "host":
                if host is not None:
                    raise RuleError(f"'{name}' header already defined (previous value is '{host}')")
                host = value
            if name.lower() not in ("content-length", "transfer-encoding"):
                headers.append((name, _lf(value, unsupported, value)))
            i += 3
            continue
        if word not in _SEND_WORDS:
            raise RuleError(
                "expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf'"
                f" but got '{word}' as argument."
            )
        if i + 1 >= len(args) or not args[i + 1]:
            raise RuleError(f"'{word}' expects a string as argument.")
        value = args[i + 1]
        if word == "meth":
            fields["method"] = value
        elif word in ("uri", "uri-lf"):
            lf = _lf(value, unsupported, value) if word == "uri-lf" else None
            fields["uri"], fields["uri_fmt"] = (None, lf) if lf is not None else (value, None)
        elif word == "ver":
            fields["version"] = value
        elif word in ("body", "body-lf"):
            lf = _lf(value, unsupported, value) if word == "body-lf" else None
            fields["body"], fields["body_fmt"] = (None, lf) if lf is not None else (value, None)
        else:
            fields["comment"] = value
        i += 2
    return Parsed(HttpSend(headers=tuple(headers), **fields), unsupported)  # type: ignore[arg-type]
