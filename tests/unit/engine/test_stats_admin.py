"""`stats admin if|unless COND` on the stats page: the proxy's compiled condition run on the
page's request (its address and its HTTP head, as http_handle_stats does), first one that
holds makes the page an admin page."""

from __future__ import annotations

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.control.haproxy.web import PageRequest
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.engine.proxy_stats import LiveProxies
from pylvs.engine.stats_servers import page_listeners

TEXT = """\
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
listen stats
    bind 127.0.0.1:7000
    stats enable
    stats uri /
    stats admin if { src 10.0.0.0/8 } { hdr(x-admin) -m str yes }
    stats admin unless { src 10.0.0.0/8 } || { path_beg /ro }
"""


def test_admin_conditions_see_the_requester_and_the_request() -> None:
    result = load_text(TEXT, "s.cfg", env={})
    spec = to_spec(result.config, result.problems).proxies
    assert not result.problems.has_errors(), [str(p) for p in result.problems]
    runtime = ProxyRuntime(spec, clock=lambda: 10.0, raise_nofile=False)
    (listener,) = page_listeners(spec.frontends[0], LiveProxies(runtime))
    rules = listener.settings.admin
    assert len(rules) == 2

    def admin(client: str, target: str = "/", *headers: tuple[str, str]) -> bool:
        request = PageRequest("GET", target, headers=headers, client=client)
        return any(rule(request) for rule in rules)

    assert admin("10.1.1.1", "/", ("X-Admin", "yes"))
    assert not admin("10.1.1.1", "/")  # the header is missing, the second is `unless` src
    assert admin("192.0.2.1", "/")  # unless: neither the network nor /ro
    assert not admin("192.0.2.1", "/ro/x")
    assert not admin("not an address")
