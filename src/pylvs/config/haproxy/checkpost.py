"""A proxy's health checks once the configuration is read (src/cfgparse.c
check_config_validity's check warnings, src/tcpcheck.c check_proxy_tcpcheck, src/check.c
init_srv_check's port rule).

HAProxy says these without a line; pylvs points at the proxy's section: rules written for a
check method the proxy does not use, `disable-on-404` / `send-state` without `option
httpchk`, a tcp-check with no rules left.  A checked server needs a port to check: its own,
`port`, or one on every `connect` rule.
"""

from __future__ import annotations

from pylvs.config.haproxy import checkset
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.syntax import BACKEND, has_cap
from pylvs.config.keywords import Context
from pylvs.proto.check.rules import Connect, Proto, Ruleset


def proxy_checks(d: ProxyDraft, ctx: Context) -> Ruleset | None:
    """The ruleset of a backend's checks (None for a frontend), with HAProxy's warnings."""
    c = d.checks
    kind = d.type_str
    if c.unused_http:
        ctx.warning(
            d.loc,
            f"{kind} '{d.name}' uses http-check rules without 'option httpchk', so the rules are"
            " ignored.",
        )
    if c.kind == "tcp-check" and c.proto is not Proto.HTTP:
        for what, on in (("disable-on-404", c.disable_404), ("send-state", c.send_state)):
            if on:
                ctx.warning(
                    d.loc,
                    f"'{what}' will be ignored for {kind} '{d.name}' (requires 'option httpchk').",
                )
    if c.unused_tcp:
        ctx.warning(
            d.loc,
            f"{kind} '{d.name}' uses tcp-check rules without 'option tcp-check', so the rules"
            " are ignored.",
        )
    if not has_cap(d.kind, BACKEND) or d.kind == "defaults":
        return None
    got = checkset.finish(c)
    if isinstance(got, str):
        ctx.error(d.loc, f"proxy '{d.name}' : {got}")
        return None
    return got


def check_port_problem(checks: Ruleset | None) -> str | None:
    """init_srv_check for a server without a port nor `port`: None when the tcp-check
    rules give every connection a port, else what HAProxy says."""
    given = checks.rules if checks is not None else ()
    rules = [r for r in given if not (isinstance(r, Connect) and r.implicit)]
    if not rules:
        return "has neither service port nor check port"
    first = rules[0]
    if not isinstance(first, Connect) or not (first.port or first.addr_port):
        return (
            "has neither service port nor check port nor tcp_check rule 'connect' with port"
            " information"
        )
    if any(isinstance(r, Connect) and not (r.port or r.addr_port) for r in rules):
        return (
            "has neither service port nor check port, and a tcp_check rule 'connect' with no"
            " port information"
        )
    return None
