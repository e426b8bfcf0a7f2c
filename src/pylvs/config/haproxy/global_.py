"""The `global` section (HAProxy 2.6 configuration §3; src/cfgparse-global.c and the keywords
registered by other files: `stats socket`, `setenv`, `nbthread`, `hard-stop-after`, ...).

Process settings the runtime needs are typed (`model.Global`); tuning and TLS keywords are kept
as written.  `setenv` and its siblings were already applied to the environment while the file
was read (sections.py); here they are checked.  A keyword HAProxy does not know is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.config.errors import Cite, Kind, Location
from pylvs.config.haproxy import lua, ssl_global, ssl_options, unsupported
from pylvs.config.haproxy.addresses import read_bind
from pylvs.config.haproxy.logtargets import read_log
from pylvs.config.haproxy.lua import LuaHost
from pylvs.config.haproxy.model import LogTarget, StatsSocket
from pylvs.config.haproxy.syntax import table
from pylvs.config.haproxy.values import lenient, number, time_ms, time_problem
from pylvs.config.keywords import Context, Keyword, Store, Table, dispatch
from pylvs.config.keywords.table import sub_name
from pylvs.config.listen import parse_listen
from pylvs.config.tree import Statement
from pylvs.model.lua_spec import NO_LUA, LuaSpec
from pylvs.sched.haproxy.cnum import atoi, strtol


@dataclass(slots=True)
class GlobalDraft:
    """`model.Global` while the section is read (the same fields, lists where it has tuples)."""

    daemon: bool = False
    master_worker: bool = False
    maxconn: int | None = None
    ulimit_n: int | None = None
    pidfile: str | None = None
    nbthread: int | None = None
    user: str | None = None
    group: str | None = None
    chroot: str | None = None
    node: str | None = None
    description: str | None = None
    stats_timeout_ms: int | None = None
    stats_maxconn: int | None = None
    cli_proxy: bool = False  # a `stats` keyword made HAProxy's CLI frontend (proxy id 1)
    log_tag: str | None = None
    log_send_hostname: str | None = None  # "": the host's name
    strict_limits: bool = True
    spread_checks: int = 0
    max_spread_checks_ms: int | None = None
    server_state_base: str | None = None
    server_state_file: str | None = None
    hard_stop_after_ms: int | None = None
    localpeer: str | None = None
    quiet: bool = False
    zero_warning: bool = False
    uid: int | None = None
    gid: int | None = None
    grace_ms: int | None = None
    maxconnrate: int | None = None
    maxsessrate: int | None = None
    maxsslrate: int | None = None
    bufsize: int | None = None
    maxrewrite: int | None = None
    nosplice: bool = False  # `nosplice` (or -dS): no kernel splicing
    maxpipes: int | None = None  # `maxpipes`: streams splicing at once (None: maxconn / 4)
    pipesize: int | None = None  # `tune.pipesize` (None: the kernel's)
    http_maxhdr: int | None = None
    http_cookielen: int | None = None
    comp_maxlevel: int = 1
    h1_accept_payload_with_any_method: bool = False
    pp2_never_send_local: bool = False
    variables: list[tuple[str, bool, str, Location]] = field(default_factory=list)
    sockets: list[StatsSocket] = field(default_factory=list)
    logs: list[LogTarget] = field(default_factory=list)
    others: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    pylvs_http: str | None = None  # pylvs's own: the HTTP surface's ADDR:PORT
    lua: LuaSpec = NO_LUA  # lua-load and its siblings (lua.py)
    lua_host: LuaHost | None = None  # runs them while reading, when the caller checks


G = Keyword[GlobalDraft]
_PLAIN = re.compile(r"[+-]?[0-9]+\Z")


def _flag(attr: str, value: bool = True) -> G:
    return Keyword(Store(attr, lambda _s, _c: value))


def _count(attr: str, lo: int = 0, hi: int = 2**31 - 1) -> G:
    return Keyword(Store(attr, lambda st, ctx: _global_number(st, ctx, lo, hi)), 1)


# cfgparse-global.c's words for a value below the range of these
_POSITIVE = ("tune.bufsize", "tune.maxrewrite")


def _global_number(st: Statement, ctx: Context, lo: int, hi: int) -> int | None:
    """cfgparse-global.c reads these with atol: a word that is not a number is its leading
    digits, 0 when there are none; where that is below pylvs's range (`maxconn 0`: HAProxy
    computes it from the ulimit), the default stays, as HAProxy's does."""
    word = st.args[0]
    if _PLAIN.match(word.text) and st.name in _POSITIVE and int(word.text) < lo:
        ctx.error(st.loc, f"'{st.name}' expects a positive integer argument.")
        return None
    if _PLAIN.match(word.text):
        return number(word, ctx, st.name, lo, hi)
    n = lenient(word, ctx, st.name)
    return n if lo <= n <= hi else None


def _text(attr: str) -> G:
    return Keyword(Store(attr, lambda st, _c: " ".join(w.text for w in st.args)), 1)


def _time(attr: str, unit_ms: int = 1) -> G:
    return Keyword(
        Store(attr, lambda st, ctx: time_ms(st.args[0], ctx, st.name, unit_ms=unit_ms)), 1
    )


def _stats(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    name = sub_name(st)
    # Any of them allocates the CLI frontend ("GLOBAL", cli.c cli_alloc_fe), which takes
    # proxy id 1 (haproxy 2.6.12: the first proxy is id 1 without them, 2 with one)
    g.cli_proxy = True
    if name == "socket":
        if not st.args:  # cli.c cli_parse_global
            ctx.error(
                st.loc,
                "'stats socket' in global section expects an address or a path to a UNIX socket",
            )
            return
        bind = read_bind(st, ctx, "stats socket")
        if bind is not None:
            g.sockets.append(StatsSocket(st.loc, bind))
    elif name == "timeout":
        ms = time_ms(st.args[0], ctx, "stats timeout", unit_ms=1000) if st.args else None
        if ms is not None:
            g.stats_timeout_ms = ms
    elif name == "maxconn":
        n = number(st.args[0], ctx, "stats maxconn", 1, 2**31 - 1) if st.args else None
        if n is not None:
            g.stats_maxconn = n
    else:  # bind-process: processes are gone since 2.5; HAProxy takes it silently
        ctx.warning(st.loc, "'stats bind-process' has no effect since HAProxy 2.5", Kind.DEPRECATED)


def _log(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    target = read_log(st, ctx, in_global=True)
    if isinstance(target, LogTarget):
        g.logs.append(target)
    elif target == "no":
        g.logs.clear()


def _send_hostname(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    """`log-send-hostname [NAME]`: the host field of the syslog header (cfgparse-global.c:
    the host's name when NAME is not given; a second line is an alert, not fatal)."""
    if g.log_send_hostname is not None:
        ctx.warning(st.loc, f"'{st.name}' already specified. Continuing.", alert=True)
        return
    g.log_send_hostname = st.args[0].text if st.args else (ctx.host.hostname or "")


def _env(st: Statement, ctx: Context, _g: GlobalDraft) -> None:
    need = 2 if st.name in ("setenv", "presetenv") else 1 if st.name == "unsetenv" else 0
    if len(st.args) < need:
        ctx.error(st.loc, f"'{st.name}' expects {need} argument(s).")


def _spread(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    """cfgparse-global.c: atol, then 0..50."""
    n = lenient(st.args[0], ctx, st.name)
    if not 0 <= n <= 50:
        ctx.error(st.loc, "'spread-checks' needs a positive value in range 0..50.", cite=Cite.TIGHT)
        return
    g.spread_checks = n


def _hard_stop_after(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    """proxy.c proxy_parse_hard_stop_after: parse_time_err's character in its own words."""
    problem = time_problem(st.args[0].text)
    if problem is not None and problem.startswith("unexpected"):
        ctx.error(st.loc, f"{problem} in argument to <{st.name}>.\n")
        return
    g.hard_stop_after_ms = time_ms(st.args[0], ctx, st.name)


def _pylvs_http(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    """pylvs's own keyword: where the HTTP surface listens, `pylvs-http ADDR:PORT`
    (docs/web.md), as keepalived.conf's `pylvs_http`.  Said to be pylvs's own: `haproxy -c`
    stops at it (cfgparse-global.c: "unknown keyword ... in 'global' section")."""
    ctx.warning(
        st.loc,
        "pylvs-http is pylvs's own keyword (docs/web.md); HAProxy 2.6 refuses it: unknown "
        "keyword 'pylvs-http' in 'global' section",
        Kind.EXTENSION,
    )
    word = st.args[0]
    try:
        parse_listen(word.text)
    except ValueError:
        ctx.error(word.loc, f"pylvs-http {word.text}: expected ADDR:PORT ([ADDR]:PORT for IPv6)")
        return
    g.pylvs_http = word.text


def _unsupported(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    """A keyword of the unsupported list: kept as written, said not to be acted on."""
    g.others.append((st.name, tuple(w.text for w in st.args)))
    ctx.warning(st.loc, unsupported.message(st.name, unsupported.GLOBAL[st.name]), Kind.UNSUPPORTED)


_MAX_THREADS = 64  # MAX_THREADS of the haproxy 2.6.12 build compared with (64-bit)


def _nbthread(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    """thread.c cfg_parse_nbthread: strtol, all of the word; then 1..MAX_THREADS."""
    text = st.args[0].text
    value, used = strtol(text)
    if not text or used != len(text):
        ctx.error(st.loc, f"'nbthread' passed a missing or unparsable integer value in '{text}'")
        return
    if not 1 <= value <= _MAX_THREADS:
        ctx.error(st.loc, f"'nbthread' value must be between 1 and {_MAX_THREADS} (was {value})")
        return
    g.nbthread = value
    ctx.warning(st.loc, unsupported.message(st.name, unsupported.GLOBAL[st.name]), Kind.UNSUPPORTED)


def _comp_maxlevel(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    """`tune.comp.maxlevel N` (cfgparse-global.c): 1 to 9, atoi's reading of the word."""
    if len(st.args) > 1:
        ctx.error(st.loc, f"'{st.name}' cannot handle unexpected argument '{st.args[1].text}'.")
        return
    n = atoi(st.args[0].text) if st.args else 0
    if not 1 <= n <= 9:
        ctx.error(st.loc, f"'{st.name}' expects a numeric value between 1 and 9")
        return
    g.comp_maxlevel = n


def _nbproc(st: Statement, ctx: Context, _g: GlobalDraft) -> None:
    ctx.error(
        st.loc,
        "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used"
        " on multi-processor machines if available.",
    )


def _set_var(st: Statement, ctx: Context, g: GlobalDraft) -> None:
    """`set-var NAME EXPR` / `set-var-fmt NAME FMT` (vars.c vars_parse_global_set_var): only
    `proc.` variables, set once at start-up."""
    if len(st.args) < 2:
        ctx.error(st.loc, f"'{st.name}' requires a variable name and an expression")
        return
    name = st.args[0].text
    if not name.startswith("proc."):
        ctx.error(st.args[0].loc, f"'{st.name}': only 'proc' scope is supported at this stage")
        return
    text = " ".join(w.text for w in st.args[1:])
    g.variables.append((name, st.name == "set-var-fmt", text, st.loc))


def _tls(read: ssl_global.Reader) -> Callable[[Statement, Context, GlobalDraft], None]:
    """A TLS keyword of ssl_global.py, kept in `others`."""
    return lambda st, ctx, g: read(st, ctx, g.others)


_KEYWORDS: dict[str, G] = {name: Keyword(_unsupported) for name in unsupported.GLOBAL}
_KEYWORDS.update(
    {
        "daemon": _flag("daemon"),
        "master-worker": _flag("master_worker"),
        "quiet": _flag("quiet"),
        "zero-warning": _flag("zero_warning"),
        "strict-limits": _flag("strict_limits"),
        "maxconn": _count("maxconn", 1),
        "ulimit-n": _count("ulimit_n", 1),
        "nbthread": Keyword(_nbthread, 1),
        "uid": _count("uid"),
        "gid": _count("gid"),
        "pidfile": _text("pidfile"),
        "user": _text("user"),
        "group": _text("group"),
        "chroot": _text("chroot"),
        "node": _text("node"),
        "description": _text("description"),
        "log-tag": _text("log_tag"),
        "log-send-hostname": Keyword(_send_hostname),
        "nbproc": Keyword(_nbproc),
        "grace": _time("grace_ms"),
        "maxconnrate": _count("maxconnrate"),
        "maxsessrate": _count("maxsessrate"),
        "maxsslrate": _count("maxsslrate"),
        "tune.bufsize": _count("bufsize", 1),
        "tune.maxrewrite": _count("maxrewrite"),
        "nosplice": _flag("nosplice"),
        "maxpipes": _count("maxpipes"),
        "tune.pipesize": _count("pipesize"),
        "tune.http.maxhdr": _count("http_maxhdr", 1, 32767),
        "tune.http.cookielen": _count("http_cookielen"),
        "tune.comp.maxlevel": Keyword(_comp_maxlevel),
        "h1-accept-payload-with-any-method": _flag("h1_accept_payload_with_any_method"),
        "pp2-never-send-local": _flag("pp2_never_send_local"),
        "set-var": Keyword(_set_var),
        "set-var-fmt": Keyword(_set_var),
        "localpeer": _text("localpeer"),
        "server-state-base": _text("server_state_base"),
        "server-state-file": _text("server_state_file"),
        "spread-checks": Keyword(_spread, 1),
        "max-spread-checks": _time("max_spread_checks_ms"),
        "hard-stop-after": Keyword(_hard_stop_after, 1),
        "log": Keyword(_log),  # log.c says what is missing
        "pylvs-http": Keyword(_pylvs_http, 1),
        **{name: Keyword(lua.load) for name in ("lua-load", "lua-load-per-thread")},
        "lua-prepend-path": Keyword(lua.prepend_path),
        **{name: Keyword(lua.tune) for name in lua.TUNE_KEYWORDS},
        "ssl-server-verify": Keyword(
            lambda st, c, g: ssl_options.read_global_verify(st, c, g.others)
        ),
        **{name: Keyword(_tls(read)) for name, read in ssl_global.KEYWORDS.items()},
        "setenv": Keyword(_env),
        "presetenv": Keyword(_env),
        "unsetenv": Keyword(_env),
        "resetenv": Keyword(_env),
        "stats": Keyword(
            lambda _s, _c, _g: None,
            sub=table(
                "stats",
                {n: Keyword(_stats) for n in ("socket", "timeout", "maxconn", "bind-process")},
            ),
        ),
    }
)
_NO = table("no", {"strict-limits": _flag("strict_limits", False), "log": Keyword(_log)})
_KEYWORDS["no"] = Keyword(lambda _s, _c, _g: None, sub=_NO)
GLOBAL_TABLE: Table[GlobalDraft] = table("global", _KEYWORDS, draft=GlobalDraft)


def dispatch_global(statements: tuple[Statement, ...], ctx: Context, g: GlobalDraft) -> None:
    """The global section."""
    dispatch(statements, ctx, GLOBAL_TABLE, g)
