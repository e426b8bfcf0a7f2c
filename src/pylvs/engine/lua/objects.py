"""Lua's Proxy, Server and Listener objects and core's runtime functions (HAProxy 2.6
src/hlua_fcn.c): what a script asks of the running proxies.  Server and proxy actions go
through the stats socket's own commands, so their semantics and refusals are the socket's;
a server a script called a method of cannot be deleted (hlua_check_server marks it
SRV_F_NON_PURGEABLE)."""

from __future__ import annotations

from typing import Any

from pylvs.control.haproxy.names import STAT_NAMES, STATIC_COUNT
from pylvs.control.haproxy.rows import backend_row, frontend_row, listener_row, server_row
from pylvs.engine.lua.base import EngineBase, _b
from pylvs.model.proxies import ADMF_DRAIN


class ObjectsMixin(EngineBase):
    def _server(self, backend: bytes, name: bytes) -> None:
        # hlua_check_server: a server a script called a method of is SRV_F_NON_PURGEABLE
        self.live.dynamic.pinned.add((backend.decode(), name.decode()))

    def _server_call(self, backend: bytes, name: bytes, what: bytes, *args: bytes | None) -> object:
        be, sv = backend.decode(), name.decode()
        op = what.decode()
        a = [x.decode() for x in args if x is not None]
        target = f"{be}/{sv}"
        if op == "stats":
            return self._server_stats(be, sv)
        if op == "addr":  # hlua_server_get_addr: ADDR:PORT, a unix path, or <unknown>
            view = self._server_view(be, sv)
            if view is None:
                return None
            s = view[1]
            if s.family in ("ipv4", "ipv6"):
                return _b(f"{s.addr}:{s.port}")
            return _b(s.addr if s.family == "unix" else "<unknown>")
        if op == "get_weight":
            view = self._server_view(be, sv)
            return None if view is None else view[1].uweight
        if op == "get_maxconn":
            view = self._server_view(be, sv)
            return None if view is None else view[1].maxconn
        if op == "is_draining":  # hlua_server_is_draining: SRV_ADMF_DRAIN, as 0 or 1
            view = self._server_view(be, sv)
            return 0 if view is None else int(bool(view[1].admin & ADMF_DRAIN))
        lines = {
            "set_weight": f"set weight {target} {a[0] if a else ''}",
            "set_maxconn": f"set maxconn server {target} {a[0] if a else ''}",
            "state": f"set server {target} state {a[0] if a else ''}",
            "shut_sess": f"shutdown sessions server {target}",
            "health": f"set server {target} health {a[0] if a else ''}",
            "agent": f"set server {target} agent {a[0] if a else ''}",
            "cli": f"{a[0] if a else ''} {target}",
            "set_addr": f"set server {target} addr {' port '.join(a)}",
        }
        answer = self._cli(lines[op])
        if op == "set_addr":  # srv_update_addr_port's message, always, with the script's name
            return _b(answer.strip().replace("'stats socket command'", "'Lua script'"))
        # hlua_server_set_weight and its siblings return the error text, or nil
        return None if not answer.strip() or "changed" in answer else _b(answer.strip())

    def _server_view(self, be: str, sv: str) -> tuple[Any, Any] | None:
        for px in self.live.snapshot().proxies:
            if px.name == be:
                for s in px.servers:
                    if s.name == sv:
                        return px, s
        return None

    def _server_stats(self, be: str, sv: str) -> object:
        snap = self.live.snapshot()
        for px in snap.proxies:
            if px.name == be:
                for s in px.servers:
                    if s.name == sv:
                        return self._row(server_row(px, s, snap.now, True))
        return None

    def _row(self, row: list[Any]) -> object:
        out: dict[bytes, object] = {}
        # hlua_*_get_stats: the ST_F_TOTAL_FIELDS columns, not the stats modules' ones
        for name, f in zip(STAT_NAMES[:STATIC_COUNT], row, strict=False):
            if f is not None:
                out[name.encode()] = _b(f.value) if isinstance(f.value, str) else f.value
        return self.states[0].table(out) if self.states else None

    def _proxy_call(self, name: bytes, what: bytes) -> object:
        px_name = name.decode()
        snap = self.live.snapshot()
        px = next((p for p in snap.proxies if p.name == px_name), None)
        op = what.decode()
        if px is None:
            return None
        if op == "stats":
            row = frontend_row(px) if px.frontend is not None else backend_row(px, snap.now, True)
            return self._row(row)
        if op == "mode":
            return _b(px.mode)
        if op == "cap":
            caps = [c for c, v in (("frontend", px.frontend), ("backend", px.backend)) if v]
            return _b(",".join(caps))
        line = {
            "pause": f"disable frontend {px_name}",
            "resume": f"enable frontend {px_name}",
            "stop": f"shutdown frontend {px_name}",
            "shut_bcksess": "",
        }[op]
        if line:
            self._cli(line)
        return None

    def _listener_stats(self, proxy: bytes, listener: bytes) -> object:
        snap = self.live.snapshot()
        for px in snap.proxies:
            if px.name == proxy.decode():
                for i, li in enumerate(px.listeners, start=1):
                    if _b(li.name or f"sock-{i}") == listener:
                        return self._row(listener_row(px, li, True))
        return None
