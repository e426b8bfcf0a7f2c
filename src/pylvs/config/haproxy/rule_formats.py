"""The log-format strings of a rule, checked as HAProxy checks them when it reads the rule
(src/log.c parse_logformat_string and add_sample_to_logformat_list, called by the action
parsers of src/http_act.c, src/vars.c and src/http_rules.c; HAProxy 2.6): their syntax, the
variables they name, and whether each fetch can be read where the rule runs.
"""

from __future__ import annotations

from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.lf_nodes import LogFormatError, l6_fetches, parse_log_format, unusable
from pylvs.config.haproxy.model import Rule
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement

# Where the log-format strings of an action are among its words (http_act.c, vars.c parsers)
_FORMAT_ARGS: dict[str, tuple[int, ...]] = {
    "set-header": (1,), "add-header": (1,), "early-hint": (1,), "replace-header": (2,),
    "replace-value": (2,), "set-path": (0,), "set-pathq": (0,), "set-query": (0,),
    "set-uri": (0,), "set-method": (0,), "replace-path": (1,), "replace-pathq": (1,),
    "replace-uri": (1,), "set-var-fmt": (0,), "add-acl": (0,), "del-acl": (0,),
    "del-map": (0,), "set-map": (0, 1),
}  # fmt: skip


def _formats(rule: Rule, rule_set: str) -> list[str]:
    """The log-format strings of `rule` (parse_logformat_string's inputs)."""
    action = rule.action.partition("(")[0]
    out = [rule.args[i] for i in _FORMAT_ARGS.get(action, ()) if i < len(rule.args)]
    redirect = action == "redirect" and rule_set.startswith("http-") and len(rule.args) > 1
    if redirect and not (rule.args[0] == "prefix" and rule.args[1] == "/"):
        out.append(rule.args[1])
    if rule.reply is not None:
        out += [value for _, value in rule.reply.headers]
        if rule.reply.kind in ("lf-string", "lf-file") and rule.reply.body is not None:
            body = rule.reply.body
            out.append(body.decode("latin-1") if isinstance(body, bytes) else body)
    return out


def formats_ok(st: Statement, ctx: Context, d: ProxyDraft, rule_set: str, rule: Rule) -> bool:
    """parse_logformat_string on each format of the rule, with HAProxy's message."""
    if not rule_set.startswith("http-") and rule.action.partition("(")[0] != "set-var-fmt":
        return True
    where = f"error detected in {d.type_str} '{d.name}' while parsing '{rule_set} {rule.action}'"
    fe, be = d.kind != "backend", d.kind != "frontend"
    for text in _formats(rule, rule_set):
        try:
            nodes = parse_log_format(text)
        except LogFormatError as e:
            ctx.error(st.loc, f"{where} rule : {e}.")
            return False
        problem = unusable(text, nodes, rule_set, fe, be)
        if problem is not None:
            ctx.error(st.loc, f"{where} rule : {problem}.")
            return False
        if rule_set.startswith("http-"):
            for fetch_text in l6_fetches(text, nodes):
                ctx.warning(
                    st.loc, f"L6 sample fetch <{fetch_text}> ignored in HTTP log-format string."
                )
    return True
