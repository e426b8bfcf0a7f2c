"""A backend's `cookie` line and its servers' `cookie` values -> model/proxy_spec's
CookieSpec and ServerSpec.cookie (src/cfgparse-listen.c "cookie", src/server.c
srv_set_dyncookie for `dynamic`).

HAProxy keeps several `domain` values as one string joined with "; domain=" and several
`attr` values joined with "; ", and prints them in that form in every Set-Cookie it adds;
the ages are whole seconds.  With `dynamic` and a `dynamic-cookie-key`, a server without its
own `cookie` gets the XXH64 of the key, its address and its port (proto/http/cookies.py).
`option checkcache` is carried beside (it blocks cacheable responses that set cookies).
"""

from __future__ import annotations

import dataclasses

from pylvs.config.haproxy.model import Proxy
from pylvs.model.proxy_spec import CookieSpec, ServerSpec
from pylvs.proto.http.cookies import dynamic_cookie


def cookie_spec(proxy: Proxy) -> CookieSpec | None:
    c = proxy.cookie
    if c is None or proxy.mode != "http":
        return None
    return CookieSpec(
        name=c.name,
        rewrite=c.mode == "rewrite",
        insert=c.mode == "insert",
        prefix=c.mode == "prefix",
        indirect=c.indirect,
        nocache=c.nocache,
        postonly=c.postonly,
        preserve=c.preserve,
        httponly=c.httponly,
        secure=c.secure,
        domain="; domain=".join(c.domains) or None,
        maxidle_s=(c.maxidle_ms or 0) // 1000,
        maxlife_s=(c.maxlife_ms or 0) // 1000,
        attrs="; ".join(c.attrs) or None,
    )


def server_cookies(proxy: Proxy, servers: list[ServerSpec]) -> list[ServerSpec]:
    """Each server's cookie value: its own, else the dynamic one, else none (mode http
    backends with a `cookie` line only: HAProxy ignores server cookies elsewhere)."""
    c = proxy.cookie
    if c is None or proxy.mode != "http":
        return servers
    own = {s.name: s.cookie for s in proxy.servers}
    key = proxy.more.dynamic_cookie_key
    out = []
    for s in servers:
        value = own.get(s.name)
        if value is None and c.dynamic and key is not None and s.address is not None:
            value = dynamic_cookie(key, s.address, s.port or 0)
        out.append(dataclasses.replace(s, cookie=value) if value is not None else s)
    return out


def checkcache(proxy: Proxy) -> bool:
    return any(name == "checkcache" and on for name, on, _ in proxy.options.others)
