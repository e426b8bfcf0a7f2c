"""The keywords that configure a proxy's health checks: `option tcp-check|httpchk|...`,
`tcp-check ...`, `http-check ...` (src/cfgparse-listen.c, src/tcpcheck.c).

They feed the section's `CheckDraft` (checkset.py) and report as HAProxy does: a check option
in a proxy without a backend is a warning ("'httpchk' ignored because frontend 'f' has no
backend capability.") but is read; `no option httpchk` is refused; a rule's error is
"'tcp-check expect' : <why>.".  What pylvs's check machine does not do is an UNSUPPORTED
warning; words HAProxy accepts and silently drops are a note.
"""

from __future__ import annotations

from pylvs.config.errors import Cite, Kind
from pylvs.config.haproxy import checkset
from pylvs.config.haproxy.checkexpect import parse_send_http
from pylvs.config.haproxy.checkrules import RuleError
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.syntax import BACKEND, has_cap
from pylvs.config.keywords import Context, Keyword
from pylvs.config.tree import Statement
from pylvs.proto.check.rules import HttpSend

CHECK_OPTIONS = frozenset(
    {"httpchk", "ssl-hello-chk", "smtpchk", "pgsql-check", "redis-check", "mysql-check"}
    | {"ldap-check", "spop-check", "tcp-check", "external-check"}
)
TCP_CHECK_ACTIONS = checkset.TCP_ACTIONS
HTTP_CHECK_ACTIONS = ("comment", "connect", "disable-on-404", "expect", "send", "send-state")


def _cap(st: Statement, ctx: Context, d: ProxyDraft, what: str) -> None:
    """warnifnotcap(PR_CAP_BE): a warning, and the line is still read."""
    if not has_cap(d.kind, BACKEND):
        ctx.warning(
            st.loc, f"'{what}' ignored because {d.type_str} '{d.name}' has no backend capability."
        )


def check_option(st: Statement, ctx: Context, d: ProxyDraft, name: str, negate: bool) -> None:
    """`option NAME ...` for the check options (negation and `default` are refused)."""
    if negate:
        ctx.error(
            st.loc, f"negation/default is not supported for option '{name}'.", cite=Cite.TIGHT
        )
        return
    _cap(st, ctx, d, name)
    args = [w.text for w in st.args]
    c = d.checks
    if name == "tcp-check":
        if args:
            ctx.error(st.loc, f"'option tcp-check' cannot handle unexpected argument '{args[0]}'.")
            return
        checkset.option_tcp_check(c)
    elif name == "httpchk":
        request = httpchk_request(st, ctx)
        if request is not None:
            err = checkset.option_httpchk(c, request)
            if err is not None:
                ctx.error(st.loc, f"'option httpchk' : {err}.")
    elif name == "external-check":
        c.kind = "external-check"
    else:
        got = checkset.protocol_ruleset(name, args)
        if isinstance(got, str):
            ctx.error(st.loc, got)
            return
        checkset.option_protocol(c, got)


def httpchk_request(st: Statement, ctx: Context) -> HttpSend | None:
    """`option httpchk [<method>] [<uri>] [<version>]` (proxy_parse_httpchk_req): one word is
    the URI; headers and a body hidden after the version are 1.x's way, still read with a
    warning."""
    words = [w.text for w in st.args]
    if len(words) > 3:
        ctx.error(st.loc, f"'option httpchk' cannot handle unexpected argument '{words[3]}'.")
        return None
    method = uri = version = None
    if len(words) == 1:
        uri = words[0]
    elif words:
        method, uri = words[0], words[1]
        version = words[2] if len(words) > 2 else None
    headers: tuple[tuple[str, object], ...] = ()
    body = None
    if version is not None and "\r\n" in version:
        version, _, rest = version.partition("\r\n")
        hdrs, _, body_text = rest.partition("\r\n\r\n")
        body = body_text or None
        ctx.warning(
            st.loc,
            "'option httpchk' : hiding headers or body at the end of the version string is"
            " deprecated. Please, consider to use 'http-check send' directive instead.",
        )
        parsed = _hidden_headers(hdrs, st, ctx)
        if parsed is None:
            return None
        headers = parsed
    return HttpSend(
        method=method,
        uri=uri,
        version=version,
        headers=headers,  # type: ignore[arg-type]
        body=body,
        from_option=True,
    )


def _hidden_headers(
    text: str, st: Statement, ctx: Context
) -> tuple[tuple[str, object], ...] | None:
    """The `Name: value` lines after the version, as http-check send's `hdr` would give."""
    args = ["send"]
    for line in (x for x in text.split("\r\n") if x):
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            ctx.error(st.loc, f"'option httpchk' : unable to parse the request '{text}\r\n\r\n'.")
            return None
        args += ["hdr", name, value.strip(" \t")]
    try:
        parsed = parse_send_http(args)
    except RuleError as e:
        ctx.error(st.loc, f"'option httpchk' : {e}.")
        return None
    assert isinstance(parsed.rule, HttpSend)
    return parsed.rule.headers


def check_rule(st: Statement, ctx: Context, d: ProxyDraft, kind: str) -> None:
    """`tcp-check ACTION ...` / `http-check ACTION ...`."""
    word = st.args[0]
    action = word.text.partition("(")[0]
    actions = TCP_CHECK_ACTIONS if kind == "tcp-check" else HTTP_CHECK_ACTIONS
    if action not in actions and action not in ("set-var", "set-var-fmt", "unset-var"):
        listed = "'comment', 'connect', 'send', 'send-binary', 'expect'"
        if kind == "http-check":
            listed = "'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect'"
        ctx.error(
            word.loc,
            f"'{kind}' only supports {listed}, 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'."
            f" but got '{word.text}'",
        )
        return
    args = [w.text for w in st.args]
    line = checkset.tcp_check_line if kind == "tcp-check" else checkset.http_check_line
    out = line(d.checks, args)
    if out.error is not None:
        ctx.error(st.loc, out.error.split("\n")[0])
        return
    for what in out.unsupported:
        ctx.warning(
            st.loc,
            f"'{kind} {args[0]}' : '{what}' is not implemented by pylvs's health checks;"
            " the check runs without it.",
            Kind.UNSUPPORTED,
        )
    if out.ignored:
        ctx.note(
            st.loc,
            f"'{kind} {args[0]}' : HAProxy ignores the words after the expression"
            f" ({' '.join(out.ignored)}); so does pylvs.",
        )


def rule_keyword(kind: str) -> Keyword[ProxyDraft]:
    def handler(st: Statement, ctx: Context, d: ProxyDraft) -> None:
        check_rule(st, ctx, d, kind)

    return Keyword(handler, 1)
