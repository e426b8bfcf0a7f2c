"""What the stats socket and the stats page need from the HAProxy runtime: two Protocols.

`StatsSource` gives values: the `ProxiesSnapshot` (taken again for every command, so that
`disable server be/s1; show stat` shows the change), the live streams for `show sess`, the
captured errors for `show errors`, the stick tables for `show|clear|set table` (proto/stick's
own objects: `table_command` reads and edits them), the pattern references for the ACL and
map commands (patterns.py).

`ProxyAdmin` is what the commands change.  The command set has already found the proxy and
server (by name or `#id`), checked the level and the arguments and produced HAProxy's
messages; the runtime only applies the change, as the named HAProxy function does:

* `set_server_state(be, srv, "ready"|"drain"|"maint")` -- srv_adm_set_ready / _drain / _maint
  (`disable|enable server`, `set server B/S state`, the page's ready/drain/maint actions);
* `set_server_weight(be, srv, text)` -- server_parse_weight_change_request (sched.haproxy's
  `Pool.change_weight` does it and returns HAProxy's message, or None);
* `set_server_health(be, srv, "up"|"stopping"|"down")`, `set_server_agent(be, srv,
  "up"|"down")` -- the check's health to its top or to 0, then srv_set_running / _stopping /
  _stopped "changed from CLI";
* `set_check_enabled(be, srv, agent, on)` -- `enable|disable health|agent` (CHK_ST_ENABLED);
* `set_server_maxconn(be, srv, maxconn)` -- server_parse_maxconn_change_request's effect;
* `set_server_addr(be, srv, addr, port)` -- srv_update_addr_port's effect (None: unchanged);
* `set_server_fqdn(be, srv, fqdn)` -- srv_update_fqdn (engine/proxy_resolvers.py);
* `shutdown_server_sessions(be, srv)`, `shutdown_session(id) -> bool` (False: no such stream);
* `add_server(be, srv, words) -> str` and `del_server(be, srv) -> str` -- the whole `add
  server` / `del server` (they need the configuration's server-line reader, which only the
  runtime may import): HAProxy's answer, "New server registered.\n" / "Server deleted.\n" or
  its error;
* `pause_frontend(name) -> bool`, `resume_frontend(name) -> bool` (False: the sockets could
  not be paused / bound again), `stop_frontend(name)`, `set_frontend_maxconn(name, n)`,
  `set_global_maxconn(n)`;
* `clear_counters(all_counters)` -- `clear counters [all]` (maxima only, or everything);
* `set_proc_var(name, fmt, text)` -- `set var` (vars.c vars_parse_cli_set_var).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pylvs.control.haproxy.peers import PeersView
from pylvs.model.proxies import ErrorCapture, ProxiesSnapshot, SessionView
from pylvs.model.resolvers import ResolversSpec
from pylvs.proto.cache.store import HttpCache
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.types import Smp
from pylvs.proto.stick import StickTable
from pylvs.proto.tls_store import CaStore


@dataclass(frozen=True, slots=True)
class ErrorLog:
    """The captured errors and how many were ever captured (error_snapshot_id)."""

    total: int = 0
    captures: tuple[ErrorCapture, ...] = ()


class StatsSource(Protocol):
    def snapshot(self) -> ProxiesSnapshot: ...

    def sessions(self) -> Sequence[SessionView]: ...

    def errors(self) -> ErrorLog: ...

    def tables(self) -> Sequence[StickTable]: ...

    def patterns(self) -> PatternStore:
        """The ACL and map files and inline patterns the rules use (`show|add|del acl|map`
        edit them in place)."""
        ...

    def proc_var(self, name: str) -> Smp | None:
        """`get var`: the process-wide variable `name` ("proc.x"), None if there is none."""
        ...

    def peers(self) -> Sequence[PeersView]:
        """The `peers` sections (`show peers`), with their clock's now."""
        ...

    def resolvers_counters(self) -> Sequence[tuple[ResolversSpec, Sequence[Mapping[str, int]]]]:
        """The `resolvers` sections and their nameservers' counters (`show resolvers`, `show
        stat domain resolvers`)."""
        ...

    def caches(self) -> tuple[Sequence[HttpCache], int]:
        """The `cache` sections (`show cache`) and their clock's now (epoch seconds)."""
        ...

    def table_now(self) -> float:
        """The time the tables count from (their clock: proto/stick keeps 32-bit ticks, so a
        runtime gives them a clock that starts near zero, not the wall clock)."""
        ...


class ProxyAdmin(Protocol):
    def set_server_state(self, backend: str, server: str, state: str) -> None: ...

    def set_server_weight(self, backend: str, server: str, text: str) -> str | None: ...

    def set_server_health(self, backend: str, server: str, health: str) -> None: ...

    def set_server_agent(self, backend: str, server: str, state: str) -> None: ...

    def tls_store(self) -> CaStore:
        """The runtime's CA files and certificates (`ssl ca-file`, `show ssl cert`)."""
        ...

    def set_server_ssl(self, backend: str, server: str, on: bool | None) -> str | None:
        """Turn a server's TLS on or off (None: only check it may be): HAProxy's refusal,
        or None."""
        ...

    def set_check_enabled(self, backend: str, server: str, agent: bool, on: bool) -> None: ...

    def set_server_maxconn(self, backend: str, server: str, maxconn: int) -> None: ...

    def set_server_addr(
        self, backend: str, server: str, addr: str | None, port: int | None
    ) -> None: ...

    def set_server_fqdn(self, backend: str, server: str, fqdn: str) -> tuple[bool, str]:
        """`set server B/S fqdn NAME`: (refused, HAProxy's text)."""
        ...

    def shutdown_server_sessions(self, backend: str, server: str) -> None: ...

    def shutdown_session(self, session_id: int) -> bool: ...

    def add_server(self, backend: str, server: str, words: Sequence[str]) -> str: ...

    def del_server(self, backend: str, server: str) -> str: ...

    def pause_frontend(self, name: str) -> bool: ...

    def resume_frontend(self, name: str) -> bool: ...

    def stop_frontend(self, name: str) -> None: ...

    def set_frontend_maxconn(self, name: str, maxconn: int) -> None: ...

    def set_global_maxconn(self, maxconn: int) -> None: ...

    def set_rate_limit(self, kind: str, value: int) -> None: ...

    def clear_counters(self, all_counters: bool) -> None: ...

    def set_proc_var(self, name: str, fmt: bool, text: str) -> str | None:
        """`set var`: set the proc. variable from an expression (or a log-format); HAProxy's
        error message, or None when set."""
        ...


class Runtime(StatsSource, ProxyAdmin, Protocol):
    """Both sides: what the stats socket server and the stats page are given."""
