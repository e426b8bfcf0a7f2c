"""Typed values for the IPVS family's nested attributes, both ways (pure).

`ServiceAttrs`, `DestAttrs`, `DaemonAttrs`, `KernelStats`, `Info` and `KernelTimeouts` are
what crosses the netlink edge: `items()` gives the attributes in the order libipvs writes them
(libipvs/libipvs.c `ipvs_nl_fill_service_attr`, `ipvs_nl_fill_dest_attr`,
`ipvs_start_daemon`), `from_attrs()` reads what the kernel fills
(ip_vs_ctl.c `ip_vs_genl_fill_service`, `_fill_dest`, `_fill_daemon`, `_fill_stats64`).
Field values are the kernel's: `netmask` as the raw u32 (a network-order mask for IPv4, a
prefix length for IPv6), `fwd_method` as IP_VS_CONN_F_*, `tun_flags` as
IP_VS_TUNNEL_ENCAP_FLAG_*; `convert` maps them onto pylvs's model.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from pylvs.model.service import AF_INET6, Address
from pylvs.proto.netlink.attrs import Attrs, NetlinkDecodeError

_U32 = struct.Struct("=I")
INADDR_LEN = 16  # sizeof(union nf_inet_addr)


def pack_addr(addr: Address) -> bytes:
    """`union nf_inet_addr`: 16 bytes, an IPv4 address in the first 4."""
    return addr.packed.ljust(INADDR_LEN, b"\0")


def unpack_addr(af: int, data: bytes) -> Address:
    if af == AF_INET6:
        if len(data) < 16:
            raise NetlinkDecodeError("IPv6 address shorter than 16 bytes")
        return ipaddress.IPv6Address(data[:16])
    if len(data) < 4:
        raise NetlinkDecodeError("IPv4 address shorter than 4 bytes")
    return ipaddress.IPv4Address(data[:4])


def host_netmask(af: int) -> int:
    """ipvsadm's default netmask: 0xffffffff (IPv4 /32), 128 (IPv6)."""
    return 128 if af == AF_INET6 else 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class KernelStats:
    """IPVS_STATS_ATTR_*: counters and the estimator's rates, as the kernel reports them."""

    conns: int = 0
    inpkts: int = 0
    outpkts: int = 0
    inbytes: int = 0
    outbytes: int = 0
    cps: int = 0
    inpps: int = 0
    outpps: int = 0
    inbps: int = 0
    outbps: int = 0

    @classmethod
    def from_attrs(cls, attrs: Attrs) -> KernelStats:
        return cls(*(attrs.get_int(name, 0) for name in _STATS_FIELDS))


_STATS_FIELDS = (
    "conns",
    "inpkts",
    "outpkts",
    "inbytes",
    "outbytes",
    "cps",
    "inpps",
    "outpps",
    "inbps",
    "outbps",
)


def _stats_of(attrs: Attrs) -> KernelStats | None:
    """STATS64 where the kernel sends it (Linux >= 4.1), else the 32-bit STATS."""
    nested = attrs.get_nested("stats64") or attrs.get_nested("stats")
    return KernelStats.from_attrs(nested) if nested is not None else None


@dataclass(frozen=True, slots=True)
class ServiceAttrs:
    """IPVS_CMD_ATTR_SERVICE: a virtual service, identified by fwmark or proto/addr/port."""

    af: int
    protocol: int = 0
    addr: Address | None = None
    port: int = 0
    fwmark: int = 0
    sched_name: str = ""
    flags: int = 0
    timeout: int = 0
    netmask: int = 0xFFFFFFFF
    pe_name: str = ""
    stats: KernelStats | None = None

    def identity(self) -> list[tuple[str, object]]:
        """AF then FWMARK, or PROTOCOL, ADDR and PORT: what finds a service."""
        items: list[tuple[str, object]] = [("af", self.af)]
        if self.fwmark:
            items.append(("fwmark", self.fwmark))
        else:
            assert self.addr is not None
            items += [
                ("protocol", self.protocol),
                ("addr", pack_addr(self.addr)),
                ("port", self.port),
            ]
        return items

    def items(self) -> list[tuple[str, object]]:
        """The full entry as libipvs sends it (flags with the mask ~0)."""
        items = self.identity()
        items.append(("sched_name", self.sched_name))
        if self.pe_name:
            items.append(("pe_name", self.pe_name))
        items += [
            ("flags", (self.flags, 0xFFFFFFFF)),
            ("timeout", self.timeout),
            ("netmask", self.netmask),
        ]
        return items

    @classmethod
    def from_attrs(cls, attrs: Attrs) -> ServiceAttrs:
        af = attrs.get_int("af")
        fwmark = attrs.get_int("fwmark", 0)
        addr = None
        if not fwmark:
            addr = unpack_addr(af, attrs.get_bytes("addr"))
        flags, mask = attrs.get_flags("flags")
        return cls(
            af=af,
            protocol=0 if fwmark else attrs.get_int("protocol"),
            addr=addr,
            port=0 if fwmark else attrs.get_int("port"),
            fwmark=fwmark,
            sched_name=attrs.get_str("sched_name"),
            flags=flags & mask,
            timeout=attrs.get_int("timeout"),
            netmask=attrs.get_int("netmask"),
            pe_name=attrs.get_str("pe_name", ""),
            stats=_stats_of(attrs),
        )

    def prefix(self) -> int | None:
        """The persistence granularity as a prefix length (None: a non-contiguous mask)."""
        if self.af == AF_INET6:
            return self.netmask
        mask = int.from_bytes(_U32.pack(self.netmask), "big")
        inverted = ~mask & 0xFFFFFFFF
        if inverted & (inverted + 1):
            return None
        return 32 - inverted.bit_length()


def netmask_of(af: int, prefix: int) -> int:
    """The NETMASK attribute's value for a prefix length (the inverse of `prefix`)."""
    if af == AF_INET6:
        return prefix
    mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    value: int = _U32.unpack(mask.to_bytes(4, "big"))[0]
    return value


@dataclass(frozen=True, slots=True)
class DestAttrs:
    """IPVS_CMD_ATTR_DEST: a real server and, in a dump, its counts and statistics."""

    af: int
    addr: Address
    port: int = 0
    fwd_method: int = 0
    weight: int = 1
    u_thresh: int = 0
    l_thresh: int = 0
    tun_type: int = 0
    tun_port: int = 0
    tun_flags: int = 0
    active_conns: int = 0
    inact_conns: int = 0
    persist_conns: int = 0
    stats: KernelStats | None = None

    def items(self) -> list[tuple[str, object]]:
        """The entry as libipvs sends it (`ipvs_nl_fill_dest_attr`)."""
        return [
            ("addr_family", self.af),
            ("addr", pack_addr(self.addr)),
            ("port", self.port),
            ("fwd_method", self.fwd_method),
            ("weight", self.weight),
            ("tun_type", self.tun_type),
            ("tun_port", self.tun_port),
            ("tun_flags", self.tun_flags),
            ("u_thresh", self.u_thresh),
            ("l_thresh", self.l_thresh),
        ]

    @classmethod
    def from_attrs(cls, attrs: Attrs, service_af: int) -> DestAttrs:
        af = attrs.get_int("addr_family", service_af)
        weight = attrs.get_int("weight")
        return cls(
            af=af,
            addr=unpack_addr(af, attrs.get_bytes("addr")),
            port=attrs.get_int("port"),
            fwd_method=attrs.get_int("fwd_method"),
            weight=weight - (1 << 32) if weight >> 31 else weight,  # an int in the kernel
            u_thresh=attrs.get_int("u_thresh"),
            l_thresh=attrs.get_int("l_thresh"),
            tun_type=attrs.get_int("tun_type", 0),
            tun_port=attrs.get_int("tun_port", 0),
            tun_flags=attrs.get_int("tun_flags", 0),
            active_conns=attrs.get_int("active_conns"),
            inact_conns=attrs.get_int("inact_conns"),
            persist_conns=attrs.get_int("persist_conns"),
            stats=_stats_of(attrs),
        )


@dataclass(frozen=True, slots=True)
class DaemonAttrs:
    """IPVS_CMD_ATTR_DAEMON: a connection-sync daemon (0 / None = not given / not reported)."""

    state: int  # IP_VS_STATE_MASTER | IP_VS_STATE_BACKUP
    mcast_ifn: str = ""
    syncid: int = 0
    sync_maxlen: int = 0
    mcast_group: Address | None = None
    mcast_port: int = 0
    mcast_ttl: int = 0

    def items(self) -> list[tuple[str, object]]:
        """As libipvs's `ipvs_start_daemon` writes them (optional ones only when set)."""
        items: list[tuple[str, object]] = [
            ("state", self.state),
            ("mcast_ifn", self.mcast_ifn),
            ("sync_id", self.syncid),
        ]
        if self.sync_maxlen:
            items.append(("sync_maxlen", self.sync_maxlen))
        if self.mcast_port:
            items.append(("mcast_port", self.mcast_port))
        if self.mcast_ttl:
            items.append(("mcast_ttl", self.mcast_ttl))
        if isinstance(self.mcast_group, ipaddress.IPv6Address):
            items.append(("mcast_group6", self.mcast_group.packed))
        elif self.mcast_group is not None:
            items.append(("mcast_group", _U32.unpack(self.mcast_group.packed)[0]))
        return items

    def stop_items(self) -> list[tuple[str, object]]:
        """What `ipvs_stop_daemon` writes: state, interface, syncid."""
        return self.items()[:3]

    @classmethod
    def from_attrs(cls, attrs: Attrs) -> DaemonAttrs:
        group: Address | None = None
        if "mcast_group" in attrs:
            group = ipaddress.IPv4Address(_U32.pack(attrs.get_int("mcast_group")))
        elif "mcast_group6" in attrs:
            group = unpack_addr(AF_INET6, attrs.get_bytes("mcast_group6"))
        return cls(
            state=attrs.get_int("state"),
            mcast_ifn=attrs.get_str("mcast_ifn"),
            syncid=attrs.get_int("sync_id"),
            sync_maxlen=attrs.get_int("sync_maxlen", 0),
            mcast_group=group,
            mcast_port=attrs.get_int("mcast_port", 0),
            mcast_ttl=attrs.get_int("mcast_ttl", 0),
        )


@dataclass(frozen=True, slots=True)
class KernelTimeouts:
    """IPVS_CMD_ATTR_TIMEOUT_*: seconds; 0 in SET_CONFIG leaves a value as it is."""

    tcp: int
    tcp_fin: int
    udp: int


@dataclass(frozen=True, slots=True)
class Info:
    """GET_INFO: IP_VS_VERSION_CODE and the connection hash table's size."""

    version: int
    conn_tab_size: int

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        v = self.version
        return ((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)
