"""One running vrrp_instance: its state machine and the host records its commands refer to.

`InstanceSetup` is everything derived from the config (the machine parameters from
proto/vrrp/params.py, the interface, the full address records with label/scope/brd, routes,
rules, accept mode, notify scripts with their users), compared on reload to tell unchanged
instances — which keep their state — from changed ones.  `Instance` adds the live parts.
keepalived's source-address rule (vrrp.c `vrrp_complete_instance`, vrrp_if.c): without
mcast_src_ip/unicast_src_ip an instance sends from the interface's primary IPv4 address, or its
IPv6 link-local address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pylvs.config.keepalived.vrrp.model import (
    INADDR6_VRRP_GROUP,
    GlobalDefs,
    NotifyScript,
    SyncGroup,
    VrrpInstance,
)
from pylvs.proto.vrrp.commands import State, Vip
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.packet import IPAddress
from pylvs.proto.vrrp.params import instance_params
from pylvs.proto.vrrp.settings import InstanceParams
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
    scripts: tuple[NotifyScript, ...]  # every notify script, to find its user by argv

    @classmethod
    def build(
        cls, inst: VrrpInstance, g: GlobalDefs, group: SyncGroup | None = None
    ) -> InstanceSetup:
        ifname = inst.interface or g.default_interface or "eth0"
        params = instance_params(inst, g, group)
        dst: IPAddress = inst.mcast_dst_ip or (
            params.mcast_group4 if inst.family == 4 else g.vrrp_mcast_group6 or INADDR6_VRRP_GROUP
        )
        addrs = tuple(
            AddressSpec.from_config(a, ifname)
            for a in inst.virtual_ipaddresses + inst.virtual_ipaddresses_excluded
        )
        scripts = tuple(
            s
            for s in (
                inst.notify_master,
                inst.notify_backup,
                inst.notify_fault,
                inst.notify_stop,
                inst.notify,
                inst.notify_master_rx_lower_pri,
            )
            if s is not None
        )
        return cls(
            inst.name,
            params,
            ifname,
            addrs,
            tuple(RouteSpec.from_config(r, ifname) for r in inst.virtual_routes),
            tuple(RuleSpec.from_config(r) for r in inst.virtual_rules),
            inst.accept,
            dst,
            inst.unicast_ttl,
            inst.track_src_ip,
            inst.dont_track_primary,
            inst.smtp_alert,
            scripts,
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
