"""Building and removing the lab's namespaces, veth pairs and bridges with `ip` (root).

Every object the lab makes lives in a namespace named `pylvs-<lab id>-<node>`; the bridges are
in `pylvs-<lab id>-switch` and each node's `ethN` is one end of a veth pair whose other end is
a port of that bridge.  Nothing is created in the host's own namespace (veth ends are created
directly inside their namespaces), so `lab down` is: stop the processes, delete the
namespaces - which also takes the interfaces, addresses, routes and nftables rules with them.
A crashed lab is found again by its namespace names alone (`leftovers`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Sequence

from .topology import PREFIX, Mode, Topology

NS_RE = re.compile(rf"^{PREFIX}-([a-z0-9]{{1,10}})-([a-z0-9]+)$")


class NetnsError(RuntimeError):
    pass


def run(argv: Sequence[str], check: bool = True) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def in_ns(ns: str, *argv: str, check: bool = True) -> str:
    return run(["ip", "netns", "exec", ns, *argv], check=check)


def ip(ns: str, *args: str, check: bool = True) -> str:
    return run(["ip", "-n", ns, *args], check=check)


def sysctl(ns: str, name: str, value: str) -> None:
    in_ns(ns, "sysctl", "-qw", f"{name}={value}")


def namespaces() -> list[str]:
    out = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def lab_namespaces(lab_id: str | None = None) -> list[str]:
    """The namespaces of lab `lab_id` (every lab's when None), by name."""
    found = []
    for name in namespaces():
        m = NS_RE.match(name)
        if m and (lab_id is None or m.group(1) == lab_id):
            found.append(name)
    return found


def lab_ids() -> list[str]:
    ids = []
    for name in namespaces():
        m = NS_RE.match(name)
        if m and m.group(1) not in ids:
            ids.append(m.group(1))
    return ids


def add_ns(name: str) -> None:
    run(["ip", "netns", "add", name])
    ip(name, "link", "set", "lo", "up")


def build(topo: Topology) -> None:
    """Create the whole lab's network; raises NetnsError (the caller removes what exists)."""
    sw = topo.switch
    add_ns(sw)
    for seg in topo.segments:
        ip(sw, "link", "add", f"br-{seg}", "type", "bridge")
        ip(sw, "link", "set", f"br-{seg}", "up")
        # The bridge forwards only: no address, no IPv6 link-local chatter from the switch.
        sysctl(sw, f"net.ipv6.conf.br-{seg}.disable_ipv6", "1")
    port = 0
    for node in topo.nodes:
        ns = topo.ns(node.name)
        add_ns(ns)
        sysctl(ns, "net.ipv6.conf.all.disable_ipv6", "1")
        for iface in node.interfaces:
            port += 1
            peer = f"p{port}-{node.name}"[:15]
            run(["ip", "link", "add", iface.name, "netns", ns, "type", "veth",
                 "peer", "name", peer, "netns", sw])  # fmt: skip
            ip(sw, "link", "set", peer, "master", f"br-{iface.segment}")
            ip(sw, "link", "set", peer, "up")
            ip(ns, "addr", "add", str(iface.address), "dev", iface.name)
            ip(ns, "link", "set", iface.name, "up")
        if node.gateway is not None:
            ip(ns, "route", "replace", "default", "via", str(node.gateway))
        if node.role == "director" and topo.mode is Mode.NAT:
            sysctl(ns, "net.ipv4.ip_forward", "1")


def pids_in(ns: str) -> list[int]:
    out = run(["ip", "netns", "pids", ns], check=False)
    return [int(p) for p in out.split() if p.isdigit()]


def kill_all_in(ns: str) -> list[int]:
    """SIGKILL what still runs in a lab namespace (leftovers of a crashed lab), by pid."""
    pids = pids_in(ns)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    return pids


def remove(names: Sequence[str]) -> list[str]:
    """Delete these namespaces; returns the ones that could not be deleted."""
    failed = []
    for name in names:
        kill_all_in(name)
        if (
            subprocess.run(
                ["ip", "netns", "del", name], capture_output=True, check=False
            ).returncode
            != 0
        ):
            failed.append(name)
    return failed


def holds(ns: str, dev: str, address: str) -> bool:
    """Does interface `dev` in `ns` carry `address` (e.g. the VIP)?"""
    out = ip(ns, "-4", "-o", "addr", "show", "dev", dev, check=False)
    return any(part.split("/")[0] == address for line in out.splitlines() for part in line.split())


def link_up(ns: str, dev: str) -> bool:
    """Is `dev` in `ns` up with carrier (operstate UP)?"""
    out = ip(ns, "-o", "link", "show", "dev", dev, check=False)
    return " state UP " in out


def set_links(ns: str, devs: Sequence[str], up: bool) -> None:
    for dev in devs:
        ip(ns, "link", "set", dev, "up" if up else "down")
