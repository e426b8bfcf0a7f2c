"""haproxy.cfg -> the `mode http` part of a proxy's spec (model/proxy_spec.HttpSpec), and what
the HTTP runtime (dataplane/haproxy/http) does not apply yet, reported where it is written.

The connection options are HAProxy 2.6's (doc/configuration.txt 4.2): `option
http-keep-alive` (the default), `http-server-close`, `httpclose`; `timeout http-request` and
`timeout http-keep-alive`; `http-reuse never|safe|aggressive|always` (safe by default);
`option dontlognull` and `option http-ignore-probes` (which silence the 408 of an empty
first connection, src/mux_h1.c h1_handle_req_tout); `option http-pretend-keepalive`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from pylvs.config.errors import Kind, Problems
from pylvs.config.haproxy.model import Global, Proxy
from pylvs.model.proxy_spec import AddedAddress, FrontendSpec, HttpSpec

CAPTURE_LEN = 64  # include/haproxy/defaults.h: the capture pool's size by default

# What a mode http proxy may say that the runtime does not do yet (each present gets an
# UNSUPPORTED warning); its rules (http-request, http-response, http-after-response,
# redirect, use_backend, use-server) run through proto/rules (ProxiesSpec.rules).
_OPTIONS_NOT_YET: tuple[str, ...] = ()

# The balance algorithms the HTTP runtime feeds (the request's view: sched.base.HttpRequest).
HTTP_ALGORITHMS = frozenset(
    {"roundrobin", "static-rr", "leastconn", "first", "source", "random"}
    | {"uri", "url_param", "hdr"}
)


def _option(proxy: Proxy, name: str) -> bool:
    return any(n == name and on for n, on, _ in proxy.options.others)


def _forwardfor(proxy: Proxy) -> AddedAddress | None:
    ff = proxy.options.forwardfor
    if ff is None:
        return None
    return AddedAddress(ff.header, ff.except_net, ff.if_none)


def originalto(proxy: Proxy, problems: Problems | None = None) -> AddedAddress | None:
    """`option originalto [except NET] [header NAME]` (cfgparse-listen.c's parser)."""
    found = [args for n, on, args in proxy.options.others if n == "originalto" and on]
    if not found:
        return None
    args = found[-1]
    out = AddedAddress("X-Original-To")
    for i in range(0, len(args), 2):
        key, value = args[i], args[i + 1] if i + 1 < len(args) else None
        try:
            if value is None or key not in ("except", "header"):
                raise ValueError("'option originalto' only supports optional values 'except'"
                                 " and 'header'.")  # fmt: skip
            if key == "header":
                out = replace(out, header=value)
            else:
                out = replace(out, except_net=ipaddress.ip_network(value, strict=False))
        except ValueError as e:
            if problems is not None:
                text = (
                    str(e)
                    if key != "except"
                    else f"'option originalto' : invalid network '{value}'."
                )
                problems.error(proxy.loc, text)
            return None
    return out


def http_spec(proxy: Proxy, problems: Problems | None = None) -> HttpSpec:
    t = proxy.timeouts
    o = proxy.options
    return HttpSpec(
        conn_mode=o.http_mode,
        request_ms=t.http_request,
        keep_alive_ms=t.http_keep_alive,
        reuse=proxy.http_reuse or "safe",
        dontlognull=o.dontlognull,
        ignore_probes=_option(proxy, "http-ignore-probes"),
        h2_upgrade=not _option(proxy, "disable-h2-upgrade"),
        pretend_keepalive=_option(proxy, "http-pretend-keepalive"),
        forwardfor=_forwardfor(proxy),
        originalto=originalto(proxy, problems),
        request_captures=_captures(proxy, "request header"),
        response_captures=_captures(proxy, "response header"),
        buffer_request=_option(proxy, "http-buffer-request"),
        compression=proxy.more.compression,
        splice_request=_option(proxy, "splice-request"),
        splice_response=_option(proxy, "splice-response"),
        splice_auto=o.splice_auto,
    )


def _captures(proxy: Proxy, kind: str) -> tuple[tuple[str, int], ...]:
    return tuple((c.name, c.length) for c in proxy.captures if c.kind == kind)


def report_unserved(proxy: Proxy, problems: Problems) -> None:
    """UNSUPPORTED warnings for what a mode http proxy says that the runtime does not apply."""
    for name in _OPTIONS_NOT_YET:
        if _option(proxy, name):
            problems.warning(
                proxy.loc,
                f"'option {name}' is not applied by the HTTP runtime yet",
                Kind.UNSUPPORTED,
            )


def with_cookie_capture(
    fe: FrontendSpec, proxy: Proxy, glob: Global, problems: Problems
) -> FrontendSpec:
    """`capture cookie NAME len N` (the last one counts, cfgparse-listen.c), its length cut
    below the capture pool's size (`tune.http.cookielen`, else 64: cfgparse.c's "truncating
    capture length" warning)."""
    found = [c for c in proxy.captures if c.kind == "cookie"]
    if fe.http is None or not found:
        return fe
    c = found[-1]
    pool = glob.http_cookielen + 1 if glob.http_cookielen else CAPTURE_LEN
    length = c.length
    if length >= pool:
        problems.warning(
            proxy.loc,
            f"truncating capture length to {pool - 1} bytes for {proxy.type_str} '{proxy.name}'.",
        )
        length = pool - 1
    return replace(fe, http=replace(fe.http, capture_cookie=(c.name, length)))
