"""HTTP_GET / SSL_GET blocks and their `url { }` sub-blocks (check/check_http.c).

A url without `path` is dropped, a checker without urls is dropped (both errors at the `}`);
a url with no valid status_code accepts 200-299; `digest` is 32 hex digits; `nb_get_retry` is
the deprecated spelling of `retry`.  `sni_name` and `tls_compliant` come from keepalived 2.3+:
pylvs reads them and warns that keepalived 2.2.7 does not know them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pylvs.config.errors import Location
from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.lvs.checker_common import COMMON, check_conn, need_conn
from pylvs.config.keepalived.lvs.checks import (
    HTTP_DEFAULT_STATUS,
    Checker,
    CheckTiming,
    Connection,
    HttpCheck,
    HttpProtocol,
    Url,
)
from pylvs.config.keepalived.lvs.common import end_loc
from pylvs.config.keepalived.lvs.drafts import CheckerDraft, RealServerDraft
from pylvs.config.keepalived.syntax import table
from pylvs.config.keepalived.words import split_quoted
from pylvs.config.keywords import Block, Context, Keyword, Table
from pylvs.config.keywords.values import boolean, to_int
from pylvs.config.tree import Statement

STATUS_MIN, STATUS_MAX = 100, 599  # check_http.h HTTP_STATUS_CODE_MIN/MAX
_STATUS_RE = re.compile(r"([0-9]{1,9})(?:-([0-9]{1,9}))?\Z")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}\Z")
REGEX_OPTIONS = frozenset(
    {
        "allow_empty_class", "alt_bsux", "auto_callout", "caseless", "dollar_endonly",
        "dotall", "dupnames", "extended", "firstline", "match_unset_backref", "multiline",
        "never_ucp", "never_utf", "no_auto_capture", "no_auto_possess", "no_dotstar_anchor",
        "no_start_optimize", "ucp", "ungreedy", "utf", "never_backslash_c", "alt_circumflex",
        "alt_verbnames", "use_offset_limit",
    }
)  # fmt: skip


@dataclass(slots=True)
class _UrlDraft:
    """A url block of HTTP_GET/SSL_GET as read."""

    loc: Location
    path: str | None = None
    status: list[tuple[int, int]] = field(default_factory=list)
    digest: str | None = None
    virtualhost: str | None = None
    regex: str | None = None
    regex_no_match: bool = False
    regex_options: list[str] = field(default_factory=list)
    regex_min_offset: int = 0
    regex_max_offset: int = 0


def _status(s: Statement, c: Context, u: _UrlDraft) -> None:
    for w in s.args:
        m = _STATUS_RE.match(w.text)
        lo = int(m.group(1)) if m else 0
        hi = int(m.group(2)) if m and m.group(2) else lo
        if not m or not (STATUS_MIN <= lo <= hi <= STATUS_MAX):
            c.error(w.loc, f"Invalid HTTP_GET status code '{w.text}'")
            continue
        u.status.append((lo, hi))


def _digest(s: Statement, c: Context, u: _UrlDraft) -> None:
    text = s.args[0].text
    if u.digest is not None:
        c.error(s.args[0].loc, f"Digest '{text}' is a duplicate")
    elif len(text) != 32:
        c.error(
            s.args[0].loc,
            f"digest '{text}' character length should be 32 rather than {len(text)}",
        )
    elif not _HEX32.match(text):
        c.error(s.args[0].loc, f"Unable to interpret hex digit in '{text}'")
    else:
        u.digest = text.lower()


def _regex(s: Statement, c: Context, u: _UrlDraft) -> None:
    words = split_quoted(s.raw, s.raw_loc or s.loc, c.problems)
    if len(words) != 1:
        c.error(s.loc, "regex missing or too many fields")
        return
    try:
        re.compile(words[0].text)
    except re.error as exc:
        # PCRE2 and Python regexes differ; a pattern Python rejects may still be valid PCRE2
        c.note(words[0].loc, f"regex '{words[0].text}' may be invalid: {exc}")
    u.regex = words[0].text


def _regex_options(s: Statement, c: Context, u: _UrlDraft) -> None:
    for w in s.args:
        if w.text in REGEX_OPTIONS:
            u.regex_options.append(w.text)
        else:
            # keepalived silently skips an unknown option
            c.note(w.loc, f"unknown regex option '{w.text}' - ignoring")


def _offset(attr: str) -> Keyword[_UrlDraft]:
    def handle(s: Statement, c: Context, u: _UrlDraft) -> None:
        text = s.args[0].text if len(s.args) == 1 else ""
        if not (text.isascii() and text.isdigit()):
            c.error(s.loc, f"Invalid or missing {s.name}")
            return
        setattr(u, attr, to_int(text))

    return Keyword(handle)


def _set(attr: str, args: int = 1) -> Keyword[_UrlDraft]:
    def handle(s: Statement, _c: Context, u: _UrlDraft) -> None:
        setattr(u, attr, s.args[0].text if args else True)

    return Keyword(handle, args)


_URL_KEYWORDS: dict[str, Keyword[_UrlDraft]] = {
    "path": _set("path"),
    "digest": Keyword(_digest, 1),
    "status_code": Keyword(_status),
    "virtualhost": _set("virtualhost"),
    "regex": Keyword(_regex),
    "regex_no_match": _set("regex_no_match", 0),
    "regex_options": Keyword(_regex_options),
    "regex_min_offset": _offset("regex_min_offset"),
    "regex_max_offset": _offset("regex_max_offset"),
    "regex_stack": Keyword(lambda _s, _c, _u: None, 2),  # unsupported.py
}
URL = table("url", _URL_KEYWORDS)


def _url(st: Statement, ctx: Context, o: HttpDraft) -> None:
    u = _UrlDraft(loc=st.loc)
    dispatch(st.block or (), ctx, URL, u)
    if u.path is None:
        ctx.error(end_loc(st), "HTTP/SSL_GET checker url has no path - ignoring")
        return
    has_regex_opts = u.regex_options or u.regex_no_match or u.regex_min_offset
    if u.regex is None and (has_regex_opts or u.regex_max_offset):
        ctx.note(end_loc(st), "regex parameters specified without regex")
        u.regex_options, u.regex_no_match = [], False
        u.regex_min_offset = u.regex_max_offset = 0
    # check_http.c: regex_max_offset is stored one beyond the last acceptable position
    max_off = u.regex_max_offset + 1 if u.regex_max_offset else 0
    if max_off and u.regex_min_offset >= max_off:
        ctx.note(end_loc(st), "regex min offset > regex_max_offset - ignoring")
        u.regex_min_offset = max_off = 0
    o.urls.append(
        Url(
            loc=u.loc,
            path=u.path,
            status_codes=tuple(u.status) or HTTP_DEFAULT_STATUS,
            digest=u.digest,
            virtualhost=u.virtualhost,
            regex=u.regex,
            regex_no_match=u.regex_no_match,
            regex_options=tuple(u.regex_options),
            regex_min_offset=u.regex_min_offset,
            regex_max_offset=max_off,
        )
    )


@dataclass(slots=True)
class HttpDraft(CheckerDraft):
    """An HTTP_GET or SSL_GET block as read: its urls and HTTP options."""

    ssl: bool = False
    protocol: HttpProtocol = HttpProtocol.HTTP_1_0
    fast_recovery: bool = False
    enable_sni: bool = False
    sni_name: str | None = None
    tls_compliant: bool = False
    urls: list[Url] = field(default_factory=list)

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        return HttpCheck(
            loc=loc,
            timing=timing,
            conn=need_conn(conn),
            urls=tuple(self.urls),
            ssl=self.ssl,
            virtualhost=self.virtualhost,
            http_protocol=self.protocol,
            fast_recovery=self.fast_recovery,
            enable_sni=self.enable_sni,
            sni_name=self.sni_name,
            tls_compliant=self.tls_compliant,
        )


_PROTOCOLS = {
    "1.0": HttpProtocol.HTTP_1_0,
    "1.1": HttpProtocol.HTTP_1_1,
    "1.0C": HttpProtocol.HTTP_1_0C,
    "1.0c": HttpProtocol.HTTP_1_0C,
}


def _protocol(s: Statement, c: Context, d: HttpDraft) -> None:
    v = s.args[0].text
    if v not in _PROTOCOLS:
        c.error(s.args[0].loc, f"Invalid http_protocol version {v}")
        return
    d.protocol = _PROTOCOLS[v]


def _vhost(s: Statement, _c: Context, d: HttpDraft) -> None:
    d.virtualhost = s.args[0].text


def _flag(attr: str) -> Keyword[HttpDraft]:
    def handle(s: Statement, c: Context, d: HttpDraft) -> None:
        b = boolean(s, c, s.name)
        if b is not None:
            setattr(d, attr, b)

    return Keyword(handle)


def _sni_name(s: Statement, _c: Context, d: HttpDraft) -> None:
    d.sni_name = s.args[0].text


HTTP_TABLE: Table[HttpDraft] = table(
    "HTTP_GET",
    {
        **COMMON,
        "virtualhost": Keyword(_vhost, 1),
        "http_protocol": Keyword(_protocol, 1),
        "enable_sni": _flag("enable_sni"),
        "fast_recovery": _flag("fast_recovery"),
        "tls_compliant": _flag("tls_compliant"),
        "sni_name": Keyword(_sni_name, 1),
        "url": Keyword(_url, block=Block.REQUIRED),
    },
    newer=frozenset({"tls_compliant", "sni_name"}),  # keepalived 2.3
)


def parse_http(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = HttpDraft(
        kind=st.name,
        loc=st.loc,
        end=end_loc(st),
        default_delay_before_retry=3.0,
        ssl=st.name == "SSL_GET",
    )
    dispatch(st.block or (), ctx, HTTP_TABLE, d)
    if not d.urls:
        ctx.error(end_loc(st), "HTTP/SSL_GET checker has no urls specified - ignoring")
        return
    if check_conn(d, rs, ctx, end_loc(st)):
        rs.checkers.append(d)
