"""The parameters of one VRRP instance state machine, independent of the config model.

Field meanings and defaults are keepalived's (reference §3.6, §4); times are integer
microseconds.  `strict()` applies the adjustments `vrrp_strict` enforces (§4.18), and the
constructor refuses combinations keepalived would never run (vrrp.c `vrrp_complete_instance`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass

from pylvs.proto.vrrp.commands import Vip
from pylvs.proto.vrrp.packet import (
    VRRP_AUTH_AH,
    VRRP_AUTH_LEN,
    VRRP_AUTH_NONE,
    VRRP_MAX_ADDR,
    IPAddress,
)
from pylvs.proto.vrrp.priority import Tracker
from pylvs.proto.vrrp.validate import INADDR_VRRP_GROUP, CheckParams, ChecksumCompat, Peer

TIMER_HZ = 1_000_000


@dataclass(frozen=True, slots=True)
class Notifies:
    """Scripts as argv lists (None: not configured) and whether a VRRP FIFO is open."""

    master: tuple[str, ...] | None = None
    backup: tuple[str, ...] | None = None
    fault: tuple[str, ...] | None = None
    stop: tuple[str, ...] | None = None
    generic: tuple[str, ...] | None = None
    master_rx_lower_pri: tuple[str, ...] | None = None
    fifo: bool = False
    priority_changes: bool = False


@dataclass(frozen=True, slots=True)
class InstanceParams:
    name: str
    vrid: int
    priority: int  # base priority
    initial_state: str = "BACKUP"  # the wish: "MASTER" | "BACKUP"
    family: int = 4
    version: int = 2
    adver_int_us: int = TIMER_HZ
    down_timer_adverts: int = 3
    vips: tuple[Vip, ...] = ()
    evips: tuple[Vip, ...] = ()  # virtual_ipaddress_excluded: set, GARPed, never advertised
    auth_type: int = VRRP_AUTH_NONE
    auth_data: bytes = bytes(VRRP_AUTH_LEN)
    unicast_peers: tuple[Peer, ...] = ()
    check_unicast_src: bool = False
    v3_checksum_as_v2: bool = False
    checksum_compat: ChecksumCompat = ChecksumCompat.NONE
    mcast_group4: ipaddress.IPv4Address = INADDR_VRRP_GROUP
    source_address: IPAddress | None = None  # mcast_src_ip/unicast_src_ip (None: interface's)
    owner_ignore_adverts: bool = False
    skip_check_adv_addr: bool = False
    nopreempt: bool = False
    preempt_delay_us: int = 0
    lower_prio_no_advert: bool = False
    higher_prio_send_advert: bool = False
    garp_master_delay_us: int = 5 * TIMER_HZ
    garp_master_repeat: int = 5
    garp_master_refresh_us: int = 0
    garp_master_refresh_repeat: int = 1
    garp_lower_prio_delay_us: int = 5 * TIMER_HZ
    garp_lower_prio_repeat: int = 5
    trackers: tuple[Tracker, ...] = ()
    notifies: Notifies = Notifies()
    startup_delay_us: int = 0
    strict_mode: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.vrid <= 255:
            raise ValueError("virtual_router_id is 1..255")
        if not 1 <= self.priority <= 255:
            raise ValueError("priority is 1..255")
        if self.initial_state not in ("MASTER", "BACKUP"):
            raise ValueError("initial_state is MASTER or BACKUP")
        if (self.family, self.version) not in ((4, 2), (4, 3), (6, 3)):
            raise ValueError("VRRPv2 is IPv4 only; versions are 2 and 3")
        unit = TIMER_HZ if self.version == 2 else TIMER_HZ // 100
        top = 255 * TIMER_HZ if self.version == 2 else 4095 * unit
        if self.adver_int_us % unit or not unit <= self.adver_int_us <= top:
            raise ValueError("advert_int must be whole seconds (v2) or 10 ms steps (v3)")
        if not 1 <= self.down_timer_adverts <= 100:
            raise ValueError("down_timer_adverts is 1..100")
        if len(self.vips) > VRRP_MAX_ADDR or any(
            v.address.version != self.family for v in self.vips
        ):
            raise ValueError("at most 255 VIPs, all of the instance's family")
        if self.auth_type == VRRP_AUTH_AH:
            raise ValueError("IPsec AH authentication is not supported")
        if self.auth_type and self.version != 2:
            raise ValueError("authentication exists only in VRRPv2")
        if len(self.auth_data) != VRRP_AUTH_LEN:
            raise ValueError("auth_data is the 8 bytes sent")
        if self.nopreempt and self.preempt_delay_us:
            raise ValueError("preempt_delay is incompatible with nopreempt")

    @property
    def owner(self) -> bool:
        return self.priority == 255

    @property
    def unicast(self) -> bool:
        return bool(self.unicast_peers)

    def check_params(self) -> CheckParams:
        return CheckParams(
            name=self.name,
            vrid=self.vrid,
            family=self.family,
            version=self.version,
            adver_int_us=self.adver_int_us,
            vips=tuple(v.address.ip for v in self.vips),
            auth_type=self.auth_type,
            auth_data=self.auth_data,
            unicast=self.unicast,
            peers=self.unicast_peers,
            check_unicast_src=self.check_unicast_src,
            v3_checksum_as_v2=self.v3_checksum_as_v2,
            owner_ignore_adverts=self.owner_ignore_adverts,
            mcast_group4=self.mcast_group4,
        )

    def strict(self) -> InstanceParams:
        """The adjustments `vrrp_strict` forces (vrrp.c `vrrp_complete_instance`, §4.18)."""
        return dataclasses.replace(
            self,
            strict_mode=True,
            auth_type=VRRP_AUTH_NONE,
            auth_data=bytes(VRRP_AUTH_LEN),
            preempt_delay_us=0,
            lower_prio_no_advert=True,
            higher_prio_send_advert=False,
            garp_lower_prio_repeat=0,
            garp_lower_prio_delay_us=0,
            owner_ignore_adverts=self.owner_ignore_adverts or self.owner,
            down_timer_adverts=3,
            initial_state="MASTER" if self.owner else "BACKUP",
        )
