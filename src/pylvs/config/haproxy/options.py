"""`option`, `timeout`, `balance`, `hash-type`, `cookie`, `stats` and the checks of a proxy
(HAProxy 2.6 configuration §4.2; src/proxy.c `cfg_opts`, `proxy_parse_timeout`,
src/backend.c `backend_parse_balance`, src/tcpcheck.c).

Each is a sub-table of the keyword framework (`option X`, `timeout X`, `stats X`, `tcp-check
X`, `http-check X`): an unknown X is HAProxy's alert.  `no option X` clears an option and
`default option X` returns it to the defaults section's value; removed 1.x options and
directives are refused with HAProxy's message saying what to write instead.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from pylvs.config.errors import Cite
from pylvs.config.haproxy import checkopts
from pylvs.config.haproxy.best_match import option_hint
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.model import Cookie, ForwardFor
from pylvs.config.haproxy.samples import SampleError, parse_sample
from pylvs.config.haproxy.syntax import BACKEND, FRONTEND, has_cap, suggestion, table
from pylvs.config.haproxy.values import lenient, time_ms
from pylvs.config.keywords import Context, Keyword, Table
from pylvs.config.keywords.table import sub_name
from pylvs.config.tree import Statement
from pylvs.sched.haproxy.params import BalanceError, parse_balance, parse_hash_type

P = Keyword[ProxyDraft]

# ---- timeout -----------------------------------------------------------------------------

TIMEOUT_NAMES = {
    "client": "client",
    "server": "server",
    "connect": "connect",
    "check": "check",
    "queue": "queue",
    "http-keep-alive": "http_keep_alive",
    "http-request": "http_request",
    "tunnel": "tunnel",
    "tarpit": "tarpit",
    "client-fin": "client_fin",
    "server-fin": "server_fin",
}


def _timeout(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    name = sub_name(st)
    if not st.args:
        ctx.error(st.loc, f"'timeout {name}' expects an integer value (in milliseconds)")
        return
    value = time_ms(st.args[0], ctx, st.name)
    if value is not None and len(st.args) > 1:  # proxy.c proxy_parse_timeout
        ctx.error(
            st.loc,
            f"'timeout {name}' : unexpected extra argument '{st.args[1].text}' after value"
            f" '{st.args[0].text}'.",
        )
        return
    if value is not None:
        d.timeouts = dataclasses.replace(d.timeouts, **{TIMEOUT_NAMES[name]: value})


def _bad_timeout(st: Statement, ctx: Context, _table: str) -> None:
    got = sub_name(st)
    ctx.error(
        st.loc,
        "'timeout' supports 'client', 'server', 'connect', 'check', 'queue',"
        " 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and"
        f" 'server-fin' (got '{got}')",
    )


TIMEOUTS: Table[ProxyDraft] = table("timeout", {n: Keyword(_timeout) for n in TIMEOUT_NAMES})
TIMEOUTS = Table(
    "timeout",
    TIMEOUTS.keywords,
    dataclasses.replace(TIMEOUTS.syntax, unknown=_bad_timeout),
)

# ---- option ------------------------------------------------------------------------------

FE_OPTIONS = {
    "clitcpka", "contstats", "dontlognull", "http-ignore-probes", "idle-close-on-response",
    "logasap", "accept-invalid-http-request", "dontlog-normal", "log-separate-errors",
    "socket-stats", "http-use-proxy-header", "tcp-smart-accept", "disable-h2-upgrade",
    "h1-case-adjust-bogus-client", "httplog", "tcplog", "httpslog",
}  # fmt: skip
BE_OPTIONS = {
    "abortonclose", "allbackups", "checkcache", "persist", "srvtcpka", "transparent",
    "prefer-last-server", "accept-invalid-http-response", "log-health-checks",
    "tcp-smart-connect", "http-pretend-keepalive", "h1-case-adjust-bogus-server",
    "redispatch", "httpchk", "ssl-hello-chk", "smtpchk", "pgsql-check", "redis-check",
    "mysql-check", "ldap-check", "spop-check", "tcp-check", "external-check",
}  # fmt: skip
ANY_OPTIONS = {
    "http-buffer-request", "originalto", "forwardfor", "httpclose", "http-server-close",
    "http-keep-alive", "nolinger", "splice-request", "splice-response", "splice-auto",
    "independent-streams", "tcpka", "http-no-delay", "http-restrict-req-hdr-names",
}  # fmt: skip
REMOVED = {
    "forceclose": "option 'forceclose' is not supported any more since HAProxy 2.0, please just"
    " remove it, or use 'option httpclose' if absolutely needed.",
    "http-tunnel": "option 'http-tunnel' is not supported any more since HAProxy 2.1, please"
    " just remove it, it shouldn't be needed.",
}
_CHECKS = {"httpchk", "ssl-hello-chk", "smtpchk", "pgsql-check", "redis-check", "mysql-check"}
_CHECKS |= {"ldap-check", "spop-check", "tcp-check", "external-check"}
_LOG_FORMATS = frozenset({"httplog", "tcplog", "httpslog"})
_HTTP_MODES = {"httpclose": "close", "http-server-close": "server-close"}
_HTTP_MODES["http-keep-alive"] = "keep-alive"


def _option(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    words = st.name.split()
    name = words[-1]
    negate = words[0] == "no"
    reset = words[0] == "default"
    if name in checkopts.CHECK_OPTIONS:
        checkopts.check_option(st, ctx, d, name, negate or reset)
        if negate or reset:
            return
    if name in _LOG_FORMATS and (negate or reset):  # cfgparse-listen.c: options with args
        ctx.error(
            st.loc, f"negation/default is not supported for option '{name}'.", cite=Cite.TIGHT
        )
        return
    need = FRONTEND if name in FE_OPTIONS else BACKEND if name in BE_OPTIONS else None
    if name in checkopts.CHECK_OPTIONS:
        need = None  # warned about by check_option, in HAProxy's words
    if name in _LOG_FORMATS and d.kind == "backend":
        # cfgparse-listen.c: said to be ignored, and still kept as the backend's format (which
        # proxy_cfg_ensure_no_http then finds in a tcp backend)
        ctx.warning(
            st.loc, f"backend '{d.name}' : 'option {name}' directive is ignored in backends."
        )
        need = None
    if need is not None and not has_cap(d.kind, need):
        ctx.warning(
            st.loc,
            f"'option {name}' ignored because {d.type_str} '{d.name}' has no {need} capability.",
        )
        return
    opts = d.options
    if reset:
        opts.enabled.pop(name, None)
        opts.args.pop(name, None)
        return
    if name in _HTTP_MODES:
        opts.http_mode = None if negate else _HTTP_MODES[name]
    if name in _CHECKS and not negate:
        for other in _CHECKS:  # one check method per proxy: the last one given
            opts.enabled.pop(other, None)
    opts.enabled[name] = not negate
    opts.args[name] = tuple(w.text for w in st.args)
    opts.where[name] = st.loc
    if not negate:
        _option_args(st, ctx, d, name)


def _option_args(st: Statement, ctx: Context, d: ProxyDraft, name: str) -> None:
    """What the options that take arguments read from them."""
    opts = d.options
    if name == "redispatch" and st.args:
        # cfgparse-listen.c: atol
        opts.redispatch_interval = lenient(st.args[0], ctx, "option redispatch")
    elif name == "forwardfor":
        opts.forwardfor = _forwardfor(st, ctx)
    elif name == "originalto":  # read again by convert_http.py
        address_option_words(st, ctx, name)
    elif name == "http-restrict-req-hdr-names":
        _restrict(st, ctx, d)
    elif name in ("httplog", "tcplog") and st.args and st.args[0].text != "clf":
        ctx.error(st.args[0].loc, f"'option {name}' only supports the 'clf' argument.")


def _restrict(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`option http-restrict-req-hdr-names preserve|delete|reject` (cfgparse-listen.c)."""
    what = "option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option."
    if not st.args:
        ctx.error(st.loc, f"missing parameter. {what}")
    elif st.args[0].text not in ("preserve", "reject", "delete"):
        ctx.error(st.loc, f"invalid parameter '{st.args[0].text}'. {what}")
    elif len(st.args) > 1:
        ctx.error(st.loc, f"'option' cannot handle unexpected argument '{st.args[1].text}'.")
    else:
        return
    d.options.enabled.pop("http-restrict-req-hdr-names", None)
    d.options.args.pop("http-restrict-req-hdr-names", None)


def _forwardfor(st: Statement, ctx: Context) -> ForwardFor | None:
    if not address_option_words(st, ctx, "forwardfor"):
        return None
    args = [w.text for w in st.args]
    ff = ForwardFor()
    i = 0
    while i < len(args):
        if args[i] == "if-none":
            ff = dataclasses.replace(ff, if_none=True)
            i += 1
            continue
        if args[i] == "header":
            ff = dataclasses.replace(ff, header=args[i + 1])
        else:
            ff = dataclasses.replace(ff, except_net=ipaddress.ip_network(args[i + 1], strict=False))
        i += 2
    return ff


def address_option_words(st: Statement, ctx: Context, name: str) -> bool:
    """`option forwardfor|originalto [except NET] [header NAME] [if-none]` checked as
    cfgparse-listen.c walks them (if-none: forwardfor only); False after its complaint."""
    args = [w.text for w in st.args]
    i = 0
    while i < len(args):
        key = args[i]
        if key == "if-none" and name == "forwardfor":
            i += 1
            continue
        if key not in ("except", "header"):
            choices = "'except', 'header' and 'if-none'"
            if name != "forwardfor":
                choices = "'except' and 'header'"
            ctx.error(st.loc, f"'option {name}' only supports optional values: {choices}.")
            return False
        value = args[i + 1] if i + 1 < len(args) else ""
        if key == "except" and not _network(value):
            ctx.error(st.loc, f"'option {name} except' expects <address>[/mask] as argument.")
            return False
        if key == "header" and not value:
            ctx.error(st.loc, f"'option {name} header' expects <header_name> as argument.")
            return False
        i += 2
    return True


def _network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _removed(st: Statement, ctx: Context, _d: ProxyDraft) -> None:
    ctx.error(st.loc, REMOVED[sub_name(st)], cite=Cite.TIGHT)


def _unknown_option(st: Statement, ctx: Context, _table: str) -> None:
    name = sub_name(st)
    hint = option_hint(name)  # cfgparse-listen.c: proxy_find_best_option
    ctx.error(st.loc, f"unknown option '{name}'{hint or '.'}")


_ALL_OPTIONS = FE_OPTIONS | BE_OPTIONS | ANY_OPTIONS
_OPTION_KEYWORDS: dict[str, P] = {name: Keyword(_option) for name in _ALL_OPTIONS}
_OPTION_KEYWORDS.update({name: Keyword(_removed) for name in REMOVED})
OPTIONS: Table[ProxyDraft] = table("option", _OPTION_KEYWORDS)
OPTIONS = Table(
    "option", OPTIONS.keywords, dataclasses.replace(OPTIONS.syntax, unknown=_unknown_option)
)

# ---- balance, hash-type, cookie --------------------------------------------------------------


def balance(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`balance` (src/backend.c backend_parse_balance, read by sched/haproxy/params.py)."""
    words = [w.text for w in st.args]
    try:
        lb = parse_balance(words, d.lb)
    except BalanceError as e:
        ctx.error(st.args[0].loc, str(e))
        return
    sample = None
    if lb.algorithm == "hash":
        try:
            sample = parse_sample(lb.expression)
        except SampleError as e:
            ctx.error(
                st.args[1].loc,
                f"{d.type_str} '{d.name}': failed to parse 'balance hash' expression"
                f" '{lb.expression}' in : {e}.",
            )
            return
    d.lb, d.lb_loc, d.balance_sample = lb, st.loc, sample


def hash_type(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`hash-type` (src/cfgparse-listen.c, read by sched/haproxy/params.py)."""
    try:
        d.lb = parse_hash_type([w.text for w in st.args], d.lb)
    except BalanceError as e:
        ctx.error(st.args[0].loc, str(e))


_COOKIE_FLAGS = {"indirect", "nocache", "postonly", "preserve", "httponly", "secure", "dynamic"}


def cookie(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    if not st.args:
        ctx.error(st.loc, "'cookie' expects <cookie_name> as argument.")
        return
    c = Cookie(st.args[0].text)
    args = list(st.args[1:])
    i = 0
    while i < len(args):
        key = args[i].text
        if key in ("rewrite", "insert", "prefix"):
            c = dataclasses.replace(c, mode=key)
            i += 1
        elif key in _COOKIE_FLAGS:
            c = _cookie_flag(c, key)
            i += 1
        elif key in ("domain", "maxidle", "maxlife", "attr") and i + 1 < len(args):
            v = args[i + 1]
            if key == "domain":
                c = dataclasses.replace(c, domains=(*c.domains, v.text))
            elif key == "attr":
                c = dataclasses.replace(c, attrs=(*c.attrs, v.text))
            else:
                ms = time_ms(v, ctx, f"cookie {key}", unit_ms=1000)
                if ms is None:
                    return
                if key == "maxidle":
                    c = dataclasses.replace(c, maxidle_ms=ms)
                else:
                    c = dataclasses.replace(c, maxlife_ms=ms)
            i += 2
        else:
            ctx.error(
                args[i].loc,
                "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache',"
                " 'postonly', 'domain', 'maxidle', 'maxlife', 'dynamic', 'attr' and 'httponly'"
                f" options (got '{key}').",
            )
            return
    d.cookie = c


def _cookie_flag(c: Cookie, key: str) -> Cookie:
    return Cookie(
        c.name,
        c.mode,
        indirect=c.indirect or key == "indirect",
        nocache=c.nocache or key == "nocache",
        postonly=c.postonly or key == "postonly",
        preserve=c.preserve or key == "preserve",
        httponly=c.httponly or key == "httponly",
        secure=c.secure or key == "secure",
        domains=c.domains,
        maxidle_ms=c.maxidle_ms,
        maxlife_ms=c.maxlife_ms,
        dynamic=c.dynamic or key == "dynamic",
        attrs=c.attrs,
    )


# ---- checks ------------------------------------------------------------------------------

TCP_CHECK = checkopts.rule_keyword("tcp-check")
HTTP_CHECK = checkopts.rule_keyword("http-check")

__all__ = ["OPTIONS", "TIMEOUTS", "balance", "cookie", "hash_type", "suggestion"]
