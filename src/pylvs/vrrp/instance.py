"""One running vrrp_instance: its state machine and the host records its commands refer to.

`InstanceSetup` is the instance's spec (model/vrrp_spec.py: the machine parameters, the
interface, the full address records with label/scope/brd, routes, rules, accept mode, notify
scripts with their users) with its routes and rules resolved against the host's routing
tables, compared on reload to tell unchanged instances — which keep their state — from
changed ones.  `Instance` adds the live parts.
keepalived's source-address rule (vrrp.c `vrrp_complete_instance`, vrrp_if.c): without
mcast_src_ip/unicast_src_ip an instance sends from the interface's primary IPv4 address, or its
IPv6 link-local address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pylvs.model.notify import ScriptSpec
from pylvs.model.vrrp import InstanceParams
from pylvs.model.vrrp_spec import VrrpInstanceSpec
from pylvs.proto.vrrp.commands import State, Vip
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.packet import IPAddress
from pylvs.system.effects import AddressSpec, Interface, RouteSpec, RuleSpec
from pylvs.vrrp.sockets import Receiver, VrrpSocket


def pick_source(family: int, addresses: tuple[Interface, ...]) -> IPAddress | None:
    """The interface's primary address of the family (IPv6: the link-local one)."""
    for a in addresses:
        if a.version != family:
            continue
        if family == 6 and not a.ip.is_link_local:
            continue
        return a.ip
    return None


@dataclass(frozen=True, slots=True)
class InstanceSetup:
    name: str
    params: InstanceParams
    interface: str
    addresses: tuple[AddressSpec, ...]  # VIPs then excluded VIPs, in config order
    routes: tuple[RouteSpec, ...]
    rules: tuple[RuleSpec, ...]
    accept: bool
    group: IPAddress  # multicast destination
    unicast_ttl: int
    track_src_ip: bool
    dont_track_primary: bool
    smtp_alert: bool
    scripts: tuple[ScriptSpec, ...]  # every notify script, to find its user by argv

    @classmethod
    def build(cls, spec: VrrpInstanceSpec) -> InstanceSetup:
        ifname = spec.interface
        return cls(
            spec.name,
            spec.params,
            ifname,
            spec.addresses,
            tuple(RouteSpec.from_model(r, ifname) for r in spec.routes),
            tuple(RuleSpec.from_model(r) for r in spec.rules),
            spec.accept,
            spec.group,
            spec.unicast_ttl,
            spec.track_src_ip,
            spec.dont_track_primary,
            spec.smtp_alert,
            spec.scripts,
        )

    def spec_for(self, vip: Vip) -> AddressSpec:
        dev = vip.dev or self.interface
        for a in self.addresses:
            if a.address == vip.address and a.dev == dev:
                return a
        return AddressSpec(vip.address, dev)


@dataclass
class Instance:
    setup: InstanceSetup
    machine: VrrpMachine
    ifindex: int = 0
    sock: VrrpSocket | None = None
    receiver: Receiver | None = None
    seen: dict[tuple[str, str], object] = field(default_factory=dict)  # last polled values
    last_transition: float | None = None  # wall-clock time of the last state change
    last_log: str = ""  # why its last state change came (manager.causes)
    held: set[IPAddress] = field(default_factory=set)  # VIPs installed by this instance

    @property
    def name(self) -> str:
        return self.setup.name

    @property
    def state(self) -> State:
        return self.machine.state

    def master_address(self) -> IPAddress | None:
        if self.machine.state is State.MASTER:
            return self.machine.source_address
        return self.machine.master_address


def as_address(value: str | IPAddress) -> IPAddress:
    return ipaddress.ip_address(value) if isinstance(value, str) else value
