"""The write actions of the HTTP surface, and how the API names services and real servers.

An action is one of `weight` (set a real server's weight), `drain` (weight 0: IPVS's
quiescing, new connections go elsewhere, live ones finish), `disable` (take it out of the
service, `ipvsadm -d`) and `enable` (put it back as the configuration has it, `ipvsadm -a`).
The engine carries each out through the same code as `pylvs ipvsadm` (engine/web_actions.py);
this module only reads and checks what a client sent.

Identifiers: a service is `TCP:10.0.0.1:80`, `UDP:[2001:db8::1]:53`, `SCTP:...`, or `FWM:7`
(`FWM:7:v6` for an IPv6 fwmark service); a real server is `10.1.0.1:80` or `[2001:db8::2]:80`.
Every answer of the API carries these ids, so a client echoes what it was given.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from pylvs.model.service import (
    AF_INET,
    AF_INET6,
    MAX_WEIGHT_IPVSADM,
    Address,
    ModelError,
    Protocol,
    ServiceKey,
)

KINDS = ("weight", "drain", "disable", "enable")
MAX_WEIGHT = MAX_WEIGHT_IPVSADM  # the API takes what `ipvsadm -w` takes


class BadActionError(ValueError):
    """What a client sent cannot be an action (answered with 400 and this message)."""


@dataclass(frozen=True, slots=True)
class ServerAction:
    kind: str  # one of KINDS
    service: ServiceKey
    server: tuple[Address, int]
    weight: int | None = None  # for "weight"

    def describe(self) -> str:
        what = f"{self.kind} {server_id(self.server)} of {service_id(self.service)}"
        return what if self.weight is None else f"{what} to {self.weight}"


@dataclass(frozen=True, slots=True)
class ActionResult:
    status: int  # the HTTP status to answer with: 200, 404 (no such service/server), 409
    message: str  # what the command said ("" when all went well)
    command: str  # the equivalent `ipvsadm` command line


def service_id(key: ServiceKey) -> str:
    if key.fwmark:
        return f"FWM:{key.fwmark}" + (":v6" if key.af == AF_INET6 else "")
    assert key.protocol is not None and key.address is not None
    return f"{key.protocol.name}:{_hostport(key.address, key.port)}"


def server_id(server: tuple[Address, int]) -> str:
    return _hostport(*server)


def _hostport(address: Address, port: int) -> str:
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def parse_server(text: str) -> tuple[Address, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise BadActionError(f"{text!r} is not ADDRESS:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host), int(port)
    except ValueError:
        raise BadActionError(f"{host!r} is not an IP address") from None


def parse_service(text: str) -> ServiceKey:
    kind, sep, rest = text.partition(":")
    if not sep:
        raise BadActionError(f"{text!r} is not a service id (TCP:ADDRESS:PORT, FWM:MARK)")
    try:
        if kind == "FWM":
            mark, _, family = rest.partition(":")
            if not (mark.isascii() and mark.isdigit()) or family not in ("", "v6"):
                raise BadActionError(f"{text!r} is not FWM:MARK or FWM:MARK:v6")
            if not 1 <= int(mark) <= 0xFFFFFFFF:
                raise BadActionError(f"{text!r}: a fwmark is 1..4294967295")
            return ServiceKey.mark(int(mark), AF_INET6 if family else AF_INET)
        if kind not in Protocol.__members__:
            raise BadActionError(f"{text!r}: unknown protocol {kind!r}")
        address, port = parse_server(rest)
        return ServiceKey(Protocol[kind], address, port)
    except ModelError as e:
        raise BadActionError(f"{text!r}: {e}") from None


def parse_action(body: Any) -> ServerAction:
    """The JSON body of POST /api/v1/actions: {"action", "service", "server"[, "weight"]}."""
    if not isinstance(body, dict):
        raise BadActionError("the body must be a JSON object")
    unknown = set(body) - {"action", "service", "server", "weight"}
    if unknown:
        raise BadActionError(f"unknown field(s): {', '.join(sorted(unknown))}")
    kind, service, server = body.get("action"), body.get("service"), body.get("server")
    if kind not in KINDS:
        raise BadActionError(f"action must be one of {', '.join(KINDS)}")
    if not isinstance(service, str) or not isinstance(server, str):
        raise BadActionError("service and server must be ids (strings)")
    weight = body.get("weight")
    if kind == "weight":
        if not isinstance(weight, int) or isinstance(weight, bool):
            raise BadActionError("weight needs a whole number")
        if not 0 <= weight <= MAX_WEIGHT:
            raise BadActionError(f"weight must be 0..{MAX_WEIGHT}")
    elif weight is not None:
        raise BadActionError(f"{kind} takes no weight")
    return ServerAction(kind, parse_service(service), parse_server(server), weight)
