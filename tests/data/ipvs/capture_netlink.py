"""Capture the netlink bytes the real ipvsadm exchanges with a real kernel (the codec goldens).

Run inside the IPVS VM, as root, with a folder shared read-write for the result:

    run-in-vm.sh -w "$PWD/tests/data/ipvs" -- /usr/bin/python3 \
        tests/data/ipvs/capture_netlink.py tests/data/ipvs/ipvsadm_netlink.json

It loads ip_vs and nlmon, puts tcpdump on an nlmon interface (every netlink message of the
VM), runs the command corpus below one ipvsadm at a time, and files each captured message
under the command whose process sent it (libnl's port id is the pid in its low 22 bits; the
kernel answers to that port).  Between two commands a little traffic goes through a NAT
service (a client and a real server in network namespaces) so the dumps carry non-zero
counters.  The output is JSON: per command its argv, exit status, stdout, stderr and the
messages in capture order (">" sent by ipvsadm, "<" sent by the kernel), as hex.

Only the standard library is used: the capture does not depend on the code it checks.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

CORPUS: list[list[str]] = [
    ["-A", "-t", "10.1.0.1:80", "-s", "wrr"],
    ["-A", "-t", "10.1.0.1:80", "-s", "wrr"],  # EEXIST
    # (before the mixed-family dest below: the kernel refuses sync daemons then, EINVAL)
    [
        "--start-daemon",
        "master",
        "--mcast-interface",
        "d-c",
        "--syncid",
        "5",
        "--sync-maxlen",
        "1200",
        "--mcast-group",
        "224.0.0.99",
        "--mcast-port",
        "8849",
        "--mcast-ttl",
        "2",
    ],
    ["--start-daemon", "backup", "--mcast-interface", "d-c", "--syncid", "6"],
    ["--start-daemon", "backup", "--mcast-interface", "d-c"],  # EEXIST
    ["-L", "--daemon"],
    ["--stop-daemon", "master"],
    ["--stop-daemon", "backup"],
    ["--stop-daemon", "backup"],  # ESRCH
    ["-A", "-u", "10.1.0.2:53", "-s", "sh", "-b", "sh-port,sh-fallback"],
    ["-A", "-f", "7", "-s", "rr", "-p", "600", "-M", "255.255.255.0"],
    ["-A", "-f", "8", "-6", "-s", "mh", "-b", "mh-port", "-p"],
    ["-A", "-t", "[2001:db8::1]:443", "-s", "lc", "-p", "100", "-M", "64"],
    ["-A", "-u", "10.1.0.3:5060", "-s", "rr", "-p", "60", "--pe", "sip", "-o"],
    ["-A", "-t", "10.1.0.4:80", "-s", "nosuch"],  # ENOENT
    ["-a", "-t", "10.1.0.1:80", "-r", "10.1.1.1:8080", "-m", "-w", "3", "-x", "100", "-y", "50"],
    ["TRAFFIC"],
    ["-a", "-t", "10.1.0.1:80", "-r", "10.1.1.2", "-g"],
    [
        "-a",
        "-t",
        "10.1.0.1:80",
        "-r",
        "10.1.1.3",
        "-i",
        "--tun-type",
        "gue",
        "--tun-port",
        "6080",
        "--tun-remcsum",
    ],
    ["-a", "-t", "10.1.0.1:80", "-r", "10.1.1.4", "-i", "--tun-type", "gre", "--tun-csum"],
    ["-a", "-t", "10.1.0.1:80", "-r", "2001:db8::5", "-i"],
    ["-a", "-t", "[2001:db8::1]:443", "-r", "[2001:db8::2]:443", "-m", "-w", "70000"],
    ["-a", "-t", "[2001:db8::1]:443", "-r", "[2001:db8::2]:443", "-m", "-w", "5"],
    ["-a", "-t", "10.1.0.9:80", "-r", "10.1.1.1:80", "-m"],  # ESRCH
    ["-a", "-f", "7", "-r", "10.1.1.7:0", "-m", "-w", "2"],
    ["-e", "-t", "10.1.0.1:80", "-r", "10.1.1.1:8080", "-m", "-w", "0"],
    ["-e", "-t", "10.1.0.1:80", "-r", "10.1.1.9:8080", "-m"],  # ENOENT
    ["-E", "-t", "10.1.0.1:80", "-s", "lc", "-p", "300"],
    ["-E", "-t", "10.1.0.9:80", "-s", "lc"],  # ESRCH
    ["-Ln"],
    ["-Ln", "--stats", "--exact"],
    ["-L", "-n", "-t", "10.1.0.1:80"],
    ["-L", "-n", "-t", "10.1.0.9:80"],
    ["--set", "800", "100", "200"],
    ["-L", "--timeout"],
    ["-Z", "-t", "10.1.0.1:80"],
    ["-Z"],
    ["-d", "-t", "10.1.0.1:80", "-r", "10.1.1.2"],
    ["-d", "-t", "10.1.0.1:80", "-r", "10.1.1.2"],  # ENOENT
    ["-D", "-u", "10.1.0.2:53"],
    ["-D", "-u", "10.1.0.2:53"],  # ESRCH
    ["-D", "-f", "8", "-6"],
    ["-C"],
    ["-Ln"],
]

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def setns(name: str) -> None:
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    finally:
        os.close(fd)


def topology() -> None:
    """Client ns c (10.1.0.100/24 side) -- VM root (10.1.0.254, VIP 10.1.0.1) -- rs1 10.1.1.1."""
    for ns in ("c", "rs1"):
        sh("ip", "netns", "add", ns)
    batch = "\n".join(
        [
            "link add d-c type veth peer name eth0 netns c",
            "addr add 10.1.0.254/24 dev d-c",
            "addr add 10.1.0.1/32 dev d-c",
            "link set d-c up",
            "link add d-r type veth peer name eth0 netns rs1",
            "addr add 10.1.1.254/24 dev d-r",
            "link set d-r up",
        ]
    )
    subprocess.run(["ip", "-batch", "-"], input=batch + "\n", text=True, check=True)
    subprocess.run(
        ["ip", "-n", "c", "-batch", "-"],
        input="link set lo up\naddr add 10.1.0.100/24 dev eth0\nlink set eth0 up\n",
        text=True,
        check=True,
    )
    subprocess.run(
        ["ip", "-n", "rs1", "-batch", "-"],
        input="link set lo up\naddr add 10.1.1.1/24 dev eth0\nlink set eth0 up\n"
        "route add default via 10.1.1.254\n",
        text=True,
        check=True,
    )
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1")


def serve() -> None:
    setns("rs1")
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 8080))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        with conn:
            conn.recv(100)
            conn.sendall(b"rs1\n")


def traffic() -> None:
    """Five connections from ns c to the VIP, then wait for the 2 s estimator; then the
    connection table as /proc/net/ip_vs_conn and `ipvsadm -Lnc` show it (read back to back,
    again if a second passed between them)."""

    def run() -> None:
        setns("c")
        for _ in range(5):
            with socket.create_connection(("10.1.0.1", 80), timeout=10) as s:
                s.sendall(b"hello")
                s.recv(100)

    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    time.sleep(4.5)
    for _ in range(5):
        with open("/proc/net/ip_vs_conn") as f:
            proc = f.read()
        listed = subprocess.run(
            ["ipvsadm", "-Lnc"], capture_output=True, text=True, check=True
        ).stdout
        expiries = [line.split()[8] for line in proc.splitlines()[1:]]
        if all(f" {int(e) // 60:02d}:{int(e) % 60:02d} " in listed for e in expiries):
            break
    CONNS["proc"], CONNS["ipvsadm -Lnc"] = proc, listed


CONNS: dict[str, str] = {}


def read_pcap(path: str) -> list[bytes]:
    """The netlink messages in a LINKTYPE_NETLINK pcap (16-byte nlmon header removed)."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    offset = 24
    while offset + 16 <= len(data):
        incl = struct.unpack_from("=I", data, offset + 8)[0]
        packet = data[offset + 16 : offset + 16 + incl]
        offset += 16 + incl
        body = packet[16:]
        pos = 0
        while pos + 16 <= len(body):
            length = struct.unpack_from("=I", body, pos)[0]
            if length < 16:
                break
            out.append(body[pos : pos + length])
            pos += (length + 3) & ~3
    return out


def main() -> int:
    out_path = sys.argv[1]
    sh("modprobe", "ip_vs")
    sh("modprobe", "nlmon")
    sh("ipvsadm", "-C")
    topology()
    threading.Thread(target=serve, daemon=True).start()
    sh("ip", "link", "add", "nlmon0", "type", "nlmon")
    sh("ip", "link", "set", "nlmon0", "up")
    pcap = "/tmp/ipvsadm-netlink.pcap"
    dump = subprocess.Popen(
        ["tcpdump", "-Z", "root", "-i", "nlmon0", "-U", "-w", pcap],
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2)
    runs = []
    for argv in CORPUS:
        if argv == ["TRAFFIC"]:
            traffic()
            continue
        proc = subprocess.Popen(
            ["ipvsadm", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        stdout, stderr = proc.communicate()
        runs.append(
            {
                "argv": argv,
                "pid": proc.pid,
                "rc": proc.returncode,
                "stdout": stdout,
                "stderr": stderr,
            }
        )
    time.sleep(3)
    dump.send_signal(2)
    dump.wait()
    messages = read_pcap(pcap)
    for run in runs:
        pid = run.pop("pid")
        mine = []
        for m in messages:
            flags, _seq, port = struct.unpack_from("=HII", m, 6)
            if port & 0x3FFFFF == pid:
                mine.append((">" if flags & 1 else "<") + m.hex())
        run["messages"] = mine
    with open(out_path, "w") as f:
        json.dump({"kernel": os.uname().release, "runs": runs, "conns": CONNS}, f, indent=1)
        f.write("\n")
    print(f"{len(runs)} commands, {len(messages)} messages -> {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
