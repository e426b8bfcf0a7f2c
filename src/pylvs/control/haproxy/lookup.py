"""Finding proxies and servers by the names the stats socket is given (src/proxy.c).

`find_proxy` is proxy_find_by_name with no capability (a name, or `#<id>`), `find_backend` and
`find_frontend` are proxy_be_by_name / proxy_fe_by_name, `find_server` is get_backend_server
(a server name, or `#<id>`), and `backend_server` splits a `backend/server` argument and
answers with cli_find_server's messages.
"""

from __future__ import annotations

from pylvs.model.proxies import ProxiesSnapshot, ProxyView, ServerView
from pylvs.sched.haproxy.cnum import atoi


def find_proxy(snapshot: ProxiesSnapshot, name: str) -> ProxyView | None:
    if name.startswith("#"):
        pid = atoi(name[1:])
        return next((p for p in snapshot.proxies if p.id == pid), None)
    return next((p for p in snapshot.proxies if p.name == name), None)


def find_backend(snapshot: ProxiesSnapshot, name: str) -> ProxyView | None:
    if name.startswith("#"):
        pid = atoi(name[1:])
        return next((p for p in snapshot.proxies if p.id == pid and p.backend), None)
    return next((p for p in snapshot.proxies if p.name == name and p.backend), None)


def find_frontend(snapshot: ProxiesSnapshot, name: str) -> ProxyView | None:
    if name.startswith("#"):
        pid = atoi(name[1:])
        return next((p for p in snapshot.proxies if p.id == pid and p.frontend), None)
    return next((p for p in snapshot.proxies if p.name == name and p.frontend), None)


def find_server(px: ProxyView, name: str) -> ServerView | None:
    if name.startswith("#"):
        sid = atoi(name[1:])
        return next((s for s in px.servers if s.id == sid), None)
    return next((s for s in px.servers if s.name == name), None)


def backend_server(snapshot: ProxiesSnapshot, arg: str) -> tuple[ProxyView, ServerView] | str:
    """cli_find_server: the proxy and server `backend/server` names, or the error message."""
    backend, _, server = arg.partition("/")
    if not server or not backend:
        return "Require 'backend/server'.\n"
    px = find_backend(snapshot, backend)
    sv = find_server(px, server) if px is not None else None
    if px is None or sv is None:
        return "No such server.\n" if px is not None else "No such backend.\n"
    if px.frontend is not None and px.frontend.stopped:
        return "Proxy is disabled.\n"
    return px, sv
