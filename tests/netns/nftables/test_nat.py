"""NAT (Masq) through the kernel: DNAT with port mapping, rr / wrr / sh / mh distribution,
persistence, a health transition in the rules, counters in ipvsadm formats, clean exit.

Topology (all inside namespaces of this test): client 10.77.1.2 -- director 10.77.1.1 with the
VIP 10.77.1.100, and a bridge 10.77.2.1 to r1 10.77.2.11 and r2 10.77.2.12, whose default
route is the director (LVS-NAT).  The real servers listen on 8080; the VIP on 80 (seed 001).
"""

from collections import Counter
from typing import Any

import pytest

from tests.netns.nftables.nsnet import Director, Lab

pytestmark = pytest.mark.root

VIP = "10.77.1.100"


def build(lab: Lab) -> tuple[str, str, Director]:
    c, d = lab.ns("c"), lab.ns("d")
    rs = [lab.ns("r1"), lab.ns("r2")]
    lab.veth(c, "eth0", d, "eth0")
    lab.sh(c, "ip addr add 10.77.1.2/24 dev eth0 && ip route add default via 10.77.1.1")
    lab.sh(c, "ip -6 addr add fd77:1::2/64 dev eth0 nodad")
    lab.sh(c, "ip -6 route add default via fd77:1::1")
    lab.sh(d, f"ip addr add 10.77.1.1/24 dev eth0 && ip addr add {VIP}/32 dev eth0")
    lab.sh(
        d,
        "ip -6 addr add fd77:1::1/64 dev eth0 nodad && "
        "ip -6 addr add fd77:1::100/128 dev eth0 nodad",
    )
    lab.sh(d, "ip link add br0 type bridge && ip link set br0 up")
    lab.sh(d, "ip addr add 10.77.2.1/24 dev br0 && ip -6 addr add fd77:2::1/64 dev br0 nodad")
    lab.sh(d, "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
    for i, r in enumerate(rs, 1):
        lab.veth(r, "eth0", d, f"p{i}")
        lab.sh(d, f"ip link set p{i} master br0")
        lab.sh(r, f"ip addr add 10.77.2.1{i}/24 dev eth0")
        lab.sh(r, "ip route add default via 10.77.2.1")
        lab.sh(
            r,
            f"ip -6 addr add fd77:2::1{i}/64 dev eth0 nodad && "
            "ip -6 route add default via fd77:2::1",
        )
        lab.backend(r, f"r{i}", 8080)
        lab.backend(r, f"r{i}", 8080, "udp")
        lab.backend(r, f"r{i}", 8080, "tcp", "::")
    return c, d, Director(lab, d)


def svc(sched: str, weights: tuple[int, int] = (1, 1), **kw: Any) -> dict[str, Any]:
    dests = [
        {"addr": f"10.77.2.1{i}", "port": 8080, "weight": w, "method": "Masq"}
        for i, w in enumerate(weights, 1)
    ]
    return {"proto": kw.pop("proto", "tcp"), "addr": VIP, "port": 80, "sched": sched,
            "dests": dests, **kw}  # fmt: skip


def first_words(answers: list[str]) -> list[str]:
    return [a.split()[0] if a else "" for a in answers]


def test_nat_rr_wrr_port_mapping_counters_and_cleanup(lab: Lab) -> None:
    c, d, director = build(lab)
    assert director.table([svc("rr")])["ok"]
    answers = lab.client(c, "tcp", VIP, 80, 10)
    # VIP:80 reached the servers' port 8080, and they saw the real client address (no SNAT).
    assert all(a.split()[1] == "10.77.1.2" for a in answers), answers
    names = first_words(answers)
    # numgen inc alternates strictly: rr.
    assert Counter(names) == {"r1": 5, "r2": 5}
    assert all(names[i] != names[i + 1] for i in range(9)), names

    assert director.table([svc("wrr", (3, 1))])["ok"]
    names = first_words(lab.client(c, "tcp", VIP, 80, 40))
    assert Counter(names) == {"r1": 30, "r2": 10}

    director.call("housekeep")
    stats = director.text("list", stats=True)
    lines = stats.splitlines()
    assert lines[1].split()[:3] == ["Prot", "LocalAddress:Port", "Conns"]
    svc_line = next(line for line in lines if line.startswith("TCP"))
    # 10 rr + 40 wrr connections through the service, counted by the kernel.
    assert svc_line.split()[2] == "50"
    r1 = next(line for line in lines if "10.77.2.11:8080" in line).split()
    r2 = next(line for line in lines if "10.77.2.12:8080" in line).split()
    assert (r1[2], r2[2]) == ("35", "15")
    # Packets both ways: at least SYN, ACK, FIN in and SYN-ACK, data, FIN out per connection.
    assert int(r1[3]) >= 3 * 35 and int(r1[4]) >= 3 * 35
    conns = director.text("conns")
    assert "10.77.1.2" in conns and "10.77.2.11:8080" in conns and "TIME_WAIT" in conns

    director.stop()
    left = lab.sh(d, "nft list tables")
    assert "pylvs" not in left


def test_nat_udp_and_ipv6(lab: Lab) -> None:
    c, _, director = build(lab)
    v6_dests = [{"addr": f"fd77:2::1{i}", "port": 8080, "method": "Masq"} for i in (1, 2)]
    v6 = {"proto": "tcp", "addr": "fd77:1::100", "port": 80, "sched": "rr", "dests": v6_dests}
    assert director.table([svc("rr", proto="udp"), v6])["ok"]
    udp = first_words(lab.client(c, "udp", VIP, 80, 4))
    assert Counter(udp) == {"r1": 2, "r2": 2}
    answers = lab.client(c, "tcp", "fd77:1::100", 80, 4)
    assert Counter(first_words(answers)) == {"r1": 2, "r2": 2}
    assert all(a.split()[1] == "fd77:1::2" for a in answers)
    # Packets both ways, per server, for UDP and for IPv6 too (the one counting rule keys on
    # ct mark . ct direction in both families).
    director.call("housekeep")
    lines = director.text("list", stats=True).splitlines()
    for server in ("10.77.2.11:8080", "10.77.2.12:8080", "[fd77:2::11]:8080", "[fd77:2::12]:8080"):
        found = [line.split() for line in lines if server in line]
        assert found and all(int(f[3]) >= 1 and int(f[4]) >= 1 for f in found), (server, lines)
    director.stop()


def test_nat_persistence_and_health_transition(lab: Lab) -> None:
    c, d, director = build(lab)
    assert director.table([svc("rr", persist=300)])["ok"]
    names = first_words(lab.client(c, "tcp", VIP, 80, 8))
    # One client, persistent service: every connection goes where the first one went.
    assert len(set(names)) == 1 and names[0] in ("r1", "r2")
    pinned = names[0]
    director.call("housekeep")
    conns = director.text("conns")
    assert "NONE" in conns  # the persistence template (cport 0), as ipvsadm -c shows it
    # The pinned server fails its health check: the engine deletes it.  The rules follow, and
    # the client goes to the other server.
    other_i = 2 if pinned == "r1" else 1
    table = svc("rr", persist=300)
    table["dests"] = [dd for dd in table["dests"] if dd["addr"].endswith(f"1{other_i}")]
    assert director.table([table])["ok"]
    rules = lab.sh(d, "nft list table ip pylvs")
    assert f"10.77.2.1{3 - other_i}" not in rules and f"10.77.2.1{other_i}:8080" in rules
    assert set(first_words(lab.client(c, "tcp", VIP, 80, 4))) == {f"r{other_i}"}
    director.stop()


@pytest.mark.parametrize("sched", ["sh", "mh"])
def test_nat_hash_schedulers_spread_clients_and_pin_each(lab: Lab, sched: str) -> None:
    c, _, director = build(lab)
    # sh-port / mh-port: the source port is hashed too, so one client's connections spread.
    assert director.table([svc(sched, flags=["SCHED2"])])["ok"]
    names = first_words(lab.client(c, "tcp", VIP, 80, 60))
    got = Counter(names)
    assert set(got) == {"r1", "r2"} and min(got.values()) >= 10, got
    # Without the port flag the hash is of the client address only: one server for it.
    assert director.table([svc(sched)])["ok"]
    assert len(set(first_words(lab.client(c, "tcp", VIP, 80, 10)))) == 1
    director.stop()


def test_nat_quiesced_server_gets_no_new_flows(lab: Lab) -> None:
    c, _, director = build(lab)
    assert director.table([svc("wrr", (1, 0))])["ok"]
    assert set(first_words(lab.client(c, "tcp", VIP, 80, 6))) == {"r1"}
    director.stop()


def test_nat_full_affinity_set_serves_new_clients_at_once(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that finds its dest's persistence set full gets no template but is DNATed on
    its first SYN: the set is refreshed in a rule of its own before the DNAT rule."""
    monkeypatch.setenv("PYLVS_TEST_PERSIST_MAP_SIZE", "1")
    c, _, director = build(lab)
    lab.sh(c, "ip addr add 10.77.1.3/24 dev eth0")
    # r2 quiesced: every new client goes to r1, whose set has room for one.
    assert director.table([svc("rr", (1, 0), persist=300)])["ok"]

    def run(src: str) -> tuple[list[str], float]:
        answers, took = lab.timed_client(c, "tcp", VIP, 80, 4, src)
        return [a.split()[0] if a else "" for a in answers], took

    assert run("10.77.1.2")[0] == ["r1"] * 4  # takes the set's one place
    names, took = run("10.77.1.3")
    assert names == ["r1"] * 4
    assert took < 0.9, f"{took:.2f} s for 4 connections: a SYN was dropped and retried"
    director.stop()


def ct_seconds(lab: Lab, d: str, proto: str, dport: int) -> list[tuple[str, int]]:
    """(state, seconds left) of the director's conntrack entries for `proto` to VIP:dport."""
    out = []
    for line in lab.sh(d, "cat /proc/net/nf_conntrack").splitlines():
        f = line.split()
        if f[2] == proto and f"dst={VIP}" in line and f"dport={dport} " in line:
            out.append((f[5] if proto == "tcp" else "UDP", int(f[4])))
    return out


def test_nat_flows_time_out_as_ipvsadm_set_says(lab: Lab) -> None:
    """Conntrack's own timeouts would keep an idle established NAT flow 5 days (and count it
    active for lc / wlc all that time) and a UDP flow 30-120 s: the `ct timeout` policy gives
    them IPVS's --set values, and a new --set reaches new flows."""
    c, d, director = build(lab)
    held = lab.held_service(svc("rr"), lab.namespaces[2:4], 81, 8081)
    assert director.table([held, svc("rr", proto="udp")])["ok"]
    assert lab.hold(c, VIP, 81) in ("r1", "r2")
    [(state, left)] = ct_seconds(lab, d, "tcp", 81)
    assert state == "ESTABLISHED" and 890 <= left <= 900, (state, left)
    assert first_words(lab.client(c, "udp", VIP, 80, 1)) in (["r1"], ["r2"])
    [(_, left)] = ct_seconds(lab, d, "udp", 80)
    assert 290 <= left <= 300, left
    conns = director.text("conns")
    assert "ESTABLISHED" in conns and ("14:5" in conns or "15:00" in conns), conns

    assert director.call("timeouts", set=[60, 20, 40])["ok"]
    rules = lab.sh(d, "nft list table ip pylvs")
    # nft lists a policy's values that differ from conntrack's defaults: tcpfin 20 is there.
    assert "fin_wait : 20" in rules and '"timeout-tcp-60-20"' in rules, rules
    assert lab.hold(c, VIP, 81) in ("r1", "r2")
    lefts = sorted(left for _, left in ct_seconds(lab, d, "tcp", 81))
    # The new flow has the new policy; the first keeps the one it started with.
    assert len(lefts) == 2 and 50 <= lefts[0] <= 60 and lefts[1] > 800, lefts
    lab.client(c, "udp", VIP, 80, 1)
    lefts = sorted(left for _, left in ct_seconds(lab, d, "udp", 80))
    assert len(lefts) == 2 and 30 <= lefts[0] <= 40, lefts
    director.stop()


def test_a_deleted_servers_live_flows_are_dropped_while_conntrack_has_them(lab: Lab) -> None:
    """IPVS drops the packets of a connection whose real server was deleted
    (expire_nodest_conn = 0); conntrack alone would go on forwarding them."""
    c, d, director = build(lab)
    held = lab.held_service(svc("rr"), lab.namespaces[2:4], 81, 8081)
    assert director.table([held])["ok"]
    first = lab.hold(c, VIP, 81)
    kept = dict(held, dests=[x for x in held["dests"] if not x["addr"].endswith(first[1:])])
    assert director.table([kept])["ok"]
    director.call("housekeep")  # conntrack still has the held flow: the server stays trashed
    count = lab.sh(d, "nft list chain ip pylvs count")
    assert "drop" in count and "ct mark" in count, count
    # New connections go to the other server.
    assert lab.hold(c, VIP, 81) != first
    director.stop()
