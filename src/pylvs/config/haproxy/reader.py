"""Read a haproxy.cfg into a `HaproxyConfig` (pure: the text and the environment are given).

`sections.read_sections` splits the text into sections; each is read by its keyword table
into a draft: `global` (global_.py), `defaults` and the proxies (proxy.py; a proxy's draft
starts as a copy of the defaults it inherits from: the last `defaults` above it, or the one it
names with `from`), `peers` and `userlist` (others.py).  `post.py` then applies HAProxy's
whole-file checks (src/cfgparse.c `check_config_validity`).  The legacy `listen NAME ADDR:PORT`
of HAProxy 1.x, which 2.6 refuses, is read as `listen NAME` + `bind ADDR:PORT` with a warning
that says so.  Nothing here raises on bad input: every problem is in `HaproxyResult.problems`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pylvs.config.errors import Cite, Kind, Location, Problems
from pylvs.config.haproxy import cache, lua, others, post, resolvers
from pylvs.config.haproxy.addresses import bind_endpoints
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.global_ import GlobalDraft, dispatch_global
from pylvs.config.haproxy.model import (
    Bind,
    HaproxyConfig,
    HttpErrors,
    KeptSection,
    Peers,
    Userlist,
)
from pylvs.config.haproxy.proxy import TABLES
from pylvs.config.haproxy.sections import read_sections
from pylvs.config.keywords import Context, HostFacts, dispatch
from pylvs.config.tree import Statement
from pylvs.model.cache import CacheSpec
from pylvs.model.resolvers import ResolversSpec

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


@dataclass(frozen=True)
class HaproxyResult:
    config: HaproxyConfig
    problems: Problems = field(default_factory=Problems)
    # problems[:read] came from reading the files (HAProxy's readcfgfile), the rest from the
    # whole-file checks (check_config_validity), which HAProxy skips after a reading error
    read: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems.has_errors()


@dataclass
class _State:
    ctx: Context
    glob: GlobalDraft = field(default_factory=GlobalDraft)
    defaults: list[ProxyDraft] = field(default_factory=list)
    last_defaults: ProxyDraft | None = None
    proxies: list[ProxyDraft] = field(default_factory=list)
    peers: list[Peers] = field(default_factory=list)
    userlists: list[Userlist] = field(default_factory=list)
    http_errors: list[HttpErrors] = field(default_factory=list)
    kept: list[KeptSection] = field(default_factory=list)
    resolvers: list[ResolversSpec] = field(default_factory=list)
    caches: list[CacheSpec] = field(default_factory=list)
    # The kinds of proxies ("frontend", "backend") inheriting each defaults section with rules.
    rule_users: dict[int, set[str]] = field(default_factory=dict)


def load_text(
    text: str,
    filename: str,
    *,
    env: Mapping[str, str] | None = None,
    host: HostFacts | None = None,
) -> HaproxyResult:
    """Read haproxy.cfg `text`; `filename` is used in locations, `env` for `${VAR}`."""
    return load_texts([(text, filename)], env=env, host=host)


def load_texts(
    files: Sequence[tuple[str, str]],
    *,
    env: Mapping[str, str] | None = None,
    host: HostFacts | None = None,
) -> HaproxyResult:
    """Read several files as one configuration, in order, as `haproxy -f A -f B` does: each
    file's last section ends with it; defaults, setenv and the rest carry over.  `files` are
    (text, filename) pairs."""
    problems = Problems()
    environment = dict(env or {})
    ctx = Context(problems=problems, host=host or HostFacts(), env=environment)
    read = 0
    try:
        with lua.reading(checked=ctx.host.lua is not None):
            config, read = _read(files, ctx, environment)
    except Exception as exc:  # a reader bug must still end as a reported problem
        where = files[0][1] if files else "-"
        problems.error(Location(where, 1, 1), f"internal error while reading: {exc!r}")
        config = HaproxyConfig()
    config = dataclasses.replace(config, environment=tuple(sorted(environment.items())))
    return HaproxyResult(config, problems, read)


def _read(
    files: Sequence[tuple[str, str]], ctx: Context, environment: dict[str, str]
) -> tuple[HaproxyConfig, int]:
    """The sections of every file, then the whole configuration's checks."""
    state = _State(ctx)
    for text, filename in files:
        for section in read_sections(text, filename, environment, ctx.problems):
            _section(section, state)
    read = len(ctx.problems)
    config = post.finish(
        state.glob,
        state.proxies,
        state.peers,
        state.userlists,
        ctx,
        http_errors=state.http_errors,
        kept=state.kept,
    )
    _check_defaults(state, config)
    names = {c.name for c in state.caches}
    for p in config.proxies:
        cache.check_filters(p, ctx, names)
    config = dataclasses.replace(config, caches=tuple(state.caches))
    sections = resolvers.check_servers(state.resolvers, config.proxies, ctx)
    config = dataclasses.replace(config, resolvers=tuple(sections))
    return config, read


def _check_defaults(state: _State, config: HaproxyConfig) -> None:
    """The rules of named defaults sections resolve in the section's own context
    (compile_rules.check_defaults; startup/default_rules.vtc h15, h16)."""
    named = [d for d in state.defaults if d.name and d.defines_rules]
    if not named:
        return
    # here, not at the top: the rules compiler is only needed for such sections, and a
    # configuration `haproxy -c` refuses while reading never needs it (start-up time)
    from pylvs.config.haproxy.compile_rules import check_defaults

    scratch = Context(problems=Problems(), host=state.ctx.host)  # said once, for the proxies
    sections = [post.proxy_of(d, scratch) for d in named]
    for loc, message, cite in check_defaults(config, sections):
        state.ctx.error(loc, message, cite=cite)


def _section(st: Statement, state: _State) -> None:
    ctx = state.ctx
    kind = st.name
    if kind == "global":
        dispatch_global(st.block or (), ctx, state.glob)
    elif kind in ("defaults", "frontend", "backend", "listen"):
        _proxy(st, state)
    elif kind == "peers":
        peers = others.read_peers(st, ctx)
        if peers is not None:
            state.peers.append(peers)
    elif kind == "userlist":
        users = others.read_userlist(st, ctx)
        if users is not None:
            state.userlists.append(users)
    elif kind == "resolvers":
        found = resolvers.read_resolvers(st, ctx, state.resolvers)
        if found is not None:
            state.resolvers.append(found)
    elif kind == "cache":
        found_cache = cache.read_cache(st, ctx, state.caches)
        if found_cache is not None:
            state.caches.append(found_cache)
    elif kind == "http-errors":
        errors = others.read_http_errors(st, ctx, state.http_errors)
        if errors is not None:
            state.http_errors.append(errors)
    else:
        section = others.read_kept_section(st, ctx)
        if section is not None:
            state.kept.append(section)


def _proxy(st: Statement, state: _State) -> None:
    ctx = state.ctx
    kind = st.name
    args = list(st.args)
    name = args[0].text if args else ""
    if kind != "defaults" and not name:
        ctx.error(st.loc, f"'{kind}' expects <name> as argument.")
        return
    bad = next((c for c in name if c not in _NAME_CHARS), None)
    if bad is not None:  # HAProxy says so and reads the section all the same
        ctx.error(args[0].loc, f"character '{bad}' is not permitted in '{kind}' name '{name}'.")
    legacy: list[Bind] = []
    parent_name: str | None = None
    rest = args[1:] if kind != "defaults" or (args and args[0].text != "from") else args
    if kind == "defaults" and args and args[0].text == "from":
        name = ""
    if len(rest) >= 2 and rest[0].text == "from":
        parent_name = rest[1].text
        rest = rest[2:]
    if rest:
        if kind not in {"listen", "frontend"} or parent_name is not None:
            ctx.error(rest[0].loc, f"'{kind}' cannot handle unexpected argument '{rest[0].text}'.")
            return
        bind = _legacy_bind(st, rest[0], name, ctx)
        if bind is None:
            return
        legacy.append(bind)
    parent = _parent(st, state, kind, name, parent_name)
    if parent is False:
        return
    if isinstance(parent, ProxyDraft) and parent.defines_rules:
        _rules_inheritance(st, state, kind, parent)
    base = parent if isinstance(parent, ProxyDraft) else ProxyDraft("defaults", "", st.loc)
    d = base.inherit(kind, name, st.loc, parent.name if isinstance(parent, ProxyDraft) else None)
    if kind == "defaults":
        d.kind = "defaults"
    d.binds = tuple(legacy)
    dispatch(st.block or (), ctx, TABLES[kind], d)
    if kind == "defaults":
        state.defaults.append(d)
        state.last_defaults = d
    else:
        state.proxies.append(d)


def _parent(
    st: Statement, state: _State, kind: str, name: str, wanted: str | None
) -> ProxyDraft | bool | None:
    """The defaults a section inherits from (None: HAProxy's own; False: not found)."""
    if wanted is None:
        return None if kind == "defaults" else state.last_defaults
    found = [dft for dft in state.defaults if dft.name == wanted]
    if not found:
        word = "proxy" if kind == "listen" else kind  # proxy.c proxy_cap_str
        state.ctx.error(
            st.loc, f"defaults section '{wanted}' not found for {word} '{name}'.", abort=True
        )
        return False
    return found[-1]


def _rules_inheritance(st: Statement, state: _State, kind: str, parent: ProxyDraft) -> None:
    """Who may inherit a defaults section with TCP/HTTP rules (cfgparse-listen.c)."""
    at = f"(defaults section at {parent.loc.file}:{parent.loc.line})"
    users = state.rule_users.setdefault(id(parent), set())
    if kind == "defaults":
        msg = (
            "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules"
            f" {at}."
        )
    elif kind == "listen":
        msg = "a listen section cannot inherit from a defaults section defining TCP/HTTP rules."
    elif users - {kind}:
        msg = (
            "frontends and backends cannot inherit from the same defaults section if it defines"
            f" TCP/HTTP rules {at}."
        )
    elif kind == "backend" and (parent.tcp_request_connection or parent.tcp_request_session):
        msg = (
            "a backend section cannot inherit from a defaults section defining 'tcp-request"
            f" connection' or 'tcp-request session' rules {at}."
        )
    elif kind == "frontend" and parent.tcp_response_content:
        msg = (
            "a frontend section cannot inherit from a defaults section defining 'tcp-response"
            f" content' rules {at}."
        )
    else:
        users.add(kind)
        return
    state.ctx.error(st.loc, msg, cite=Cite.TIGHT, abort=True)


def _legacy_bind(st: Statement, word: object, name: str, ctx: Context) -> Bind | None:
    """HAProxy 1.x's `listen NAME ADDR:PORT[,...]`: 2.6 refuses it; pylvs reads a bind."""
    from pylvs.config.tree import Word

    assert isinstance(word, Word)
    endpoints = bind_endpoints(word, ctx, "listen")
    if endpoints is None:
        return None
    ctx.warning(
        word.loc,
        f"'{st.name} {name} {word.text}': the address on the {st.name} line is HAProxy 1.x"
        f" syntax, which HAProxy 2.6 refuses; pylvs reads it as 'bind {word.text}': write"
        f" '{st.name} {name}' and a 'bind {word.text}' line",
        Kind.EXTENSION,
    )
    return Bind(loc=word.loc, endpoints=endpoints)
