"""Traffic through the kernel's IPVS programmed by `pylvs run --dataplane ipvs`.

One topology for the module, one director daemon (in namespace `fdir`) with one
keepalived.conf holding every case as its own virtual server:

    fcn 10.6.0.2 (NAT client) --veth-- fdir 10.6.0.1, NAT VIP 10.6.0.100
    LAN bridge 10.6.10.0/24: fdir .1 (DR VIP .100, TUN VIP .101), fc .2 (+ .50-.58),
                             fr1 .11, fr2 .12
    back bridge 10.6.1.0/24: fdir .1 (the real servers' gateway), fr1 .11, fr2 .12

NAT with port mapping (VIP:8080 -> RIP:80, and sh, mh, persistence, UDP), DR (the real
servers set up by `pylvs realserver start`: VIP on lo, arp_ignore/arp_announce), TUN (ipip:
the VIP on tunl0), the distributions of rr, wrr, sh and mh, a health transition reaching the
kernel, the counters moving, and nothing of pylvs's left after it stops.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.vm.vm_daemon import Daemon, real_ipvsadm
from tests.vm.vm_net import Servers, ask, ip_batch, namespaces, sysctl, wait_for

RS = {"fr1": 11, "fr2": 12}
NAT_VIP, DR_VIP, TUN_VIP = "10.6.0.100", "10.6.10.100", "10.6.10.101"


def real_server(ip: str, weight: int = 1, check: bool = False) -> str:
    body = f"        weight {weight}\n"
    if check:
        body += "        TCP_CHECK {\n            connect_timeout 2\n            retry 1\n" \
            "            delay_before_retry 1\n        }\n"  # fmt: skip
    return f"    real_server {ip} 80 {{\n{body}    }}\n"


def virtual_server(vip: str, port: int, algo: str, kind: str, rs: list[str], extra: str = "",
                   proto: str = "TCP") -> str:  # fmt: skip
    return (
        f"virtual_server {vip} {port} {{\n    delay_loop 2\n    lb_algo {algo}\n"
        f"    lb_kind {kind}\n    protocol {proto}\n{extra}" + "".join(rs) + "}\n"
    )


def nat(*hosts: int, check: bool = False) -> list[str]:
    return [real_server(f"10.6.1.{h}", check=check) for h in hosts]


CONFIG = (
    "global_defs {\n    router_id forwarding\n}\n"
    + virtual_server(NAT_VIP, 8080, "rr", "NAT", nat(11, 12, check=True))
    + virtual_server(NAT_VIP, 81, "sh", "NAT", nat(11, 12))
    + virtual_server(NAT_VIP, 82, "mh", "NAT", nat(11, 12))
    + virtual_server(NAT_VIP, 83, "rr", "NAT", nat(11, 12), "    persistence_timeout 60\n")
    + virtual_server(
        NAT_VIP,
        53,
        "rr",
        "NAT",
        [real_server(f"10.6.1.{h}").replace(" 80 {", " 53 {") for h in (11, 12)],
        proto="UDP",
    )
    + virtual_server(
        DR_VIP, 80, "wrr", "DR", [real_server("10.6.10.11", 1), real_server("10.6.10.12", 2)]
    )
    + virtual_server(
        TUN_VIP, 80, "rr", "TUN", [real_server("10.6.10.11"), real_server("10.6.10.12")]
    )
)


def build() -> None:
    ip_batch(None, ["link add brfl type bridge", "link set brfl up",
                    "link add brfb type bridge", "link set brfb up"])  # fmt: skip
    for ns, last in (("fdir", 1), ("fc", 2), *RS.items()):
        ip_batch(None, [f"link add l-{ns} type veth peer name lan netns {ns}",
                        f"link set l-{ns} master brfl up"])  # fmt: skip
        ip_batch(ns, [f"addr add 10.6.10.{last}/24 dev lan", "link set lan up"])
    for ns, last in (("fdir", 1), *RS.items()):
        ip_batch(None, [f"link add b-{ns} type veth peer name back netns {ns}",
                        f"link set b-{ns} master brfb up"])  # fmt: skip
        ip_batch(ns, [f"addr add 10.6.1.{last}/24 dev back", "link set back up"])
    ip_batch("fdir", ["link add front type veth peer name front netns fcn",
                      "addr add 10.6.0.1/24 dev front", f"addr add {NAT_VIP}/32 dev front",
                      "link set front up", f"addr add {DR_VIP}/32 dev lan",
                      f"addr add {TUN_VIP}/32 dev lan"])  # fmt: skip
    ip_batch("fcn", ["addr add 10.6.0.2/24 dev front", "link set front up",
                     "route add default via 10.6.0.1",
                     *(f"addr add 10.6.0.{k}/24 dev front" for k in range(50, 59))])  # fmt: skip
    ip_batch("fc", [f"addr add 10.6.10.{k}/24 dev lan" for k in range(50, 59)])
    sysctl("fdir", "net.ipv4.ip_forward=1")
    subprocess.run(["modprobe", "ipip"], check=True)
    for ns in RS:
        ip_batch(ns, ["route add default via 10.6.1.1", "link set tunl0 up",
                      f"addr add {TUN_VIP}/32 dev tunl0"])  # fmt: skip
        sysctl(ns, "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.tunl0.rp_filter=0",
               "net.ipv4.conf.default.rp_filter=0")  # fmt: skip
        # DR: seed 000's realserver.sh, as `pylvs realserver start` does it
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-m", "pylvs", "realserver",
                        "start", "--vip", DR_VIP], check=True, capture_output=True)  # fmt: skip


@pytest.fixture(scope="module")
def director(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, Servers]]:
    tmp = tmp_path_factory.mktemp("forwarding")
    with namespaces("fdir", "fc", "fcn", *RS):
        try:
            build()
            servers = Servers({name: name for name in RS})
            daemon = Daemon(tmp, CONFIG, netns="fdir")
            try:
                assert wait_for(lambda: len(kernel_services()) == 7, 120), daemon.log()
                yield daemon, servers
            finally:
                daemon.stop()
                servers.stop()
        finally:
            ip_batch(None, ["link del brfl", "link del brfb"])


def kernel(*args: str) -> str:
    return real_ipvsadm(*args, netns="fdir").stdout


def kernel_services() -> list[str]:
    return [line for line in kernel("-Sn").splitlines() if line.startswith("-A")]


def test_nat_with_port_mapping_rr(director: tuple[Daemon, Servers]) -> None:
    got = ask("fcn", NAT_VIP, 6, port=8080)
    assert Counter(got) == {"fr1": 3, "fr2": 3}
    assert got[0] != got[1]  # rr alternates


def test_dr_wrr_follows_the_weights(director: tuple[Daemon, Servers]) -> None:
    got = ask("fc", DR_VIP, 6)
    assert Counter(got) == {"fr1": 2, "fr2": 4}


def test_tun_ipip(director: tuple[Daemon, Servers]) -> None:
    got = ask("fc", TUN_VIP, 4)
    assert Counter(got) == {"fr1": 2, "fr2": 2}


@pytest.mark.parametrize("port", [81, 82], ids=["sh", "mh"])
def test_hashing_pins_each_client_address(director: tuple[Daemon, Servers], port: int) -> None:
    per_source = {
        k: set(ask("fcn", NAT_VIP, 2, port=port, src=f"10.6.0.{k}")) for k in range(50, 59)
    }
    assert all(len(v) == 1 for v in per_source.values()), per_source
    assert set().union(*per_source.values()) == {"fr1", "fr2"}  # 9 sources over both


def test_persistence_pins_a_client(director: tuple[Daemon, Servers]) -> None:
    assert len(set(ask("fcn", NAT_VIP, 5, port=83))) == 1


def test_udp(director: tuple[Daemon, Servers]) -> None:
    assert Counter(ask("fcn", NAT_VIP, 4, port=53, proto="udp")) == {"fr1": 2, "fr2": 2}


def test_counters_move_and_pylvs_shows_the_kernel_s(director: tuple[Daemon, Servers]) -> None:
    daemon, _ = director
    time.sleep(2.5)  # the earlier tests' traffic folded in first (the kernel's 2 s tick)
    before = daemon.ipvsadm("-Ln", "-t", f"{NAT_VIP}:8080", "--stats", "--exact").stdout
    ask("fcn", NAT_VIP, 4, port=8080)
    time.sleep(2.5)  # the kernel folds its per-CPU counters every 2 s

    def conns(text: str) -> int:
        line = next(x for x in text.splitlines() if x.startswith("TCP"))
        return int(line.split()[2])

    after = daemon.ipvsadm("-Ln", "-t", f"{NAT_VIP}:8080", "--stats", "--exact").stdout
    assert conns(after) == conns(before) + 4
    assert after == kernel("-Ln", "-t", f"{NAT_VIP}:8080", "--stats", "--exact")
    listing = daemon.ipvsadm("-Lnc").stdout
    assert re.search(rf"TCP .* 10\.6\.0\.2:\d+ +{NAT_VIP}:8080 +10\.6\.1\.1[12]:80", listing)


def test_a_health_transition_reaches_the_kernel(director: tuple[Daemon, Servers]) -> None:
    _, servers = director
    servers.down("fr2")
    try:
        assert wait_for(lambda: "10.6.1.12:80" not in kernel("-Ln", "-t", f"{NAT_VIP}:8080"), 60)
        assert set(ask("fcn", NAT_VIP, 4, port=8080)) == {"fr1"}
    finally:
        servers.up("fr2")
    assert wait_for(lambda: "10.6.1.12:80" in kernel("-Ln", "-t", f"{NAT_VIP}:8080"), 60)
    assert Counter(ask("fcn", NAT_VIP, 4, port=8080)) == {"fr1": 2, "fr2": 2}


def test_an_operator_edit_is_kept(director: tuple[Daemon, Servers]) -> None:
    daemon, _ = director
    real_ipvsadm("-e", "-t", f"{DR_VIP}:80", "-r", "10.6.10.12:80", "-g", "-w", "0",
                 netns="fdir")  # fmt: skip
    assert set(ask("fc", DR_VIP, 3)) == {"fr1"}
    status = daemon.ipvsadm("-Ln", "-t", f"{DR_VIP}:80").stdout
    assert re.search(r"10\.6\.10\.12:80 +Route +0 ", status)
    daemon.ipvsadm("-e", "-t", f"{DR_VIP}:80", "-r", "10.6.10.12:80", "-g", "-w", "2")


def test_nothing_is_left_after_stop(director: tuple[Daemon, Servers]) -> None:
    daemon, _ = director
    real_ipvsadm("-A", "-t", "10.6.0.250:80", netns="fdir")  # the operator's: it stays
    assert daemon.stop() == 0
    assert kernel("-Sn") == "-A -t 10.6.0.250:80 -s wlc\n"
    real_ipvsadm("-C", netns="fdir")
