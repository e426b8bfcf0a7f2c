"""The HTTP API's write actions as the ipvsadm commands `pylvs ipvsadm` would run.

`command_for(action, live, config)` turns a web/actions.py `ServerAction` into the parsed
ipvsadm command (control/ipvsadm/command.py) an operator would type, which the daemon then
runs through the very code that runs `pylvs ipvsadm` (`Daemon.execute`: the same checks, the
same table lock, the same data-plane push, the same event):

* weight N: `ipvsadm -e -t VIP -r RIP <its method> -w N` with the real server's other settings
  (method, thresholds, tunnel) kept as the live table has them, since `-e` replaces them all;
* drain: the same with `-w 0` (IPVS quiescing);
* disable: `ipvsadm -d -t VIP -r RIP`;
* enable: `ipvsadm -a` with the real server as configuration and health checking have it
  (its live weight then follows health again).  A server the configuration does not have, or
  that health checking keeps out (it is down), cannot be enabled: 409 with the reason.
"""

from __future__ import annotations

from dataclasses import replace

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.command import Fmt
from pylvs.control.ipvsadm.names import service_title
from pylvs.control.ipvsadm.resolver import NUMERIC
from pylvs.control.ipvsadm.save import dest_rule
from pylvs.model.service import RealServer
from pylvs.model.snapshot import DestView
from pylvs.model.table import ServiceTable
from pylvs.web.actions import ServerAction, service_id


class RefusedError(Exception):
    """The action cannot be carried out: (HTTP status, why)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _args(rs: RealServer, weight: int | None = None) -> c.DestArgs:
    tun = rs.tunnel
    args = c.DestArgs(
        address=rs.address,
        port=rs.port,
        method=rs.method,
        weight=rs.weight if weight is None else weight,
        u_threshold=rs.u_threshold,
        l_threshold=rs.l_threshold,
    )
    if tun is None:
        return args
    return replace(args, tun_type=tun.type, tun_port=tun.port, tun_csum=tun.csum)


def command_for(
    action: ServerAction, live: ServiceTable, config: ServiceTable
) -> tuple[c.AddDest | c.EditDest | c.DeleteDest, str]:
    """The command and its ipvsadm command line, or RefusedError (404 / 409)."""
    key, server = action.service, action.server
    entry = live.get(key)
    if entry is None:
        raise RefusedError(404, f"no service {service_id(key)}")
    title = service_title(key, Fmt.RULE | Fmt.NUMERIC, NUMERIC)
    current = entry.dest(server)
    if action.kind == "enable":
        if current is not None:
            raise RefusedError(409, "the real server is already in the service")
        wanted = config.get(key)
        rs = wanted.dest(server) if wanted is not None else None
        if rs is None:
            raise RefusedError(409, "neither the configuration nor health checking puts it there")
        return c.AddDest(key, _args(rs)), _line("-a", title, rs)
    if current is None:
        raise RefusedError(404, "no such real server in the service")
    if action.kind == "disable":
        host = f"[{server[0]}]" if server[0].version == 6 else str(server[0])
        return c.DeleteDest(key, c.DestArgs(*server)), f"ipvsadm -d {title} -r {host}:{server[1]}"
    weight = 0 if action.kind == "drain" else action.weight
    assert weight is not None
    return c.EditDest(key, _args(current, weight)), _line("-e", title, current, weight)


def _line(op: str, title: str, rs: RealServer, weight: int | None = None) -> str:
    shown = rs if weight is None else replace(rs, weight=weight)
    host = f"[{rs.address}]" if rs.address.version == 6 else str(rs.address)
    rule = dest_rule(title, f"{host}:{rs.port}", DestView(shown)).strip()
    return "ipvsadm " + op + rule[2:]
