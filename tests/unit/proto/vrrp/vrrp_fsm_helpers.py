"""Builders shared by the VRRP state machine tests: parameters, received adverts, command
filters.  Times are microseconds; S is one second."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address as V4
from ipaddress import IPv4Interface
from typing import Any

from pylvs.proto.vrrp.commands import Command, Log, SendAdvert, Vip
from pylvs.proto.vrrp.events import AdvertReceived
from pylvs.proto.vrrp.packet import Advert, encode_advert, encode_ipv4
from pylvs.proto.vrrp.settings import InstanceParams

S = 1_000_000
GROUP = V4("224.0.0.18")
OURS = V4("192.168.200.5")
VIPS = (Vip(IPv4Interface("192.168.200.16/24")),)


def params(**kw: Any) -> InstanceParams:
    base = InstanceParams(name="VI_1", vrid=51, priority=100, vips=VIPS)
    return dataclasses.replace(base, **kw)


def advert(
    priority: int,
    src: str = "192.168.200.9",
    *,
    version: int = 2,
    adver_int: int | None = None,
    ttl: int = 255,
    vips: tuple[str, ...] = ("192.168.200.16",),
    vrid: int = 51,
    dst: V4 = GROUP,
) -> AdvertReceived:
    interval = adver_int if adver_int is not None else (1 if version == 2 else 100)
    adv = Advert(version, vrid, priority, interval, tuple(V4(v) for v in vips))
    msg = encode_advert(adv, src=V4(src), dst=dst)
    return AdvertReceived(encode_ipv4(msg, V4(src), dst, ttl=ttl), V4(src))


def adverts_sent(commands: list[Command]) -> list[int]:
    return [c.priority for c in commands if isinstance(c, SendAdvert)]


def logs(commands: list[Command]) -> list[str]:
    return [c.line for c in commands if isinstance(c, Log)]
