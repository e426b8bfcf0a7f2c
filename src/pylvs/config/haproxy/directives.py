"""Proxy directives beside the main ones of proxy.py (HAProxy 2.6, src/cfgparse-listen.c,
src/proxy.c `proxy_parse_*`, src/http_htx.c `proxy_parse_errorfiles`/`http-error`):
`dispatch`, `source`, `transparent`, `persist`, `force-persist`, `ignore-persist`, `monitor
fail`, `server-template`, `declare capture`, `errorfiles`, `http-error`, `rate-limit sessions`,
`retry-on`, `dynamic-cookie-key`; the keywords of config/haproxy/unsupported.py's proxy list;
`bind-process` (no effect since 2.5, as HAProxy warns); and the directives 2.x removed, refused
with HAProxy's message.
"""

from __future__ import annotations

import dataclasses

from pylvs.config.errors import Cite, Kind
from pylvs.config.haproxy import cache, compression, filters, unsupported
from pylvs.config.haproxy.addresses import server_target
from pylvs.config.haproxy.draft import ProxyDraft, ServerDraft
from pylvs.config.haproxy.model import ErrorFilesRef
from pylvs.config.haproxy.replies import ERROR_CODES, ReplyError, parse_reply
from pylvs.config.haproxy.rules import condition
from pylvs.config.haproxy.server import read_server
from pylvs.config.haproxy.syntax import BACKEND, FRONTEND, has_cap, proxy_keyword
from pylvs.config.haproxy.values import env_expand, sa_port, split_host_port
from pylvs.config.keywords import Context, Keyword
from pylvs.config.tree import Statement, Word
from pylvs.sched.haproxy.cnum import atoi, strtol

P = Keyword[ProxyDraft]


def _not_in_defaults(st: Statement, ctx: Context, d: ProxyDraft) -> bool:
    if d.kind == "defaults":
        ctx.error(st.loc, f"'{st.name}' not allowed in 'defaults' section.")
        return True
    return False


def _ignored(st: Statement, ctx: Context, d: ProxyDraft, cap: str, what: str = "") -> bool:
    """cfg_kws keywords: a value for the wrong side is a warning and is not applied."""
    if has_cap(d.kind, cap):
        return False
    ctx.warning(
        st.loc,
        f"{what or st.name} will be ignored because {d.type_str} '{d.name}' has no {cap}"
        " capability",
    )
    return True


def _dispatch(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    target = server_target(st.args[0], ctx, f"dispatch {d.name}")
    if target is not None and target.port is None:
        ctx.error(st.args[0].loc, f"'dispatch' : missing port number in '{st.args[0].text}'.")
        return
    if target is not None:
        d.more = dataclasses.replace(d.more, dispatch=target)


def _source(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    words = [w.text for w in st.args]
    # cfgparse-listen.c: str2sa_range(args[1], PA_O_PORT_OK): its port complaints
    port = sa_port(split_host_port(env_expand(words[0], ctx.env))[1], words[0], mand=False)
    if isinstance(port, str):
        ctx.error(st.loc, f"'source {words[0]}' : {port}")
        return
    i = 1
    while i < len(words):
        if words[i] not in ("usesrc", "interface") or i + 1 >= len(words):
            ctx.error(
                st.loc,
                "'source' expects <addr>[:<port>], and optionally 'usesrc' <addr>, and"
                " 'interface' <name>.",
            )
            return
        i += 2
    d.more = dataclasses.replace(d.more, source=tuple(words))


def _transparent(_st: Statement, _ctx: Context, d: ProxyDraft) -> None:
    d.more = dataclasses.replace(d.more, transparent=True)


def _persist(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    method = st.args[0].text if st.args else ""
    if not method:
        ctx.error(st.loc, "missing persist method.")
        return
    if not method.startswith("rdp-cookie"):
        ctx.error(st.loc, "persist only supports 'rdp-cookie'.")
        return
    name = "msts"  # what HAProxy looks for when no name is given (RDP's mstshash cookie)
    if method[10:11] == "(":
        end = method.find(")", 11)
        if end <= 11:
            ctx.error(st.loc, "persist rdp-cookie(name)' requires an rdp cookie name.")
            return
        name = method[11:end]
    d.more = dataclasses.replace(d.more, persist_rdp_cookie=name)


def _persist_rule(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`force-persist|ignore-persist if|unless COND`."""
    if _not_in_defaults(st, ctx, d):
        return
    if not has_cap(d.kind, BACKEND):
        ctx.warning(
            st.loc,
            f"'{st.name}' ignored because {d.type_str} '{d.name}' has no backend capability.",
        )
    words = list(st.args)
    if not words or words[0].text not in ("if", "unless"):
        ctx.error(st.loc, f"'{st.name}' requires either 'if' or 'unless' followed by a condition.")
        return
    ok, cond = condition(words, ctx, d, f"error detected while parsing a '{st.name}' rule : {{}}.")
    if ok and cond is not None:
        if st.name == "force-persist":
            d.more = dataclasses.replace(d.more, force_persist=(*d.more.force_persist, cond))
        else:
            d.more = dataclasses.replace(d.more, ignore_persist=(*d.more.ignore_persist, cond))


def _monitor(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    if _not_in_defaults(st, ctx, d):
        return
    if not has_cap(d.kind, FRONTEND):
        ctx.warning(
            st.loc, f"'monitor' ignored because {d.type_str} '{d.name}' has no frontend capability."
        )
    words = list(st.args)
    if not words or words[0].text != "fail":
        ctx.error(st.loc, "'monitor' expects 'fail'.")
        return
    if len(words) < 2 or words[1].text not in ("if", "unless"):
        ctx.error(
            st.loc, "'monitor fail' requires either 'if' or 'unless' followed by a condition."
        )
        return
    ok, cond = condition(
        words[1:], ctx, d, "error detected while parsing a 'monitor fail' condition : {}."
    )
    if ok and cond is not None:
        d.more = dataclasses.replace(d.more, monitor_fail=(*d.more.monitor_fail, cond))


def _server_template(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`server-template PREFIX NUM|LOW-HIGH FQDN[:PORT] [options]`: servers PREFIX<n>."""
    ctx = ctx.citing(Cite.SERVER)  # HAProxy's parse_server places its messages so
    if _not_in_defaults(st, ctx, d):
        return
    if not has_cap(d.kind, BACKEND):
        ctx.error(
            st.loc,
            f"'server-template' not allowed because {d.type_str} '{d.name}' has no backend"
            " capability.",
            cite=Cite.SERVER_PARSING,
        )
        return
    if len(st.args) < 3:
        ctx.error(
            st.loc, "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments."
        )
        return
    prefix, span = st.args[0].text, st.args[1].text
    low, high = _template_range(span)
    if low is None or high is None:
        ctx.error(st.args[1].loc, f"Wrong server-template number or range arg '{span}'.")
        return
    rest = st.args[2:]
    for n in range(low, high + 1):
        name = Word(f"{prefix}{n}", st.args[0].loc)
        got = read_server((name, *rest), ctx, d.name, st.keyword)
        if got is None:
            return
        sname, target, options, sid = got
        d.servers = (*d.servers, ServerDraft(st.loc, sname, target, options, sid))  # type: ignore[arg-type]


def _template_range(text: str) -> tuple[int | None, int | None]:
    low_text, dash, high_text = text.partition("-")
    low, used = strtol(low_text)
    if not used or used != len(low_text):
        return None, None
    if not dash:
        return (1, low) if low > 0 else (None, None)
    high, used = strtol(high_text)
    if not used or used != len(high_text) or low < 1 or high < low:
        return None, None
    return low, high


def _declare(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    if d.kind == "defaults":
        ctx.error(st.loc, "'declare' not available in default section")
        return
    if not has_cap(d.kind, FRONTEND):
        ctx.error(st.loc, "'declare' only available in frontend or listen section")
        return
    words = [w.text for w in st.args]
    if not words or words[0] != "capture":
        ctx.error(
            st.loc,
            "'declare' needs a second keyword that specify the type of declaration ('capture')",
        )
        return
    if len(words) < 2 or words[1] not in ("request", "response"):
        ctx.error(st.loc, "'declare capture' requires a direction ('request' or 'response')")
        return
    if len(words) < 3 or words[2] != "len":
        ctx.error(st.loc, "'declare capture' requires a capture length ('len')")
        return
    if len(words) < 4:
        ctx.error(
            st.loc,
            "'declare capture': 'len' requires a numeric value that represents the capture length",
        )
        return
    length, used = strtol(words[3])
    if used != len(words[3]):
        ctx.error(st.loc, f"'declare capture': cannot parse the length '{words[3]}'.")
        return
    if length <= 0:
        ctx.error(st.loc, "length must be > 0")
        return
    d.more = dataclasses.replace(
        d.more, declared_captures=(*d.more.declared_captures, (words[1], length))
    )


def _errorfiles(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`errorfiles NAME [CODE ...]`: the replies of an http-errors section (all, or those)."""
    name = st.args[0].text if st.args else ""
    if not name:
        ctx.error(st.loc, "errorfiles : expects <name> as argument.")
        return
    codes: list[int] = []
    for w in st.args[1:]:
        code = atoi(w.text)
        if code not in ERROR_CODES:
            ctx.error(w.loc, f"errorfiles : status code '{code}' not handled.")
            return
        codes.append(code)
    d.more = dataclasses.replace(
        d.more,
        errorfiles_refs=(*d.more.errorfiles_refs, ErrorFilesRef(st.loc, name, tuple(codes))),
        errors_order=(*d.more.errors_order, "ref"),
    )


def _http_error(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    words = [w.text for w in st.args]
    if not words or words[0] != "status":
        ctx.error(st.loc, "http-error : expects at least a <status> as arguments.")
        return
    try:
        reply, end, warnings = parse_reply(words, 0, 0, ctx.host)
    except ReplyError as e:
        ctx.error(st.loc, f"http-error : {e}")
        return
    for text in warnings:
        ctx.warning(st.loc, text)
    if reply.status not in ERROR_CODES:
        ctx.error(st.loc, f"http-error: status code '{reply.status}' not handled.")
        return
    if end < len(words):
        ctx.error(st.loc, f"http-error : unknown keyword '{words[end]}'.")
        return
    d.more = dataclasses.replace(
        d.more,
        http_errors=(*d.more.http_errors, reply),
        errors_order=(*d.more.errors_order, "reply"),
    )


def _rate_limit(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    words = [w.text for w in st.args]
    if words[0] != "sessions":
        ctx.error(st.loc, f"'rate-limit' only supports 'sessions' (got '{words[0]}')")
        return
    if len(words) < 2:
        ctx.error(
            st.loc, "'rate-limit sessions' expects expects an integer value (in sessions/second)"
        )
        return
    value, used = strtol(words[1])
    if used != len(words[1]):
        bad = words[1][used : used + 1]
        ctx.error(
            st.loc,
            f"'rate-limit sessions' : unexpected character '{bad}' in integer value '{words[1]}'",
        )
        return
    if _ignored(st, ctx, d, FRONTEND, "rate-limit sessions"):
        return
    d.more = dataclasses.replace(d.more, rate_limit_sessions=value)


_RETRY_ON = frozenset(
    {
        "none", "conn-failure", "empty-response", "junk-response", "response-timeout",
        "0rtt-rejected", "401", "403", "404", "408", "425", "500", "501", "502", "503", "504",
        "all-retryable-errors",
    }
)  # fmt: skip


def _retry_on(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    if d.kind == "frontend":
        ctx.error(st.loc, "'retry-on' only available in backend or listen section")
        return
    kinds = tuple(w.text for w in st.args)
    for w in st.args:
        if w.text not in _RETRY_ON:
            ctx.error(w.loc, f"'retry-on': unknown keyword '{w.text}'")
            return
    if "none" in kinds and len(kinds) > 1:
        ctx.error(st.loc, "'retry-on' : 'none' must be the only keyword.")
        return
    d.more = dataclasses.replace(d.more, retry_on=kinds)


def _dynamic_cookie_key(st: Statement, _ctx: Context, d: ProxyDraft) -> None:
    d.more = dataclasses.replace(d.more, dynamic_cookie_key=st.args[0].text)


_WILL_BE_IGNORED = {"max-keep-alive-queue": BACKEND, "clitcpka-cnt": FRONTEND}
_WILL_BE_IGNORED.update({"clitcpka-idle": FRONTEND, "clitcpka-intvl": FRONTEND})
_WILL_BE_IGNORED.update(dict.fromkeys(("srvtcpka-cnt", "srvtcpka-idle", "srvtcpka-intvl"), BACKEND))
_NOT_IN_BACKENDS = ("error-log-format", "log-format-sd")


def _unsupported(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """A keyword of the unsupported list, with HAProxy's own placement rules."""
    name = st.name
    if name == "use-fcgi-app" and (d.kind in ("defaults", "frontend")):
        ctx.error(st.loc, "'use-fcgi-app' only available in backend or listen section")
        return
    if name == "filter" and d.kind == "defaults":
        ctx.error(st.loc, "filter is not allowed in a 'default' section.")
        return
    if name == "filter" and not filters.check(st, ctx, d):
        return
    if name == "filter" and compression.filter_keyword(st, ctx, d):
        return
    if name == "filter" and cache.filter_keyword(st, ctx, d):
        return
    if name in _WILL_BE_IGNORED and _ignored(st, ctx, d, _WILL_BE_IGNORED[name]):
        return
    if name in _NOT_IN_BACKENDS and d.kind == "backend":
        ctx.warning(st.loc, f"backend '{d.name}' : '{name}' directive is ignored in backends.")
        return
    cap = {"max-session-srv-conns": FRONTEND, "http-send-name-header": BACKEND}.get(name)
    if cap is not None and not has_cap(d.kind, cap):
        ctx.warning(
            st.loc, f"'{name}' ignored because {d.type_str} '{d.name}' has no {cap} capability."
        )
    d.more = dataclasses.replace(
        d.more, others=(*d.more.others, (st.name, tuple(w.text for w in st.args)))
    )
    ctx.warning(st.loc, unsupported.message(st.name, unsupported.PROXY[st.name]), Kind.UNSUPPORTED)


def _bind_process(st: Statement, ctx: Context, _d: ProxyDraft) -> None:
    ctx.warning(
        st.loc, "'bind-process' has no effect, is deprecated, and will be removed in version 2.7."
    )


def _removed(message: str) -> P:
    def handler(st: Statement, ctx: Context, _d: ProxyDraft) -> None:
        ctx.error(st.loc, message.format(name=st.name, arg=st.args[0].text if st.args else ""))

    return Keyword(handler)


_REPLACE = (
    "The '{name}' directive is not supported anymore since HAProxy 2.1. Use 'http-request"
    " replace-path', 'http-request replace-uri' or 'http-request replace-header' instead."
)
REMOVED: dict[str, P] = {
    "appsession": _removed("'{name}' is not supported anymore since HAProxy 1.6."),
    "grace": _removed("the '{name}' keyword is not supported any more since HAProxy version 2.5."),
    "monitor-net": _removed(
        "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if"
        " {{ src {arg} }}' instead."
    ),
    "redisp": _removed(
        "keyword '{name}' directive is not supported anymore since HAProxy 2.1. Use 'option"
        " redispatch'."
    ),
    "usesrc": _removed("'usesrc' only allowed after a 'source' statement."),
    "cliexp": _removed(_REPLACE),
    "srvexp": _removed(
        "The '{name}' directive is not supported anymore since HAProxy 2.1. Use 'http-response"
        " replace-header' instead."
    ),
}

DIRECTIVES: dict[str, P] = {
    "dispatch": proxy_keyword(_dispatch, 1, cap=BACKEND, in_defaults=False),
    "source": proxy_keyword(_source, 1, cap=BACKEND),
    "transparent": Keyword(_transparent),
    "persist": Keyword(_persist),
    "force-persist": Keyword(_persist_rule),
    "ignore-persist": Keyword(_persist_rule),
    "monitor": Keyword(_monitor),
    "server-template": Keyword(_server_template),
    "declare": Keyword(_declare),
    "errorfiles": Keyword(_errorfiles),
    "http-error": Keyword(_http_error),
    "rate-limit": Keyword(_rate_limit, 1),
    "retry-on": Keyword(_retry_on, 1),
    "dynamic-cookie-key": proxy_keyword(_dynamic_cookie_key, 1, cap=BACKEND),
    "bind-process": Keyword(_bind_process),
    **REMOVED,
    **{name: Keyword(_unsupported) for name in unsupported.PROXY},
    "compression": Keyword(compression.keyword, 1),
}
