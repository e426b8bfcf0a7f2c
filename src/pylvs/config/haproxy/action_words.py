"""How HAProxy 2.6 words an unknown action of a rule set (src/http_rules.c parse_http_req_cond
and its siblings, src/tcp_rules.c tcp_parse_request_rule / tcp_parse_response_rule): the
actions its build registered, in the order `action_build_list` lists them ("(*)" after those
matched by prefix), and the nearest one as `action_suggest` finds it.

The lists are those of the haproxy 2.6.12 the goldens come from (Debian's build: with
OpenTracing's `ot-group`), as `haproxy -c` prints them for `RULESET frobnicate`.  An action
HAProxy lists that pylvs does not take is not refused with this message (rules.py names the
actions pylvs takes then).
"""

from __future__ import annotations

from pylvs.config.keywords.fingerprint import closest

# The registered actions, per rule set (tcp-request: after its built-in ones), blank-separated.
_REGISTERED = {
    "http-request": (
        "wait-for-handshake ot-group set-log-level set-nice use-service sc-inc-gpc(*) "
        "sc-inc-gpc0(*) sc-inc-gpc1(*) sc-set-gpt(*) sc-set-gpt0(*) send-spoe-group "
        "do-resolve(*) cache-use add-acl(*) add-header allow auth capture del-acl(*) del-header "
        "del-map(*) deny disable-l7-retry early-hint normalize-uri redirect reject "
        "replace-header replace-path replace-pathq replace-uri replace-value return set-header "
        "set-map(*) set-method set-path set-pathq set-query set-uri strict-mode tarpit "
        "track-sc(*) set-timeout wait-for-body set-var-fmt(*) set-var(*) unset-var(*) set-dst "
        "set-dst-port set-mark set-src set-src-port set-tos silent-drop set-priority-class "
        "set-priority-offset"
    ),
    "http-response": (
        "ot-group set-log-level set-nice sc-inc-gpc(*) sc-inc-gpc0(*) sc-inc-gpc1(*) "
        "sc-set-gpt(*) sc-set-gpt0(*) send-spoe-group cache-store add-acl(*) add-header allow "
        "capture del-acl(*) del-header del-map(*) deny redirect replace-header replace-value "
        "return set-header set-map(*) set-status strict-mode track-sc(*) wait-for-body "
        "set-var-fmt(*) set-var(*) unset-var(*) set-mark set-tos silent-drop"
    ),
    "http-after-response": (
        "ot-group add-header allow capture del-header replace-header replace-value set-header "
        "set-status strict-mode set-var-fmt(*) set-var(*) unset-var(*)"
    ),
    "tcp-request connection": (
        "sc-inc-gpc(*) sc-inc-gpc0(*) sc-inc-gpc1(*) sc-set-gpt(*) sc-set-gpt0(*) "
        "set-var-fmt(*) set-var(*) unset-var(*) set-dst set-dst-port set-mark set-src "
        "set-src-port set-tos silent-drop"
    ),
    "tcp-request session": (
        "sc-inc-gpc(*) sc-inc-gpc0(*) sc-inc-gpc1(*) sc-set-gpt(*) sc-set-gpt0(*) "
        "set-var-fmt(*) set-var(*) unset-var(*) set-dst set-dst-port set-mark set-src "
        "set-src-port set-tos silent-drop"
    ),
    "tcp-request content": (
        "ot-group set-log-level set-nice switch-mode use-service sc-inc-gpc(*) sc-inc-gpc0(*) "
        "sc-inc-gpc1(*) sc-set-gpt(*) sc-set-gpt0(*) send-spoe-group do-resolve(*) "
        "set-var-fmt(*) set-var(*) unset-var(*) set-src set-src-port set-dst set-dst-port "
        "set-mark set-tos silent-drop set-priority-class set-priority-offset"
    ),
    "tcp-response content": (
        "ot-group set-log-level set-nice sc-inc-gpc(*) sc-inc-gpc0(*) sc-inc-gpc1(*) "
        "sc-set-gpt(*) sc-set-gpt0(*) send-spoe-group set-var-fmt(*) set-var(*) unset-var(*) "
        "set-mark set-tos silent-drop"
    ),
}
REGISTERED = {rule_set: words.split() for rule_set, words in _REGISTERED.items()}
# The actions each rule set knows before its registered ones (src/tcp_rules.c `extra`).
_BUILT_IN = {
    "tcp-request": ["accept", "reject", "capture", "track-sc", "expect-proxy"],
    "tcp-response": ["accept", "reject", "close"],
}
_BUILT_IN["tcp-request"].append("expect-netscaler-cip")
_LISTED = {
    "tcp-request": "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip',"
    " 'track-sc0' ... 'track-sc2', ",
    "tcp-response": "'accept', 'close', 'reject', ",
}


def known(rule_set: str, action: str) -> bool:
    """Whether HAProxy's build knows `action` in `rule_set`."""
    family = rule_set.split(maxsplit=1)[0]
    names = [kw.removesuffix("(*)") for kw in REGISTERED.get(rule_set, [])]
    track = action.startswith("track-sc") and ("track-sc" in names or family == "tcp-request")
    return action in names or action in _BUILT_IN.get(family, []) or track


def unknown_action(rule_set: str, word: str, proxy_type: str, proxy: str) -> str:
    """HAProxy's message for `RULE_SET WORD` when WORD is no action of the rule set: an HTTP
    one is cited "parsing [F:L]: ", a TCP one "parsing [F:L] : " (config/errors.py Cite)."""
    registered = REGISTERED.get(rule_set, [])
    listed = ", ".join(f"'{kw}'" for kw in registered)
    names = [kw.removesuffix("(*)") for kw in registered]
    prefix = frozenset(kw.removesuffix("(*)") for kw in registered if kw.endswith("(*)"))
    family = rule_set.split(maxsplit=1)[0]
    best = closest(word, [*names, *_BUILT_IN.get(family, [])], prefix)
    hint = f" Did you mean '{best}' maybe ?" if best else ""
    if family in _LISTED:
        end = "\n" if family == "tcp-request" else ""  # a blank line after tcp-request's
        return (
            f"'{rule_set}' expects {_LISTED[family]}{listed} in {proxy_type} '{proxy}'"
            f" (got '{word}').{hint}{end}"
        )
    missing = "" if word else " (missing argument)"
    return f"'{rule_set}' expects {listed}, but got '{word}'{missing}.{hint}"
