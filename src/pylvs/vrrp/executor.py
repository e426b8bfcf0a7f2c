"""Carries out the VRRP state machine's commands on the host, in the order they come.

* SendAdvert: the advert of vrrp.c `vrrp_build_pkt` — effective priority, the VIPs (never the
  excluded ones), v2 PASS bytes, v3 interval in centiseconds — to the multicast group, or one
  copy per unicast peer with `unicast_ttl` (`vrrp_send_adv`).  The v3 IPv4 checksum covers the
  pseudo-header unless `v3_checksum_as_v2`, with the group as its destination in
  `old_unicast_checksum` mode (reference §4.3).
* AddAddresses / RemoveAddresses: addresses, then routes and rules, then the no_accept drop
  set (vrrp.c `vrrp_state_become_master`); leaving removes them in the opposite order
  (`vrrp_restore_interface`).
* SendGratuitousArp / SendNeighbourAdvert: `repeat` rounds over the VIPs through the
  per-interface `GarpPacer` (garp_interval / gna_interval, from garp_group or global_defs);
  interfaces with IFF_NOARP get no GARP (vrrp_arp.c).
* RunNotify, WriteFifo, Log, ReportState: notifications.Notifier, the log, the status and the
  daemon's `on_state` callback, and the SMTP alert of `smtp_alert` instances.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from pylvs.model.vrrp_spec import GarpSpec
from pylvs.proto.vrrp.commands import (
    AddAddresses,
    Command,
    Log,
    RemoveAddresses,
    ReportState,
    RunNotify,
    SendAdvert,
    SendGratuitousArp,
    SendNeighbourAdvert,
    State,
    Vip,
    WriteFifo,
)
from pylvs.proto.vrrp.garp import GarpPacer, gratuitous_arp, neighbour_advert
from pylvs.proto.vrrp.packet import Advert, IPAddress, encode_advert
from pylvs.system.effects import AddressSpec, HostEffects, HostError, LinkInfo
from pylvs.vrrp.instance import Instance
from pylvs.vrrp.notifications import Notifier, instance_alert

log = logging.getLogger("pylvs.vrrp")
T = TypeVar("T")

StateCallback = Callable[[str, State], None]
CACHE_SIZE = 256


def _call_all(actions: Sequence[Callable[[], object] | None], _now: int) -> None:
    for action in actions:
        if action is not None:
            action()


# A prepared gratuitous ARP / NA: the pacer of its interface and family, the address, the
# frame, and what sends a frame out of that interface.
_GarpStep = tuple[GarpPacer, IPAddress, bytes, Callable[[bytes], None]]


def _garp_rounds(steps: list[_GarpStep], repeat: int, now: int) -> None:
    """`link_update` with everything looked up ahead: `repeat` rounds over the addresses,
    each frame sent when its pacer lets it go now (else the pacer queues it)."""
    for _ in range(repeat):
        for pacer, ip, frame, send in steps:
            if pacer.request(ip, repeat, now):
                send(frame)


def build_advert(inst: Instance, priority: int) -> Advert:
    p = inst.setup.params
    unit = 1_000_000 if p.version == 2 else 10_000
    return Advert(
        p.version,
        p.vrid,
        priority,
        p.adver_int_us // unit,
        tuple(v.address.ip for v in p.vips),
        p.family,
        p.auth_type,
        p.auth_data,
    )


def advert_bytes(inst: Instance, adv: Advert, src: IPAddress, dst: IPAddress) -> bytes:
    p = inst.setup.params
    if p.family == 4 and p.version == 3:
        ph_dst = p.mcast_group4 if inst.machine.checksum_compat.uses_group else dst
        return encode_advert(adv, src=src, dst=ph_dst, pseudo_header=not p.v3_checksum_as_v2)
    return encode_advert(adv, src=src, dst=dst)


class Executor:
    def __init__(
        self,
        host: HostEffects,
        garp: GarpSpec,
        notifier: Notifier,
        on_state: StateCallback | None = None,
    ) -> None:
        self.host = host
        self.notifier = notifier
        self.on_state = on_state
        self.pacers: dict[tuple[str, int], GarpPacer] = {}
        self.blocked: dict[str, frozenset[IPAddress]] = {}
        self._links: dict[str, LinkInfo | None] = {}
        # Built once: adverts by (instance, priority, source, destination, checksum mode) and
        # GARP / NA frames by (MAC, address, router flag); `prepare` fills both ahead of a
        # master-down deadline so a new master only sends.
        self._adverts: dict[tuple[str, int, IPAddress, IPAddress, bool], bytes] = {}
        self._frames: dict[tuple[bytes, IPAddress, bool], bytes] = {}
        # Rehearsed commands bound ahead to what carries them out (`prepare`), by identity:
        # the driver then runs those very command objects (fsm.adopt) with `run`.
        self._planned: dict[int, tuple[Command, Callable[[int], None]]] = {}
        self.configure(garp)

    def configure(self, garp: GarpSpec) -> None:
        """Take (reloaded) intervals: a garp_group's for its interfaces, else the global."""
        self.garp_interval = {
            4: round(garp.garp_interval * 1e6),
            6: round(garp.gna_interval * 1e6),
        }
        self.garp_groups: dict[tuple[str, int], int] = {}
        for gg in garp.groups:
            for ifname in gg.interfaces:
                for family, value in ((4, gg.garp_interval), (6, gg.gna_interval)):
                    if value is not None:
                        self.garp_groups[(ifname, family)] = round(value * 1e6)
        self.pacers.clear()

    # --- dispatch --------------------------------------------------------------------------

    def run(self, inst: Instance, cmd: Command, now: int) -> None:
        try:
            self._run(inst, cmd, now)
        except (HostError, OSError) as exc:
            log.error("(%s) %s failed: %s", inst.name, type(cmd).__name__, exc)

    def _run(self, inst: Instance, cmd: Command, now: int) -> None:
        planned = self._planned.pop(id(cmd), None)
        if planned is not None and planned[0] is cmd:
            planned[1](now)
            return
        match cmd:
            case SendAdvert(priority=priority):
                self.send_advert(inst, priority)
            case AddAddresses(vips=vips):
                self.add_addresses(inst, vips)
            case RemoveAddresses(vips=vips):
                self.remove_addresses(inst, vips)
            case SendGratuitousArp(vips=vips, repeat=repeat):
                self.link_update(inst, vips, repeat, now)
            case SendNeighbourAdvert(vips=vips, repeat=repeat):
                self.link_update(inst, vips, repeat, now)
            case RunNotify(argv=argv, timeout_us=timeout):
                self.notifier.run(argv, inst.setup.scripts, stop=timeout is not None)
            case WriteFifo(line=line):
                self.notifier.fifo(line)
            case Log(line=line):
                log.info("%s", line)
            case ReportState(state=state):
                inst.last_transition = time.time()
                if inst.setup.smtp_alert:
                    self.notifier.alert(
                        instance_alert(self.notifier.router_id, inst.name, state), state
                    )
                if self.on_state is not None:
                    self.on_state(inst.name, state)

    # --- adverts ---------------------------------------------------------------------------

    def send_advert(self, inst: Instance, priority: int) -> None:
        src = inst.machine.source_address
        if inst.sock is None or src is None:
            return
        p = inst.setup.params
        if p.unicast_peers:
            for peer in p.unicast_peers:
                data = self._advert(inst, priority, src, peer.address)
                inst.sock.send(data, src, peer.address, inst.setup.unicast_ttl)
        else:
            dst = inst.setup.group
            inst.sock.send(self._advert(inst, priority, src, dst), src, dst, 255)

    def _advert(self, inst: Instance, priority: int, src: IPAddress, dst: IPAddress) -> bytes:
        key = (inst.name, priority, src, dst, inst.machine.checksum_compat.uses_group)
        data = self._adverts.get(key)
        if data is None:
            if len(self._adverts) >= CACHE_SIZE:
                self._adverts.clear()
            data = self._adverts[key] = advert_bytes(inst, build_advert(inst, priority), src, dst)
        return data

    def prepare(self, inst: Instance, commands: list[Command]) -> None:
        """Build what `commands` (a rehearsed master-down tick) will send — the advert (down
        to the datagram), the address requests, the gratuitous ARP / NA frames — and bind
        the advert and the addresses to what sends them, so that `run` of these very
        command objects only sends (`forget_plans` drops what was not used)."""
        src = inst.machine.source_address
        p = inst.setup.params
        ttl = inst.setup.unicast_ttl if p.unicast_peers else 255
        for cmd in commands:
            match cmd:
                case SendAdvert(priority=priority) if inst.sock is not None and src is not None:
                    sock = inst.sock
                    dsts = [peer.address for peer in p.unicast_peers] or [inst.setup.group]
                    senders = [sock.sender(self._advert(inst, priority, src, d), src, d, ttl)
                               for d in dsts]  # fmt: skip
                    if all(senders):
                        self._plan(cmd, functools.partial(_call_all, senders))
                case AddAddresses(vips=vips):
                    specs = [inst.setup.spec_for(vip) for vip in vips]
                    try:
                        adders = [self.host.prepare_address(spec) for spec in specs]
                    except HostError:
                        continue  # add_address reports it, when the time comes
                    if all(adders):
                        done = functools.partial(self._added, inst, vips, specs)
                        self._plan(cmd, functools.partial(_call_all, [*adders, done]))
                case (
                    SendGratuitousArp(vips=vips, repeat=repeat)
                    | SendNeighbourAdvert(vips=vips, repeat=repeat)
                ):
                    steps: list[_GarpStep] = []
                    for vip in vips:
                        dev = vip.dev or inst.setup.interface
                        send = self.host.prepare_frames(dev)
                        link = self._link(dev)
                        frame = self._frame(link, vip.address.ip) if link is not None else None
                        if frame is not None:
                            steps.append((self.pacer(dev, vip.address.version), vip.address.ip,
                                          frame, send))  # fmt: skip
                    self._plan(cmd, functools.partial(_garp_rounds, steps, repeat))
                case _:
                    pass

    def _plan(self, cmd: Command, action: Callable[[int], None]) -> None:
        self._planned[id(cmd)] = (cmd, action)

    def forget_plans(self) -> None:
        self._planned.clear()

    # --- addresses -------------------------------------------------------------------------

    def add_addresses(self, inst: Instance, vips: tuple[Vip, ...]) -> None:
        specs = [inst.setup.spec_for(vip) for vip in vips]
        for spec in specs:
            self.host.add_address(spec)
        self._added(inst, vips, specs)

    def _added(self, inst: Instance, vips: tuple[Vip, ...], specs: list[AddressSpec]) -> None:
        """After the addresses: what they hold, then routes, rules and the no_accept set."""
        inst.held.update(spec.address.ip for spec in specs)
        for route in inst.setup.routes:
            self.host.add_route(route)
        for rule in inst.setup.rules:
            self.host.add_rule(rule)
        if not inst.setup.accept:
            self.blocked[inst.name] = frozenset(v.address.ip for v in vips)
            self._apply_blocked()

    def remove_addresses(self, inst: Instance, vips: tuple[Vip, ...]) -> None:
        if self.blocked.pop(inst.name, None) is not None:
            self._apply_blocked()
        for rule in inst.setup.rules:
            self._quiet(self.host.remove_rule, rule)
        for route in inst.setup.routes:
            self._quiet(self.host.remove_route, route)
        for vip in vips:
            spec = inst.setup.spec_for(vip)
            inst.held.discard(spec.address.ip)
            self._quiet(self.host.remove_address, spec)

    @staticmethod
    def _quiet(action: Callable[[T], None], what: T) -> None:
        """Removal goes on past one failure: every other address must still be released."""
        try:
            action(what)
        except HostError as exc:
            log.error("%s", exc)

    def _apply_blocked(self) -> None:
        self.host.set_blocked(frozenset().union(*self.blocked.values()))

    # --- gratuitous ARP / NA ---------------------------------------------------------------

    def pacer(self, dev: str, family: int) -> GarpPacer:
        key = (dev, family)
        if key not in self.pacers:
            interval = self.garp_groups.get(key, self.garp_interval[family])
            self.pacers[key] = GarpPacer(interval)
        return self.pacers[key]

    def link_update(self, inst: Instance, vips: tuple[Vip, ...], repeat: int, now: int) -> None:
        """vrrp_send_link_update: `repeat` rounds, each over every address."""
        for _ in range(repeat):
            for vip in vips:
                dev = vip.dev or inst.setup.interface
                ip = vip.address.ip
                for addr in self.pacer(dev, ip.version).request(ip, repeat, now):
                    self._send_one(dev, addr)

    def _link(self, dev: str) -> LinkInfo | None:
        """The interface's MAC and flags from the cache the poll refreshes: a new master's
        GARPs must not wait for a netlink round trip each."""
        if dev not in self._links:
            self._links[dev] = self.host.link(dev)
        return self._links[dev]

    def refresh_links(self, devs: set[str]) -> None:
        """Re-read the interfaces GARPs go out of (called by the manager's poll)."""
        for dev in devs | set(self._links):
            self._links[dev] = self.host.link(dev)

    def _send_one(self, dev: str, ip: IPAddress) -> None:
        link = self._link(dev)
        if link is None:
            return
        frame = self._frame(link, ip)
        if frame is not None:
            self.host.send_frame(dev, frame)

    def _frame(self, link: LinkInfo, ip: IPAddress) -> bytes | None:
        """The GARP (none on an IFF_NOARP interface) or unsolicited NA for `ip`."""
        if isinstance(ip, ipaddress.IPv4Address) and link.noarp:
            return None
        key = (link.mac, ip, link.ipv6_forwarding)
        frame = self._frames.get(key)
        if frame is None:
            if len(self._frames) >= CACHE_SIZE:
                self._frames.clear()
            if isinstance(ip, ipaddress.IPv4Address):
                frame = gratuitous_arp(link.mac, ip)
            else:
                frame = neighbour_advert(link.mac, ip, router=link.ipv6_forwarding)
            self._frames[key] = frame
        return frame

    def garp_deadline(self) -> int | None:
        times = [t for p in self.pacers.values() if (t := p.next_deadline()) is not None]
        return min(times) if times else None

    def garp_due(self, now: int) -> None:
        for (dev, _family), pacer in self.pacers.items():
            for addr in pacer.due(now):
                try:
                    self._send_one(dev, addr)
                except HostError as exc:
                    log.error("%s", exc)
