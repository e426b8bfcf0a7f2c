"""The keyword table of `defaults`, `frontend`, `backend` and `listen` sections (HAProxy 2.6
configuration §4; src/cfgparse-listen.c `cfg_parse_listen`).

Each keyword carries HAProxy's capability rule (`syntax.proxy_keyword`): a frontend keyword in a
backend is ignored with a warning, `server` in a frontend is refused, `bind` is refused in
`defaults`.  Directives HAProxy 2.x removed are refused with its message.  The `stats` keywords
(the stats page) are a sub-table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pylvs.config.errors import Cite, Problems
from pylvs.config.haproxy import options as opt
from pylvs.config.haproxy import rules
from pylvs.config.haproxy.addresses import read_bind
from pylvs.config.haproxy.directives import DIRECTIVES
from pylvs.config.haproxy.draft import ProxyDraft, ServerDraft
from pylvs.config.haproxy.logtargets import read_log
from pylvs.config.haproxy.model import Capture, ErrorFile, LogTarget
from pylvs.config.haproxy.replies import ERROR_CODES, ReplyError, load_errorfile
from pylvs.config.haproxy.server import overlay, read_options, read_server
from pylvs.config.haproxy.syntax import ANY, BACKEND, FRONTEND, proxy_keyword, table
from pylvs.config.haproxy.values import lenient, number, time_ms, time_problem
from pylvs.config.keywords import Context, Keyword, Table
from pylvs.config.keywords.table import sub_name
from pylvs.config.tree import Statement
from pylvs.sched.haproxy.cnum import atoi

P = Keyword[ProxyDraft]


def _mode(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    mode = st.args[0].text
    if mode not in ("tcp", "http", "health"):
        ctx.error(st.args[0].loc, f"unknown proxy mode '{mode}'.")
        return
    if mode == "health":
        ctx.error(
            st.args[0].loc,
            "'mode health' doesn't exist anymore. Please use 'http-request return' or"
            " 'tcp-request connection reject' instead.",
        )
        return
    d.mode = mode


def _bind(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    bind = read_bind(st, ctx, "bind", section=d.kind)
    if bind is not None:
        d.binds = (*d.binds, bind)


def _server(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    got = read_server(st.args, ctx.citing(Cite.SERVER), d.name, st.keyword)
    if got is None:
        return
    name, target, options, sid = got
    used = next((s for s in d.servers if sid is not None and s.id == sid), None)
    if used is not None:  # server.c srv_parse_id, while reading
        ctx.error(
            st.loc,
            f"'server {d.name}/{name}' : 'id' : custom id {sid} already used at"
            f" {used.loc.file}:{used.loc.line} ('server {used.name}').",
            cite=Cite.SERVER,
        )
        return
    for s in d.servers:
        if s.name == name:
            ctx.error(  # check_config_validity's, after reading
                st.loc,
                f"{d.type_str} '{d.name}', another server named '{name}' was already defined at"
                f" line {s.loc.line}, please use distinct names.",
                cite=Cite.LATE,
            )
            return
    draft = ServerDraft(st.loc, name, target, options, sid, d.default_server)  # type: ignore[arg-type]
    d.servers = (*d.servers, draft)


def _default_server(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`default-server OPTIONS`: read as a server line's options, its complaints placed
    "[F:L] : " only (parse_server names no server for it)."""
    who = f"default-server {d.name}"
    where = dataclasses.replace(ctx.citing(Cite.SERVER), problems=Problems())
    got = read_options(st.args, where, who, "default-server", default=True)
    for p in where.problems:
        ctx.problems.add(dataclasses.replace(p, message=p.message.removeprefix(f"'{who}' : ")))
    if got is not None:
        d.default_server = overlay(d.default_server, got[0])


def _int_setter(attr: str, lo: int, hi: int) -> P:
    def handler(st: Statement, ctx: Context, d: ProxyDraft) -> None:
        n = number(st.args[0], ctx, st.name, lo, hi)
        if n is not None:
            setattr(d, attr, n)

    return Keyword(handler, 1)


def _atol_setter(attr: str) -> P:
    """cfgparse-listen.c `maxconn`, `backlog`, `fullconn`, `retries`: atol, unchecked (a
    negative value acts as 0, what pylvs keeps)."""

    def handler(st: Statement, ctx: Context, d: ProxyDraft) -> None:
        n = lenient(st.args[0], ctx, st.name)
        if n < 0:
            ctx.note(st.args[0].loc, f"'{st.name}' {n} acts as 0.")
        setattr(d, attr, max(n, 0))

    return Keyword(handler, 1)


def _word_setter(attr: str) -> P:
    def handler(st: Statement, _ctx: Context, d: ProxyDraft) -> None:
        setattr(d, attr, " ".join(w.text for w in st.args))

    return Keyword(handler, 1)


def _http_reuse(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """cfgparse-listen.c `http-reuse`."""
    if st.args[0].text not in ("never", "safe", "aggressive", "always"):
        ctx.error(st.loc, "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.")
        return
    d.http_reuse = st.args[0].text


def _needs_word(attr: str, missing: str) -> Callable[[Statement, Context, ProxyDraft], None]:
    """A keyword taking one word, and what cfgparse-listen.c says when it is missing."""

    def handler(st: Statement, ctx: Context, d: ProxyDraft) -> None:
        if not st.args:
            ctx.error(st.loc, missing)
            return
        setattr(d, attr, " ".join(w.text for w in st.args))

    return handler


def _load_state(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`load-server-state-from-file global|local|none` (cfgparse-listen.c)."""
    word = st.args[0].text
    if word not in ("global", "local", "none"):
        ctx.error(
            st.loc,
            f"'{st.name}' expects 'global', 'local' or 'none'. Got '{word}'",
        )
        return
    d.load_server_state_from_file = word


def _state_file_name(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`server-state-file-name [use-backend-name | FILE]`: no word or `use-backend-name` is
    the backend's own name."""
    if len(st.args) > 1:
        ctx.error(st.loc, f"'{st.name}' cannot handle unexpected argument '{st.args[1].text}'.")
        return
    word = st.args[0].text if st.args else "use-backend-name"
    d.server_state_file_name = None if word == "use-backend-name" else word


def _id(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    n = number(st.args[0], ctx, "id", -(2**31), 2**31 - 1)
    if n is not None and n <= 0:
        ctx.error(st.args[0].loc, f"{d.type_str} '{d.name}': custom id has to be > 0.")
    elif n is not None:
        d.id = n


def _disabled(st: Statement, _ctx: Context, d: ProxyDraft) -> None:
    d.disabled = st.name == "disabled"


def _capture(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`capture cookie NAME len N`, `capture request|response header NAME len N`
    (cfgparse-listen.c): the length is read with atol and not checked (0 captures nothing;
    pylvs takes a negative one as 0, saying so)."""
    args = [w.text for w in st.args]
    if args[:1] == ["cookie"] and len(args) >= 4 and args[3]:
        kind, name, at = "cookie", args[1], 3
    elif (
        len(args) >= 5
        and args[0] in ("request", "response")
        and args[1] == "header"
        and args[2]
        and args[3] == "len"
        and args[4]
    ):
        kind, name, at = f"{args[0]} header", args[2], 4
    else:  # cfgparse-listen.c's words for each form
        if args[:1] == ["cookie"]:
            said = "'capture' expects 'cookie' <cookie_name> 'len' <len>."
        elif args[:1] in (["request"], ["response"]) and args[1:2] == ["header"]:
            said = f"'capture {args[0]}' expects 'header' <header_name> 'len' <len>."
        else:
            said = "'capture' expects 'cookie' or 'request header' or 'response header'."
        ctx.error(st.loc, said)
        return
    length = lenient(st.args[at], ctx, f"capture {kind} len")
    if length < 0:
        ctx.note(st.args[at].loc, f"'capture {kind}' length {length} is taken as 0.")
    d.captures = (*d.captures, Capture(kind, name, max(length, 0)))


def _errorfile(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`errorfile CODE FILE`, `errorloc`/`errorloc302`/`errorloc303 CODE URL` (src/http_htx.c):
    the file is read at parse time, as HAProxy does, when the host facts can read it."""
    what = "errorfile" if st.name == "errorfile" else st.name
    if len(st.args) < 2:  # http_htx.c: its own words, and a newline of its own
        target = "file" if st.name == "errorfile" else "url"
        ctx.error(st.loc, f"{what} : expects <status_code> and <{target}> as arguments.\n")
        return
    code = atoi(st.args[0].text)
    if code not in ERROR_CODES:
        ctx.error(st.args[0].loc, f"{what} : status code '{st.args[0].text}' not handled.")
        return
    path = st.args[1].text
    if st.name != "errorfile":
        redirect = "303" if st.name == "errorloc303" else "302"
        d.errorloc = (*d.errorloc, (code, redirect, path))
        d.more = dataclasses.replace(d.more, errors_order=(*d.more.errors_order, "loc"))
        return
    try:
        response = load_errorfile(path, ctx.host)
    except ReplyError as e:
        ctx.error(st.args[1].loc, f"errorfile : {e}")
        return
    d.errorfiles = (*d.errorfiles, ErrorFile(code, path, response))
    d.more = dataclasses.replace(d.more, errors_order=(*d.more.errors_order, "file"))


def _log(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    target = read_log(st, ctx)
    if target == "no":
        d.logs = ()
    elif isinstance(target, LogTarget):
        d.logs = (*d.logs, target)


def _log_format(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    if d.kind == "backend":  # cfgparse-listen.c: kept all the same
        ctx.warning(st.loc, f"backend '{d.name}' : 'log-format' directive is ignored in backends.")
    d.log_format, d.log_format_loc = " ".join(w.text for w in st.args), st.loc


def _log_tag(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    if not st.args or not st.args[0].text:
        ctx.error(st.loc, f"'{st.name}' expects a tag for use in syslog.")
        return
    d.log_tag = st.args[0].text


def _legacy(message: str) -> P:
    def handler(st: Statement, ctx: Context, _d: ProxyDraft) -> None:
        ctx.error(st.loc, message.format(name=st.name))

    return Keyword(handler)


_REMOVED_TIMEOUTS = {"contimeout": "connect", "clitimeout": "client", "srvtimeout": "server"}
_REMOVED_REQREP = {
    "reqadd": "http-request add-header' instead", "rspadd": "http-response add-header' instead",
    "reqdel": "http-request del-header' instead", "rspdel": "http-response del-header' ",
    "reqrep": "http-request replace-header' instead",
    "rsprep": "http-response replace-header' instead",
    "reqdeny": "http-request deny' instead", "rspdeny": "http-response deny' instead",
    "reqallow": "http-request allow' instead", "reqtarpit": "http-request tarpit' instead",
    "reqpass": "http-request allow' instead",
    "block": "http-request deny' which uses the exact same syntax",
}  # fmt: skip

# ---- stats ---------------------------------------------------------------------------------


_STATS_NEEDS = {
    "uri": "'uri' needs an URI prefix.",
    "realm": "'realm' needs an realm name.",
    "auth": "'auth' needs a user:password account.",
    "scope": "'scope' needs a proxy name.",
}


def _stats(st: Statement, ctx: Context, d: ProxyDraft) -> None:  # noqa: C901 - one branch per `stats` sub-keyword (cfgparse-listen.c)
    name = sub_name(st)
    s = d.stats
    args = st.args
    if name == "enable":
        s = dataclasses.replace(s, enabled=True)
    elif name == "uri" and args:
        s = dataclasses.replace(s, enabled=True, uri=args[0].text)
    elif name == "realm" and args:
        s = dataclasses.replace(s, enabled=True, realm=" ".join(w.text for w in args))
    elif name in _STATS_NEEDS and not args:  # cfgparse-listen.c's words
        ctx.error(st.loc, _STATS_NEEDS[name])
        return
    elif name == "refresh" and args:
        problem = time_problem(args[0].text, unit_ms=1000)
        if problem is not None and problem.startswith("unexpected"):
            ctx.error(st.loc, f"{problem} in argument to stats refresh interval.", cite=Cite.TIGHT)
            return
        ms = time_ms(args[0], ctx, "stats refresh", unit_ms=1000)
        if ms is None:
            return
        s = dataclasses.replace(s, enabled=True, refresh_ms=ms)
    elif name == "auth" and args:  # uri_auth.c stats_add_auth: no ':' is no password
        user, _, password = args[0].text.partition(":")
        s = dataclasses.replace(s, enabled=True, auth=(*s.auth, (user, password)))
    elif name == "admin" and args and args[0].text in ("if", "unless"):
        ok, cond = rules.condition(
            list(args), ctx, d, "error detected while parsing a 'stats admin' rule : {}."
        )
        if not ok or cond is None:
            return
        s = dataclasses.replace(s, admin=(*s.admin, cond))
    elif name == "hide-version":
        s = dataclasses.replace(s, hide_version=True)
    elif name == "show-legends":
        s = dataclasses.replace(s, show_legends=True)
    elif name in ("show-desc", "show-modules"):
        pass  # what the stats page shows besides; nothing the runtime decides on
    elif name == "show-node":
        s = dataclasses.replace(s, show_node=args[0].text if args else "")
    elif name == "scope" and args:
        s = dataclasses.replace(s, scope=(*s.scope, args[0].text))
    elif name in ("socket", "timeout", "maxconn", "bind-process"):
        ctx.error(st.loc, f"'stats {name}' is only allowed in 'global' section")
        return
    elif name == "http-request":
        return
    else:
        ctx.error(st.loc, f"'stats {name}' expects an argument.")
        return
    d.stats = s


STATS: Table[ProxyDraft] = table(
    "stats",
    {
        n: Keyword(_stats)
        for n in [
            "enable",
            "uri",
            "realm",
            "refresh",
            "auth",
            "admin",
            "hide-version",
            "show-legends",
            "show-desc",
            "show-modules",
            "show-node",
            "scope",
            "socket",
            "timeout",
            "maxconn",
            "bind-process",
            "http-request",
        ]
    },
)


def _check(kind: str) -> P:
    return opt.TCP_CHECK if kind == "tcp-check" else opt.HTTP_CHECK


_KEYWORDS: dict[str, P] = {
    "mode": proxy_keyword(_mode, 1),
    "bind": proxy_keyword(_bind, cap=FRONTEND, in_defaults=False),
    "server": proxy_keyword(_server, cap=BACKEND, fail=True, in_defaults=False, server=True),
    "default-server": proxy_keyword(_default_server, cap=BACKEND, server=True),
    "timeout": Keyword(lambda _s, _c, _d: None, sub=opt.TIMEOUTS),
    "option": Keyword(lambda _s, _c, _d: None, sub=opt.OPTIONS),
    "maxconn": proxy_keyword(
        _atol_setter("maxconn").handler,
        1,
        cap=FRONTEND,
        hint=" Maybe you want 'fullconn' instead ?",
    ),
    "backlog": proxy_keyword(_atol_setter("backlog").handler, 1, cap=FRONTEND),
    "fullconn": proxy_keyword(
        _atol_setter("fullconn").handler,
        1,
        cap=BACKEND,
        hint=" Maybe you want 'maxconn' instead ?",
    ),
    "retries": proxy_keyword(_atol_setter("retries").handler, 1, cap=BACKEND),
    "hash-balance-factor": proxy_keyword(
        _int_setter("hash_balance_factor", 0, 65535).handler, 1, cap=BACKEND
    ),
    "balance": proxy_keyword(opt.balance, 0, cap=BACKEND),
    "hash-type": proxy_keyword(opt.hash_type, 1, cap=BACKEND),
    "cookie": proxy_keyword(opt.cookie, cap=BACKEND),
    "id": proxy_keyword(_id, 1, in_defaults=False),
    "description": proxy_keyword(_word_setter("description").handler, 1),
    "disabled": proxy_keyword(_disabled),
    "enabled": proxy_keyword(_disabled),
    "acl": proxy_keyword(rules.acl, 1, in_defaults=False),
    "tcp-request": proxy_keyword(rules.tcp_request, 1),
    "tcp-response": proxy_keyword(rules.tcp_response, 1),
    "http-request": proxy_keyword(rules.rule_reader("http-request", "http_request")),
    "http-response": proxy_keyword(rules.rule_reader("http-response", "http_response")),
    "http-after-response": proxy_keyword(
        rules.rule_reader("http-after-response", "http_after_response")
    ),
    "redirect": proxy_keyword(rules.redirect, 1, in_defaults=False),
    "use_backend": proxy_keyword(rules.use_backend, 1, cap=FRONTEND, in_defaults=False),
    "use-server": proxy_keyword(rules.use_server, 0, cap=BACKEND, in_defaults=False),
    "default_backend": proxy_keyword(rules.default_backend, 1, cap=FRONTEND),
    "stick-table": proxy_keyword(rules.stick_table, 1, in_defaults=False),
    "stick": proxy_keyword(rules.stick, 1, cap=BACKEND, in_defaults=False),
    "stats": Keyword(lambda _s, _c, _d: None, sub=STATS),
    "capture": proxy_keyword(_capture, 0, cap=FRONTEND),
    "errorfile": proxy_keyword(_errorfile, 0),
    "errorloc": proxy_keyword(_errorfile, 0),
    "errorloc302": proxy_keyword(_errorfile, 0),
    "errorloc303": proxy_keyword(_errorfile, 0),
    "log": proxy_keyword(_log),  # log.c says what is missing
    "log-tag": proxy_keyword(_log_tag),
    "log-format": proxy_keyword(_log_format, 1),
    "unique-id-format": proxy_keyword(_word_setter("unique_id_format").handler, 1),
    "unique-id-header": proxy_keyword(
        _needs_word("unique_id_header", "unique-id-header expects an argument."), 0
    ),
    "monitor-uri": proxy_keyword(
        _needs_word("monitor_uri", "'monitor-uri' expects an URI."), 0, cap=FRONTEND
    ),
    "http-reuse": proxy_keyword(_http_reuse, 1, cap=BACKEND),
    "load-server-state-from-file": proxy_keyword(_load_state, 1, cap=BACKEND),
    "server-state-file-name": proxy_keyword(_state_file_name, 0, cap=BACKEND),
    "tcp-check": proxy_keyword(opt.TCP_CHECK.handler, 1, cap=BACKEND),
    "http-check": proxy_keyword(opt.HTTP_CHECK.handler, 1, cap=BACKEND),
    "redispatch": _legacy(
        "keyword '{name}' directive is not supported anymore since HAProxy 2.1."
        " Use 'option redispatch'."
    ),
    **{
        old: _legacy(
            "the '{name}' directive is not supported anymore since HAProxy 2.1. Use 'timeout "
            + new
            + "'."
        )
        for old, new in _REMOVED_TIMEOUTS.items()
    },
    **{
        old: _legacy(
            "The '{name}' directive is not supported anymore since HAProxy 2.1. Use '" + new + "."
        )
        for old, new in _REMOVED_REQREP.items()
    },
}
_KEYWORDS.update(DIRECTIVES)
_NO = table(
    "no", {"option": Keyword(lambda _s, _c, _d: None, sub=opt.OPTIONS), "log": proxy_keyword(_log)}
)
_KEYWORDS["no"] = Keyword(lambda _s, _c, _d: None, sub=_NO)
_KEYWORDS["default"] = Keyword(
    lambda _s, _c, _d: None,
    sub=table("default", {"option": Keyword(lambda _s, _c, _d: None, sub=opt.OPTIONS)}),
)


def proxy_table(section: str) -> Table[ProxyDraft]:
    return table(section, _KEYWORDS)


TABLES = {s: proxy_table(s) for s in ("defaults", "frontend", "backend", "listen")}

__all__ = ["ANY", "TABLES", "read_log"]
