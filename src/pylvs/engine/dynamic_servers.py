"""`add server` and `del server` on the running HAProxy runtime: HAProxy 2.6 src/server.c
cli_parse_add_server, srv_apply_track and cli_parse_delete_server.

A server the stats socket adds is read by the configuration's server-line reader (a
`ServerLine`, config/haproxy/dynamic.py), checked against the backend the way HAProxy
checks it — the multiplexer (`proto`) must suit the backend's mode, a custom `id` must be
free, `track [B/]S` must name a static server that has a check, an agent or a track of its
own — then appended to the backend's pool in forced maintenance.  Its health and agent
checks join the running checks (engine/proxy_checks.py, through the spec's check planner),
disabled until `enable health|agent`, as HAProxy creates them; a tracking server follows the
tracked one from then on (HAProxy pushes it at the head of the tracked server's list, so
state changes reach the newest tracker first).

`del server` refuses what HAProxy refuses, in its order: a server other configuration
elements point to (a rule's server argument, `use-server`, being tracked: SRV_F_NON_PURGEABLE,
which stays set once a tracker was deleted), one not in maintenance, one with streams or a
queue; then it leaves its tracked server's list, its checks are purged and the pool drops it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
from pylvs.dataplane.haproxy.check_queues import BackendQueues
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.engine.proxy_checks import ProxyChecks
from pylvs.model.proxy_spec import ServerSpec
from pylvs.proto.check.plan import Planner
from pylvs.proto.check.server import ServerHealth
from pylvs.sched.haproxy.server import MAINT

# `add server`'s words read as a server line of a backend: the ServerSpec, or the answer.
ServerLine = Callable[[str, str, Sequence[str]], ServerSpec | str]

# The multiplexers HAProxy 2.6 registers for servers, by the mode they serve
# (mux_h1.c, mux_h2.c, mux_fcgi.c: HTTP; mux_pt.c: "none", TCP).
_MUX_MODES = {"h1": "http", "h2": "http", "fcgi": "http", "none": "tcp"}
NOT_PURGEABLE = (
    "This server cannot be removed at runtime due to other configuration elements pointing to it."
)


def no_dynamic_servers(backend: str, name: str, words: Sequence[str]) -> ServerSpec | str:
    return "pylvs: dynamic servers need the configuration's server-line reader.\n"


class DynamicServers:
    """`add server` / `del server` over one runtime and its checks (see the module doc)."""

    def __init__(
        self, runtime: ProxyRuntime, checks: ProxyChecks | None, server_line: ServerLine
    ) -> None:
        self.rt = runtime
        self.checks = checks
        self.server_line = server_line
        rules = runtime.spec.rules
        self.pinned: set[tuple[str, str]] = set(getattr(rules, "pinned", ()))
        if checks is not None:
            for key, sh in checks.checks.servers.items():
                if sh.trackers:
                    self.pinned.add(key)

    # -- add ---------------------------------------------------------------------------------

    def add(self, backend: str, name: str, words: Sequence[str]) -> str:
        be = self.rt.backends[backend]
        if be.pool.server(name) is not None:
            return "Already exists a server with the same name in backend.\n"
        got = self.server_line(backend, name, words)
        if isinstance(got, str):
            return got
        if got.proto is not None and _MUX_MODES.get(got.proto) != be.spec.mode:
            return "MUX protocol is not usable for server.\n"
        if got.id and be.pool.server_by_id(got.id) is not None:
            return f"'server {backend}/{name}' : custom id {got.id} already used.\n"
        tracked: ServerHealth | None = None
        if got.track is not None:
            found = self._tracked(backend, got.track)
            if isinstance(found, str):
                return found
            tracked = found
        try:
            srv = be.add_server(got, self.rt.ctx.clock())
        except ValueError as e:
            return f"{e}\n"
        self._plan(be, srv, tracked)
        # what pylvs will not do for it, before HAProxy's answer (which the tools match)
        return "".join(f"[pylvs] {w}\n" for w in got.warnings) + "New server registered.\n"

    def _tracked(self, backend: str, text: str) -> ServerHealth | str:
        """srv_apply_track's lookup and refusals (their text, with a newline)."""
        pname, slash, sname = text.rpartition("/")
        px = pname if slash else backend
        be = self.rt.backends.get(px)
        if be is None:
            return f"unable to find required proxy '{pname}' for tracking.\n"
        target = next((s for s in be.servers if s.spec.name == sname), None)
        if target is None:
            return f"unable to find required server '{sname}' for tracking.\n"
        if target.dynamic:
            return f"unable to use {px}/{sname} for tracking as it is a dynamic server.\n"
        sh = self.checks.health(px, sname) if self.checks is not None else None
        if sh is None or (sh.check is None and sh.agent is None and sh.track is None):
            return (
                f"unable to use {px}/{sname} for tracking as it does not have any check"
                " nor agent enabled.\n"
            )
        return sh

    def _plan(self, be: BackendRuntime, srv: ServerRuntime, tracked: ServerHealth | None) -> None:
        """The new server's checks join the running ones; its track is linked."""
        checks = self.checks
        plan = self.rt.spec.checks
        if checks is None or not isinstance(plan, Planner) or srv.spec.line is None:
            return
        sh, planned = plan.plan_server(
            be.spec.name, srv.spec.line, be.pool, srv.lb, BackendQueues(be)
        )
        if tracked is not None:
            sh.track = tracked
            tracked.trackers.insert(0, sh)  # srv->tracknext = strack->trackers
            self.pinned.add((tracked.backend, tracked.name))
        checks.checks.add(sh, planned, self.rt.ctx.clock())
        checks.driver.changed()

    # -- delete ------------------------------------------------------------------------------

    def delete(self, backend: str, name: str) -> str:
        if (backend, name) in self.pinned:
            return NOT_PURGEABLE
        be = self.rt.backends[backend]
        srv = next((s for s in be.servers if s.spec.name == name), None)
        if srv is not None and srv.lb.cur_admin & MAINT and self.rt.http.idle_to(be, srv):
            # cli_parse_delete_server: nor idle connections (srv->curr_idle_conns)
            return "Server still has connections attached to it, cannot remove it."
        try:
            be.remove_server(name)  # maintenance only, no stream nor queue
        except ValueError as e:
            return str(e)
        checks = self.checks
        sh = checks.health(backend, name) if checks is not None else None
        if checks is not None and sh is not None:
            if sh.track is not None:  # release_server_track
                sh.track.trackers.remove(sh)
            checks.driver.purge(checks.checks.remove(sh))
        return "Server deleted."
