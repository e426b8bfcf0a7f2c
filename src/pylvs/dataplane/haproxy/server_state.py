"""Server states applied to a runtime before it handles traffic: from the server-state files
its backends name (`load-server-state-from-file`), or from the runtime a reload replaces.

HAProxy 2.6 reads the files in `apply_server_state` (src/server_state.c) at start, before
the listeners accept anything: the global `server-state-file` once for every backend that
says `global`, a backend's own file for `local` (its lines not matching a server are
warned about).  What reading and applying a line means is proto/server_state.py; this reads
the files and walks the runtime's backends.  A reload inside one pylvs process gives the new
runtime the old one's states through the same rules (what `show servers state` said of the
old runtime, as a file written just before `haproxy -sf` would carry it).

What a check engine needs of a restored state (health, last status and result, checks
disabled from the stats socket) stays in `ProxyRuntime.restored`, by (backend, server).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping

from pylvs.proto import server_state as ss
from pylvs.sched.haproxy.server import Admin

from .backend import BackendRuntime, ServerRuntime

Key = tuple[str, str]


def read_text(path: str, local: ss.LocalBackend | None) -> ss.StateFile:
    """A state file as apply_server_state opens it (a missing file is a warning in 2.6)."""
    who = f"Proxy '{local.name}': " if local is not None else "config: "
    what = "server state file" if local is not None else "global server state file"
    try:
        with open(path, encoding="latin-1", newline="") as f:
            text = f.read()
    except OSError as e:
        dot = "." if local is not None else ""
        msg = ss.Message("warning", f"{who}Can't open {what} '{path}': {e.strerror}{dot}")
        return ss.StateFile(0, {}, (msg,))
    return ss.read(text, path, local)


def load_files(
    backends: Mapping[str, BackendRuntime], now: float
) -> tuple[dict[Key, ss.Restored], list[ss.Message]]:
    """Every backend's state file, read and applied; (restored check states, messages)."""
    messages: list[ss.Message] = []
    restored: dict[Key, ss.Restored] = {}
    global_files: dict[str, ss.StateFile] = {}
    for be in backends.values():
        spec = be.spec
        if spec.state_file is None or not be.servers:
            continue
        if spec.state_file_local:
            state = read_text(spec.state_file, ss.LocalBackend(spec.name, spec.id))
            messages.extend(state.messages)
        elif spec.state_file in global_files:
            state = global_files[spec.state_file]
        else:
            state = global_files[spec.state_file] = read_text(spec.state_file, None)
            messages.extend(state.messages)
        if not state.version:
            continue
        messages.extend(apply_lines(be, state.lines, now, restored))
        if spec.state_file_local:
            names = {s.spec.name for s in be.servers}
            for backend, server in state.lines:
                if server not in names:
                    text = f"can't find server '{server}' in backend '{backend}'"
                    messages.append(ss.Message("warning", f"Proxy '{spec.name}': {text}"))
    return restored, messages


def apply_lines(
    be: BackendRuntime,
    lines: Mapping[Key, tuple[str, ...]],
    now: float,
    restored: dict[Key, ss.Restored],
) -> list[ss.Message]:
    """srv_state_px_update: each server of `be` takes its line, if it has one."""
    messages = []
    name = be.spec.name
    for srv in be.servers:
        params = lines.get((name, srv.spec.name))
        if params is None:
            continue
        state, bad = ss.check(params)
        if state is None:
            text = f"server-state application failed for server '{name}/{srv.spec.name}'{bad}"
            messages.append(ss.Message("warning", text))
            continue
        _last_addr(be, srv, state.addr, now)
        chk = srv.spec.check
        target = ss.Target(srv.lb, chk.rise, chk.fall, chk.enabled, chk.agent)
        restored[name, srv.spec.name] = ss.apply(be.pool, target, state, now)
        if state.port and srv.spec.port is not None and state.port != srv.spec.port:
            srv.set_address(srv.spec.address, state.port)
    be.grab()
    return messages


def _last_addr(be: BackendRuntime, srv: ServerRuntime, addr: str | None, now: float) -> None:
    """`init-addr last`: a server named by a host name takes the address the file kept for it
    before what the next methods gave (srv_apply_lastaddr, run by srv_init_addr after the
    file is applied: the server never was in maintenance "resolution" then)."""
    spec = srv.spec
    if not spec.init_last or spec.fqdn is None or addr is None:
        return
    try:
        address = ipaddress.ip_address(addr)
    except ValueError:  # str2ip2 without resolution: not an address, the next method's
        return
    srv.set_address(address, spec.port)
    if spec.unresolved:
        srv.spec = dataclasses.replace(srv.spec, unresolved=False)
        be.pool.clear_admin(srv.lb, Admin.RMAINT, now)
