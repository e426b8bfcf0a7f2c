"""Run-time DNS for the HAProxy runtime: the `resolvers` sections' queries on the event loop
and their answers applied to the servers (HAProxy 2.6 src/resolvers.c, src/dns.c's UDP
nameservers (TCP ones: proxy_resolvers_tcp.py), src/server.c `srv_update_addr`,
`snr_update_srv_status`).

proto/dns decides (resolution.py: runs, retries, holds; answers.py: which address each
server takes); this module owns one connected UDP socket per nameserver, one timer per
section, and applies the decisions through the paths the stats socket uses: an address
change is `set server B/S addr`'s (new connections go there, live ones stay), maintenance
"resolution" goes through proto/check/admin (HAProxy's log lines: "Server B/S is going DOWN
for maintenance (DNS NX status)...").  An address change is logged as haproxy does,
"B/S changed its IP from OLD to NEW by RESOLVERS/NAMESERVER" ("by DNS cache" for the other
servers sharing the answer), on stderr and to the backend's log targets; so is a server's
return, "Server B/S administratively READY thanks to valid DNS answer".  Datagrams that are
too big, unknown or malformed are dropped and counted (`show resolvers`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import socket
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
from pylvs.engine.proxy_resolvers_tcp import TcpNameserver
from pylvs.model.resolvers import ResolveOptions, ResolversSpec
from pylvs.proto.check import admin
from pylvs.proto.dns.answers import Owner
from pylvs.proto.dns.events import (
    AddressChanged,
    AddressCleared,
    Event,
    FqdnSet,
    MaintCleared,
    MaintSet,
    PortSet,
    Send,
    State,
    WeightSet,
)
from pylvs.proto.dns.resolution import Asking, Resolvers
from pylvs.proto.dns.wire import IpAddress
from pylvs.sched.haproxy.server import Admin

if TYPE_CHECKING:
    from pylvs.engine.proxy_stats import LiveProxies

log = logging.getLogger("pylvs.haproxy.resolvers")

LOG_NOTICE = 5
Console = Callable[[str, str], None]  # ("WARNING" | "ALERT", text)


def _daemon_log(kind: str, text: str) -> None:
    log.warning("%s", text)


class Section:
    """One `resolvers` section on the loop: its engine, sockets and timer."""

    def __init__(self, spec: ResolversSpec, owner: ProxyResolvers) -> None:
        self.spec = spec
        self.owner = owner
        self.engine = Resolvers(spec, owner.state, seed=int(owner.clock() * 1000) or 1)
        self.socks: list[socket.socket | None] = []
        self.tcp: dict[int, TcpNameserver] = {}
        self.timer: asyncio.TimerHandle | None = None

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        for n, ns in enumerate(self.spec.nameservers):
            if ns.proto == "tcp":
                self.tcp[n] = TcpNameserver(ns, loop, self.owner.now_ms, partial(self._answer, n))
                self.socks.append(None)
                continue
            family = socket.AF_INET6 if ":" in ns.address else socket.AF_INET
            try:
                s = socket.socket(family, socket.SOCK_DGRAM)
                s.setblocking(False)
                s.connect((ns.address, ns.port))
            except OSError as e:
                log.warning("resolvers '%s': can't connect socket for nameserver '%s': %s",
                            self.spec.name, ns.name, e)  # fmt: skip
                self.socks.append(None)
                continue
            loop.add_reader(s.fileno(), self._readable, n)
            self.socks.append(s)

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for s in self.socks:
            if s is not None:
                loop.remove_reader(s.fileno())
                s.close()
        self.socks = []
        for tcp in self.tcp.values():
            tcp.close()
        self.tcp.clear()

    def _answer(self, n: int, data: bytes) -> None:
        """A TCP nameserver's answer, taken as a datagram is."""
        self.apply(self.engine.receive(n, data, self.owner.now_ms()))
        self.arm()

    def _readable(self, n: int) -> None:
        s = self.socks[n] if n < len(self.socks) else None
        if s is None:
            return
        for _ in range(64):  # a bounded batch: the loop serves others between
            try:
                data = s.recv(65536)
            except BlockingIOError:
                break
            except OSError:  # ICMP unreachable and the like: HAProxy ignores them too
                break
            self.apply(self.engine.receive(n, data, self.owner.now_ms()))
        self.arm()

    def wake(self) -> None:
        self.timer = None
        self.apply(self.engine.tick(self.owner.now_ms()))
        self.arm()

    def arm(self) -> None:
        loop = self.owner.loop
        if loop is None:
            return
        if self.timer is not None:
            self.timer.cancel()
        now = self.owner.now_ms()
        delay = max(self.engine.next_wakeup(now) - now, 0) / 1000
        self.timer = loop.call_later(delay, self.wake)

    def apply(self, events: list[Event]) -> None:
        for ev in events:
            if isinstance(ev, Send):
                self._send(ev)
            else:
                self.owner.effect(ev)

    def _send(self, ev: Send) -> None:
        s = self.socks[ev.nameserver] if ev.nameserver < len(self.socks) else None
        ok = False
        tcp = self.tcp.get(ev.nameserver)
        if tcp is not None:
            ok = tcp.submit(ev.data)
        elif s is not None:
            try:
                ok = s.send(ev.data) == len(ev.data)
            except OSError:
                ok = False
        self.engine.sent(ev.nameserver, ev.data, ok)


class _Asked:
    """A stream's place in a resolution, for proto/rules/do_resolve.py (its `Asked`)."""

    def __init__(self, section: Section, asking: Asking) -> None:
        self.section, self.asking = section, asking

    def poll(self) -> tuple[bool, IpAddress | None]:
        return self.section.engine.answered(self.asking)

    def release(self) -> None:
        self.section.engine.release(self.asking)


class ProxyResolvers:
    """Every `resolvers` section of a runtime, and the servers that use them."""

    def __init__(
        self, live: LiveProxies, specs: tuple[ResolversSpec, ...], console: Console | None
    ) -> None:
        self.live = live
        self.rt = live.rt
        self.console = console or _daemon_log
        self.clock = self.rt.ctx.clock
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sections = {spec.name: Section(spec, self) for spec in specs}
        self.servers: dict[Owner, tuple[BackendRuntime, ServerRuntime]] = {}
        now = self.now_ms()
        for be in self.rt.backends.values():
            for srv in be.servers:
                self._link(be, srv, now)
        # resolvers_finalize_config: SRV_F_NON_PURGEABLE, `del server` refuses them
        live.dynamic.pinned.update((o.backend, o.server) for o in self.servers)

    def _link(self, be: BackendRuntime, srv: ServerRuntime, now: int) -> None:
        r = srv.spec.resolve
        section = self.sections.get(r.resolvers) if r is not None else None
        if r is None or section is None:
            return
        owner = Owner(be.spec.name, srv.spec.name)
        if r.srv_record is not None:
            linked = section.engine.link_srv(owner, r.srv_record, r, now)
        elif srv.spec.fqdn is not None:
            linked = section.engine.link(owner, srv.spec.fqdn, r, now)
        else:
            return
        if linked:
            self.servers[owner] = (be, srv)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    @property
    def used(self) -> bool:
        return bool(self.sections)

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        for section in self.sections.values():
            section.open(self.loop)
            section.wake()  # the task is woken at init: the first queries go at once
        self.rt.process.dns = self  # do-resolve's way in (proto/rules/do_resolve.py)

    def stop(self) -> None:
        if self.rt.process.dns is self:
            self.rt.process.dns = None
        if self.loop is None:
            return
        for section in self.sections.values():
            section.close(self.loop)
        self.loop = None

    # -- what the engine asks and decides ---------------------------------------------

    def state(self, owner: Owner) -> State:
        _be, srv = self.servers[owner]
        return State(srv.spec.address, bool(srv.lb.next_admin & Admin.RMAINT))

    def effect(self, ev: Event) -> None:
        pair = self.servers.get(ev.owner) if not isinstance(ev, Send) else None
        if pair is None:
            return
        be, srv = pair
        who = f"{be.spec.name}/{srv.spec.name}"
        if isinstance(ev, AddressChanged):
            old = str(ev.old) if ev.old is not None else "(none)"
            self._say(be, f"{who} changed its IP from {old} to {ev.new} by {ev.updater}")
            self._set_address(be, srv, ev.new)
            checks = self.live.checks
            sh = checks.health(be.spec.name, srv.spec.name) if checks is not None else None
            if sh is not None and checks is not None:
                checks.move(sh, str(ev.new), None)
        elif isinstance(ev, AddressCleared):
            self._set_address(be, srv, None)
        elif isinstance(ev, MaintSet):
            self._admin(be, srv, True, ev.cause)
        elif isinstance(ev, MaintCleared):
            self._admin(be, srv, False, "")
            if ev.said:
                self._say(be, f"Server {who} administratively READY thanks to valid DNS answer")
        else:
            self._srv_record(be, srv, ev)

    def _srv_record(self, be: BackendRuntime, srv: ServerRuntime, ev: Event) -> None:
        """What an SRV record gives a server: its name, port and weight."""
        checks = self.live.checks
        sh = checks.health(be.spec.name, srv.spec.name) if checks is not None else None
        if isinstance(ev, FqdnSet):
            if ev.fqdn is not None:
                srv.spec = dataclasses.replace(srv.spec, fqdn=ev.fqdn)
                srv.lb.next_admin |= Admin.HMAINT  # srv_update_fqdn flags it so
            elif not ev.note:
                srv.spec = dataclasses.replace(srv.spec, fqdn=None)
            if sh is not None:
                sh.fqdn = srv.spec.fqdn
            if ev.note:
                self.rt.send_log(be.spec.name, LOG_NOTICE, ev.note)
        elif isinstance(ev, PortSet):
            srv.set_address(srv.spec.address, ev.port or None)
            if sh is not None and checks is not None:  # its checks go to the record's port
                checks.move(sh, srv.spec.host, ev.port or None)
            be.servers_changed()
        elif isinstance(ev, WeightSet):
            self.live.set_server_weight(be.spec.name, srv.spec.name, str(ev.weight))

    def _say(self, be: BackendRuntime, text: str) -> None:
        """ha_warning + send_log(proxy, LOG_NOTICE)."""
        self.console("WARNING", f"{text}.")
        self.rt.send_log(be.spec.name, LOG_NOTICE, f"{text}.")

    @staticmethod
    def _set_address(be: BackendRuntime, srv: ServerRuntime, address: IpAddress | None) -> None:
        if address is None:
            record = srv.spec.resolve.srv_record if srv.spec.resolve is not None else None
            host = srv.spec.fqdn or record or srv.spec.host
            srv.spec = dataclasses.replace(srv.spec, address=None, host=host)
            srv.dests.clear()
        else:
            srv.set_address(ipaddress.ip_address(address), srv.spec.port)
        be.servers_changed()

    def _admin(self, be: BackendRuntime, srv: ServerRuntime, on: bool, cause: str) -> None:
        """srv_set_admin_flag / srv_clr_admin_flag (RMAINT), logged as the checks log."""
        now = self.clock()
        checks = self.live.checks
        sh = checks.health(be.spec.name, srv.spec.name) if checks is not None else None
        if sh is not None and checks is not None:
            if on:
                admin.set_admin_flag(sh, Admin.RMAINT, now, cause)
            else:
                admin.clr_admin_flag(sh, Admin.RMAINT, now)
            checks.driver.changed()
        elif on:
            be.pool.set_admin(srv.lb, Admin.RMAINT, now)
        else:
            be.pool.clear_admin(srv.lb, Admin.RMAINT, now)
        be.grab()

    # -- do-resolve -----------------------------------------------------------------------

    def ask(self, resolvers: str, host: str, prefer: str) -> _Asked | None:
        """A stream's do-resolve joins the section's resolution of `host`
        (resolv_action_do_resolve); the section runs it unless its answer is fresh."""
        section = self.sections.get(resolvers)
        if section is None or self.loop is None:
            return None
        asking = section.engine.ask(host, ResolveOptions(resolvers, prefer), self.now_ms())
        if asking is None:
            return None
        if not asking.cached:
            section.wake()  # resolv_trigger_resolution: the task runs what is due now
        return _Asked(section, asking)

    # -- the stats socket -----------------------------------------------------------------

    def counters(self, name: str) -> list[dict[str, int]] | None:
        """A section's nameserver counters (None: not a section resolving here)."""
        section = self.sections.get(name)
        return section.engine.counters if section is not None else None

    def resolves(self, backend: str, server: str) -> bool:
        """The server's name is resolved here (it has `resolvers` and a host name)."""
        return Owner(backend, server) in self.servers

    def set_fqdn(self, backend: str, server: str, fqdn: str) -> str:
        """`set server B/S fqdn NAME` (srv_update_fqdn): the answer's text."""
        owner = Owner(backend, server)
        _be, srv = self.servers[owner]
        r = srv.spec.resolve
        assert r is not None
        section = self.sections[r.resolvers]
        by = " by 'stats socket command'\n"
        if fqdn == srv.spec.fqdn:
            return "no need to change the FDQN" + by
        if len(fqdn) > 255 or any(not (c.isascii() and (c.isalnum() or c in "-._")) for c in fqdn):
            return f"invalid fqdn '{fqdn}'" + by
        said = f"{backend}/{server} changed its FQDN from {srv.spec.fqdn} to {fqdn}"
        section.engine.unlink(owner)
        if not section.engine.link(owner, fqdn, r, self.now_ms()):
            return f"could not update {backend}/{server} FQDN" + by
        srv.spec = dataclasses.replace(srv.spec, fqdn=fqdn)
        srv.lb.next_admin |= Admin.HMAINT  # "the FQDN was set from the stats socket"
        section.wake()
        return said + by
