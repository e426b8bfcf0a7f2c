"""Which server-state file a backend reads at start (HAProxy 2.6 src/server_state.c
`apply_server_state`, `srv_state_get_filepath`; configuration manual `server-state-file`,
`server-state-base`, `load-server-state-from-file`, `server-state-file-name`).

`load-server-state-from-file global` reads the global `server-state-file` (none set: nothing),
`local` the backend's `server-state-file-name` (none, or `use-backend-name`: the backend's
own name), `none` (HAProxy's default) nothing.  A name that does not start with '/' is put
under `server-state-base` when there is one, else left relative (to the directory the
process runs in, as fopen takes it).
"""

from __future__ import annotations

import dataclasses

from pylvs.config.haproxy.model import Global, Proxy
from pylvs.model.proxy_spec import BackendSpec


def state_path(name: str, base: str | None) -> str:
    """srv_state_get_filepath."""
    if name.startswith("/") or not base:
        return name
    return base + ("" if base.endswith("/") else "/") + name


def with_state_file(spec: BackendSpec, proxy: Proxy, g: Global) -> BackendSpec:
    """`spec` with the state file its configuration names, and whether its id was forced."""
    mode = proxy.load_server_state_from_file or "none"
    path: str | None = None
    if mode == "global" and g.server_state_file:
        path = state_path(g.server_state_file, g.server_state_base)
    elif mode == "local":
        path = state_path(proxy.server_state_file_name or proxy.name, g.server_state_base)
    return dataclasses.replace(
        spec,
        state_file=path,
        state_file_local=mode == "local",
        forced_id=proxy.id is not None,
    )
