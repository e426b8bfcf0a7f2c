"""A parsed rule's action compiled into proto/rules' action objects (src/http_act.c,
src/tcp_rules.c, src/vars.c, src/stick_table.c, src/action.c parsers; HAProxy 2.6).

The reader (rules.py) checked the action's name for its rule set and its fewest words; the
words themselves are read here, with HAProxy's messages.  Actions pylvs cannot carry out
(`send-spoe-group`, a `use-service` other than
`prometheus-exporter`) are a CompileError saying so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pylvs.config.haproxy import lua, resolvers_action, switch_mode
from pylvs.config.haproxy.compile_samples import compile_expr
from pylvs.config.haproxy.lf_nodes import (
    LfExpr,
    LfSeparator,
    LfText,
    LogFormatError,
    parse_log_format,
)
from pylvs.config.haproxy.model import Rule as ParsedRule
from pylvs.config.haproxy.samples import SampleError, parse_sample
from pylvs.proto.rules import commands as cmd
from pylvs.proto.rules import common, http_edit, http_final
from pylvs.proto.rules.cache_actions import CacheStore, CacheUse
from pylvs.proto.rules.do_resolve import DoResolve
from pylvs.proto.rules.engine import Action
from pylvs.proto.rules.logfmt import HEX_VARIABLES, VARIABLES, LogFormat, SampleNode, Sep, VarNode
from pylvs.proto.rules.logfmt import Node as LfNode
from pylvs.proto.rules.lua_action import LuaAction
from pylvs.proto.rules.normalize import NORMALIZERS, NormalizeUri
from pylvs.proto.rules.switch_mode import SwitchMode
from pylvs.proto.sample.expr import (
    CompileContext,
    CompileError,
    Expr,
    ResolveError,
    compile_regex,
)
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.vars import VarError, VarName, parse_conditions, parse_var_name

# %HM %HU %HP %HPO %HQ %HV: log.c writes them with lf_encode_chunk, not lf_text_len, so an
# empty one (%HQ of a target without '?') writes nothing where the others write "-"
_URI_PARTS = frozenset({"HM", "HU", "HP", "HPO", "HQ", "HV"})


def log_format(
    text: str,
    ctx: CompileContext,
    *,
    http: bool = True,
    variables: Mapping[str, Callable[[Stream], bytes | None]] = VARIABLES,
    unknown: list[str] | None = None,
) -> LogFormat:
    """A log-format string compiled; CompileError with HAProxy's message.  A traffic log
    line (config/haproxy/convert_log.py) passes its `variables` and collects in `unknown`
    the ones pylvs does not compute (they print "-"), where rules refuse them."""
    try:
        nodes = parse_log_format(text, merge_spaces=not http, mandatory=unknown is not None)
    except LogFormatError as e:
        raise CompileError(str(e)) from None
    out: list[LfNode] = []
    for node in nodes:
        if isinstance(node, LfText):
            out.append(node.text.encode("latin-1", "replace"))
        elif isinstance(node, LfSeparator):
            out.append(Sep())
        elif isinstance(node, LfExpr):
            out.append(SampleNode(compile_expr(node.sample, ctx), node.options))
        elif "X" in node.options and variables is VARIABLES and node.name in HEX_VARIABLES:
            out.append(VarNode(node.name, HEX_VARIABLES[node.name], node.options))
        elif node.name in variables:
            options = node.options
            if node.name in _URI_PARTS:  # lf_encode_chunk: empty stays empty, never "-"
                options = options - {"M"}
            out.append(VarNode(node.name, variables[node.name], options))
        elif unknown is not None:
            unknown.append(f"%{node.name}")
            out.append(VarNode(node.name, _nothing, node.options | {"M"}))
        else:
            raise CompileError(
                f"pylvs does not support the log-format variable '%{node.name}' in rules"
            )
    return LogFormat(tuple(out), http=http, text=text)


def _nothing(_s: Stream) -> bytes | None:
    return b""


def expression(text: str, ctx: CompileContext) -> Expr:
    try:
        return compile_expr(parse_sample(text), ctx)
    except SampleError as e:
        raise CompileError(f"failed to parse sample expression <{text}> : {e}") from None


def _paren(action: str) -> tuple[str, list[str]]:
    """`set-var(txn.x,ifexists)` -> ("set-var", ["txn.x", "ifexists"])."""
    name, _, rest = action.partition("(")
    if not rest:
        return name, []
    if not rest.endswith(")"):
        raise CompileError(f"missing closing parenthesis in '{action}'")
    return name, [w.strip() for w in rest[:-1].split(",")] if rest[:-1] else []


def _int(text: str, what: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise CompileError(f"'{what}' expects an integer argument, got '{text}'") from None


class TableNotFoundError(ResolveError):
    """A track-sc rule naming a table that is not there, in check_trk_action's words (said
    after reading, placed nowhere: "Proxy 'NAME': unable to find table ...")."""


@dataclass
class RuleContext:
    """What compiling a proxy's actions needs: the sample context and the proxy's capture
    slots, numbered as HAProxy numbers them while it parses: the slots the `capture ... len
    N` rules of its defaults section took (proxy_defproxy_cpy copies nb_req_cap), then its
    own `capture request|response header` and `declare capture` lines, then one per own
    `capture ... len N` rule.  `pending_request` holds the proxy's own request slots until
    the first of its own rules compiles (`own()`)."""

    samples: CompileContext
    request_slots: list[int] = field(default_factory=list)
    response_slots: list[int] = field(default_factory=list)
    pending_request: list[int] = field(default_factory=list)

    def own(self) -> None:
        """The proxy's own rules start: its declared request slots come next."""
        self.request_slots.extend(self.pending_request)
        self.pending_request.clear()


Builder = Callable[[str, list[str], ParsedRule, "RuleContext", str], Action]

_TIME = re.compile(r"([0-9]+)(us|ms|s|m|h|d)?\Z")
_UNITS = {None: 1.0, "us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_UNITS["d"] = 86_400_000.0
_SIZE = re.compile(r"([0-9]+)([kKmMgG])?\Z")


def time_text(text: str) -> int:
    """A time in milliseconds (tools.c parse_time_err, rounded up)."""
    m = _TIME.match(text)
    if m is None:
        raise CompileError(
            f"unexpected character '{text[len(text.rstrip('0123456789')) :][:1] or text[:1]}'"
        )
    ms = int(m.group(1)) * _UNITS[m.group(2)]
    return int(-(-ms // 1))


def size_text(text: str) -> int:
    """A size in bytes (tools.c parse_size_err: k, m, g are powers of 1024)."""
    m = _SIZE.match(text)
    if m is None:
        raise CompileError(f"unexpected character '{text[:1]}'")
    return (
        int(m.group(1)) << {None: 0, "k": 10, "m": 20, "g": 30}[(m.group(2) or "").lower() or None]
    )


def _set_header(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    if len(a) < 2:
        raise CompileError(f"'{name}' expects exactly 2 arguments.")
    value = log_format(a[1], c.samples)
    if name == "early-hint":
        return http_edit.EarlyHint(a[0].encode(), value)
    return http_edit.SetHeader(a[0].encode(), value, replace=name == "set-header")


def _del_header(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    method, regex = "str", None
    if len(a) >= 3 and a[1] == "-m":
        method = a[2]
        if method not in ("str", "beg", "end", "sub", "reg"):
            raise CompileError(
                f"'-m' : only 'str', 'beg', 'end', 'sub' and 'reg' are supported, got '{method}'"
            )
        if method == "reg":
            regex = compile_regex(a[0], icase=True)
    return http_edit.DelHeader(a[0].encode(), method, regex)


def _replace_header(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    if len(a) < 3:
        raise CompileError(f"'{name}' expects exactly 3 arguments.")
    regex = compile_regex(a[1], icase=False)
    return http_edit.ReplaceHeader(
        a[0].encode(), regex, log_format(a[2], c.samples), full=name == "replace-header"
    )


def _start_line(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    what = name.removeprefix("set-")
    if name.startswith("replace-"):
        if len(a) < 2:
            raise CompileError(f"'{name}' expects exactly 2 arguments.")
        what = name.removeprefix("replace-")
        return http_edit.ReplaceStartLine(
            what, compile_regex(a[0], icase=False), log_format(a[1], c.samples)
        )
    return http_edit.SetStartLine(what, log_format(a[0], c.samples))


def _set_status(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    status = _int(a[0], name)
    if not 100 <= status <= 999:
        raise CompileError("expects an integer status code between 100 and 999")
    reason = None
    if len(a) >= 3 and a[1] == "reason":
        reason = a[2].encode("latin-1", "replace")
    return http_edit.SetStatus(status, reason)


def _set_var(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    base, inner = _paren(r.action)
    try:
        var = parse_var_name(inner[0] if inner else "")
        conditions = parse_conditions(inner[1:])
    except VarError as e:
        raise CompileError(str(e)) from None
    if base == "unset-var":
        return common.UnsetVar(var)
    if not a:
        raise CompileError(f"'{base}' expects an expression")
    if var.scope == "proc":
        c.samples.proc_vars.add(var.name)
    if base == "set-var-fmt":
        return common.SetVar(
            var, fmt=log_format(a[0], c.samples, http=False), conditions=conditions
        )
    return common.SetVar(var, expr=expression(a[0], c.samples), conditions=conditions)


def _capture(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    expr = expression(a[0], c.samples)
    if len(a) >= 3 and a[1] in ("len", "id"):
        n = _int(a[2], f"capture {a[1]}")
        response = rs == "http-response"
        if a[1] == "len":
            slots = c.response_slots if response else c.request_slots
            slots.append(n)
            return common.Capture(expr, len(slots) - 1, n, response)
        lengths = c.response_slots if response else c.request_slots
        if not 0 <= n < len(lengths):
            raise CompileError(f"'capture' : there is no capture slot with id {n}")
        return common.Capture(expr, n, lengths[n], response)
    raise CompileError("'capture' expects 'len' or 'id'")


def _track(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    num = int(name[-1])
    table = c.samples.proxy_table or ""
    if len(a) >= 3 and a[1] == "table":
        table = a[2]
    if table not in c.samples.tables:
        raise TableNotFoundError(
            f"Proxy '{c.samples.proxy}': unable to find table '{table or c.samples.proxy}'"
            f" referenced by {name}."
        )
    return common.TrackSc(num, expression(a[0], c.samples), table)


def _sc(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    base, inner = _paren(r.action)
    if base == "sc-inc-gpc":
        if len(inner) != 2 or inner[0] not in ("0", "1"):
            raise CompileError(
                "pylvs stores gpc0 and gpc1 only: 'sc-inc-gpc(IDX,SC)' takes IDX 0 or 1"
            )
        idx, sc = inner
    else:
        idx, sc = base[-1], inner[0] if inner else "0"
    num = _int(sc, base)
    if not 0 <= num <= 2:
        raise CompileError(f"invalid stick table track ID '{sc}'. The max allowed ID is 2")
    if base == "sc-set-gpt0":
        if not a:
            raise CompileError("'sc-set-gpt0' expects a value or an expression")
        try:
            return common.ScSetGpt0(num, value=int(a[0]))
        except ValueError:
            return common.ScSetGpt0(num, expr=expression(a[0], c.samples))
    return common.ScIncGpc(num, f"gpc{idx}")


_LOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "silent")


def _emit(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    if name == "set-log-level":
        if a[0] not in _LOG_LEVELS:
            raise CompileError(f"'set-log-level' : unknown log level '{a[0]}'")
        return common.Emit(cmd.SetLogLevel(a[0]))
    if name == "set-nice":
        return common.Emit(cmd.SetNice(max(-1024, min(1024, _int(a[0], name)))))
    if name == "set-mark":
        return common.Emit(cmd.SetMark(_int(a[0], name)))
    if name == "set-tos":
        return common.Emit(cmd.SetTos(_int(a[0], name)))
    if name == "set-timeout":
        return _set_timeout(a, c)
    if name == "disable-l7-retry":
        return common.Emit(cmd.DisableL7Retry())
    if name == "expect-proxy":
        return common.Emit(cmd.ExpectProxy())
    if name == "expect-netscaler-cip":
        return common.Emit(cmd.ExpectNetscalerCip())
    return common.Emit(cmd.CloseResponse())  # tcp-response content close


_TIME_UNIT = re.compile(r"[0-9]*(?:us|ms|s|m|h|d)?")


def _set_timeout(a: list[str], c: RuleContext) -> Action:
    """src/action.c cfg_parse_rule_set_timeout: `server` or `tunnel`, then a time, else a
    sample expression (reported at the character the time stopped at)."""
    proxy = c.samples.proxy
    if len(a) < 2:
        raise CompileError("expects exactly 2 arguments")
    if proxy is not None and not c.samples.defaults and proxy not in c.samples.backends:
        raise CompileError(f"proxy '{proxy}' has no backend capability")
    which, value = a[0], a[1]
    if which not in ("server", "tunnel"):
        raise CompileError(f"'set-timeout' rule supports 'server'/'tunnel' (got '{which}')")
    if _TIME.match(value) is None:
        try:
            return common.SetTimeout(which, expression(value, c.samples))
        except CompileError:
            bad = value[_TIME_UNIT.match(value).end() :][:1]  # type: ignore[union-attr]
            raise CompileError(
                f"unexpected character '{bad}' in rule 'set-timeout {which}'"
            ) from None
    ms = time_text(value)
    if ms == 0:
        raise CompileError(f"null value is not valid for a 'set-timeout {which}' rule")
    return common.Emit(cmd.SetTimeout(which, ms))


def _misc(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    if name in ("set-src", "set-dst", "set-src-port", "set-dst-port"):
        return common.SetAddress(name.removeprefix("set-"), expression(a[0], c.samples))
    if name in ("set-priority-class", "set-priority-offset"):
        return common.SetPriority(name.rsplit("-", 1)[1], expression(a[0], c.samples))
    if name == "strict-mode":
        if not a or a[0] not in ("on", "off"):
            raise CompileError("'strict-mode' expects 'on' or 'off'")
        return common.StrictMode(a[0] == "on")
    if name == "silent-drop":
        return common.SilentDrop()
    if name == "use-service":
        return _use_service(a[0], rs)
    if name == "wait-for-handshake":
        return http_final.WaitForHandshake()
    if name == "auth":
        realm = a[1].encode() if len(a) >= 2 and a[0] == "realm" else None
        return http_final.Auth(realm)
    if name in ("allow", "accept"):
        return http_final.Allow()
    return http_final.Reject()


def _normalize(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    kind = a[0] if a else ""
    if kind not in NORMALIZERS:
        raise CompileError(f"'normalize-uri': unknown normalizer '{kind}'")
    flags = {"path-strip-dotdot": "full", "percent-decode-unreserved": "strict"}
    flags["percent-to-uppercase"] = "strict"
    option = len(a) > 1 and a[1] == flags.get(kind)
    return NormalizeUri(kind, option)


def _patterns(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    base, inner = _paren(r.action)
    if not inner:
        raise CompileError(f"'{base}' expects a file name between parentheses")
    value = log_format(a[1], c.samples) if base == "set-map" and len(a) > 1 else None
    return common.EditPatterns(
        c.samples.patterns, inner[0], base, log_format(a[0], c.samples), value
    )


def _cache(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    """`cache-use NAME` / `cache-store NAME` (the reader checked the words)."""
    return CacheUse(a[0]) if name == "cache-use" else CacheStore(a[0])


def _wait_for_body(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    time_ms, at_least, i = None, 0, 0
    while i + 1 < len(a) and a[i] in ("time", "at-least"):
        if a[i] == "time":
            time_ms = time_text(a[i + 1])
        else:
            at_least = size_text(a[i + 1])
        i += 2
    if time_ms is None:
        raise CompileError("expects time <time> [ at-least <bytes> ]")
    return http_final.WaitForBody(time_ms, at_least)


def _do_resolve(name: str, a: list[str], r: ParsedRule, c: RuleContext, rs: str) -> Action:
    """`do-resolve(VAR,RESOLVERS[,ipv4|ipv6]) EXPR` (the reader checked its words)."""
    got = resolvers_action.parse_head(r.action)
    if got is None or not a:
        raise CompileError(f"Can't parse '{r.action}'")
    try:
        var: VarName | None = parse_var_name(got.var)
    except VarError:
        var = None  # HAProxy takes it and never sets it
    return DoResolve(var, got.resolvers, got.prefer, expression(a[0], c.samples))


_UNSUPPORTED = {"send-spoe-group"}

BUILDERS: dict[str, Builder] = {
    "set-header": _set_header,
    "add-header": _set_header,
    "early-hint": _set_header,
    "del-header": _del_header,
    "replace-header": _replace_header,
    "replace-value": _replace_header,
    "set-status": _set_status,
    "set-var": _set_var,
    "set-var-fmt": _set_var,
    "unset-var": _set_var,
    "capture": _capture,
    "wait-for-body": _wait_for_body,
    "normalize-uri": _normalize,
    "do-resolve": _do_resolve,
    "cache-use": _cache,
    "cache-store": _cache,
}
for _name in ("set-method", "set-path", "set-pathq", "set-query", "set-uri"):
    BUILDERS[_name] = _start_line
for _name in ("replace-path", "replace-pathq", "replace-uri"):
    BUILDERS[_name] = _start_line
for _name in ("track-sc0", "track-sc1", "track-sc2"):
    BUILDERS[_name] = _track
for _name in ("sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0"):
    BUILDERS[_name] = _sc
for _name in ("set-log-level", "set-nice", "set-mark", "set-tos", "set-timeout"):
    BUILDERS[_name] = _emit
for _name in ("disable-l7-retry", "expect-proxy", "expect-netscaler-cip", "close"):
    BUILDERS[_name] = _emit
for _name in ("add-acl", "del-acl", "set-map", "del-map"):
    BUILDERS[_name] = _patterns
for _name in ("set-src", "set-dst", "set-src-port", "set-dst-port", "set-priority-class"):
    BUILDERS[_name] = _misc
for _name in ("set-priority-offset", "strict-mode", "silent-drop", "use-service", "auth"):
    BUILDERS[_name] = _misc
for _name in ("wait-for-handshake", "allow", "accept", "reject"):
    BUILDERS[_name] = _misc


def _use_service(service: str, rule_set: str) -> Action:
    """`use-service NAME` (action.c / hlua.c action_register_service_http): HAProxy's
    prometheus-exporter, or a service a Lua script registered in the mode of the rule set."""
    if service == "prometheus-exporter":
        return http_final.UseService(service)
    if service.startswith("lua."):
        http = rule_set.startswith("http-")
        if lua.known_service(service, "http" if http else "tcp"):
            return http_final.UseService(service)
        if not http and lua.known_service(service, "http"):
            raise CompileError("HTTP applets are forbidden from 'tcp-request' rulesets")
    raise CompileError(f"'{service}' unknown service name.")


def compile_action(r: ParsedRule, rule_set: str, c: RuleContext) -> Action:
    """The action of rule `r` of `rule_set` (deny/tarpit/return/redirect are compiled by
    compile_rules.py, which knows the replies)."""
    name = r.action.partition("(")[0]
    if name.startswith("lua."):  # a Lua script's (the reader checked its name and words)
        return LuaAction(name[4:], tuple(w.encode() for w in r.args))
    if name in _UNSUPPORTED:
        raise CompileError(f"pylvs does not support the '{name}' action")
    if name == "switch-mode":  # the reader checked its words (switch_mode.py)
        return SwitchMode(switch_mode.proto_of(r.args))
    if rule_set.startswith("tcp-") and name == "capture":
        return _tcp_capture(list(r.args), c)
    builder = BUILDERS.get(name)
    if builder is None:
        raise CompileError(f"pylvs does not support the '{name}' action")
    return builder(name, list(r.args), r, c, rule_set)


def _tcp_capture(a: list[str], c: RuleContext) -> Action:
    """`tcp-request content capture EXPR len N`: a new request capture slot."""
    if len(a) < 3 or a[1] != "len":
        raise CompileError("'capture' needs 'len' followed by a length")
    n = _int(a[2], "capture len")
    c.request_slots.append(n)
    return common.Capture(expression(a[0], c.samples), len(c.request_slots) - 1, n)
