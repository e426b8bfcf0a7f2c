"""`pylvs status` text (control/status.py) from a DirectorSnapshot."""

from __future__ import annotations

import ipaddress

from pylvs.control.status import render
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.snapshot import (
    CheckView,
    DirectorSnapshot,
    InstanceView,
    PoolHealth,
    ServerHealth,
    snapshot_from_table,
)
from pylvs.model.table import ServiceEntry, ServiceTable

A = ipaddress.ip_address
KEY = ServiceKey(Protocol.TCP, A("10.0.0.1"), 80)


def health(weight: int, in_table: bool, last: int) -> ServerHealth:
    check = CheckView("TCP_CHECK", f"10.1.0.{last}:80", True, True, "connected", None)
    return ServerHealth(
        "[10.0.0.1]:tcp:80",
        f"[10.1.0.{last}]:tcp:80",
        (A(f"10.1.0.{last}"), 80),
        (KEY,),
        True,
        weight,
        in_table,
        (check,),
    )


def test_status_shows_the_live_weight_and_vrrp() -> None:
    live = ServiceTable(
        [ServiceEntry(VirtualService(KEY, scheduler="wrr"), (RealServer(A("10.1.0.1"), 80, 0),))]
    )
    snap = DirectorSnapshot(
        table=snapshot_from_table(live),
        pools=(PoolHealth("[10.0.0.1]:tcp:80", True, False),),
        servers=(health(5, True, 1), health(2, False, 2)),
        vrrp=(InstanceView("VI_1", "MASTER", 150, 140, A("192.168.1.1"), None, 51, "eth0", 4),),
    )
    assert render(snap) == (
        "pylvs director: 1 virtual service(s)\n"
        "  TCP 10.0.0.1:80 wrr: 1 dest(s)\n"
        "  VRRP (VI_1) vrid 51 on eth0: MASTER, priority 150 (effective 140), "
        "master 192.168.1.1, since -\n"
        "VS [10.0.0.1]:tcp:80: quorum UP\n"
        # an operator's `-e ... -w 0`: the live table's weight, not health checking's 5
        "  RS [10.1.0.1]:tcp:80: UP, weight 0\n"
        "    TCP_CHECK 10.1.0.1:80: UP, last success at never: connected\n"
        # not in the live table: health checking's own weight
        "  RS [10.1.0.2]:tcp:80: UP, weight 2, not in table\n"
        "    TCP_CHECK 10.1.0.2:80: UP, last success at never: connected\n"
    )
