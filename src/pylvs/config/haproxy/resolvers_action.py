"""The `do-resolve(<var>,<resolvers>[,ipv4|ipv6]) <expr>` action of `http-request` and
`tcp-request content` as HAProxy 2.6 reads and checks it (src/resolvers.c
`resolv_parse_do_resolve`, `check_action_do_resolve`; configuration §4.2 "http-request
do-resolve").

The words in parentheses are cut at commas as HAProxy cuts them: the variable's name (not
checked: a bad one sets nothing at run time), the section's name, then `ipv4`/`ipv6` (the
last one wins, ipv6 by default); anything else, or a missing parenthesis or expression, is
"Can't parse '...'" naming the word HAProxy was at.  The expression must be readable at the
request headers of the proxy's sides (SMP_VAL_FE_HRQ_HDR / BE_HRQ_HDR), whatever the rule
set.  A section that does not exist is said once the file is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pylvs.config.errors import Cite
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.fetch_cap import CAP
from pylvs.config.haproxy.fetches import FETCHES
from pylvs.config.haproxy.lf_nodes import src_names
from pylvs.config.haproxy.model import Proxy
from pylvs.config.haproxy.samples import SampleError, parse_sample
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement, Word

_EXPECTS = (
    "Expects 'do-resolve(<varname>,<resolvers>[,<options>]) <expr>'. Available options are"
    " 'ipv4' and 'ipv6'"
)


@dataclass(frozen=True, slots=True)
class DoResolveArgs:
    var: str
    resolvers: str
    prefer: str  # "ipv4" | "ipv6"


def parse_head(text: str) -> DoResolveArgs | None:
    """The words in `do-resolve(...)`, cut as resolv_parse_do_resolve cuts them."""
    open_at = text.find("(")
    if open_at < 0:
        return None
    beg = open_at + 1
    end = text.find(",", beg)
    if end < 0:
        return None
    var = text[beg:end]
    beg = end + 1
    end = _next_stop(text, beg)
    if end < 0:
        return None
    resolvers = text[beg:end]
    prefer = "ipv6"
    while text[end] != ")":
        beg = end + 1
        end = _next_stop(text, beg)
        if end < 0:
            return None
        option = text[beg:end]
        # strncmp(beg, "ipv4", end - beg): a prefix of the word is taken for it
        if "ipv4".startswith(option):
            prefer = "ipv4"
        elif "ipv6".startswith(option):
            prefer = "ipv6"
        else:
            return None
    return DoResolveArgs(var, resolvers, prefer)


def _next_stop(text: str, beg: int) -> int:
    end = text.find(",", beg)
    return end if end >= 0 else text.find(")", beg)


def words_ok(st: Statement, ctx: Context, d: ProxyDraft, rule_set: str, head: list[Word]) -> bool:
    """resolv_parse_do_resolve's checks of the rule's words (said as the rule set's parser
    says a failed action: "error detected in PROXY while parsing 'RULESET WORD' rule")."""
    word = head[0]
    where = f"error detected in {d.type_str} '{d.name}' while parsing '{rule_set} {word.text}'"
    tcp = rule_set.startswith("tcp-")

    def bad(text: str) -> bool:  # tcp_rules.c says the action's message alone
        ctx.error(st.loc, text if tcp else f"{where} rule : {text}.")
        return False

    if parse_head(word.text) is None:
        return bad(f"Can't parse '{word.text}'. {_EXPECTS}")
    expr = head[1].text if len(head) > 1 else ""
    try:
        sample = parse_sample(expr)
    except SampleError:
        return bad(f"Can't parse '{expr}'. {_EXPECTS}")
    fe, be = (
        d.kind in ("frontend", "listen", "defaults"),
        d.kind in ("backend", "listen", "defaults"),
    )
    places = {p for p, side in (("FE_HRQ_HDR", fe), ("BE_HRQ_HDR", be)) if side}
    fetch = FETCHES.get(sample.fetch)
    if fetch is not None and not any(places & CAP.get(use, frozenset()) for use in fetch.use):
        return bad(
            f"fetch method '{expr}' extracts information from '{src_names(fetch.use)}', none"
            " of which is available here"
        )
    if len(head) > 2 and tcp:
        ctx.error(
            st.loc,
            f"'{rule_set} {word.text}' only accepts 'if' or 'unless', in {d.type_str}"
            f" '{d.name}' (got '{head[2].text}')",
        )
        return False
    if len(head) > 2:
        ctx.error(
            st.loc,
            f"'{rule_set} {word.text}' expects either 'if' or 'unless' followed by a condition"
            f" but found '{head[2].text}'.",
            cite=Cite.TIGHT,
        )
        return False
    return True


_RULE_SETS = ("tcp_request_content", "http_request")  # HAProxy checks them in this order


def check_sections(proxies: Iterable[Proxy], names: set[str], ctx: Context) -> None:
    """check_action_do_resolve, once the file is read: the section must exist."""
    for p in proxies:
        for attr in _RULE_SETS:
            for rule in getattr(p, attr):
                if rule.action.partition("(")[0] != "do-resolve":
                    continue
                got = parse_head(rule.action)
                if got is not None and got.resolvers not in names:
                    ctx.error(
                        rule.loc,
                        f"Proxy '{p.name}': Can't find resolvers section '{got.resolvers}' for"
                        " do-resolve action.",
                        cite=Cite.NONE,
                    )
