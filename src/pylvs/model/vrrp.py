"""VRRP instance parameters: the values the state machine runs with, whatever the config.

Field meanings and defaults are keepalived's (reference §3.6, §4; include/vrrp.h); times are
integer microseconds (keepalived's `TIMER_HZ`), because the VRRP timers compute with them in
integers (§4.4).  `InstanceParams.strict()` applies what `vrrp_strict` forces (§4.18), and the
constructor refuses combinations keepalived would never run (vrrp.c `vrrp_complete_instance`).
proto/vrrp runs these values; vrrp/ drives them; config/ builds them.  The records around an
instance (its interface, address records, routes, sync group, scripts) are model/vrrp_spec.py.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

TIMER_HZ = 1_000_000
# keepalived/include/vrrp.h
VRRP_AUTH_NONE = 0
VRRP_AUTH_PASS = 1
VRRP_AUTH_AH = 2
VRRP_AUTH_LEN = 8
VRRP_MAX_ADDR = 255
INADDR_VRRP_GROUP = ipaddress.IPv4Address("224.0.0.18")
INADDR6_VRRP_GROUP = ipaddress.IPv6Address("ff02::12")


@dataclass(frozen=True, slots=True)
class Vip:
    """An address the instance owns while MASTER, with the device it goes on (None: the
    instance's interface)."""

    address: Interface
    dev: str | None = None


@dataclass(frozen=True, slots=True)
class Peer:
    """A unicast peer, with the TTL range its adverts must arrive with."""

    address: IPAddress
    min_ttl: int = 0
    max_ttl: int = 255


class ChecksumCompat(enum.Enum):
    """keepalived `unicast_chksum_compat` (`old_unicast_checksum`, reference §4.3)."""

    NONE = "none"  # real destination; may auto-detect the pre-1.3.6 form
    NEVER = "never"  # real destination, no auto-detection
    CONFIG = "always"  # multicast group as pseudo-header destination, configured
    AUTO = "auto"  # multicast group, switched to after auto-detection

    @property
    def uses_group(self) -> bool:
        return self in (ChecksumCompat.CONFIG, ChecksumCompat.AUTO)


class TrackerKind(enum.Enum):
    INTERFACE = "interface"
    SCRIPT = "script"
    FILE = "file"
    PROCESS = "process"
    BFD = "bfd"


TrackerKey = tuple[TrackerKind, str]


@dataclass(frozen=True, slots=True)
class Tracker:
    """Something whose state moves the instance's priority (vrrp_track.c); weight 0 makes
    its failure a fault."""

    kind: TrackerKind
    name: str
    weight: int = 0
    reverse: bool = False

    @property
    def key(self) -> TrackerKey:
        return (self.kind, self.name)

    @property
    def multiplier(self) -> int:
        return -1 if self.reverse else 1


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
