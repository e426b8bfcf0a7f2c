"""A reload of the HAProxy runtime inside one process: the new runtime starts with the old
one's server states, as HAProxy's new process starts with the server-state file the old one
was asked for just before `-sf` (configuration manual `server-state-file`, management guide
§4 "Stopping and restarting HAProxy", src/server_state.c).

`carry_server_states` renders the old runtime's `show servers state` (control/haproxy: the
very text an operator would save to the file, check columns included) and applies it to the
new runtime's backends with the state file's rules (dataplane/haproxy/server_state.py): a
server kept by name in a backend kept by name keeps its maintenance, drain, operator weight
(unless its configured weight changed), operational and check state.  Unlike HAProxy without
`load-server-state-from-file`, every backend carries its states: in one process there is
no file to forget.  Listening sockets and stick tables go over in the runtime itself
(dataplane/haproxy/handover.py).
"""

from __future__ import annotations

import logging

from pylvs.control.haproxy.proxies import (
    SERVERS_STATE_FIELDS,
    SERVERS_STATE_VERSION,
    servers_state_lines,
)
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.dataplane.haproxy.server_state import apply_lines
from pylvs.engine.proxy_stats import LiveProxies
from pylvs.proto import server_state

log = logging.getLogger("pylvs")


def servers_state_text(live: LiveProxies) -> str:
    """`show servers state` of a live runtime (the state file's content)."""
    snapshot = live.snapshot()
    lines = "".join(
        servers_state_lines(p, snapshot.now) for p in snapshot.proxies if p.backend is not None
    )
    return f"{SERVERS_STATE_VERSION}\n# {SERVERS_STATE_FIELDS}\n{lines}"


def carry_server_states(old: LiveProxies, new: ProxyRuntime) -> None:
    """The old runtime's server states, applied to `new` before it serves."""
    state = server_state.read(servers_state_text(old), "(the running configuration)")
    now = new.ctx.clock()
    for be in new.backends.values():
        for m in apply_lines(be, state.lines, now, new.restored):
            log.warning("%s", m.text)
