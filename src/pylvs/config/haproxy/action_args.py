"""How HAProxy 2.6 words a rule action missing its arguments, or naming a variable without its
scope, as each action's parser says it (src/http_act.c, src/vars.c `parse_store`,
src/stick_table.c `parse_trk_action`, src/tcp_act.c, src/log.c, src/proxy.c, src/http_rules.c
`parse_http_req_cond`, src/tcp_rules.c `tcp_parse_request_rule`).  The words were read from
`haproxy -c` (2.6.12) for each action written without its arguments.

An HTTP rule's complaint is wrapped ("error detected in frontend 'fe' while parsing
'http-request add-header' rule : expects exactly 2 arguments."); a TCP one is said as is.
"""

from __future__ import annotations

from pylvs.config.haproxy.samples import SampleError, parse_sample
from pylvs.proto.sample.vars import VarError, parse_var_name
from pylvs.sched.haproxy.cnum import atoi

_FETCH = "missing fetch method"
_BY_ACTION = {
    **dict.fromkeys(
        ("add-header", "set-header", "early-hint", "set-map", "set-timeout"),
        "expects exactly 2 arguments",
    ),
    "del-header": "expects at least 1 argument",
    **dict.fromkeys(("replace-header", "replace-value"), "expects exactly 3 arguments"),
    **dict.fromkeys(
        ("set-path", "set-pathq", "set-query", "set-uri", "set-method"),
        "expects exactly 1 argument <format>",
    ),
    **dict.fromkeys(
        ("replace-path", "replace-pathq", "replace-uri"),
        "expects exactly 2 arguments <match-regex> and <replace-format>",
    ),
    "redirect": "redirection type expected ('prefix', 'location', or 'scheme')",
    "capture": "expects <expression> [ 'len' <length> | id <idx> ]",
    "use-service": "'use-service' expects a service name.",
    **dict.fromkeys(("add-acl", "del-acl", "del-map"), "expects exactly 1 arguments"),
    "set-log-level": "expects exactly 1 argument (log level name or 'silent')",
    **dict.fromkeys(("set-mark", "set-tos"), "expects exactly 1 argument (integer/hex value)"),
    "set-nice": "expects exactly 1 argument (integer value)",
    "set-status": "expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>",
    **dict.fromkeys(
        (
            "track-sc0", "track-sc1", "track-sc2", "set-var", "set-src", "set-dst",
            "set-src-port", "set-dst-port", "set-priority-class", "set-priority-offset",
        ),
        _FETCH,
    ),
}  # fmt: skip
# How many words each needs (what the parser counts); the others need one
_NEEDS = {"add-header": 2, "set-header": 2, "early-hint": 2, "set-map": 2, "set-timeout": 2}
_NEEDS.update({"replace-header": 3, "replace-value": 3, "redirect": 2, "set-status": 1})
_NEEDS.update({"replace-path": 2, "replace-pathq": 2, "replace-uri": 2})
# tcp_act.c / tcp_rules.c: their own words where they differ from the HTTP parsers'
_TCP = {"use-service": "'tcp-request' expects a service name."}
_VAR_ACTIONS = ("set-var", "set-var-fmt", "unset-var")


def complaint(rule_set: str, word: str, nargs: int, proxy: str) -> str | None:
    """What HAProxy says of `RULE_SET WORD` followed by `nargs` words (before any `if`) in
    `proxy` ("frontend 'fe'"), when that is too few or the variable it names has no scope;
    None when it reads on."""
    action, _, rest = word.partition("(")
    if action in _VAR_ACTIONS and rest:
        try:
            parse_var_name(rest.removesuffix(")").partition(",")[0])  # then its conditions
        except VarError as e:
            return _said(rule_set, word, str(e), proxy)
    said = _BY_ACTION.get(action)
    if said is None or nargs >= _NEEDS.get(action, 1):
        return None
    if action == "capture" and rule_set == "http-response":
        said = "expects <expression> id <idx>"
    if rule_set.startswith("tcp-"):
        if action in ("capture", "track-sc0", "track-sc1", "track-sc2"):
            return f"'{rule_set} {action}' : {_FETCH}"
        said = _TCP.get(action, said)
    return _said(rule_set, word, said, proxy)


def _said(rule_set: str, word: str, said: str, proxy: str) -> str:
    if rule_set.startswith("tcp-"):
        return said
    return f"error detected in {proxy} while parsing '{rule_set} {word}' rule : {said}."


_REDIRECT_VALUES = ("location", "prefix", "scheme", "set-cookie", "clear-cookie", "code")
_REDIRECT_FLAGS = ("drop-query", "append-slash", "ignore-empty")


def redirect_problem(words: list[str], *, response: bool) -> str | None:
    """http_rules.c http_parse_redirect_rule's walk over a redirect's words (those before its
    condition): what it says of the first it refuses, None when they are fine."""
    kind = None
    i = 0
    while i < len(words):
        word = words[i]
        if word in _REDIRECT_VALUES:
            if i + 1 >= len(words) or not words[i + 1]:
                return f"missing argument for '{word}'"
            i += 1
            if word in ("location", "prefix", "scheme"):
                kind = word
            code = atoi(words[i])
            if word == "code" and not (301 <= code <= 303 or 307 <= code <= 308):
                return (
                    f"'code': unsupported HTTP code '{words[i]}' (must be one of 301, 302, 303,"
                    " 307 or 308)"
                )
        elif word not in _REDIRECT_FLAGS:
            return (
                "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie',"
                f" 'drop-query', 'ignore-empty' or 'append-slash' (was '{word}')"
            )
        i += 1
    if kind is None:
        return "redirection type expected ('prefix', 'location', or 'scheme')"
    if response and kind != "location":
        return "response only supports redirect type 'location'"
    return None


def expression_problem(rule_set: str, word: str, expr: str, proxy: str) -> str | None:
    """An HTTP rule's `set-var(NAME) EXPR`: vars.c parse_store parses the expression while
    reading (sample.c sample_parse_expr), so a fetch or converter it does not know is
    refused there, in the rule parser's words.  Lua's fetches are checked once loaded."""
    if (
        not rule_set.startswith("http-")
        or not word.startswith("set-var(")
        or expr.startswith("lua.")
    ):
        return None
    try:
        parse_sample(expr)
    except SampleError as e:
        return _said(rule_set, word, str(e), proxy)
    return None
