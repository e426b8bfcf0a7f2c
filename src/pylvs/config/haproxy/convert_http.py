"""haproxy.cfg -> the `mode http` part of a proxy's spec (model/proxy_spec.HttpSpec), and what
the HTTP runtime (dataplane/haproxy/http) does not apply yet, reported where it is written.

The connection options are HAProxy 2.6's (doc/configuration.txt 4.2): `option
http-keep-alive` (the default), `http-server-close`, `httpclose`; `timeout http-request` and
`timeout http-keep-alive`; `http-reuse never|safe|aggressive|always` (safe by default);
`option dontlognull` and `option http-ignore-probes` (which silence the 408 of an empty
first connection, src/mux_h1.c h1_handle_req_tout); `option http-pretend-keepalive`.
"""

from __future__ import annotations

from pylvs.config.errors import Kind, Problems
from pylvs.config.haproxy.model import Proxy
from pylvs.model.proxy_spec import HttpSpec

# What a mode http proxy may say that the runtime does not do yet (each present gets an
# UNSUPPORTED warning); its rules (http-request, http-response, http-after-response,
# redirect, use_backend, use-server) run through proto/rules (ProxiesSpec.rules).
_OPTIONS_NOT_YET = ("originalto", "http-buffer-request")

# The balance algorithms the HTTP runtime feeds (the request's view: sched.base.HttpRequest).
HTTP_ALGORITHMS = frozenset(
    {"roundrobin", "static-rr", "leastconn", "first", "source", "random"}
    | {"uri", "url_param", "hdr"}
)


def _option(proxy: Proxy, name: str) -> bool:
    return any(n == name and on for n, on, _ in proxy.options.others)


def http_spec(proxy: Proxy) -> HttpSpec:
    t = proxy.timeouts
    o = proxy.options
    return HttpSpec(
        conn_mode=o.http_mode,
        request_ms=t.http_request,
        keep_alive_ms=t.http_keep_alive,
        reuse=proxy.http_reuse or "safe",
        dontlognull=o.dontlognull,
        ignore_probes=_option(proxy, "http-ignore-probes"),
        pretend_keepalive=_option(proxy, "http-pretend-keepalive"),
    )


def report_unserved(proxy: Proxy, problems: Problems) -> None:
    """UNSUPPORTED warnings for what a mode http proxy says that the runtime does not apply."""
    options = [name for name in _OPTIONS_NOT_YET if _option(proxy, name)]
    if proxy.options.forwardfor is not None:
        options.insert(0, "forwardfor")
    for name in options:
        problems.warning(
            proxy.loc, f"'option {name}' is not applied by the HTTP runtime yet", Kind.UNSUPPORTED
        )
    for capture in proxy.captures:
        problems.warning(
            proxy.loc,
            f"'capture {capture.kind} {capture.name}' is not applied by the HTTP runtime yet",
            Kind.UNSUPPORTED,
        )
