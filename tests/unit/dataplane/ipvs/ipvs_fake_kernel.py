"""An in-memory stand-in for the kernel's IPVS behind `IpvsKernel`, for host tests of the
plane's own logic (the real kernel is tested in tests/vm).

It reads the very requests the plane sends (decoding their attributes with the codec) and
answers with the errnos ip_vs_ctl.c gives: EEXIST / ESRCH / ENOENT, ENOENT for a scheduler it
does not have.  Dests are kept newest first, as the kernel lists them.  `on_read` runs inside
`read()` (in the plane's worker thread), so a test can change the table while a read is under
way.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import replace

from pylvs.dataplane.ipvs.genl import KernelError
from pylvs.dataplane.ipvs.kernel import KernelService, KernelTable
from pylvs.proto.ipvs import codec
from pylvs.proto.ipvs.spec import COMMAND
from pylvs.proto.ipvs.values import (
    DaemonAttrs,
    DestAttrs,
    Info,
    KernelStats,
    KernelTimeouts,
    ServiceAttrs,
    unpack_addr,
)
from pylvs.proto.netlink.attrs import Attrs, decode

SCHEDULERS = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf",
              "mh"}  # fmt: skip
Key = tuple[int, int, object, int, int]


def _key(s: ServiceAttrs) -> Key:
    return (s.af, s.protocol, s.addr, s.port, s.fwmark)


def _dest(attrs: Attrs) -> DestAttrs:
    af = attrs.get_int("addr_family")
    return DestAttrs(
        af=af,
        addr=unpack_addr(af, attrs.get_bytes("addr")),
        port=attrs.get_int("port"),
        fwd_method=attrs.get_int("fwd_method"),
        weight=attrs.get_int("weight"),
        u_thresh=attrs.get_int("u_thresh"),
        l_thresh=attrs.get_int("l_thresh"),
        tun_type=attrs.get_int("tun_type", 0),
        tun_port=attrs.get_int("tun_port", 0),
        tun_flags=attrs.get_int("tun_flags", 0),
    )


class FakeKernel:
    family = 0x20

    def __init__(self) -> None:
        self.services: dict[Key, tuple[ServiceAttrs, list[DestAttrs]]] = {}
        self.timeouts = KernelTimeouts(900, 120, 300)
        self.running: dict[int, DaemonAttrs] = {}
        self.requests: list[codec.Request] = []
        self.on_read: Callable[[], None] | None = None
        self.closed = False

    # -- IpvsKernel's interface --------------------------------------------------------

    def close(self) -> None:
        self.closed = True

    def info(self) -> Info:
        return Info(0x010201, 4096)

    def daemons(self) -> list[DaemonAttrs]:
        return [self.running[s] for s in sorted(self.running)]

    def read(self) -> KernelTable:
        snapshot = [
            KernelService(replace(s, stats=KernelStats()), [replace(d, stats=KernelStats())
                                                            for d in dests])
            for s, dests in self.services.values()
        ]  # fmt: skip
        if self.on_read is not None:
            hook, self.on_read = self.on_read, None
            hook()
        return KernelTable(snapshot, self.timeouts, self.daemons())

    def call(self, request: codec.Request) -> None:
        self.requests.append(request)
        attrs = decode(COMMAND, request.body)
        nested = attrs.get_nested("service")
        svc = ServiceAttrs.from_attrs(nested) if nested is not None else None
        dest_attrs = attrs.get_nested("dest")
        dest = _dest(dest_attrs) if dest_attrs is not None else None
        getattr(self, f"_{request.cmd.name.lower()}")(svc, dest, attrs)

    # -- commands ----------------------------------------------------------------------

    @staticmethod
    def _refuse(number: int) -> KernelError:
        return KernelError(number, "refused")

    def _need(self, svc: ServiceAttrs | None) -> tuple[ServiceAttrs, list[DestAttrs]]:
        assert svc is not None
        found = self.services.get(_key(svc))
        if found is None:
            raise self._refuse(errno.ESRCH)
        return found

    def _new_service(self, svc: ServiceAttrs | None, _d: object, _a: object) -> None:
        assert svc is not None
        if _key(svc) in self.services:
            raise self._refuse(errno.EEXIST)
        if svc.sched_name not in SCHEDULERS:
            raise self._refuse(errno.ENOENT)
        self.services[_key(svc)] = (svc, [])

    def _set_service(self, svc: ServiceAttrs | None, _d: object, _a: object) -> None:
        _, dests = self._need(svc)
        assert svc is not None
        if svc.sched_name not in SCHEDULERS:
            raise self._refuse(errno.ENOENT)
        self.services[_key(svc)] = (svc, dests)

    def _del_service(self, svc: ServiceAttrs | None, _d: object, _a: object) -> None:
        self._need(svc)
        assert svc is not None
        del self.services[_key(svc)]

    def _new_dest(self, svc: ServiceAttrs | None, dest: DestAttrs | None, _a: object) -> None:
        _, dests = self._need(svc)
        assert dest is not None
        if any((d.addr, d.port) == (dest.addr, dest.port) for d in dests):
            raise self._refuse(errno.EEXIST)
        dests.insert(0, dest)

    def _set_dest(self, svc: ServiceAttrs | None, dest: DestAttrs | None, _a: object) -> None:
        _, dests = self._need(svc)
        assert dest is not None
        for i, d in enumerate(dests):
            if (d.addr, d.port) == (dest.addr, dest.port):
                dests[i] = dest
                return
        raise self._refuse(errno.ENOENT)

    def _del_dest(self, svc: ServiceAttrs | None, dest: DestAttrs | None, _a: object) -> None:
        _, dests = self._need(svc)
        assert dest is not None
        for d in dests:
            if (d.addr, d.port) == (dest.addr, dest.port):
                dests.remove(d)
                return
        raise self._refuse(errno.ENOENT)

    def _zero(self, svc: ServiceAttrs | None, _d: object, _a: object) -> None:
        if svc is not None:
            self._need(svc)

    def _flush(self, _s: object, _d: object, _a: object) -> None:
        self.services.clear()

    def _set_config(self, _s: object, _d: object, attrs: Attrs) -> None:
        self.timeouts = KernelTimeouts(
            attrs.get_int("timeout_tcp") or self.timeouts.tcp,
            attrs.get_int("timeout_tcp_fin") or self.timeouts.tcp_fin,
            attrs.get_int("timeout_udp") or self.timeouts.udp,
        )

    def _new_daemon(self, _s: object, _d: object, attrs: Attrs) -> None:
        nested = attrs.get_nested("daemon")
        assert nested is not None
        daemon = DaemonAttrs.from_attrs(nested)
        if daemon.state in self.running:
            raise self._refuse(errno.EEXIST)
        self.running[daemon.state] = replace(
            daemon, sync_maxlen=daemon.sync_maxlen or 1472, mcast_port=daemon.mcast_port or 8848,
            mcast_ttl=daemon.mcast_ttl or 1,
        )  # fmt: skip

    def _del_daemon(self, _s: object, _d: object, attrs: Attrs) -> None:
        nested = attrs.get_nested("daemon")
        assert nested is not None
        state = nested.get_int("state")
        if state not in self.running:
            raise self._refuse(errno.ESRCH)
        del self.running[state]
