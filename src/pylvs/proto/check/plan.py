"""What a configuration's compiled checks promise the engine: build the running `Checks`.

A reader compiles its configuration's health checks into a `Planner` (HAProxy's:
config/haproxy/convert_checks.CheckPlanner) and hands it over in the neutral spec
(`model.proxy_spec.ProxiesSpec.checks`, typed there as the opaque `ChecksPlan`).  The
engine, which may not import a reader, narrows it to this Protocol and builds the checks
over the runtime's own balancer pools, so that what the checks decide (srv_set_running /
_stopped, slowstart) moves the very servers the runtime picks from.  `queues(backend)`
is the runtime's `Sessions` of that backend (pendconn_redistribute / _grab_from_px /
process_srv_queue).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from pylvs.proto.check.schedule import Checks, Host, Planned
from pylvs.proto.check.server import ServerHealth, Sessions
from pylvs.sched.haproxy.pool import Pool
from pylvs.sched.haproxy.server import Server


@runtime_checkable
class Planner(Protocol):
    @property
    def checked(self) -> tuple[tuple[str, str], ...]: ...

    def build(
        self,
        pools: Mapping[str, Pool],
        queues: Callable[[str], Sessions],
        *,
        host: Host | None = None,
    ) -> Checks:
        """Every check over `pools` (by backend name); backends missing there are skipped."""
        ...

    def plan_server(
        self, backend: str, server: object, pool: Pool, lb: Server, sessions: Sessions
    ) -> tuple[ServerHealth, list[Planned]]:
        """The checks of a server `add server` created (`server`: ServerSpec.line)."""
        ...
