"""Network-namespace lab for the VRRP tests: one switch namespace with a bridge, N nodes.

Every name starts with `v<pid>` so parallel runs never collide; the bridge lives in its own
namespace, so nothing is added to the host's network at all.  Each node has `eth0`
(10.77.0.<n>/24, DAD off so IPv6 link-local addresses are usable at once) on the bridge.
Processes started in a node (pylvs.vrrp.run, keepalived) get their own session and are killed
by process group; every namespace is deleted in teardown, even when the test failed.
"""

import contextlib
import ipaddress
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SUBNET = "10.77.0"


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, raw sockets)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"needs `{tool}`"
    return None


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=30)


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


class Proc:
    def __init__(self, popen: subprocess.Popen[bytes], log: Path, pidfiles: tuple[Path, ...] = ()):
        self.popen = popen
        self.log = log
        self.pidfiles = pidfiles

    def signal(self, sig: int) -> None:
        for pf in self.pidfiles:  # keepalived's children first (SIGKILL of the parent alone
            with contextlib.suppress(OSError, ValueError):  # would leave the VRRP child)
                os.kill(int(pf.read_text().split()[0]), sig)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL (a crash): reaped at once, pid files gone, as after a reboot."""
        self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        for pf in self.pidfiles:
            pf.unlink(missing_ok=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait(5)
        return self.popen.returncode

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Node:
    def __init__(self, lab: "Lab", name: str, index: int):
        self.lab, self.name, self.index = lab, name, index
        self.ns = f"{lab.prefix}{name}"
        self.ip = f"{SUBNET}.{index}"

    def ip_cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh("ip", "-n", self.ns, *args, check=check)

    def addresses(self, dev: str = "eth0") -> set[str]:
        out = self.ip_cmd("-j", "addr", "show", "dev", dev, check=False).stdout
        try:
            data = json.loads(out or "[]")
        except json.JSONDecodeError:
            return set()
        return {a["local"] for link in data for a in link.get("addr_info", [])}

    def has(self, address: str) -> bool:
        return str(ipaddress.ip_address(address)) in self.addresses()

    def link_local(self) -> str:
        for a in self.addresses():
            if a.startswith("fe80:"):
                return a
        raise AssertionError(f"{self.ns} has no link-local address")

    def crash(self, proc: Proc, *vips: str) -> None:
        """The node dies: its daemon is SIGKILLed and the VIPs it left behind are gone (as
        after a reboot), so only the survivor can hold them."""
        proc.kill()
        for vip in vips:
            self.ip_cmd("addr", "del", vip, "dev", "eth0", check=False)

    def set_link(self, up: bool, dev: str = "eth0") -> None:
        self.ip_cmd("link", "set", dev, "up" if up else "down")

    def add_veth(self, dev: str) -> None:
        """A veth pair inside the node: `dev` loses carrier when `{dev}p` goes down."""
        self.ip_cmd("link", "add", dev, "type", "veth", "peer", "name", f"{dev}p")
        self.ip_cmd("link", "set", dev, "up")
        self.ip_cmd("link", "set", f"{dev}p", "up")

    def mac(self, dev: str = "eth0") -> str:
        mac: str = json.loads(self.ip_cmd("-j", "link", "show", dev).stdout)[0]["address"]
        return mac

    def neighbour(self, address: str) -> str | None:
        out = self.ip_cmd("-j", "neigh", "show", address, check=False).stdout
        entries = json.loads(out or "[]")
        return entries[0].get("lladdr") if entries else None

    def sysctl(self, key: str, value: str) -> None:
        sh("ip", "netns", "exec", self.ns, "sysctl", "-qw", f"{key}={value}")

    def answers(self, address: str, timeout: float = 1.0) -> bool:
        """Whether `address` answers a TCP SYN to port 9 from this node (a RST counts: the
        host is there; a timeout means the traffic was dropped or nobody owns the address)."""
        probe = (
            "import socket,sys\n"
            "try:\n"
            f"    socket.create_connection(({address!r}, 9), timeout={timeout})\n"
            "except ConnectionRefusedError:\n    sys.exit(0)\n"
            "except OSError:\n    sys.exit(1)\n"
        )
        done = sh("ip", "netns", "exec", self.ns, sys.executable, "-c", probe, check=False)
        return done.returncode == 0

    def spawn(self, argv: list[str], tag: str, pidfiles: tuple[Path, ...] = ()) -> Proc:
        log = self.lab.tmp / f"{self.name}-{tag}.log"
        out = open(log, "wb")  # the child writes to it; our copy is closed below
        popen = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        proc = Proc(popen, log, pidfiles)
        self.lab.procs.append(proc)
        return proc

    def write(self, name: str, text: str) -> Path:
        path = self.lab.tmp / f"{self.name}-{name}"
        path.write_text(text)
        return path

    def pylvs(self, conf: str) -> Proc:
        path = self.write("pylvs.conf", conf)
        return self.spawn([sys.executable, "-m", "pylvs.vrrp.run", "-f", str(path)], "pylvs")

    def keepalived(self, conf: str) -> Proc:
        path = self.write("keepalived.conf", conf)
        pid = self.lab.tmp / f"{self.name}-ka.pid"
        vpid = self.lab.tmp / f"{self.name}-ka-vrrp.pid"
        argv = ["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", str(path)]
        argv += ["-p", str(pid), "-r", str(vpid), "-i", self.name]
        return self.spawn(argv, "keepalived", (vpid, pid))


# Each lab of a test process gets its own prefix: a namespace a killed or timed-out step left
# behind (`ip netns del` is best effort in close) must not make the next lab's `add` fail.
_LABS = itertools.count()


class Lab:
    def __init__(self, tmp: Path):
        self.prefix = f"v{os.getpid()}-{next(_LABS)}"
        self.tmp = tmp
        self.switch = f"{self.prefix}sw"
        self.nodes: list[Node] = []
        self.procs: list[Proc] = []
        self.namespaces: list[str] = []
        try:
            self._ns(self.switch)
            br0 = ("ip", "-n", self.switch, "link")
            sh(*br0, "add", "br0", "type", "bridge")
            sh(*br0, "set", "br0", "type", "bridge", "mcast_snooping", "0")
            sh(*br0, "set", "br0", "up")
        except BaseException:
            self.close()  # what was made so far
            raise

    def _ns(self, name: str) -> None:
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")

    def node(self, name: str) -> Node:
        node = Node(self, name, len(self.nodes) + 1)
        self._ns(node.ns)
        for key in ("all", "default"):
            sh("ip", "netns", "exec", node.ns, "sysctl", "-qw", f"net.ipv6.conf.{key}.accept_dad=0")
        sh(
            "ip",
            "-n",
            self.switch,
            "link",
            "add",
            f"p{node.index}",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            node.ns,
        )
        sh("ip", "-n", self.switch, "link", "set", f"p{node.index}", "master", "br0", "up")
        node.ip_cmd("addr", "add", f"{node.ip}/24", "dev", "eth0")
        node.ip_cmd("link", "set", "eth0", "up")
        self.nodes.append(node)
        return node

    def expect(self, vip: str, names: list[str], timeout: float) -> None:
        expect_holders(self, vip, names, timeout)

    def stays(self, vip: str, names: list[str], seconds: float) -> None:
        stays(self, vip, names, seconds)

    def holders(self, vip: str) -> list[str]:
        return [n.name for n in self.nodes if n.has(vip)]

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.stop(timeout=3)
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    the_lab = Lab(tmp_path)
    try:
        yield the_lab
    finally:
        the_lab.close()


@pytest.fixture
def need_keepalived() -> None:
    if shutil.which("keepalived") is None:
        pytest.skip("needs the keepalived binary (Debian package keepalived)")


# --- keepalived.conf texts (the same file is given to pylvs and keepalived) ---------------


def instance(
    name: str = "VI_1",
    *,
    vrid: int = 51,
    priority: int = 100,
    state: str = "BACKUP",
    version: int = 2,
    advert_int: float = 1,
    vips: tuple[str, ...] = ("10.77.0.100/24",),
    password: str | None = None,
    nopreempt: bool = False,
    unicast_src: str | None = None,
    peers: tuple[str, ...] = (),
    extra: str = "",
) -> str:
    lines = [
        f"vrrp_instance {name} {{",
        f"    state {state}",
        "    interface eth0",
        f"    virtual_router_id {vrid}",
        f"    priority {priority}",
        f"    advert_int {advert_int}",
        f"    version {version}",
        "    garp_master_delay 1",
        "    garp_master_repeat 1",
    ]
    if password is not None:
        lines += [
            "    authentication {",
            "        auth_type PASS",
            f"        auth_pass {password}",
            "    }",
        ]
    if nopreempt:
        lines.append("    nopreempt")
    if unicast_src is not None:
        lines.append(f"    unicast_src_ip {unicast_src}")
    if peers:
        lines += ["    unicast_peer {", *(f"        {p}" for p in peers), "    }"]
    lines += ["    virtual_ipaddress {", *(f"        {v}" for v in vips), "    }"]
    if extra:
        lines.append(extra)
    lines.append("}")
    return "\n".join(lines) + "\n"


def config(*instances: str, globals_: str = "") -> str:
    head = "global_defs {\n    script_user root\n" + globals_ + "}\n"
    return head + "".join(instances)


class Confs:
    instance = staticmethod(instance)
    config = staticmethod(config)


@pytest.fixture
def conf() -> type[Confs]:
    return Confs


def expect_holders(lab: Lab, vip: str, names: list[str], timeout: float) -> None:
    """Wait until exactly `names` hold `vip` (ordered as the nodes were made)."""
    if not wait_until(lambda: lab.holders(vip) == names, timeout):
        logs = "\n".join(f"--- {p.log.name}\n{p.text()[-1500:]}" for p in lab.procs)
        raise AssertionError(f"{vip} held by {lab.holders(vip)}, expected {names}\n{logs}")


def stays(lab: Lab, vip: str, names: list[str], seconds: float) -> None:
    """`vip` is held by exactly `names` during the whole period."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert lab.holders(vip) == names, f"{vip} moved to {lab.holders(vip)}"
        time.sleep(0.05)
