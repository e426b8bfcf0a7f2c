"""IPVS generic netlink requests and answers, byte for byte as libipvs and the kernel make them.

Every request is a `Request` (command, attributes, dump or not); `encode` frames it for a
family number, sequence number and port id, with the flags libnl puts on it
(NLM_F_REQUEST | NLM_F_ACK, plus NLM_F_DUMP for the GET_* dumps).  The builders follow
libipvs/libipvs.c function by function (`ipvs_add_service` ... `ipvs_get_daemon`), so the
same ipvsadm command gives the same bytes (tests/data/ipvs holds captures of the real
ipvsadm talking to a 6.1 kernel).  The answers are read with `services`, `dests`,
`daemons`, `timeouts` and `info`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pylvs.proto.ipvs.spec import COMMAND, INFO, IPVS_GENL_VERSION, Cmd
from pylvs.proto.ipvs.values import (
    DaemonAttrs,
    DestAttrs,
    Info,
    KernelTimeouts,
    ServiceAttrs,
)
from pylvs.proto.netlink.attrs import Attrs, NetlinkDecodeError, decode, encode
from pylvs.proto.netlink.message import (
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    Message,
    genl_request,
)


@dataclass(frozen=True, slots=True)
class Request:
    """One IPVS command: what to send, and whether the kernel answers with a dump."""

    cmd: Cmd
    body: bytes = b""
    dump: bool = False

    def encode(self, family: int, seq: int, pid: int = 0) -> bytes:
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if self.dump else 0)
        return genl_request(
            family, self.cmd, IPVS_GENL_VERSION, self.body, flags=flags, seq=seq, pid=pid
        )


def _body(items: Iterable[tuple[str, object]]) -> bytes:
    return encode(COMMAND, items)


def _service(cmd: Cmd, svc: ServiceAttrs) -> Request:
    return Request(cmd, _body([("service", svc.items())]))


def new_service(svc: ServiceAttrs) -> Request:
    return _service(Cmd.NEW_SERVICE, svc)


def set_service(svc: ServiceAttrs) -> Request:
    return _service(Cmd.SET_SERVICE, svc)


def del_service(svc: ServiceAttrs) -> Request:
    return _service(Cmd.DEL_SERVICE, svc)


def _dest(cmd: Cmd, svc: ServiceAttrs, dest: DestAttrs) -> Request:
    return Request(cmd, _body([("service", svc.items()), ("dest", dest.items())]))


def new_dest(svc: ServiceAttrs, dest: DestAttrs) -> Request:
    return _dest(Cmd.NEW_DEST, svc, dest)


def set_dest(svc: ServiceAttrs, dest: DestAttrs) -> Request:
    return _dest(Cmd.SET_DEST, svc, dest)


def del_dest(svc: ServiceAttrs, dest: DestAttrs) -> Request:
    return _dest(Cmd.DEL_DEST, svc, dest)


def zero(svc: ServiceAttrs | None = None) -> Request:
    """ZERO: one service's counters, or (None) every service's and the totals."""
    return Request(Cmd.ZERO) if svc is None else _service(Cmd.ZERO, svc)


def flush() -> Request:
    return Request(Cmd.FLUSH)


def set_config(t: KernelTimeouts) -> Request:
    return Request(
        Cmd.SET_CONFIG,
        _body([("timeout_tcp", t.tcp), ("timeout_tcp_fin", t.tcp_fin), ("timeout_udp", t.udp)]),
    )


def get_config() -> Request:
    return Request(Cmd.GET_CONFIG)


def get_info() -> Request:
    return Request(Cmd.GET_INFO)


def get_services() -> Request:
    return Request(Cmd.GET_SERVICE, dump=True)


def get_service(svc: ServiceAttrs) -> Request:
    """One service (`ipvs_get_service`: its identity in an otherwise zeroed entry)."""
    return _service(Cmd.GET_SERVICE, svc)


def get_dests(svc: ServiceAttrs) -> Request:
    """The dests of one service: only its identity is sent (`ipvs_get_dests`)."""
    return Request(Cmd.GET_DEST, _body([("service", svc.identity())]), dump=True)


def new_daemon(daemon: DaemonAttrs) -> Request:
    return Request(Cmd.NEW_DAEMON, _body([("daemon", daemon.items())]))


def del_daemon(daemon: DaemonAttrs) -> Request:
    return Request(Cmd.DEL_DAEMON, _body([("daemon", daemon.stop_items())]))


def get_daemons() -> Request:
    return Request(Cmd.GET_DAEMON, dump=True)


# -- answers ---------------------------------------------------------------------------------


def _nested(messages: Iterable[Message], name: str) -> list[Attrs]:
    """The `name` attribute of each answer (NetlinkDecodeError when one lacks it)."""
    out = []
    for m in messages:
        nested = decode(COMMAND, m.body).get_nested(name)
        if nested is None:
            raise NetlinkDecodeError(f"IPVS answer without its {name} attribute")
        out.append(nested)
    return out


def services(messages: Iterable[Message]) -> list[ServiceAttrs]:
    """A GET_SERVICE dump (or one GET_SERVICE answer), in the kernel's order."""
    return [ServiceAttrs.from_attrs(a) for a in _nested(messages, "service")]


def dests(messages: Iterable[Message], service_af: int) -> list[DestAttrs]:
    """A GET_DEST dump: the service's list, newest first (kernel list order)."""
    return [DestAttrs.from_attrs(a, service_af) for a in _nested(messages, "dest")]


def daemons(messages: Iterable[Message]) -> list[DaemonAttrs]:
    """A GET_DAEMON dump: the master's daemon first, then the backup's (those running)."""
    return [DaemonAttrs.from_attrs(a) for a in _nested(messages, "daemon")]


def timeouts(message: Message) -> KernelTimeouts:
    attrs = decode(COMMAND, message.body)
    return KernelTimeouts(
        tcp=attrs.get_int("timeout_tcp", 0),
        tcp_fin=attrs.get_int("timeout_tcp_fin", 0),
        udp=attrs.get_int("timeout_udp", 0),
    )


def info(message: Message) -> Info:
    attrs = decode(INFO, message.body)
    return Info(attrs.get_int("version"), attrs.get_int("conn_tab_size"))
