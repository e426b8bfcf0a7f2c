"""A parsed haproxy.cfg compiled into proto/rules' ProxyRules, one per proxy, with the stick
tables the rules track into (HAProxy 2.6: src/cfgparse-listen.c, src/http_rules.c
http_parse_redirect_rule, src/http_htx.c http_parse_http_reply/http_parse_errorloc,
src/proxy.c proxy_check_errors).

`compile_config(cfg)` returns a `CompiledRules`: the rules by proxy name, the tables by
name (a proxy's own `stick-table` and the `peers` sections' tables), and every problem as
(location, message): an ACL or sample that cannot be resolved, an action pylvs cannot carry
out.  A rule that fails to compile is left out of its set (the error says which).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pylvs.config.errors import Cite, Location
from pylvs.config.haproxy.compile_actions import (
    RuleContext,
    TableNotFoundError,
    compile_action,
    log_format,
)
from pylvs.config.haproxy.compile_actions import expression as compile_expression
from pylvs.config.haproxy.compile_samples import (
    compile_acls,
    compile_condition,
    compile_expr,
    context,
)
from pylvs.config.haproxy.fetches import CONVERTERS, FETCHES
from pylvs.config.haproxy.model import Condition, HaproxyConfig, Proxy
from pylvs.config.haproxy.model import Rule as ParsedRule
from pylvs.config.haproxy.replies import HttpReply
from pylvs.config.haproxy.samples import SampleError, parse_sample
from pylvs.proto.rules import http_final
from pylvs.proto.rules.acl import CompiledAcl, Cond
from pylvs.proto.rules.common import SetVar
from pylvs.proto.rules.compiled import CompiledProxies
from pylvs.proto.rules.engine import Action, Rule
from pylvs.proto.rules.logfmt import LogFormat, literal
from pylvs.proto.rules.replies import Built, ErrorMessage, ErrorPages, Reply
from pylvs.proto.rules.ruleset import ProxyRules, ServerRule, StickRule, SwitchRule
from pylvs.proto.sample.expr import CompileContext, CompileError, Expr, ResolveError, compile_var
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.stream import ProxyRef
from pylvs.proto.stick.spec import TableSpec
from pylvs.proto.stick.table import StickTable


def acl_words(e: ResolveError) -> str:
    """A fetch's unresolved argument as sample.c names it in an ACL ("ACL keyword")."""
    return str(e).replace(" of sample fetch keyword '", " of ACL keyword '", 1)


@dataclass
class CompiledRules:
    proxies: dict[str, ProxyRules] = field(default_factory=dict)
    tables: dict[str, StickTable] = field(default_factory=dict)
    patterns: PatternStore = field(default_factory=PatternStore)
    errors: list[tuple[Location, str]] = field(default_factory=list)
    by_proxy: dict[str, list[tuple[Location, str]]] = field(default_factory=dict)  # the same
    # The errors `haproxy -c` gives too: arguments naming what is not there (ResolveError)
    unresolved: list[tuple[Location, str]] = field(default_factory=list)
    # how `haproxy -c` places those of them it words as pylvs does (config/errors.py Cite)
    cites: dict[tuple[Location, str], Cite] = field(default_factory=dict)
    proc_vars: set[str] = field(default_factory=set)  # every proxy's context adds to it
    proc_init: list[SetVar] = field(default_factory=list)
    # servers the rules point to (CompileContext.pinned, `use-server` targets)
    pinned: set[tuple[str, str]] = field(default_factory=set)

    def carrier(self, cfg: HaproxyConfig) -> CompiledProxies:
        """What the runtime receives with the spec (`ProxiesSpec.rules`), compared with
        another load by the sections the rules were compiled from."""
        source = (cfg.proxies, cfg.peers, cfg.userlists, cfg.http_errors, cfg.global_.variables)
        env = dict(cfg.environment)
        return CompiledProxies(
            dict(self.proxies),
            dict(self.tables),
            self.patterns,
            env,
            source,
            frozenset(self.proc_vars),
            tuple(self.proc_init),
            set_var_compiler(self.patterns),
            frozenset(self.pinned),
            lua_sample_compiler(self.patterns),
        )


_ERRORLOC = {
    302: b"HTTP/1.1 302 Found\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: ",
    303: b"HTTP/1.1 303 See Other\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: ",
}


def _table_specs(cfg: HaproxyConfig) -> dict[str, TableSpec]:
    """The tables by name; one a `stick` rule names also stores the server's id and key
    (cfgparse.c check_config_validity: stktable_alloc_data_type SERVER_ID/SERVER_KEY)."""
    specs = {p.name: p.stick_table for p in cfg.proxies if p.stick_table is not None}
    for peers in cfg.peers:
        for spec, _loc in peers.tables:
            specs[spec.name] = spec
    for p in cfg.proxies:
        for st in p.stick_rules:
            name = st.table or p.name
            if name in specs:
                specs[name] = specs[name].with_data("server_id", "server_key")
    return specs


def reply_of(r: HttpReply, cfg: HaproxyConfig, ctx: CompileContext) -> Reply:
    """A parsed reply (deny/tarpit/return/http-error) as proto/rules runs it."""
    if r.kind == "default-errorfiles":
        return ErrorMessage(r.status)
    if r.kind == "errorfile":
        raw = r.body if isinstance(r.body, bytes) else None
        return ErrorMessage(r.status, raw)
    if r.kind == "errorfiles":
        for section in cfg.http_errors:
            if section.name == r.body:
                for ef in section.errorfiles:
                    if ef.code == r.status and ef.response is not None:
                        return ErrorMessage(r.status, ef.response)
        return Built(r.status)
    headers = tuple((n.encode(), log_format(v, ctx)) for n, v in r.headers)
    ctype = r.content_type.encode() if r.content_type else None
    body: bytes | object | None = None
    if r.kind in ("string", "file"):
        body = r.body.encode("latin-1") if isinstance(r.body, str) else r.body
    elif r.kind in ("lf-string", "lf-file"):
        text = r.body.decode("latin-1") if isinstance(r.body, bytes) else (r.body or "")
        body = log_format(text, ctx)
    return Built(r.status, headers, ctype, body)  # type: ignore[arg-type]


def error_pages(p: Proxy, cfg: HaproxyConfig, ctx: CompileContext) -> ErrorPages:
    """proxy_check_errors: the proxy's replies by status, each directive in the order it came
    (the defaults' first) overriding the earlier ones for its codes."""
    replies: dict[int, Reply] = {}
    refs, files = iter(p.more.errorfiles_refs), iter(p.errorfiles)
    locs, errors = iter(p.errorloc), iter(p.more.http_errors)
    for kind in p.more.errors_order:
        if kind == "ref":
            ref = next(refs)
            for section in cfg.http_errors:
                if section.name != ref.name:
                    continue
                for ef in section.errorfiles:
                    if ef.response is not None and (not ref.codes or ef.code in ref.codes):
                        replies[ef.code] = ErrorMessage(ef.code, ef.response)
        elif kind == "file":
            ef = next(files)
            if ef.response is not None:
                replies[ef.code] = ErrorMessage(ef.code, ef.response)
        elif kind == "loc":
            code, redirect, url = next(locs)
            raw = _ERRORLOC[int(redirect)] + url.encode() + b"\r\n\r\n"
            replies[code] = ErrorMessage(int(redirect), raw)
        else:
            reply = next(errors)
            replies[reply.status] = reply_of(reply, cfg, ctx)
    return ErrorPages(replies)


def redirect_action(words: tuple[str, ...], ctx: CompileContext, *, fmt: bool) -> Action:
    """http_parse_redirect_rule's words, in any order (the old `redirect` statement:
    fmt=False): the last `location`/`prefix`/`scheme` and the last cookie option win."""
    kind, value = "", ""
    code, drop, slash, empty, cookie = 302, False, False, False, None
    i = 0
    while i < len(words):
        w = words[i]
        takes = w in ("location", "prefix", "scheme", "set-cookie", "clear-cookie", "code")
        if takes and (i + 1 >= len(words) or not words[i + 1]):
            raise CompileError(f"missing argument for '{w}'")
        if w in ("location", "prefix", "scheme"):
            kind, value = w, words[i + 1]
            i += 1
        elif w == "code":
            code = int(words[i + 1]) if words[i + 1].isdigit() else 0
            if code not in (301, 302, 303, 307, 308):
                raise CompileError(
                    f"'code': unsupported HTTP code '{words[i + 1]}' (must be one of 301, 302,"
                    " 303, 307 or 308)"
                )
            i += 1
        elif w == "set-cookie":
            cookie = words[i + 1].encode() + b"; path=/;"
            i += 1
        elif w == "clear-cookie":
            cookie = words[i + 1].encode() + b"; path=/; Max-Age=0;"
            i += 1
        elif w in ("drop-query", "append-slash", "ignore-empty"):
            drop, slash = drop or w == "drop-query", slash or w == "append-slash"
            empty = empty or w == "ignore-empty"
        else:
            raise CompileError(
                "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie',"
                f" 'drop-query', 'ignore-empty' or 'append-slash' (was '{w}')"
            )
        i += 1
    if not kind:
        raise CompileError("redirection type expected ('prefix', 'location', or 'scheme')")
    if kind == "prefix" and value == "/":
        target = literal(b"")
    elif fmt:
        target = log_format(value, ctx)
    else:
        target = literal(value.encode("latin-1"))
    return http_final.Redirect(kind, target, code, drop, slash, cookie, empty)


class _ProxyCompiler:
    def __init__(
        self,
        p: Proxy,
        cfg: HaproxyConfig,
        out: CompiledRules,
        specs: dict[str, TableSpec],
        *,
        defaults: bool = False,
    ):
        self.p, self.cfg, self.out = p, cfg, out
        self.ctx = context(
            proxy=p.name,
            defaults=defaults,
            proxy_table=p.name if p.stick_table is not None else None,
            tables=specs,
            backends=frozenset(x.name for x in cfg.proxies if x.has_backend),
            frontends=frozenset(x.name for x in cfg.proxies if x.has_frontend),
            servers={x.name: frozenset(s.name for s in x.servers) for x in cfg.proxies},
            userlists={u.name: u for u in cfg.userlists},
            patterns=out.patterns,
            proc_vars=out.proc_vars,
            pinned=out.pinned,
        )
        request = [c.length for c in p.captures if c.kind == "request header"]
        response = [c.length for c in p.captures if c.kind == "response header"]
        for side, length in p.more.declared_captures:
            (request if side == "request" else response).append(length)
        self.rc = RuleContext(self.ctx, [], response, request)
        self.acls: dict[str, CompiledAcl] = {}
        try:
            self.acls = compile_acls(p.acls, self.ctx)
        except CompileError as e:
            self.error(p.loc, str(e))

    def error(
        self, loc: Location, text: str, *, unresolved: bool = False, cite: Cite | None = None
    ) -> None:
        self.out.errors.append((loc, text))
        self.out.by_proxy.setdefault(self.p.name, []).append((loc, text))
        if unresolved:
            self.out.unresolved.append((loc, text))
        if cite is not None:
            self.out.cites[(loc, text)] = cite

    def cond(self, c: Condition | None) -> Cond | None:
        return None if c is None else compile_condition(c, self.acls, self.ctx)

    def rules(self, parsed: tuple[ParsedRule, ...], rule_set: str) -> tuple[Rule, ...]:
        out: list[Rule] = []
        for r in parsed:
            if r.loc.file == self.p.loc.file and r.loc.line > self.p.loc.line:
                self.rc.own()  # not one its defaults section gave
            try:
                action = self.action(r, rule_set)
            except TableNotFoundError as e:  # check_trk_action's words, after reading
                self.error(r.loc, str(e), unresolved=True, cite=Cite.NONE)
                continue
            except ResolveError as e:  # smp_resolve_args's words, after reading
                said = f"{e} in {rule_set} expression in proxy '{self.p.name}'."
                self.error(r.loc, said, unresolved=True, cite=Cite.LATE_TIGHT)
                continue
            except CompileError as e:
                self.error(r.loc, f"'{rule_set} {r.action}': {e}")
                continue
            try:
                cond = self.cond(r.condition)
            except ResolveError as e:  # an ACL's argument: smp_resolve_args's ARGC_ACL words
                said = f"{acl_words(e)} in proxy '{self.p.name}'."
                self.error(r.loc, said, unresolved=True, cite=Cite.LATE_TIGHT)
                continue
            except CompileError as e:
                self.error(r.loc, f"'{rule_set} {r.action}': {e}")
                continue
            out.append(Rule(action, cond, r.loc.file, r.loc.line, r.action))
        return tuple(out)

    def action(self, r: ParsedRule, rule_set: str) -> Action:
        name = r.action.partition("(")[0]
        if rule_set.startswith("http-") and name in ("deny", "tarpit", "return"):
            assert r.reply is not None
            reply = reply_of(r.reply, self.cfg, self.ctx)
            if name == "return":
                return http_final.Return(reply)
            return http_final.Deny(reply, tarpit=name == "tarpit")
        if name == "redirect":
            return redirect_action(r.args, self.ctx, fmt=rule_set != "redirect")
        if rule_set.startswith("tcp-") and name in ("accept", "reject"):
            return http_final.Allow() if name == "accept" else http_final.Reject()
        return compile_action(r, rule_set, self.rc)

    def switching(self) -> tuple[SwitchRule, ...]:
        out = []
        for sw in self.p.use_backends:
            try:
                name = literal(sw.backend.encode())
                if sw.dynamic:
                    name = log_format(sw.backend, self.ctx)
                out.append(SwitchRule(name, self.cond(sw.condition)))
            except CompileError as e:
                self.error(sw.loc, str(e))
        return tuple(out)

    def use_server(self) -> tuple[ServerRule, ...]:
        out = []
        for us in self.p.use_servers:
            try:
                cond = self.cond(us.condition)
            except CompileError as e:
                self.error(us.loc, str(e))
                continue
            self.out.pinned.add((self.p.name, us.backend))  # cfgparse.c: NON_PURGEABLE
            if cond is not None:
                out.append(ServerRule(us.backend, cond))
        return tuple(out)

    def stick(self) -> tuple[StickRule, ...]:
        out = []
        for st in self.p.stick_rules:
            try:
                expr = compile_expression(st.sample.text, self.ctx)
                table = st.table or self.p.name
                out.append(StickRule(st.kind, expr, table, self.cond(st.condition)))
            except CompileError as e:
                self.error(st.loc, str(e))
        return tuple(out)

    def conds(self, conditions: tuple[Condition, ...], what: str) -> tuple[Cond, ...]:
        """`stats admin` and `monitor fail` conditions."""
        out = []
        for c in conditions:
            try:
                cond = self.cond(c)
            except CompileError as e:
                self.error(c.loc or self.p.loc, f"'{what}': {e}")
                continue
            if cond is not None:
                out.append(cond)
        return tuple(out)

    def persist(self) -> tuple[tuple[bool, Cond], ...]:
        """`force-persist` / `ignore-persist` rules, merged back into declaration order."""
        more = self.p.more
        both = [(True, c) for c in more.force_persist] + [(False, c) for c in more.ignore_persist]
        both.sort(key=lambda fc: fc[1].loc or self.p.loc)
        out = []
        for force, c in both:
            for cond in self.conds((c,), "force-persist" if force else "ignore-persist"):
                out.append((force, cond))
        return tuple(out)

    def build(self) -> ProxyRules:
        p = self.p
        t = p.timeouts
        return ProxyRules(
            name=p.name,
            ref=ProxyRef(
                p.name,
                p.id or 0,
                p.mode,
                p.default_backend,
                t.client,
                t.server,
                t.tunnel,
            ),
            mode=p.mode,
            is_backend=p.has_backend,
            tcp_connection=self.rules(p.tcp_request_connection, "tcp-request connection"),
            tcp_session=self.rules(p.tcp_request_session, "tcp-request session"),
            tcp_content=self.rules(p.tcp_request_content, "tcp-request content"),
            inspect_delay_ms=p.tcp_request_inspect_delay_ms or 0,
            tcp_response=self.rules(p.tcp_response_content, "tcp-response content"),
            response_inspect_delay_ms=p.tcp_response_inspect_delay_ms or 0,
            http_request=self.rules(p.http_request, "http-request"),
            http_response=self.rules(p.http_response, "http-response"),
            http_after=self.rules(p.http_after_response, "http-after-response"),
            redirects=self.rules(p.redirects, "redirect"),
            switching=self.switching(),
            default_backend=p.default_backend,
            use_server=self.use_server(),
            stick=self.stick(),
            pages=error_pages(p, self.cfg, self.ctx),
            tarpit_ms=t.tarpit if t.tarpit is not None else (t.connect or 0),
            stats_admin=self.conds(self.p.stats.admin, "stats admin"),
            monitor_uri=p.monitor_uri.encode("latin-1") if p.monitor_uri else None,
            monitor_fail=self.conds(p.more.monitor_fail, "monitor fail"),
            restrict_hdr_names=_restrict_hdr_names(p),
            unique_id=self.unique_id(),
            unique_id_header=p.unique_id_header.encode() if p.unique_id_header else None,
            persist=self.persist(),
            buffer_request=any(n == "http-buffer-request" and on for n, on, _ in p.options.others),
            http_request_ms=t.http_request,
            # last: the rules above took their `capture ... len N` slots
            capture_slots=self.capture_slots(),
        )

    def capture_slots(self) -> tuple[int, int] | None:
        rc = self.rc
        slots = (len(rc.request_slots) + len(rc.pending_request), len(rc.response_slots))
        return slots if slots != (0, 0) else None

    def unique_id(self) -> LogFormat | None:
        text = self.p.unique_id_format
        if not text:
            return None
        try:
            return log_format(text, self.ctx)
        except CompileError as e:
            self.error(self.p.loc, f"'unique-id-format': {e}")
            return None


def _restrict_hdr_names(p: Proxy) -> str | None:
    found = [a for n, on, a in p.options.others if n == "http-restrict-req-hdr-names" and on]
    mode = found[-1][0] if found and found[-1] else None
    return mode if mode in ("delete", "reject") else None


def compile_config(
    cfg: HaproxyConfig, *, read_file: Callable[[str], bytes | None] | None = None
) -> CompiledRules:
    out = CompiledRules(patterns=PatternStore(read_file))
    specs = _table_specs(cfg)
    for name, spec in specs.items():
        out.tables[name] = StickTable(spec)
    _global_vars(cfg, out)
    for p in cfg.proxies:
        out.proxies[p.name] = _ProxyCompiler(p, cfg, out, specs).build()
    return out


def set_var_compiler(patterns: PatternStore) -> Callable[[str, bool, str], SetVar | str]:
    """`set var NAME [expr|fmt] TEXT` of the stats socket compiled as `set-var(NAME) TEXT` /
    `set-var-fmt(NAME) TEXT` in a rule (vars.c vars_parse_cli_set_var): the SetVar, or
    HAProxy's message."""

    def compile_set_var(name: str, is_fmt: bool, text: str) -> SetVar | str:
        ctx = context(proxy="CLI", patterns=patterns)
        try:
            var = compile_var(name, ctx)
            if var.scope != "proc":
                return (
                    f"'set var': cannot set variable '{name}', only scope 'proc' is permitted here."
                )
            if is_fmt:
                return SetVar(var, fmt=log_format(text, ctx, http=False))
            return SetVar(var, expr=compile_expr(parse_sample(text), ctx))
        except (CompileError, SampleError) as e:
            return str(e)

    return compile_set_var


def _lua_arg(value: bytes) -> str:
    """A Lua argument as a quoted sample argument (make_arg_list reads quotes and escapes)."""
    text = value.decode("latin-1")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_sample_compiler(
    patterns: PatternStore,
) -> Callable[[str, str, tuple[bytes, ...]], Expr | str]:
    """What Lua's `txn.f:NAME(args)` and `txn.c:NAME(value, args)` run (hlua.c
    hlua_run_sample_fetch / hlua_run_sample_conv): HAProxy names each fetch and converter
    there with its dots as underscores (`req_hdr` is `req.hdr`).  A converter is compiled
    as one step after a placeholder fetch; its input is the Lua value."""
    fetches = {n.replace(".", "_"): n for n in FETCHES}
    fetches.update({n: n for n in FETCHES})
    converters = {n.replace(".", "_"): n for n in CONVERTERS}
    converters.update({n: n for n in CONVERTERS})

    def compile_lua(kind: str, key: str, args: tuple[bytes, ...]) -> Expr | str:
        names = fetches if kind == "fetch" else converters
        name = names.get(key)
        if name is None:
            return f"attempt to call a nil value (method '{key}')"
        arglist = f"({','.join(_lua_arg(a) for a in args)})" if args else ""
        text = f"{name}{arglist}" if kind == "fetch" else f"str(),{name}{arglist}"
        ctx = context(proxy="LUA", patterns=patterns)
        try:
            return compile_expr(parse_sample(text), ctx)
        except (CompileError, SampleError) as e:
            return str(e)

    return compile_lua


def _global_vars(cfg: HaproxyConfig, out: CompiledRules) -> None:
    """The global section's `set-var proc.NAME EXPR` / `set-var-fmt proc.NAME FMT`, in their
    order (each may read the ones before it)."""
    ctx = context(patterns=out.patterns, proc_vars=out.proc_vars)
    for name, is_fmt, text, loc in cfg.global_.variables:
        try:
            var = compile_var(name, ctx)
            if is_fmt:
                out.proc_init.append(SetVar(var, fmt=log_format(text, ctx, http=False)))
            else:
                out.proc_init.append(SetVar(var, expr=compile_expression(text, ctx)))
        except CompileError as e:
            out.errors.append((loc, f"'set-var{'-fmt' if is_fmt else ''}': {e}"))


def check_defaults(
    cfg: HaproxyConfig, sections: Sequence[Proxy]
) -> list[tuple[Location, str, Cite]]:
    """The rules of named defaults sections, resolved as HAProxy resolves them: in the
    section's own context (cfgparse.c check_config_validity: check_action_rules and
    smp_resolve_args on each defaults proxy), where a server argument needs its backend's
    name and `track-sc` without `table` names the section's own table, which a defaults
    section cannot have.  What does not resolve, (location, message, how HAProxy places it)."""
    out = CompiledRules()
    specs = _table_specs(cfg)
    for p in sections:
        compiler = _ProxyCompiler(p, cfg, out, specs, defaults=True)
        for parsed, rule_set in (
            (p.tcp_request_connection, "tcp-request connection"),
            (p.tcp_request_session, "tcp-request session"),
            (p.tcp_request_content, "tcp-request content"),
            (p.tcp_response_content, "tcp-response content"),
            (p.http_request, "http-request"),
            (p.http_response, "http-response"),
            (p.http_after_response, "http-after-response"),
        ):
            compiler.rules(parsed, rule_set)
    return [(loc, text, out.cites.get((loc, text), Cite.PARSING)) for loc, text in out.unresolved]
