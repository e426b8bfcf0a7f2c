"""The kernel's IPVS as typed calls: read the whole table, make one change (the driver).

`IpvsKernel.read()` is what `ipvsadm -L` reads (libipvs `ipvs_get_services`, then
`ipvs_get_dests` per service, `ipvs_get_timeout`, `ipvs_get_daemon`): a `KernelTable` in the
kernel's order.  `call()` sends one request and raises `KernelError` with the kernel's errno.
`read_conns()` reads /proc/net/ip_vs_conn, the file `ipvsadm -c` prints.  Everything here
blocks for the time of a few system calls; the plane runs `read` in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.proto.ipvs import codec
from pylvs.proto.ipvs.procfs import ConnRows, parse_conns
from pylvs.proto.ipvs.values import DaemonAttrs, DestAttrs, Info, KernelTimeouts, ServiceAttrs

from .genl import IpvsSocket

CONN_PROC_FILE = "/proc/net/ip_vs_conn"


@dataclass(frozen=True, slots=True)
class KernelService:
    service: ServiceAttrs
    dests: list[DestAttrs] = field(default_factory=list)  # kernel list order: newest first


@dataclass(frozen=True, slots=True)
class KernelTable:
    """One read of the kernel's IPVS state, services in the kernel's dump order."""

    services: list[KernelService]
    timeouts: KernelTimeouts
    daemons: list[DaemonAttrs]


class IpvsKernel:
    """IPVS calls on one socket (its lock serialises them)."""

    def __init__(self, sock: IpvsSocket | None = None) -> None:
        self.sock = sock if sock is not None else IpvsSocket()

    @property
    def family(self) -> int:
        return self.sock.family

    def close(self) -> None:
        self.sock.close()

    def call(self, request: codec.Request) -> None:
        self.sock.call(request)

    def info(self) -> Info:
        return codec.info(self.sock.call(codec.get_info())[0])

    def timeouts(self) -> KernelTimeouts:
        return codec.timeouts(self.sock.call(codec.get_config())[0])

    def daemons(self) -> list[DaemonAttrs]:
        return codec.daemons(self.sock.call(codec.get_daemons()))

    def services(self) -> list[KernelService]:
        out = []
        for svc in codec.services(self.sock.call(codec.get_services())):
            answer = self.sock.call(codec.get_dests(svc))
            out.append(KernelService(svc, codec.dests(answer, svc.af)))
        return out

    def read(self) -> KernelTable:
        return KernelTable(self.services(), self.timeouts(), self.daemons())


def read_conns(path: str = CONN_PROC_FILE) -> ConnRows:
    with open(path, encoding="ascii", errors="replace") as f:
        return parse_conns(f.read())
