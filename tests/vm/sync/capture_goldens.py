"""Record the kernel's IPVS sync messages as golden test data (tests/data/sync/).

Run inside the IPVS VM (kernel 6.1, real ipvsadm), from the repository root:

    /work/shared/ipvs-vm/run-in-vm.sh -w "$PWD/tests/data/sync" -- \
        "$PWD/.venv/bin/python" tests/vm/sync/capture_goldens.py tests/data/sync

For every scenario below a fresh master (netns m) and backup (netns bk) are made, the
master's services get traffic from real TCP/UDP clients, the kernel master daemon
multicasts what it syncs, tcpdump in the backup's namespace writes it to NAME.pcap, and
the kernel backup daemon, configured as the scenario says, installs it: what it then
shows (`ipvsadm -Ln`, `-Lnc`, /proc/net/ip_vs_conn_sync) goes to NAME.backup.txt, the
master's own view to NAME.master.txt.  The tests decode the pcaps with pylvs's codec
(byte-exact round trips) and compare pylvs's receiver with what the kernel backup did.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.vm.sync import crafted
from tests.vm.sync import sync_vm_helpers as h

NAT4 = [
    ["-A", "-t", f"{h.VIP}:80", "-s", "rr"],
    ["-a", "-t", f"{h.VIP}:80", "-r", "10.0.1.2:80", "-m"],
    ["-a", "-t", f"{h.VIP}:80", "-r", "10.0.2.2:80", "-m"],
]


def persistent(extra: list[str]) -> list[list[str]]:
    return [
        ["-A", "-t", f"{h.VIP}:80", "-s", "rr", "-p", "60", *extra],
        ["-a", "-t", f"{h.VIP}:80", "-r", "10.0.1.2:80", "-m"],
        ["-a", "-t", f"{h.VIP}:80", "-r", "10.0.2.2:80", "-m"],
    ]


@dataclass
class Scenario:
    name: str
    what: str
    master: list[list[str]]
    traffic: Callable[[], object]
    version: int = 1
    backup: list[list[str]] | None = None  # None: the master's services
    sysctls: dict[str, str] = field(default_factory=dict)
    daemon: list[str] = field(default_factory=list)  # extra --start-daemon options (both)
    master_daemon: list[str] = field(default_factory=list)
    backup_set: list[str] | None = None  # `ipvsadm --set` on the backup
    nft: list[str] = field(default_factory=list)  # nft commands on the master


def mark_rules() -> list[str]:
    return [
        "add table ip mangle",
        "add chain ip mangle pre { type filter hook prerouting priority -150 ; }",
        f"add rule ip mangle pre ip daddr {h.VIP_MARK} tcp dport 80 meta mark set 1",
    ]


def udp_flows_53() -> None:
    h.udp_flows(h.VIP, 53, 3, 4)
    h.udp_flows(h.VIP, 53, 1, 2)


def sip_calls(*call_ids: str) -> None:
    for call_id in call_ids:
        h.udp_flows(h.VIP, 5060, 1, 4, sip_invite(call_id))


SCENARIOS = [
    Scenario(
        "v1-tcp4-nat",
        "3 TCP connections through a NAT service, closed by the client; the backup has only "
        "rs1, so the rs2 connections stay unbound there; backup --set 500 60 200",
        NAT4,
        lambda: h.tcp_sessions(h.VIP, 80, 4),
        backup=NAT4[:2],
        backup_set=["500", "60", "200"],
    ),
    Scenario(
        "v0-tcp4-nat",
        "the same with sync_version 0 (no timeout on the wire: the backup uses its own "
        "--set 500 60 200)",
        NAT4,
        lambda: h.tcp_sessions(h.VIP, 80, 4),
        version=0,
        backup=NAT4[:2],
        backup_set=["500", "60", "200"],
    ),
    Scenario(
        "v1-tcp6-nat",
        "IPv6 TCP connections through an IPv6 NAT service, synced over the IPv4 group",
        [
            ["-A", "-t", f"[{h.VIP6}]:80", "-s", "rr"],
            ["-a", "-t", f"[{h.VIP6}]:80", "-r", "[fd00:1::2]:80", "-m"],
            ["-a", "-t", f"[{h.VIP6}]:80", "-r", "[fd00:2::2]:80", "-m"],
        ],
        lambda: h.tcp_sessions(h.VIP6, 80, 3),
    ),
    Scenario(
        "v1-tcp6-group6",
        "IPv6 connections synced over an IPv6 multicast group (ff02::81) and port 8850",
        [
            ["-A", "-t", f"[{h.VIP6}]:80", "-s", "rr"],
            ["-a", "-t", f"[{h.VIP6}]:80", "-r", "[fd00:1::2]:80", "-m"],
        ],
        lambda: h.tcp_sessions(h.VIP6, 80, 2),
        daemon=["--mcast-group", "ff02::81", "--mcast-port", "8850"],
    ),
    Scenario(
        "v1-persist",
        "a persistent service (-p 60): connections and their templates, from 2 clients",
        persistent([]),
        lambda: (h.tcp_sessions(h.VIP, 80, 2), h.tcp_sessions(h.VIP, 80, 2, src="10.0.0.3")),
    ),
    Scenario(
        "v0-persist",
        "the same with sync_version 0 (templates get 180 s on the backup)",
        persistent([]),
        lambda: (h.tcp_sessions(h.VIP, 80, 2), h.tcp_sessions(h.VIP, 80, 2, src="10.0.0.3")),
        version=0,
    ),
    Scenario(
        "v1-persist-mode",
        "sync_persist_mode 1: only the templates of a persistent service are synced",
        persistent([]),
        lambda: h.tcp_sessions(h.VIP, 80, 3),
        sysctls={"sync_persist_mode": "1"},
    ),
    Scenario(
        "v1-fwmark-persist",
        "a persistent fwmark service: templates with protocol 0, the mark as vaddr, fwmark set",
        [
            ["-A", "-f", "1", "-s", "rr", "-p", "60"],
            ["-a", "-f", "1", "-r", "10.0.1.2:80", "-m"],
            ["-a", "-f", "1", "-r", "10.0.2.2:80", "-m"],
        ],
        lambda: h.tcp_sessions(h.VIP_MARK, 80, 3),
        nft=mark_rules(),
    ),
    Scenario(
        "v1-dr",
        "direct routing: the flags carry DROUTE; input-only TCP states",
        [
            ["-A", "-t", f"{h.VIP_DR}:80", "-s", "rr"],
            ["-a", "-t", f"{h.VIP_DR}:80", "-r", "10.0.1.2:80", "-g"],
            ["-a", "-t", f"{h.VIP_DR}:80", "-r", "10.0.2.2:80", "-g"],
        ],
        lambda: h.tcp_sessions(h.VIP_DR, 80, 3),
    ),
    Scenario(
        "v1-udp",
        "UDP flows of 4 datagrams (synced at the 3rd); one flow of 2 (never synced)",
        [
            ["-A", "-u", f"{h.VIP}:53", "-s", "rr"],
            ["-a", "-u", f"{h.VIP}:53", "-r", "10.0.1.2:53", "-m"],
            ["-a", "-u", f"{h.VIP}:53", "-r", "10.0.2.2:53", "-m"],
        ],
        udp_flows_53,
    ),
    Scenario(
        "v1-ops",
        "one-packet scheduling (-o) on a persistent UDP service: only templates are synced",
        [
            ["-A", "-u", f"{h.VIP}:53", "-s", "rr", "-o", "-p", "60"],
            ["-a", "-u", f"{h.VIP}:53", "-r", "10.0.1.2:53", "-m"],
        ],
        lambda: h.udp_flows(h.VIP, 53, 2, 4),
    ),
    Scenario(
        "v1-sip-pe",
        "the sip persistence engine: templates carry PE_DATA (the Call-ID) and PE_NAME",
        [
            ["-A", "-u", f"{h.VIP}:5060", "-s", "rr", "-p", "60", "--pe", "sip"],
            ["-a", "-u", f"{h.VIP}:5060", "-r", "10.0.1.2:5060", "-m"],
            ["-a", "-u", f"{h.VIP}:5060", "-r", "10.0.2.2:5060", "-m"],
        ],
        lambda: sip_calls("a84b4c76e66710@pc33.example.com", "x1"),
    ),
    Scenario(
        "v1-period",
        "sync_threshold 3 10: a connection of 30 input packets is synced at packets 3, 13, 23",
        NAT4[:2],
        lambda: h.tcp_sessions(h.VIP, 80, 1, chunks=27),
        sysctls={"sync_threshold": "3 10"},
    ),
    Scenario(
        "v1-maxlen",
        "--sync-maxlen 200 on the master: 12 connections split over several messages",
        NAT4,
        lambda: h.tcp_sessions(h.VIP, 80, 12, hold=0.5),
        master_daemon=["--sync-maxlen", "200"],
    ),
    Scenario(
        "v1-many",
        "90 connections: messages filled up to the default maxlen (1472)",
        NAT4,
        lambda: h.tcp_sessions(h.VIP, 80, 90, chunks=3, hold=0.5),
    ),
    Scenario(
        "v0-many",
        "the same with sync_version 0",
        NAT4,
        lambda: h.tcp_sessions(h.VIP, 80, 90, chunks=3, hold=0.5),
        version=0,
    ),
]


def sip_invite(call_id: str) -> bytes:
    return (
        "INVITE sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"
        "To: Bob <sip:bob@example.com>\r\n"
        "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def record(sc: Scenario, out: Path) -> None:
    h.directors()
    h.sysctl("m", sync_version=sc.version, **sc.sysctls)
    for cmd in sc.master:
        h.ipvsadm(*cmd, ns="m")
    for cmd in sc.backup if sc.backup is not None else sc.master:
        h.ipvsadm(*cmd, ns="bk")
    if sc.backup_set:
        h.ipvsadm("--set", *sc.backup_set, ns="bk")
    for rule in sc.nft:
        h.run("nft", rule, ns="m")
    common = ["--syncid", "9", *sc.daemon]
    h.ipvsadm("--start-daemon", "backup", "--mcast-interface", h.BACKUP_IF, *common, ns="bk")
    with h.capture(str(out / f"{sc.name}.pcap")):
        h.ipvsadm(
            "--start-daemon", "master", "--mcast-interface", h.SYNC_IF, *common,
            *sc.master_daemon, ns="m",
        )  # fmt: skip
        time.sleep(0.5)
        sc.traffic()
        h.flush_wait()
    (out / f"{sc.name}.master.txt").write_text(
        "# ipvsadm -Lnc (master)\n" + h.ipvsadm("-Lnc", ns="m")
        + "# ipvsadm -L --daemon (master)\n" + h.ipvsadm("-L", "--daemon", ns="m")
    )  # fmt: skip
    listings = [
        ("ipvsadm -Ln", h.ipvsadm("-Ln", ns="bk")),
        ("ipvsadm -Ln --persistent-conn", h.ipvsadm("-Ln", "--persistent-conn", ns="bk")),
        ("ipvsadm -Lnc", h.ipvsadm("-Lnc", ns="bk")),
        ("/proc/net/ip_vs_conn_sync", h.run("cat", "/proc/net/ip_vs_conn_sync", ns="bk")),
    ]
    (out / f"{sc.name}.backup.txt").write_text(
        "".join(f"# {what} (backup)\n{text}" for what, text in listings)
    )


def send_from_master(datagrams: tuple[bytes, ...]) -> None:
    def body() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((h.MASTER_ADDR, 0))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            for data in datagrams:
                s.sendto(data, ("224.0.0.81", 8848))
                time.sleep(0.3)

    h.in_ns("m", body)


def record_crafted(out: Path) -> None:
    """Each hand-made case on a fresh kernel backup; what it installed, in crafted.json."""
    results = []
    for case in crafted.CASES:
        h.directors()
        for cmd in crafted.BACKUP_SERVICES:
            h.ipvsadm(*cmd, ns="bk")
        h.ipvsadm(
            "--start-daemon", "backup", "--mcast-interface", h.BACKUP_IF, "--syncid",
            str(crafted.SYNCID), ns="bk",
        )  # fmt: skip
        send_from_master(case.datagrams)
        time.sleep(0.5)
        results.append(
            {
                "name": case.name,
                "what": case.what,
                "datagrams": [d.hex() for d in case.datagrams],
                "lnc": h.ipvsadm("-Lnc", ns="bk"),
                "ln": h.ipvsadm("-Ln", ns="bk"),
                "persistent": h.ipvsadm("-Ln", "--persistent-conn", ns="bk"),
                "proc": h.run("cat", "/proc/net/ip_vs_conn", ns="bk"),
            }
        )
        print(f"crafted {case.name}", flush=True)
    (out / "crafted.json").write_text(json.dumps(results, indent=1) + "\n")


def main() -> int:
    out = Path(sys.argv[1]).resolve()
    only = set(sys.argv[2:])
    if not h.in_vm():
        print("run this inside the IPVS VM (see the module docstring)", file=sys.stderr)
        return 2
    h.run("modprobe", "ip_vs_pe_sip")
    h.build()
    servers = h.Servers()
    servers.start()
    try:
        if not only or "crafted" in only:
            record_crafted(out)
        for sc in SCENARIOS:
            if only and sc.name not in only:
                continue
            started = time.monotonic()
            record(sc, out)
            print(f"{sc.name}: {time.monotonic() - started:.1f} s", flush=True)
    finally:
        servers.stop()
        h.teardown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
