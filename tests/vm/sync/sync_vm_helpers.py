"""A two-director topology for the kernel's IPVS sync daemon, to run inside the IPVS VM.

Used by `capture_goldens.py` (which records the kernel's sync messages as test data) and by
`test_sync_vm.py` (interop between the kernel and pylvs's sync core).  Layout, all inside the
VM (which has no NIC, so no traffic can leave it):

    c (clients 10.0.0.2/.3, fd00::2) --d-c-- m (the IPVS master director, 10.0.0.1, VIPs)
                                              |-- d-r1 -- rs1 (10.0.1.2, fd00:1::2; VIP_DR on lo)
                                              |-- d-r2 -- rs2 (10.0.2.2, fd00:2::2; VIP_DR on lo)
                                              `-- d-sync -- bk (10.0.20.2, fd00:20::2: backup)

Speed matters under TCG (Python runs ~20x slower): servers and clients are threads of the
calling process placed in their namespace with setns(2), `ip` runs in batch mode.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

CLONE_NEWNET = 0x40000000
VIP = "10.0.0.100"  # NAT services
VIP_MARK = "10.0.0.101"  # a fwmark service
VIP_DR = "10.0.10.100"  # a direct-routing service
VIP6 = "fd00::100"
RS = {"rs1": 1, "rs2": 2}
SYNC_IF, BACKUP_IF = "d-sync", "bk-sync"
MASTER_ADDR, BACKUP_ADDR = "10.0.20.1", "10.0.20.2"
_libc = ctypes.CDLL(None, use_errno=True)


def in_vm() -> bool:
    return os.environ.get("IN_IPVS_VM") == "1" and os.geteuid() == 0


def setns(name: str | None) -> None:
    """Move the calling thread into netns NAME (None: the VM's root netns)."""
    path = f"/run/netns/{name}" if name else "/proc/1/ns/net"
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns", path)
    finally:
        os.close(fd)


def run(*args: str, ns: str | None = None, check: bool = True) -> str:
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.returncode} {done.stderr.strip()}")
    return done.stdout


def ipvsadm(*args: str, ns: str | None = None, check: bool = True) -> str:
    return run("ipvsadm", *args, ns=ns, check=check)


def ip_batch(ns: str | None, lines: list[str]) -> None:
    cmd = ["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"]
    subprocess.run(cmd, input="\n".join(lines) + "\n", text=True, check=True)


def sysctl(ns: str, **values: str | int) -> None:
    run("sysctl", "-qw", *(f"net.ipv4.vs.{k}={v}" for k, v in values.items()), ns=ns)


def build() -> None:
    """The namespaces that live through a whole run: the client and the real servers."""
    for ns in ("c", *RS):
        subprocess.run(["ip", "netns", "add", ns], check=True)
        ip_batch(ns, ["link set lo up"])
    for name in RS:
        ip_batch(name, [f"addr add {VIP_DR}/32 dev lo"])
    subprocess.run(["modprobe", "ip_vs"], check=True)


def directors() -> None:
    """Fresh master (netns m) and backup (netns bk) directors with their links: a new
    network namespace has an empty connection table and default sysctls, so every
    scenario starts from nothing."""
    for ns in ("m", "bk"):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "add", ns], check=True)
    master = [
        "link set lo up",
        "link add d-c type veth peer name eth0 netns c",
        "addr add 10.0.0.1/24 dev d-c",
        "addr add fd00::1/64 dev d-c nodad",
        f"addr add {VIP}/32 dev d-c",
        f"addr add {VIP_MARK}/32 dev d-c",
        f"addr add {VIP_DR}/32 dev d-c",
        f"addr add {VIP6}/128 dev d-c nodad",
        "link set d-c up",
        f"link add {SYNC_IF} type veth peer name {BACKUP_IF} netns bk",
        f"addr add {MASTER_ADDR}/24 dev {SYNC_IF}",
        f"addr add fd00:20::1/64 dev {SYNC_IF} nodad",
        f"link set {SYNC_IF} up",
    ]
    for name, i in RS.items():
        master += [
            f"link add d-{name} type veth peer name eth0 netns {name}",
            f"addr add 10.0.{i}.1/24 dev d-{name}",
            f"addr add fd00:{i}::1/64 dev d-{name} nodad",
            f"link set d-{name} up",
        ]
    ip_batch("m", master)
    ip_batch(
        "c",
        [
            "addr add 10.0.0.2/24 dev eth0",
            "addr add 10.0.0.3/24 dev eth0",
            "addr add fd00::2/64 dev eth0 nodad",
            "link set eth0 up",
            "route add default via 10.0.0.1",
            "route add default via fd00::1",
        ],
    )
    for name, i in RS.items():
        ip_batch(
            name,
            [
                f"addr add 10.0.{i}.2/24 dev eth0",
                f"addr add fd00:{i}::2/64 dev eth0 nodad",
                "link set eth0 up",
                f"route add default via 10.0.{i}.1",
                f"route add default via fd00:{i}::1",
            ],
        )
    ip_batch(
        "bk",
        [
            "link set lo up",
            f"addr add {BACKUP_ADDR}/24 dev {BACKUP_IF}",
            f"addr add fd00:20::2/64 dev {BACKUP_IF} nodad",
            f"link set {BACKUP_IF} up",
        ],
    )
    # DR replies come back through the director with the VIP, one of its own addresses, as
    # their source: accept_local keeps them from being dropped as martians.
    run(
        "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
        "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.all.rp_filter=0",
        *(f"net.ipv4.conf.d-{n}.rp_filter=0" for n in RS), ns="m",
    )  # fmt: skip


def teardown() -> None:
    for ns in ("m", "bk", "c", *RS):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


class Servers:
    """Real servers as threads: TCP 80 (answers one read, then waits for the client's close),
    UDP 53 (echo) and UDP 5060 (swallows), on rs1 and rs2, IPv4 and IPv6."""

    def __init__(self) -> None:
        self.socks: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.stopping = threading.Event()
        self.ready = threading.Barrier(len(RS) * 3 + 1)

    def _tcp(self, name: str) -> None:
        setns(name)
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 80))
        s.listen(256)
        s.settimeout(0.5)
        self.socks.append(s)
        self.ready.wait()
        while not self.stopping.is_set():
            try:
                c, _ = s.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c, name), daemon=True).start()

    @staticmethod
    def _serve(c: socket.socket, name: str) -> None:
        c.settimeout(30)
        with c:
            try:
                while data := c.recv(4096):
                    if data.startswith(b"GET"):
                        c.sendall(name.encode())
            except OSError:
                pass

    def _udp(self, name: str, port: int, echo: bool) -> None:
        setns(name)
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.settimeout(0.5)
        self.socks.append(s)
        self.ready.wait()
        while not self.stopping.is_set():
            try:
                _data, peer = s.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if echo:
                s.sendto(name.encode(), peer)

    def start(self) -> None:
        for name in RS:
            for fn, args in (
                (self._tcp, (name,)),
                (self._udp, (name, 53, True)),
                (self._udp, (name, 5060, False)),
            ):
                t = threading.Thread(target=fn, args=args, daemon=True)
                t.start()
                self.threads.append(t)
        self.ready.wait(timeout=60)

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(5)
        for s in self.socks:
            s.close()


def in_ns(ns: str, fn: object, *args: object) -> object:
    """Run fn(*args) in a thread placed in netns NS; its result (or exception)."""
    box: list[object] = []

    def body() -> None:
        setns(ns)
        try:
            box.append(fn(*args))  # type: ignore[operator]
        except BaseException as exc:  # handed back to the caller
            box.append(exc)

    t = threading.Thread(target=body)
    t.start()
    t.join(120)
    result = box[0] if box else TimeoutError(f"{fn} in {ns}")
    if isinstance(result, BaseException):
        raise result
    return result


def tcp_sessions(
    vip: str, port: int, n: int, *, src: str | None = None, chunks: int = 3, hold: float = 0.0
) -> list[socket.socket]:
    """N TCP connections from the client netns, each sending `chunks` separate segments and
    reading the answer; closed at once (hold 0) or returned open after `hold` seconds."""

    def body() -> list[socket.socket]:
        family = socket.AF_INET6 if ":" in vip else socket.AF_INET
        opened = []
        for _ in range(n):
            s = socket.socket(family)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(10)
            if src:
                s.bind((src, 0))
            s.connect((vip, port))
            for k in range(chunks):
                s.sendall(b"GET" if k == 0 else b"x")
                if k == 0:
                    s.recv(100)
                time.sleep(0.02)
            opened.append(s)
        if hold == 0:
            for s in opened:
                s.close()
            return []
        time.sleep(hold)
        return opened

    return in_ns("c", body)  # type: ignore[return-value]


def udp_flows(vip: str, port: int, n: int, packets: int, payload: bytes = b"?") -> None:
    def body() -> None:
        family = socket.AF_INET6 if ":" in vip else socket.AF_INET
        for _ in range(n):
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
                for _ in range(packets):
                    s.sendto(payload, (vip, port))
                    time.sleep(0.02)

    in_ns("c", body)


@contextlib.contextmanager
def capture(path: str, iface: str = BACKUP_IF, ns: str = "bk") -> Iterator[None]:
    """tcpdump of the sync datagrams arriving at the backup's interface into `path`."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, "tcpdump", "-i", iface, "-nn", "-U", "-w", path, "udp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # tcpdump says "listening on ..." once its socket is open
    assert proc.stderr is not None
    proc.stderr.readline()
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


def flush_wait() -> None:
    """The master sends a partly filled message 2 s after its first entry, checking every
    second (IPVS_SYNC_FLUSH_TIME, IPVS_SYNC_CHECK_PERIOD): wait that out."""
    time.sleep(3.6)
