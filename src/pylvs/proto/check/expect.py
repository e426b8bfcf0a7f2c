"""Matching one expect rule against what a check received (src/tcpcheck.c
tcpcheck_eval_expect and tcpcheck_eval_expect_http).

The verdict is one of: wait for more data, the rule passed, or it failed with a status and a
description.  Waiting follows HAProxy: a string needs at least its own length, `min-recv`
its count, and a mismatch waits for more unless the connection is over, the buffer is full
or `min-recv` was given (then the absence of a match is already conclusive).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.check.custom import Step
from pylvs.proto.check.response import HttpResponse
from pylvs.proto.check.rules import Expect, ExpectKind, HeaderMatch, Match
from pylvs.proto.check.sample import Context, LogFormat, render
from pylvs.proto.check.status import Status


@dataclass(frozen=True, slots=True)
class Failed:
    """The rule failed: `status`, the description the rule gives itself (`info`, empty:
    let the on-error message or the generic text say it), and whether the data matched (the
    generic text says "matched unwanted content" then)."""

    status: Status
    info: bytes = b""
    matched: bool = False


Verdict = Step | Failed


def tcp_expect(rule: Expect, data: bytes, last_read: bool, ctx: Context) -> Verdict:
    """tcpcheck_eval_expect for every kind but CUSTOM (the machine runs those)."""
    kind = rule.kind
    if not last_read:
        if kind in (ExpectKind.STRING, ExpectKind.BINARY) and len(data) < len(rule.data):
            return Step.WAIT
        if rule.min_recv > 0 and len(data) < rule.min_recv:
            return Step.WAIT
    status = rule.error_status or Status.L7RSP
    if kind in (ExpectKind.STRING, ExpectKind.BINARY):
        match = rule.data in data
    elif kind is ExpectKind.STRING_REGEX:
        assert rule.regex is not None
        match = rule.regex.search(data[: 16384 - 1]) is not None
    elif kind is ExpectKind.BINARY_REGEX:
        assert rule.regex is not None
        match = rule.regex.search(data.hex().upper().encode()) is not None
    else:
        assert rule.fmt is not None
        pattern = render(rule.fmt, ctx)
        if not pattern:
            return Failed(Status.L7RSP, b"log-format string evaluated to an empty string")
        if kind is ExpectKind.BINARY_LF:
            try:
                pattern = bytes.fromhex(pattern.decode("latin-1"))
            except ValueError:
                return Failed(
                    Status.L7RSP,
                    b"Failed to parse hexastring resulting of eval of a log-format string",
                )
        if len(data) < len(pattern):
            if not last_read:
                return Step.WAIT
            match = False
        else:
            match = pattern in data
    if not match and not last_read and rule.min_recv == -1:
        return Step.WAIT
    if match != rule.inverse:
        return Step.CONTINUE
    return Failed(status, matched=match)


def http_expect(
    rule: Expect, resp: HttpResponse, last_read: bool, ctx: Context, disable_404: bool
) -> Verdict:
    """tcpcheck_eval_expect_http.  `disable_404`: `http-check disable-on-404` applies and
    the server is not down, so a 404 passes this rule (the run ends "conditionally")."""
    last_read = last_read or resp.full or resp.eom
    if resp.parsing_error:
        return Failed(Status.L7RSP)
    view = resp.view()
    if view is None:
        return Failed(Status.L7RSP) if last_read else Step.WAIT
    if disable_404 and view.status == 404:
        return Step.CONTINUE
    status = rule.error_status
    reason = view.reason if rule.on_error is None else b""
    kind = rule.kind
    if kind is ExpectKind.HTTP_STATUS:
        match = any(lo <= view.status <= hi for lo, hi in rule.codes)
        info = reason
    elif kind is ExpectKind.HTTP_STATUS_REGEX:
        assert rule.regex is not None
        match = rule.regex.search(str(view.status).encode()) is not None
        info = reason
    elif kind is ExpectKind.HTTP_HEADER:
        assert rule.header is not None
        got = _header(rule.header, view.headers, ctx)
        if isinstance(got, Failed):
            return got
        match, info = got, reason
    else:
        return _http_body(rule, resp, last_read, ctx)
    if match != rule.inverse:
        return Step.CONTINUE
    return Failed(status or Status.L7STS, info, match)


def _http_body(rule: Expect, resp: HttpResponse, last_read: bool, ctx: Context) -> Verdict:
    """The body half of tcpcheck_eval_expect_http (string, rstring, string-lf)."""
    status = rule.error_status
    kind = rule.kind
    body = bytes(resp.body)
    if not body:
        if not last_read:
            return Step.WAIT
        no_body = b"HTTP content check could not find a response body"
        return Failed(status or Status.L7RSP, no_body if rule.on_error is None else b"")
    pattern = rule.data
    if kind is ExpectKind.HTTP_BODY_LF:
        assert rule.fmt is not None
        pattern = render(rule.fmt, ctx)
    if not last_read and (
        (kind is not ExpectKind.HTTP_BODY_REGEX and len(body) < len(pattern))
        or (rule.min_recv > 0 and len(body) < rule.min_recv)
    ):
        return Step.WAIT
    if kind is ExpectKind.HTTP_BODY_REGEX:
        assert rule.regex is not None
        match = rule.regex.search(body) is not None
    else:
        match = pattern in body
    if not match and not last_read and rule.min_recv == -1:
        return Step.WAIT
    if match != rule.inverse:
        return Step.CONTINUE
    if rule.on_error is not None:
        info = b""
    elif rule.inverse:
        info = b"HTTP check matched unwanted content"
    else:
        info = b"HTTP content check did not match"
    return Failed(status or Status.L7RSP, info, match)


def _header(
    spec: HeaderMatch, headers: tuple[tuple[bytes, bytes], ...], ctx: Context
) -> bool | Failed:
    """The header part of tcpcheck_eval_expect_http: a header whose name matches and, if a
    value pattern is given, one of whose values (split at commas unless `fhdr`) matches."""
    name = _pattern(spec.name, ctx)
    if isinstance(name, Failed):
        return name
    value = _pattern(spec.value, ctx) if spec.value is not None else None
    if isinstance(value, Failed):
        return value
    full = spec.full or spec.value is None
    for hname, hvalue in headers:
        if not _matches(hname, name, spec.name_match, fold=True):
            continue
        if spec.value is None:
            return True
        values = [hvalue] if full else [v.strip(b" \t") for v in hvalue.split(b",")]
        for v in values:
            if _matches(v, value, spec.value_match, fold=False):
                return True
    return False


def _pattern(p: object, ctx: Context) -> bytes | object | Failed:
    if isinstance(p, LogFormat):
        text = render(p, ctx)
        if not text:
            return Failed(Status.L7RSP, b"log-format string evaluated to an empty string")
        return text
    if isinstance(p, str):
        return p.encode("latin-1", "replace")
    return p


def _matches(subject: bytes, pattern: object, how: Match, *, fold: bool) -> bool:
    if how is Match.REG:
        return pattern.search(subject) is not None  # type: ignore[attr-defined]
    assert isinstance(pattern, bytes)
    if fold:  # header names compare case-insensitively (http_find_*_header)
        subject, pattern = subject.lower(), pattern.lower()
    if how is Match.STR:
        return subject == pattern
    if how is Match.BEG:
        return subject.startswith(pattern)
    if how is Match.END:
        return subject.endswith(pattern)
    return pattern in subject
