"""Whether a configuration resolves names while it runs (a server with `resolvers`, or a
`do-resolve` rule): the daemon then starts engine/proxy_resolvers.py, and only then imports
it (its start-up stays as short for every other configuration)."""

from __future__ import annotations

from pylvs.model.proxy_spec import ProxiesSpec
from pylvs.proto.rules.do_resolve import DoResolve


def wanted(spec: ProxiesSpec) -> bool:
    if any(s.resolve for b in spec.backends for s in b.servers):
        return True
    proxies = getattr(spec.rules, "proxies", None) or {}
    return any(
        isinstance(rule.action, DoResolve)
        for px in proxies.values()
        for rules in (px.http_request, px.tcp_content)
        for rule in rules
    )
