"""The HTTP API's actions as the ipvsadm commands they amount to (engine/web_actions.py)."""

from __future__ import annotations

import ipaddress

import pytest

from pylvs.control.ipvsadm import command as c
from pylvs.engine.web_actions import RefusedError, command_for
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.table import ServiceEntry, ServiceTable
from pylvs.web.actions import ServerAction

A = ipaddress.ip_address
KEY = ServiceKey(Protocol.TCP, A("10.0.0.1"), 80)
RS1 = RealServer(A("10.1.0.1"), 80, 3, ForwardMethod.MASQ, u_threshold=100, l_threshold=10)
RS2 = RealServer(A("10.1.0.2"), 80, 2, ForwardMethod.ROUTE)
LIVE = ServiceTable([ServiceEntry(VirtualService(KEY), (RS1,))])
CONFIG = ServiceTable([ServiceEntry(VirtualService(KEY), (RS1, RS2))])


def run(kind: str, server: RealServer, weight: int | None = None):  # type: ignore[no-untyped-def]
    return command_for(ServerAction(kind, KEY, server.key, weight), LIVE, CONFIG)


def test_weight_and_drain_keep_the_servers_other_settings() -> None:
    cmd, line = run("weight", RS1, 9)
    assert cmd == c.EditDest(KEY, c.DestArgs(RS1.address, 80, ForwardMethod.MASQ, 9, 100, 10))
    assert line == "ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 9"
    cmd, line = run("drain", RS1)
    assert isinstance(cmd, c.EditDest) and cmd.dest.weight == 0 and cmd.dest.u_threshold == 100
    assert line == "ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 0"


def test_disable_and_enable() -> None:
    cmd, line = run("disable", RS1)
    assert cmd == c.DeleteDest(KEY, c.DestArgs(RS1.address, 80))
    assert line == "ipvsadm -d -t 10.0.0.1:80 -r 10.1.0.1:80"
    cmd, line = run("enable", RS2)
    assert cmd == c.AddDest(KEY, c.DestArgs(RS2.address, 80, ForwardMethod.ROUTE, 2))
    assert line == "ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.2:80 -g -w 2"


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        (ServerAction("drain", ServiceKey.mark(1), RS1.key), 404, "no service FWM:1"),
        (ServerAction("drain", KEY, RS2.key), 404, "no such real server in the service"),
        (ServerAction("enable", KEY, RS1.key), 409, "the real server is already in the service"),
        (
            ServerAction("enable", KEY, (A("10.1.0.9"), 80)),
            409,
            "neither the configuration nor health checking puts it there",
        ),
    ],
)
def test_refusals(action: ServerAction, status: int, message: str) -> None:
    with pytest.raises(RefusedError) as e:
        command_for(action, LIVE, CONFIG)
    assert (e.value.status, e.value.message) == (status, message)
