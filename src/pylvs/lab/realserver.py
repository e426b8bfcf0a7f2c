"""`pylvs realserver start|stop --vip VIP [--dev lo]`: seed 000's realserver.sh, undoable.

An LVS-DR real server must accept packets for the VIP without ever answering ARP for it
(otherwise it would steal the VIP from the director).  realserver.sh (seed 000, seed 003)
does:

    ifconfig lo:0 $VIP netmask 255.255.255.255 broadcast $VIP
    route add -host $VIP dev lo:0
    echo 1 > /proc/sys/net/ipv4/conf/{lo,all}/arp_ignore     # answer ARP only for addresses
    echo 2 > /proc/sys/net/ipv4/conf/{lo,all}/arp_announce   # of the receiving interface, and
                                                             # never source ARP from the VIP
`stop` removes the address and the route and writes 0 back.  Here `stop` puts back the values
the sysctls had before the first `start` (kept in a state file per network namespace, so the
real servers of the lab, which share /run, do not mix their states), and only removes the
address / route this command added.  The semantics of arp_ignore / arp_announce are the
kernel's (Documentation/networking/ip-sysctl.rst).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

SYSCTLS: dict[str, str] = {
    "net/ipv4/conf/lo/arp_ignore": "1",
    "net/ipv4/conf/lo/arp_announce": "2",
    "net/ipv4/conf/all/arp_ignore": "1",
    "net/ipv4/conf/all/arp_announce": "2",
}
STATE_DIR = "/run/pylvs/realserver"


class RealServerError(RuntimeError):
    pass


def _netns_key(path: str = "/proc/self/ns/net") -> str:
    """A name for a network namespace (its inode), shared by its processes."""
    try:
        return f"net-{os.stat(path).st_ino}"
    except OSError:
        return "net-host"


def forget(netns_path: str, state_dir: str = STATE_DIR) -> None:
    """Drop the state of a namespace about to be deleted (e.g. /run/netns/NAME)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(state_dir) / f"{_netns_key(netns_path)}.json").unlink()


@dataclass
class RealServer:
    """realserver.sh start/stop with the state kept under `state_dir`."""

    proc_sys: str = "/proc/sys"
    state_dir: str = STATE_DIR
    ip_cmd: str = "ip"

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir) / f"{_netns_key()}.json"

    # -- state --------------------------------------------------------------------------

    def _load(self) -> dict[str, object]:
        try:
            data: dict[str, object] = json.loads(self.state_path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        # The key is the namespace's inode, which a later namespace may reuse: a state whose
        # addresses are all gone belongs to a namespace that no longer exists.
        vips = data.get("vips")
        entries = vips if isinstance(vips, list) else []
        if not any(self._entry_live(e) for e in entries if isinstance(e, dict)):
            return {}
        return data

    def _entry_live(self, entry: dict[str, object]) -> bool:
        try:
            addr = ipaddress.ip_address(str(entry.get("vip")))
        except ValueError:
            return False
        iface = ipaddress.ip_interface(f"{addr}/{addr.max_prefixlen}")
        return self._has_address(iface, str(entry.get("dev", "lo")))

    def _save(self, state: dict[str, object]) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(f".{os.getpid()}")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
        tmp.replace(self.state_path)

    # -- sysctls ------------------------------------------------------------------------

    def read_sysctl(self, name: str) -> str:
        return (Path(self.proc_sys) / name).read_text().strip()

    def write_sysctl(self, name: str, value: str) -> None:
        (Path(self.proc_sys) / name).write_text(f"{value}\n")

    # -- address and route --------------------------------------------------------------

    def _ip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.ip_cmd, *args], capture_output=True, text=True, check=False)

    def _has_address(
        self, iface: ipaddress.IPv4Interface | ipaddress.IPv6Interface, dev: str
    ) -> bool:
        fam = "-4" if iface.version == 4 else "-6"
        out = self._ip(fam, "-o", "addr", "show", "dev", dev).stdout
        return any(f" {iface.with_prefixlen} " in f" {line} " for line in out.splitlines())

    # -- the two verbs ------------------------------------------------------------------

    def start(self, vip: str, dev: str = "lo") -> list[str]:
        """Set the real server up for `vip`; returns what was done, one line each."""
        addr = ipaddress.ip_address(vip)
        iface = ipaddress.ip_interface(f"{addr}/{addr.max_prefixlen}")
        state = self._load()
        done: list[str] = []
        saved = state.get("sysctls")
        if not isinstance(saved, dict):
            saved = {name: self.read_sysctl(name) for name in SYSCTLS}
            state["sysctls"] = saved
        vips = state.get("vips")
        entries: list[dict[str, object]] = list(vips) if isinstance(vips, list) else []
        entry = next((e for e in entries if e.get("vip") == vip and e.get("dev") == dev), None)
        if entry is None:
            entry = {"vip": vip, "dev": dev, "address": False, "route": False}
            entries.append(entry)
        if not self._has_address(iface, dev):
            r = self._ip("addr", "add", iface.with_prefixlen, "dev", dev)
            if r.returncode != 0:
                raise RealServerError(f"ip addr add {iface} dev {dev}: {r.stderr.strip()}")
            entry["address"] = True
            done.append(f"ip addr add {iface.with_prefixlen} dev {dev}")
        # `ifconfig lo:0 VIP ...` also brings the interface up; without that the route fails.
        self._ip("link", "set", "dev", dev, "up")
        r = self._ip("route", "add", iface.with_prefixlen, "dev", dev)
        if r.returncode == 0:
            entry["route"] = True
            done.append(f"ip route add {iface.with_prefixlen} dev {dev}")
        elif "File exists" not in r.stderr:
            self._save(state)
            raise RealServerError(f"ip route add {iface} dev {dev}: {r.stderr.strip()}")
        state["vips"] = entries
        self._save(state)
        for name, value in SYSCTLS.items():
            if self.read_sysctl(name) != value:
                self.write_sysctl(name, value)
                done.append(f"sysctl -w {name.replace('/', '.')}={value}")
        return done

    def stop(self, vip: str, dev: str = "lo") -> list[str]:
        """Undo `start(vip, dev)`; the sysctls go back when the last VIP goes."""
        addr = ipaddress.ip_address(vip)
        iface = ipaddress.ip_interface(f"{addr}/{addr.max_prefixlen}")
        state = self._load()
        vips = state.get("vips")
        entries: list[dict[str, object]] = list(vips) if isinstance(vips, list) else []
        entry = next((e for e in entries if e.get("vip") == vip and e.get("dev") == dev), None)
        done: list[str] = []
        # Without a record (started by hand or by realserver.sh) do what realserver.sh stop does.
        ours_route = entry is None or bool(entry.get("route"))
        ours_addr = entry is None or bool(entry.get("address"))
        if (
            ours_route
            and self._ip("route", "del", iface.with_prefixlen, "dev", dev).returncode == 0
        ):
            done.append(f"ip route del {iface.with_prefixlen} dev {dev}")
        if ours_addr and self._has_address(iface, dev):
            r = self._ip("addr", "del", iface.with_prefixlen, "dev", dev)
            if r.returncode != 0:
                raise RealServerError(f"ip addr del {iface} dev {dev}: {r.stderr.strip()}")
            done.append(f"ip addr del {iface.with_prefixlen} dev {dev}")
        if entry is not None:
            entries.remove(entry)
        if entries:
            state["vips"] = entries
            self._save(state)
            return done
        saved = state.get("sysctls")
        restore = saved if isinstance(saved, dict) else dict.fromkeys(SYSCTLS, "0")
        for name in SYSCTLS:
            value = str(restore.get(name, "0"))
            if self.read_sysctl(name) != value:
                self.write_sysctl(name, value)
                done.append(f"sysctl -w {name.replace('/', '.')}={value}")
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()
        return done
