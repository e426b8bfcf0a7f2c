"""MAC addresses of DR real servers from the neighbour table, via `ip -j` (iproute2 JSON).

For each real server: `ip -j route get RIP` gives the interface it is reached through (it must
be on-link: LVS-DR needs the real servers on the director's segment), `ip -j link show DEV` that
interface's own MAC, and `ip -j neigh show to RIP dev DEV` the server's MAC.  An entry that is
missing, INCOMPLETE or FAILED is not usable; the server gets no new flows until it resolves.
Forwarding at netdev ingress bypasses the IP stack, so nothing else keeps the entries fresh:
`poke` sends one empty UDP datagram to the discard port (9), which makes the kernel resolve
(or re-confirm a STALE) entry the ordinary way (RFC 826 / RFC 4861 neighbour unreachability
detection).  The plane calls `resolve` at every refresh, so a changed MAC is picked up.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterable
from typing import Any

from pylvs.model.service import Address

from .planner import Link

BAD_STATES = frozenset({"INCOMPLETE", "FAILED", "NONE"})


def _ip_json(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        return []
    data = json.loads(done.stdout)
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def route_device(address: Address) -> tuple[str, bool]:
    """The interface towards `address` and whether it is on-link (no gateway)."""
    routes = _ip_json("route", "get", str(address))
    if not routes:
        return "", False
    r = routes[0]
    return str(r.get("dev", "")), "gateway" not in r


def link_mac(device: str) -> str:
    links = _ip_json("link", "show", "dev", device)
    return str(links[0].get("address", "")) if links else ""


def neigh_mac(address: Address, device: str) -> tuple[str, str]:
    """(lladdr, state) of the neighbour entry, ("", "") when there is none."""
    for n in _ip_json("neigh", "show", "to", str(address), "dev", device):
        states = n.get("state", [])
        state = states[0] if isinstance(states, list) and states else ""
        return str(n.get("lladdr", "")), str(state)
    return "", ""


def poke(address: Address) -> None:
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.sendto(b"", (str(address), 9))
    except OSError:
        pass


def resolve(addresses: Iterable[Address]) -> dict[Address, Link]:
    """Links of the on-link real servers whose MAC is known; pokes the others."""
    links: dict[Address, Link] = {}
    macs: dict[str, str] = {}
    for address in addresses:
        device, onlink = route_device(address)
        if not device or not onlink:
            continue
        mac, state = neigh_mac(address, device)
        if state in ("STALE", "") or state in BAD_STATES:
            poke(address)
        if not mac or state in BAD_STATES:
            continue
        if device not in macs:
            macs[device] = link_mac(device)
        links[address] = Link(mac, device, macs[device])
    return links
