"""Proxy rules: `acl`, `tcp-request`, `tcp-response`, `http-request`, `http-response`,
`http-after-response`, `redirect`, `use_backend`, `default_backend`, `use-server`,
`stick-table` and `stick` (HAProxy 2.6 configuration §4.2, §7).

A rule is its action (checked against the actions HAProxy has for that rule set), the action's
words, and an optional condition whose ACLs must be declared above it.  Rules are kept as parsed
trees for the runtime (the `mode http` ones for the L7 issue); what HAProxy checks only when the
whole file is read (a missing backend or stick table, a rule set that needs `mode http`) is in
`post.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pylvs.config.errors import Cite, Kind
from pylvs.config.haproxy import (
    action_args,
    action_words,
    cache,
    lua,
    resolvers_action,
    switch_mode,
)
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.model import Condition, Rule, StickRule, SwitchRule
from pylvs.config.haproxy.replies import HttpReply, ReplyError, parse_reply
from pylvs.config.haproxy.rule_formats import formats_ok
from pylvs.config.haproxy.samples import (
    SampleError,
    parse_acl,
    parse_condition,
    parse_sample,
    split_condition,
)
from pylvs.config.haproxy.values import time_ms, time_problem
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement, Word
from pylvs.proto.stick.data import ARRAY_TYPES
from pylvs.proto.stick.spec import SpecError, parse_stick_table

_STORE_ITEM = re.compile(r"[^,(]*(?:\([^)]*\)?)?")

_COMMON = {"set-var", "unset-var", "set-var-fmt", "track-sc0", "track-sc1", "track-sc2"}
_COMMON |= {"sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0", "sc-add-gpc", "silent-drop"}
_COMMON |= {"set-mark", "set-tos", "send-spoe-group", "set-log-level", "set-nice"}
ACTIONS: dict[str, frozenset[str]] = {
    "tcp-request connection": frozenset(
        _COMMON
        | {"accept", "reject", "expect-proxy", "expect-netscaler-cip", "set-src", "set-src-port"}
        | {"set-dst", "set-dst-port", "capture"}
    ),
    "tcp-request session": frozenset(_COMMON | {"accept", "reject", "set-src", "set-dst"}),
    "tcp-request content": frozenset(
        _COMMON
        | {"accept", "reject", "capture", "use-service", "switch-mode", "set-priority-class"}
        | {"set-priority-offset", "do-resolve", "set-src", "set-dst", "set-dst-port"}
        | {"set-src-port"}
    ),
    "tcp-response content": frozenset(_COMMON | {"accept", "reject", "close"}),
    "http-request": frozenset(
        _COMMON
        | {"add-acl", "add-header", "allow", "auth", "cache-use", "capture", "del-acl"}
        | {"del-header", "del-map", "deny", "disable-l7-retry", "do-resolve", "early-hint"}
        | {"normalize-uri", "redirect", "reject", "replace-header", "replace-path"}
        | {"replace-pathq", "replace-uri", "replace-value", "return", "set-dst"}
        | {"set-dst-port", "set-header", "set-map", "set-method", "set-path", "set-pathq"}
        | {"set-priority-class", "set-priority-offset", "set-query", "set-src", "set-src-port"}
        | {"set-timeout", "set-uri", "strict-mode", "tarpit", "use-service", "wait-for-body"}
        | {"wait-for-handshake"}
    ),
    "http-response": frozenset(
        _COMMON
        | {"add-acl", "add-header", "allow", "cache-store", "capture", "del-acl", "del-header"}
        | {"del-map", "deny", "redirect", "replace-header", "replace-value", "return"}
        | {"set-header", "set-map", "set-status", "strict-mode", "wait-for-body"}
    ),
    "http-after-response": frozenset(
        {"add-header", "allow", "del-header", "replace-header", "replace-value", "set-header"}
        | {"set-status", "set-var", "strict-mode", "unset-var", "set-map", "del-map"}
        | {"del-acl", "add-acl", "capture", "set-var-fmt"}
    ),
}
# Fewest words after the action, where HAProxy requires some.
MIN_ARGS = {
    "add-header": 2, "set-header": 2, "del-header": 1, "replace-header": 3,
    "replace-value": 3, "set-path": 1, "set-pathq": 1, "set-query": 1, "set-uri": 1,
    "set-method": 1, "replace-path": 2, "replace-pathq": 2, "replace-uri": 2,
    "set-status": 1, "redirect": 2, "capture": 1, "track-sc0": 1, "track-sc1": 1,
    "track-sc2": 1, "use-service": 1, "add-acl": 1, "del-acl": 1, "set-map": 2,
    "del-map": 1, "set-timeout": 2, "expect-proxy": 1, "set-log-level": 1,
    "set-mark": 1, "set-tos": 1, "set-nice": 1, "early-hint": 2,
}  # fmt: skip


_SWITCHING = "error detected while parsing switching rule : {}."


def _acls(d: ProxyDraft) -> set[str]:
    return {a.name for a in d.acls if a.name is not None}


def condition(
    words: list[Word], ctx: Context, d: ProxyDraft, template: str
) -> tuple[bool, Condition | None]:
    """(ok, condition) of the words from `if`/`unless` on (none: ok, None); `template` words
    an error ("{}": its text) as the rule's HAProxy parser does."""
    if not words:
        return True, None
    cond = parse_condition(words, ctx, _acls(d), template)
    return cond is not None, cond


def acl(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    name = st.args[0].text
    if name in {"if", "unless", "or"} or not all(c.isalnum() or c in "_-.:" for c in name):
        ctx.error(st.args[0].loc, f"invalid character in ACL name '{name}'.")
        return
    if len(st.args) < 2:  # acl.c parse_acl_expr: no fetch word
        ctx.error(
            st.loc,
            f"error detected while parsing ACL '{name}' : missing fetch method in ACL"
            " expression ''.",
        )
        return
    warnings: list[str] = []
    try:
        parsed = parse_acl(list(st.args[1:]), name, warnings, ctx.host)
    except SampleError as e:
        ctx.error(st.loc, f"error detected while parsing ACL '{name}' : {e}.")
        return
    for text in warnings:  # acl.c's, placed nowhere
        ctx.warning(st.args[1].loc if len(st.args) > 1 else st.loc, text, cite=Cite.BARE)
    d.acls = (*d.acls, parsed)


def rule_reader(rule_set: str, attr: str) -> Callable[[Statement, Context, ProxyDraft], None]:
    """`http-request ACTION args [if|unless cond]` and the like, appended to `d.<attr>`."""

    def handler(st: Statement, ctx: Context, d: ProxyDraft) -> None:
        if d.kind == "defaults" and not d.name:
            ctx.error(st.loc, f"'{rule_set}' not allowed in anonymous 'defaults' section.")
            return
        rules: tuple[Rule, ...] = getattr(d, attr)
        # only the section's own rules: its defaults' rules are another list in HAProxy
        # (px->defpx's, run before), which the warning does not look at
        own = rules and rules[-1].loc.file == d.loc.file and rules[-1].loc.line > d.loc.line
        if own and rules[-1].condition is None and _final(rules[-1]):
            ctx.warning(
                st.loc,
                f"previous '{rule_set}' action is final and has no condition attached, further"
                " entries are NOOP.",
                cite=Cite.TIGHT,
            )
        # cfgparse-listen.c: an HTTP rule that does not parse stops the reading (ERR_ABORT)
        rule = read_rule(st, ctx.aborting() if rule_set.startswith("http-") else ctx, d, rule_set)
        if rule is not None:
            setattr(d, attr, (*rules, rule))

    return handler


def _final(rule: Rule) -> bool:
    return rule.action in FINAL and not (rule.action == "redirect" and "ignore-empty" in rule.args)


def _refused(word: Word, ctx: Context, d: ProxyDraft, rule_set: str) -> bool:
    """An action HAProxy's build does not register for the rule set (refused as it words it),
    or one it has that pylvs does not take."""
    action = word.text.partition("(")[0]
    allowed = ACTIONS[rule_set]
    if not action_words.known(rule_set, action):
        said = action_words.unknown_action(rule_set, word.text, d.type_str, d.name)
        ctx.error(word.loc, said, cite=Cite.TIGHT if rule_set.startswith("http-") else None)
        return True
    if action not in allowed:  # HAProxy's build has it, pylvs does not
        ctx.error(
            word.loc,
            f"'{rule_set}' expects {', '.join(sorted(allowed))} but got '{word.text}'.",
        )
        return True
    return False


def read_rule(st: Statement, ctx: Context, d: ProxyDraft, rule_set: str) -> Rule | None:
    head, cond_words = split_condition(st.args)
    if not head and rule_set.startswith("http-"):  # "but got 'if'", "'' (missing argument)"
        got = cond_words[0].text if cond_words else ""
        said = action_words.unknown_action(rule_set, got, d.type_str, d.name)
        ctx.error(st.loc, said, cite=Cite.TIGHT)
        return None
    if not head:
        ctx.error(st.loc, f"'{rule_set}' expects an action.")
        return None
    word = head[0]
    action = word.text.partition("(")[0]
    if action.startswith("lua.") and lua.known_action(action, rule_set):
        return _lua_rule(st, ctx, d, rule_set, head=head, cond_words=cond_words)
    if _track_past_max(word, ctx, d, rule_set) or _refused(word, ctx, d, rule_set):
        return None
    check = _WORDS.get(action)
    if check is not None and not check(st, ctx, d, rule_set, head):
        return None
    few = action_args.complaint(rule_set, word.text, len(head) - 1, f"{d.type_str} '{d.name}'")
    if few is None and len(head) > 1:
        few = action_args.expression_problem(
            rule_set, word.text, head[1].text, f"{d.type_str} '{d.name}'"
        )
    if few is not None:
        ctx.error(word.loc, few)
        return None
    if len(head) - 1 < MIN_ARGS.get(action, 0):
        ctx.error(word.loc, f"'{rule_set} {action}' expects {MIN_ARGS[action]} argument(s).")
        return None
    reply = None
    if rule_set.startswith("http-") and action in _REPLIES:
        reply = _reply(
            st, ctx, d, rule_set=rule_set, action=action, words=[w.text for w in head[1:]]
        )
        if reply is None:
            return None
    if action == "redirect" and not _redirect_words(st, ctx, d, rule_set, head[1:]):
        return None
    if rule_set.startswith("tcp-"):
        template = (
            f"'{rule_set} {action}' : error detected in {d.type_str} '{d.name}' while parsing"
            f" '{cond_words[0].text if cond_words else 'if'}' condition : {{}}"
        )
    else:
        template = f"error detected while parsing an '{rule_set} {action}' condition : {{}}."
    ok, cond = condition(cond_words, ctx, d, template)
    if not ok:
        return None
    rule = Rule(st.loc, word.text, tuple(w.text for w in head[1:]), cond, reply)
    if not formats_ok(st, ctx, d, rule_set, rule):
        return None
    return rule


# Actions whose words are checked by a module of their own (the words, then the condition).
_WORDS = {
    "switch-mode": switch_mode.words_ok,
    "do-resolve": resolvers_action.words_ok,
    "cache-use": cache.rule_words,
    "cache-store": cache.rule_words,
}


def _track_past_max(word: Word, ctx: Context, d: ProxyDraft, rule_set: str) -> bool:
    """`track-scN` past track-sc2 (MAX_SESS_STKCTR 3): parse_trk_action's alert, worded by
    the rule set's parser (tcp_rules.c, http_rules.c)."""
    digits = word.text.removeprefix("track-sc")
    if digits == word.text or not (digits.isascii() and digits.isdigit()) or int(digits) <= 2:
        return False
    why = f"{int(digits)} track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value"
    if rule_set.startswith("tcp-"):
        ctx.error(word.loc, f"'{rule_set} {word.text}' : {why}")
    else:
        ctx.error(
            word.loc,
            f"error detected in {d.type_str} '{d.name}' while parsing '{rule_set} {word.text}'"
            f" rule : {why}.",
        )
    return True


def _lua_rule(
    st: Statement,
    ctx: Context,
    d: ProxyDraft,
    rule_set: str,
    *,
    head: list[Word],
    cond_words: list[Word],
) -> Rule | None:
    """A `lua.NAME` action (hlua.c action_register_lua): exactly the arguments the script
    declared (`register_action`'s fourth argument), then the condition."""
    word = head[0]
    action = word.text
    nargs = lua.action_nargs(action)
    words = head[1:]
    if nargs is not None and len(words) < nargs:
        ctx.error(
            st.loc,
            f"error detected in {d.type_str} '{d.name}' while parsing '{rule_set} {action}'"
            f" rule : expect {nargs} arguments.",
        )
        return None
    if nargs is not None and len(words) > nargs:
        ctx.error(
            words[nargs].loc,
            f"'{rule_set} {action}' expects either 'if' or 'unless' followed by a condition"
            f" but found '{words[nargs].text}'.",
        )
        return None
    template = f"error detected while parsing an '{rule_set} {action}' condition : {{}}."
    ok, cond = condition(cond_words, ctx, d, template)
    if not ok:
        return None
    return Rule(st.loc, action, tuple(w.text for w in words), cond, None)


def _redirect_words(
    st: Statement, ctx: Context, d: ProxyDraft, rule_set: str, words: list[Word]
) -> bool:
    """http_parse_redirect_rule's checks of the kind: one of location/prefix/scheme, in any
    place (compile_rules reads the rest), and only `location` in a response."""
    text = action_args.redirect_problem(
        [w.text for w in words], response=rule_set == "http-response"
    )
    if text:
        ctx.error(
            st.loc,
            f"error detected in {d.type_str} '{d.name}' while parsing '{rule_set} redirect'"
            f" rule : {text}.",
        )
    return not text


# The HTTP actions that answer (http_act.c parse_http_deny, parse_http_return), with their
# default status per rule set.
_REPLIES = {"deny": {"http-request": 403, "http-response": 502}, "tarpit": {"http-request": 500}}
_REPLIES["return"] = {"http-request": 200, "http-response": 200}
# Actions that end a rule set (ACT_FLAG_FINAL): an unconditional one makes later rules NOOP.
FINAL = frozenset({"allow", "deny", "tarpit", "auth", "redirect", "return"})


def _reply(
    st: Statement, ctx: Context, d: ProxyDraft, *, rule_set: str, action: str, words: list[str]
) -> HttpReply | None:
    default = _REPLIES[action].get(rule_set, 200)
    if action != "return":  # deny, tarpit: no arguments or only deny_status: default pages
        if not words:
            words = ["default-errorfiles"]
        elif words[0] == "deny_status":
            words = ["status", *words[1:]] + (["default-errorfiles"] if len(words) == 2 else [])
    try:
        reply, end, warnings = parse_reply(words, 0, default, ctx.host)
    except ReplyError as e:
        ctx.error(
            st.loc,
            f"error detected in {d.type_str} '{d.name}' while parsing '{rule_set} {action}' rule :"
            f" {e}.",
        )
        return None
    for text in warnings:
        ctx.warning(st.loc, text)
    if end < len(words):  # http_rules.c parse_http_req_cond / parse_http_res_cond
        ctx.error(
            st.loc,
            f"'{rule_set} {action}' expects either 'if' or 'unless' followed by a condition but"
            f" found '{words[end]}'.",
            cite=Cite.TIGHT,
        )
        return None
    return reply


def _anonymous_defaults(st: Statement, ctx: Context, d: ProxyDraft) -> bool:
    """tcp-request/tcp-response rules refuse an unnamed defaults section (tcp_rules.c)."""
    if d.kind == "defaults" and not d.name:
        what = f"{st.name} {st.args[0].text}"
        ctx.error(st.loc, f"{what} is not allowed in anonymous 'defaults' sections")
        return True
    return False


def _inspect_delay(st: Statement, ctx: Context, d: ProxyDraft, before: int | None) -> int | None:
    """`tcp-request|tcp-response inspect-delay TIME` as tcp_rules.c reads it: its own words
    around parse_time_err's complaint; a second one is ignored with a warning."""
    said = (
        f"'{st.name} inspect-delay' expects a positive delay in milliseconds, in"
        f" {d.type_str} '{d.name}'"
    )
    text = st.args[1].text if len(st.args) > 1 else ""
    problem = time_problem(text) if text else ""
    if problem == "overflow":
        said += f" (timer overflow in '{text}', maximum value is 2147483647 ms or ~24.8 days)"
    elif problem == "underflow":
        said += f" (timer underflow in '{text}', minimum non-null value is 1 ms)"
    elif problem:
        said += f" ({problem})"
    if problem is not None:
        ctx.error(st.loc, said)
        return None
    if before:
        ctx.warning(
            st.loc,
            f"ignoring {st.name} inspect-delay (was already defined) in {d.type_str} '{d.name}'",
        )
        return None
    return time_ms(st.args[1], ctx, f"{st.name} inspect-delay")


def tcp_request(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`tcp-request inspect-delay|connection|session|content` (tcp_rules.c tcp_parse_tcp_req)."""
    kind = st.args[0].text
    if _anonymous_defaults(st, ctx, d):
        return
    if kind == "inspect-delay":
        delay = _inspect_delay(st, ctx, d, d.tcp_request_inspect_delay_ms)
        if delay is not None:
            d.tcp_request_inspect_delay_ms = delay
        return
    attrs = {"connection": "tcp_request_connection", "session": "tcp_request_session"}
    attrs["content"] = "tcp_request_content"
    if kind not in attrs:
        ctx.error(
            st.args[0].loc,
            "'tcp-request' expects 'connection', 'session', 'content' or 'inspect-delay'"
            f" (got '{kind}').",
        )
        return
    if kind in ("connection", "session") and d.kind == "backend":
        ctx.error(
            st.loc,
            f"tcp-request {kind} is not allowed because backend {d.name} is not a frontend",
        )
        return
    inner = Statement(st.keyword, st.args[1:])
    rule = read_rule(inner, ctx, d, f"tcp-request {kind}")
    if rule is not None:
        setattr(d, attrs[kind], (*getattr(d, attrs[kind]), rule))


def tcp_response(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`tcp-response inspect-delay|content` (tcp_rules.c tcp_parse_tcp_rep)."""
    kind = st.args[0].text
    if _anonymous_defaults(st, ctx, d):
        return
    if kind not in ("content", "inspect-delay"):
        ctx.error(
            st.args[0].loc, f"'tcp-response' expects 'content' or 'inspect-delay' (got '{kind}')."
        )
        return
    if d.kind == "frontend":
        ctx.error(
            st.loc,
            f"tcp-response {kind} is only allowed in 'backend' sections or 'defaults' section"
            " with a name",
        )
        return
    if kind == "inspect-delay":
        delay = _inspect_delay(st, ctx, d, d.tcp_response_inspect_delay_ms)
        if delay is not None:
            d.tcp_response_inspect_delay_ms = delay
        return
    rule = read_rule(Statement(st.keyword, st.args[1:]), ctx, d, "tcp-response content")
    if rule is not None:
        d.tcp_response_content = (*d.tcp_response_content, rule)


def redirect(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    head, cond_words = split_condition(st.args)
    # the words may come in any order (http_parse_redirect_rule); compile_rules reads them
    text = action_args.redirect_problem([w.text for w in head], response=False)
    if text:
        ctx.error(
            st.loc,
            f"error detected in {d.type_str} '{d.name}' while parsing redirect rule : {text}.",
        )
        return
    ok, cond = condition(
        cond_words,
        ctx,
        d,
        f"error detected in {d.type_str} '{d.name}' while parsing redirect rule : error in"
        " condition: {}.",
    )
    if ok:
        rule = Rule(st.loc, "redirect", tuple(w.text for w in head), cond)
        d.redirects = (*d.redirects, rule)


def use_backend(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    head, cond_words = split_condition(st.args)
    if len(head) != 1:
        ctx.error(st.loc, "'use_backend' expects a backend name.")
        return
    ok, cond = condition(cond_words, ctx, d, _SWITCHING)
    if ok:
        name = head[0].text
        rule = SwitchRule(st.loc, name, cond, dynamic="%[" in name)
        d.use_backends = (*d.use_backends, rule)


def use_server(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    head, cond_words = split_condition(st.args)
    if len(head) != 1:
        ctx.error(st.loc, "'use-server' expects a server name.")
        return
    if not cond_words:
        ctx.error(st.loc, "'use-server' requires either 'if' or 'unless' followed by a condition.")
        return
    ok, cond = condition(cond_words, ctx, d, _SWITCHING)
    if ok:
        d.use_servers = (*d.use_servers, SwitchRule(st.loc, head[0].text, cond))


def default_backend(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    d.default_backend = st.args[0].text
    d.default_backend_loc = st.loc


def stick_table(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`stick-table type T [len N] size S [expire E] [nopurge] [peers P] [srvkey K] [store ...]`
    (src/stick_table.c parse_stick_table, read by proto/stick/spec.py).

    Array data types (`gpc(N)`, `gpc_rate(N,period)`, `gpt(N)`) are valid in HAProxy 2.6 but
    not stored by pylvs: they are dropped with an UNSUPPORTED warning.
    """
    if d.stick_table is not None and d.stick_table_loc is not None:  # cfgparse-listen.c
        at = d.stick_table_loc
        ctx.error(
            st.loc,
            f"stick-table name '{d.name}' conflicts with table declared in {d.kind} '{d.name}'"
            f" at {at.file}:{at.line}.",
        )
        return
    words = [w.text for w in st.args]
    for i, w in enumerate(words[:-1]):
        if w != "store":
            continue
        items = [m for m in _STORE_ITEM.findall(words[i + 1]) if m]
        kept = [x for x in items if x.partition("(")[0] not in ARRAY_TYPES]
        if len(kept) != len(items):
            dropped = ", ".join(x for x in items if x not in kept)
            ctx.warning(
                st.args[i + 1].loc,
                f"stick-table: pylvs does not store array data types ({dropped}); ignored.",
                kind=Kind.UNSUPPORTED,
            )
            words[i + 1] = ",".join(kept)
    words = _drop_empty_stores(words)
    warnings: list[str] = []
    try:
        table = parse_stick_table(d.name, words, warnings)
    except SpecError as e:
        ctx.error(st.loc, str(e))
        return
    for text in warnings:  # stick_table.c's "parsing [F:L]: "
        ctx.warning(st.loc, text, cite=Cite.TIGHT)
    d.stick_table, d.stick_table_loc = table, st.loc


def _drop_empty_stores(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i] == "store" and i + 1 < len(words) and not words[i + 1]:
            i += 2
            continue
        out.append(words[i])
        i += 1
    return out


def stick(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`stick on|match|store-request|store-response EXPR [table T] [if|unless cond]`."""
    if d.kind == "frontend":  # cfgparse-listen.c: warnifnotcap (said by proxy_keyword), then out
        return
    kind = st.args[0].text
    if kind not in ("on", "match", "store-request", "store-response"):
        ctx.error(
            st.args[0].loc,
            f"'stick' expects 'on', 'match', 'store-request' or 'store-response' (got '{kind}').",
        )
        return
    head, cond_words = split_condition(st.args[1:])
    if not head:
        ctx.error(st.loc, f"'stick {kind}' expects a sample expression.")
        return
    table = None
    if len(head) >= 3 and head[1].text == "table":
        table = head[2].text
        head = [head[0], *head[3:]]
    if len(head) != 1:
        ctx.error(head[1].loc, f"'stick {kind}' : unexpected word '{head[1].text}'.")
        return
    try:
        sample = parse_sample(head[0].text)
    except SampleError as e:
        ctx.error(head[0].loc, f"'stick {kind}' : {e}.")
        return
    ok, cond = condition(
        cond_words, ctx, d, "'stick': error detected while parsing sticking condition : {}."
    )
    if ok:
        d.stick_rules = (*d.stick_rules, StickRule(st.loc, kind, sample, table, cond))
