"""pylvs's model <-> the IPVS family's values, and the kernel's errors in ipvsadm's words.

Each direction follows what the two ends do:
* model -> kernel as ipvsadm fills `ipvs_service_t` / `ipvs_dest_t` (ipvsadm.c `main`,
  `parse_options`): a full service entry for -A/-E; for the commands that only name a
  service (-D, -a/-e/-d, -Z) the entry ipvsadm sends then: no scheduler, flags 0, timeout 0
  and the host netmask (`service_ref`); `ipvs_get_service` zeroes even that (`service_lookup`).
  A dest for -d carries ipvsadm's defaults (weight 1, direct routing) beside its address.
* kernel -> model as the kernel reports it (ip_vs_ctl.c `ip_vs_genl_fill_service`,
  `_fill_dest`): flags without HASHED, the timeout in seconds, the forwarding method in
  IP_VS_CONN_F_FWD_MASK, tunnel type and flags (include/uapi/linux/ip_vs.h).
`strerror` is libipvs's `ipvs_strerror` table: a kernel errno means different things for
different calls ("No such service" for -E, "Service not defined" for -a).
"""

from __future__ import annotations

import errno
from dataclasses import replace

from pylvs.model.service import (
    Address,
    ForwardMethod,
    ModelError,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    TunnelCsum,
    TunnelParams,
    TunnelType,
    VirtualService,
    af_of,
)
from pylvs.model.stats import CounterValues, Rates
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import (
    AddDest,
    AddService,
    Change,
    DeleteDest,
    DeleteService,
    EditDest,
    EditService,
)
from pylvs.proto.ipvs import codec, spec
from pylvs.proto.ipvs.spec import Cmd
from pylvs.proto.ipvs.values import (
    DaemonAttrs,
    DestAttrs,
    KernelStats,
    ServiceAttrs,
    host_netmask,
    netmask_of,
)

FWD_METHODS = {
    ForwardMethod.MASQ: spec.IP_VS_CONN_F_MASQ,
    ForwardMethod.LOCAL: spec.IP_VS_CONN_F_LOCALNODE,
    ForwardMethod.TUNNEL: spec.IP_VS_CONN_F_TUNNEL,
    ForwardMethod.ROUTE: spec.IP_VS_CONN_F_DROUTE,
}
_METHOD_OF = {v: k for k, v in FWD_METHODS.items()}
TUN_TYPES = {
    TunnelType.IPIP: spec.IP_VS_TUNNEL_TYPE_IPIP,
    TunnelType.GUE: spec.IP_VS_TUNNEL_TYPE_GUE,
    TunnelType.GRE: spec.IP_VS_TUNNEL_TYPE_GRE,
}
_TUN_TYPE_OF = {v: k for k, v in TUN_TYPES.items()}
TUN_CSUM = {
    TunnelCsum.NOCSUM: spec.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
    TunnelCsum.CSUM: spec.IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
    TunnelCsum.REMCSUM: spec.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
}
# Flags the kernel keeps for itself and reports: not part of a service's configuration.
_KERNEL_ONLY_FLAGS = int(ServiceFlags.HASHED)
DAEMON_STATES = {"master": spec.IP_VS_STATE_MASTER, "backup": spec.IP_VS_STATE_BACKUP}
_DAEMON_STATE_OF = {v: k for k, v in DAEMON_STATES.items()}


# -- model -> kernel -----------------------------------------------------------------------


def _identity(key: ServiceKey, netmask: int) -> ServiceAttrs:
    if key.is_fwmark:
        return ServiceAttrs(af=key.af, fwmark=key.fwmark, netmask=netmask)
    assert key.protocol is not None and key.address is not None
    return ServiceAttrs(
        af=key.af, protocol=int(key.protocol), addr=key.address, port=key.port, netmask=netmask
    )


def service_attrs(svc: VirtualService) -> ServiceAttrs:
    """The full entry of -A / -E.  Names longer than libipvs's `char[16]` fields hold are cut
    as ipvsadm cuts them (strncpy of IP_VS_SCHEDNAME_MAXLEN - 1): the kernel refuses a
    longer string outright (EINVAL), where a cut one is a name it does not know (ENOENT)."""
    return replace(
        _identity(svc.key, netmask_of(svc.key.af, svc.netmask)),
        sched_name=svc.scheduler[: spec.IP_VS_SCHEDNAME_MAXLEN - 1],
        flags=int(svc.flags),
        timeout=svc.timeout,
        pe_name=svc.pe_name[: spec.IP_VS_PENAME_MAXLEN - 1],
    )


def service_ref(key: ServiceKey) -> ServiceAttrs:
    """A service named only by its key, as ipvsadm sends it for -D, -a/-e/-d and -Z."""
    return _identity(key, host_netmask(key.af))


def service_lookup(key: ServiceKey) -> ServiceAttrs:
    """What `ipvs_get_service` sends: the key in a zeroed entry."""
    return _identity(key, 0)


def dest_attrs(rs: RealServer) -> DestAttrs:
    """The entry of -a / -e."""
    tunnel = rs.tunnel or TunnelParams()
    is_tunnel = rs.method is ForwardMethod.TUNNEL
    return DestAttrs(
        af=af_of(rs.address),
        addr=rs.address,
        port=rs.port,
        fwd_method=FWD_METHODS[rs.method],
        weight=rs.weight,
        u_thresh=rs.u_threshold,
        l_thresh=rs.l_threshold,
        tun_type=TUN_TYPES[tunnel.type] if is_tunnel else 0,
        tun_port=tunnel.port if is_tunnel else 0,
        tun_flags=TUN_CSUM[tunnel.csum] if is_tunnel else 0,
    )


def dest_ref(address_port: tuple[Address, int]) -> DestAttrs:
    """A dest named only by address and port, with ipvsadm's defaults (-d)."""
    address, port = address_port
    return dest_attrs(RealServer(address, port))


def daemon_attrs(d: SyncDaemon) -> DaemonAttrs:
    return DaemonAttrs(
        state=DAEMON_STATES[d.state],
        mcast_ifn=d.mcast_ifn,
        syncid=d.syncid,
        sync_maxlen=d.sync_maxlen,
        mcast_group=d.mcast_group,
        mcast_port=d.mcast_port,
        mcast_ttl=d.mcast_ttl,
    )


def request_for(change: Change) -> codec.Request:
    """The IPVS request that makes `change`, as ipvsadm would send it."""
    match change:
        case AddService(service=svc):
            return codec.new_service(service_attrs(svc))
        case EditService(service=svc):
            return codec.set_service(service_attrs(svc))
        case DeleteService(key=key):
            return codec.del_service(service_ref(key))
        case AddDest(key=key, dest=rs):
            return codec.new_dest(service_ref(key), dest_attrs(rs))
        case EditDest(key=key, dest=rs):
            return codec.set_dest(service_ref(key), dest_attrs(rs))
        case DeleteDest(key=key, dest=dkey):
            return codec.del_dest(service_ref(key), dest_ref(dkey))
    raise AssertionError(change)


# -- kernel -> model -----------------------------------------------------------------------


def key_of(s: ServiceAttrs) -> ServiceKey:
    if s.fwmark:
        return ServiceKey.mark(s.fwmark, s.af)
    assert s.addr is not None
    try:
        protocol = Protocol(s.protocol)
    except ValueError:
        raise ModelError(f"unknown service protocol {s.protocol}") from None
    return ServiceKey(protocol=protocol, address=s.addr, port=s.port)


def service_of(s: ServiceAttrs) -> VirtualService:
    """The model's value for a service the kernel reported (ModelError if it cannot hold it:
    an IPv4 persistence mask that is not a prefix)."""
    prefix = s.prefix()
    if prefix is None:
        raise ModelError(f"non-contiguous persistence netmask {s.netmask:#010x}")
    flags = ServiceFlags(s.flags & ~_KERNEL_ONLY_FLAGS & 0x3F)
    persistent = bool(flags & ServiceFlags.PERSISTENT)
    return VirtualService(
        key=key_of(s),
        scheduler=s.sched_name,
        flags=flags,
        timeout=s.timeout if persistent else 0,
        netmask=prefix,
        pe_name=s.pe_name,
    )


def real_server_of(d: DestAttrs) -> RealServer:
    method = _METHOD_OF.get(d.fwd_method & spec.IP_VS_CONN_F_FWD_MASK)
    if method is None:
        raise ModelError(f"unknown forwarding method {d.fwd_method}")
    tunnel = None
    if method is ForwardMethod.TUNNEL:
        tun_type = _TUN_TYPE_OF.get(d.tun_type)
        if tun_type is None:
            raise ModelError(f"unknown tunnel type {d.tun_type}")
        csum = TunnelCsum.NOCSUM
        if d.tun_flags & spec.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM:
            csum = TunnelCsum.REMCSUM
        elif d.tun_flags & spec.IP_VS_TUNNEL_ENCAP_FLAG_CSUM:
            csum = TunnelCsum.CSUM
        port = d.tun_port if tun_type is TunnelType.GUE else 0
        tunnel = TunnelParams(tun_type, port, csum)
    return RealServer(
        address=d.addr,
        port=d.port,
        weight=max(d.weight, 0),
        method=method,
        u_threshold=d.u_thresh,
        l_threshold=d.l_thresh,
        tunnel=tunnel,
    )


def counters_of(s: KernelStats | None) -> CounterValues:
    if s is None:
        return CounterValues()
    return CounterValues(s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes)


def rates_of(s: KernelStats | None) -> Rates:
    """The estimator's rates, already rounded by the kernel (ip_vs_read_estimator)."""
    if s is None:
        return Rates()
    return Rates(s.cps, s.inpps, s.outpps, s.inbps, s.outbps)


def daemon_of(d: DaemonAttrs) -> SyncDaemon:
    state = _DAEMON_STATE_OF.get(d.state)
    if state is None:
        raise ModelError(f"unknown sync daemon state {d.state}")
    return SyncDaemon(
        state=SyncState(state),
        mcast_ifn=d.mcast_ifn,
        syncid=d.syncid,
        sync_maxlen=d.sync_maxlen,
        mcast_group=d.mcast_group,
        mcast_port=d.mcast_port,
        mcast_ttl=d.mcast_ttl,
    )


# -- errors --------------------------------------------------------------------------------

# libipvs/libipvs.c ipvs_strerror: (call, errno) -> message; a call of None matches any.
_BY_CALL: dict[tuple[Cmd | None, int], str] = {
    (Cmd.NEW_SERVICE, errno.EEXIST): "Service already exists",
    (Cmd.NEW_SERVICE, errno.ENOENT): "Scheduler or persistence engine not found",
    (Cmd.SET_SERVICE, errno.ESRCH): "No such service",
    (Cmd.SET_SERVICE, errno.ENOENT): "Scheduler or persistence engine not found",
    (Cmd.DEL_SERVICE, errno.ESRCH): "No such service",
    (Cmd.ZERO, errno.ESRCH): "No such service",
    (Cmd.NEW_DEST, errno.ESRCH): "Service not defined",
    (Cmd.NEW_DEST, errno.EEXIST): "Destination already exists",
    (Cmd.SET_DEST, errno.ESRCH): "Service not defined",
    (Cmd.SET_DEST, errno.ENOENT): "No such destination",
    (Cmd.DEL_DEST, errno.ESRCH): "Service not defined",
    (Cmd.DEL_DEST, errno.ENOENT): "No such destination",
    (Cmd.NEW_DAEMON, errno.EEXIST): "Daemon has already run",
    (Cmd.DEL_DAEMON, errno.ESRCH): "No daemon is running",
    (Cmd.GET_SERVICE, errno.ESRCH): "No such service",
    (Cmd.GET_DEST, errno.ESRCH): "No such service",
    (None, errno.EPERM): "Permission denied (you must be root)",
    (None, errno.EINVAL): (
        "Invalid operation.  Possibly wrong module version, address not unicast, ..."
    ),
    (None, errno.ENOPROTOOPT): "Protocol not available",
    (None, errno.ENOMEM): "Memory allocation problem",
    (None, errno.EOPNOTSUPP): "Operation not supported with IPv6",
    (None, errno.EAFNOSUPPORT): "Operation not supported with specified address family",
    (None, errno.EMSGSIZE): "Module is wrong version",
}


def strerror(cmd: Cmd, err: int) -> str | None:
    """ipvsadm's message for `err` (positive) from `cmd`; None where ipvsadm would print
    strerror(err) (the caller has the C library's text)."""
    return _BY_CALL.get((cmd, err)) or _BY_CALL.get((None, err))
