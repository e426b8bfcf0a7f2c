"""The IPVS generic netlink family ("IPVS", version 1) declared as data.

Numbers and kinds are include/uapi/linux/ip_vs.h (the IPVS_CMD_*, IPVS_CMD_ATTR_*,
IPVS_SVC_ATTR_*, IPVS_DEST_ATTR_*, IPVS_DAEMON_ATTR_*, IPVS_STATS_ATTR_*, IPVS_INFO_ATTR_*
enums) and the kernel's policies and fill functions in net/netfilter/ipvs/ip_vs_ctl.c
(`ip_vs_svc_policy`, `ip_vs_dest_policy`, `ip_vs_daemon_policy`, `ip_vs_genl_fill_*`),
as of Linux 6.1.  Two kinds need care:
* ports (service, dest, tunnel) are __be16 carried in NLA_U16 attributes: `BE16`;
* the service NETMASK is an NLA_U32 holding a __be32 mask for IPv4 and a host-order prefix
  length for IPv6, and the daemon's MCAST_GROUP an NLA_U32 holding a __be32 address: both
  are read as U32 here and interpreted by `values`, which knows the address family.
Addresses (service, dest) are `union nf_inet_addr`, 16 bytes, an IPv4 address in the first 4.
"""

from __future__ import annotations

import enum

from pylvs.proto.netlink.attrs import Attr, AttrTable, Kind

IPVS_GENL_NAME = "IPVS"
IPVS_GENL_VERSION = 1


class Cmd(enum.IntEnum):
    NEW_SERVICE = 1
    SET_SERVICE = 2
    DEL_SERVICE = 3
    GET_SERVICE = 4
    NEW_DEST = 5
    SET_DEST = 6
    DEL_DEST = 7
    GET_DEST = 8
    NEW_DAEMON = 9
    DEL_DAEMON = 10
    GET_DAEMON = 11
    SET_CONFIG = 12
    GET_CONFIG = 13
    SET_INFO = 14  # only in GET_INFO's answer
    GET_INFO = 15
    ZERO = 16
    FLUSH = 17


def _stats(name: str, wide: Kind) -> AttrTable:
    """IPVS_STATS_ATTR_*: STATS has u32 counters and rates and u64 bytes, STATS64 all u64."""
    return AttrTable(
        name,
        {
            1: Attr("conns", wide),
            2: Attr("inpkts", wide),
            3: Attr("outpkts", wide),
            4: Attr("inbytes", Kind.U64),
            5: Attr("outbytes", Kind.U64),
            6: Attr("cps", wide),
            7: Attr("inpps", wide),
            8: Attr("outpps", wide),
            9: Attr("inbps", wide),
            10: Attr("outbps", wide),
        },
    )


STATS = _stats("IPVS_STATS_ATTR", Kind.U32)
STATS64 = _stats("IPVS_STATS_ATTR(64)", Kind.U64)

SERVICE = AttrTable(
    "IPVS_SVC_ATTR",
    {
        1: Attr("af", Kind.U16),
        2: Attr("protocol", Kind.U16),
        3: Attr("addr", Kind.BINARY),
        4: Attr("port", Kind.BE16),
        5: Attr("fwmark", Kind.U32),
        6: Attr("sched_name", Kind.STRING),
        7: Attr("flags", Kind.FLAGS),
        8: Attr("timeout", Kind.U32),
        9: Attr("netmask", Kind.U32),
        10: Attr("stats", Kind.NESTED, STATS),
        11: Attr("pe_name", Kind.STRING),
        12: Attr("stats64", Kind.NESTED, STATS64),
    },
)

DEST = AttrTable(
    "IPVS_DEST_ATTR",
    {
        1: Attr("addr", Kind.BINARY),
        2: Attr("port", Kind.BE16),
        3: Attr("fwd_method", Kind.U32),
        4: Attr("weight", Kind.U32),
        5: Attr("u_thresh", Kind.U32),
        6: Attr("l_thresh", Kind.U32),
        7: Attr("active_conns", Kind.U32),
        8: Attr("inact_conns", Kind.U32),
        9: Attr("persist_conns", Kind.U32),
        10: Attr("stats", Kind.NESTED, STATS),
        11: Attr("addr_family", Kind.U16),
        12: Attr("stats64", Kind.NESTED, STATS64),
        13: Attr("tun_type", Kind.U8),
        14: Attr("tun_port", Kind.BE16),
        15: Attr("tun_flags", Kind.U16),
    },
)

DAEMON = AttrTable(
    "IPVS_DAEMON_ATTR",
    {
        1: Attr("state", Kind.U32),
        2: Attr("mcast_ifn", Kind.STRING),
        3: Attr("sync_id", Kind.U32),
        4: Attr("sync_maxlen", Kind.U16),
        5: Attr("mcast_group", Kind.U32),
        6: Attr("mcast_group6", Kind.BINARY),
        7: Attr("mcast_port", Kind.U16),
        8: Attr("mcast_ttl", Kind.U8),
    },
)

COMMAND = AttrTable(
    "IPVS_CMD_ATTR",
    {
        1: Attr("service", Kind.NESTED, SERVICE),
        2: Attr("dest", Kind.NESTED, DEST),
        3: Attr("daemon", Kind.NESTED, DAEMON),
        4: Attr("timeout_tcp", Kind.U32),
        5: Attr("timeout_tcp_fin", Kind.U32),
        6: Attr("timeout_udp", Kind.U32),
    },
)

INFO = AttrTable(
    "IPVS_INFO_ATTR",
    {
        1: Attr("version", Kind.U32),
        2: Attr("conn_tab_size", Kind.U32),
    },
)

# include/uapi/linux/ip_vs.h
IP_VS_CONN_F_FWD_MASK = 0x0007
IP_VS_CONN_F_MASQ = 0x0000
IP_VS_CONN_F_LOCALNODE = 0x0001
IP_VS_CONN_F_TUNNEL = 0x0002
IP_VS_CONN_F_DROUTE = 0x0003
IP_VS_STATE_MASTER = 0x0001
IP_VS_STATE_BACKUP = 0x0002
IP_VS_TUNNEL_TYPE_IPIP = 0
IP_VS_TUNNEL_TYPE_GUE = 1
IP_VS_TUNNEL_TYPE_GRE = 2
IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM = 0
IP_VS_TUNNEL_ENCAP_FLAG_CSUM = 1 << 0
IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM = 1 << 1
IP_VS_SCHEDNAME_MAXLEN = 16
IP_VS_PENAME_MAXLEN = 16
IP_VS_IFNAME_MAXLEN = 16
