"""Direct routing through netdev ingress: MAC rewrite, replies that bypass the director.

One segment (a bridge in its own namespace): client 10.78.0.2, director 10.78.0.1 holding the
VIP 10.78.0.100, real servers 10.78.0.11 / .12 holding the VIP on lo with the ARP sysctls of
realserver.sh (arp_ignore=1, arp_announce=2), so only the director answers ARP for the VIP.
"""

from collections import Counter
from typing import Any

import pytest

from tests.netns.nftables.nsnet import Director, Lab

pytestmark = pytest.mark.root

VIP = "10.78.0.100"
PROBE = """table netdev probe {
    counter via_director {
    }
    counter from_vip {
    }
    chain probe-in { type filter hook ingress device "eth0" priority 0; policy accept;
        ip saddr 10.78.0.100 ether saddr @DMAC counter name "via_director"
        ip saddr 10.78.0.100 counter name "from_vip"
    }
}
"""


def build(lab: Lab) -> tuple[str, str, Director, str]:
    sw, c, d = lab.ns("s"), lab.ns("c"), lab.ns("d")
    lab.sh(sw, "ip link add br0 type bridge && ip link set br0 up")
    hosts = [(c, "10.78.0.2"), (d, "10.78.0.1")]
    rs = [lab.ns("r1"), lab.ns("r2")]
    hosts += [(r, f"10.78.0.1{i}") for i, r in enumerate(rs, 1)]
    for i, (ns, addr) in enumerate(hosts):
        lab.veth(ns, "eth0", sw, f"s{i}")
        lab.sh(sw, f"ip link set s{i} master br0")
        lab.sh(ns, f"ip addr add {addr}/24 dev eth0")
    lab.sh(d, f"ip addr add {VIP}/32 dev eth0")
    for i, r in enumerate(rs, 1):
        lab.sh(r, f"ip addr add {VIP}/32 dev lo")
        lab.sh(r, "sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 "
                  "net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2")  # fmt: skip
        lab.backend(r, f"r{i}", 80)
    dmac = lab.sh(d, "cat /sys/class/net/eth0/address").strip()
    lab.sh(c, f"nft -f /dev/stdin <<'EOF'\n{PROBE.replace('@DMAC', dmac)}EOF")
    return c, d, Director(lab, d), dmac


def svc(sched: str, **kw: Any) -> dict[str, Any]:
    dests = [{"addr": f"10.78.0.1{i}", "port": 80, "method": "Route"} for i in (1, 2)]
    return {"proto": "tcp", "addr": VIP, "port": 80, "sched": sched, "dests": dests, **kw}


def counter(lab: Lab, ns: str, name: str) -> int:
    out = lab.sh(ns, f"nft list counter netdev probe {name}")
    return int(out.split("packets")[1].split()[0])


def test_dr_rr_replies_bypass_director_and_cleanup(lab: Lab) -> None:
    c, d, director, _ = build(lab)
    assert director.table([svc("rr")])["ok"]
    answers = lab.client(c, "tcp", VIP, 80, 10)
    names = [a.split()[0] if a else "" for a in answers]
    assert Counter(names) == {"r1": 5, "r2": 5}, answers
    # The real servers saw the client itself: the packet was forwarded unchanged.
    assert all(a.split()[1] == "10.78.0.2" for a in answers)
    # Replies from the VIP reached the client, none of them from the director's MAC.
    assert counter(lab, c, "from_vip") >= 10 * 3
    assert counter(lab, c, "via_director") == 0
    director.call("housekeep")
    stats = director.text("list", stats=True)
    r1 = next(line for line in stats.splitlines() if "10.78.0.11:80" in line).split()
    # 5 connections, packets in counted by the kernel, none out (DR: replies bypass).
    assert r1[2] == "5" and int(r1[3]) >= 15 and r1[4] == "0"
    rules = lab.sh(d, "nft list table netdev pylvs")
    assert 'fwd to "eth0"' in rules
    director.stop()
    assert "pylvs" not in lab.sh(d, "nft list tables")


def test_dr_persistence_pins_and_health_transition(lab: Lab) -> None:
    c, d, director, _ = build(lab)
    assert director.table([svc("rr", persist=120)])["ok"]
    names = {a.split()[0] for a in lab.client(c, "tcp", VIP, 80, 6)}
    assert len(names) == 1
    pinned = names.pop()
    director.call("housekeep")
    conns = director.text("conns")
    assert "NONE" in conns and "10.78.0.2:0" in conns  # the template, cport 0
    # Health check fails: the engine sets the weight to 0 (quiesce, inhibit_on_failure).
    # The persistent client stays (IPVS honours templates of weight-0 dests); a quiesced dest
    # with no template takes nothing new, which the rules show as its absence from the slots.
    table = svc("rr", persist=120)
    for dd in table["dests"]:
        if dd["addr"].endswith(pinned[-1]):
            dd["weight"] = 0
    assert director.table([table])["ok"]
    rules = lab.sh(d, "nft list chain netdev pylvs svc-tcp-10.78.0.100-80")
    assert "numgen inc mod 1 " in rules
    assert {a.split()[0] for a in lab.client(c, "tcp", VIP, 80, 3)} == {pinned}
    # Then it is removed: the client moves to the other server.
    table["dests"] = [dd for dd in table["dests"] if not dd["addr"].endswith(pinned[-1])]
    assert director.table([table])["ok"]
    other = {a.split()[0] for a in lab.client(c, "tcp", VIP, 80, 3)}
    assert other == {"r1", "r2"} - {pinned}
    director.stop()


def test_dr_tunnel_is_refused_with_reason(lab: Lab) -> None:
    _, _, director, _ = build(lab)
    table = svc("rr")
    table["dests"][0]["method"] = "Tunnel"
    reply = director.table([table])
    assert not reply["ok"] and "ipip" in reply["error"]
    director.stop()


def test_dr_full_flow_map_still_forwards_new_flows(lab: Lab, monkeypatch: Any) -> None:
    """With the flow map at its size, new flows are spread by a hash of the flow (so each
    flow's packets still reach one real server) and counted in `full-<service>`, instead of
    falling through to `drop` because the map could not record them."""
    monkeypatch.setenv("PYLVS_TEST_DR_FLOW_MAP_SIZE", "4")
    c, d, director, _ = build(lab)
    assert director.table([svc("rr")])["ok"]
    # Each connection is a new flow (a new client port) that stays in the map for the tcpfin
    # timeout after its FIN: the first four fill it.
    answers = lab.client(c, "tcp", VIP, 80, 12)
    names = [a.split()[0] if a else "" for a in answers]
    assert all(n in ("r1", "r2") for n in names), answers
    assert names[0] != names[1] and names[:2] == names[2:4]  # recorded, scheduled by rr
    rules = lab.sh(d, "nft list table netdev pylvs")
    assert "size 4" in rules
    full = lab.sh(d, "nft list counter netdev pylvs full-tcp-10.78.0.100-80")
    # Every packet of the eight unrecorded connections (at least SYN, ACK + data, FIN, ACK).
    assert int(full.split("packets")[1].split()[0]) >= 8 * 3
    director.stop()


def test_dr_full_persistence_map_serves_new_clients_at_once(lab: Lab, monkeypatch: Any) -> None:
    """A client that finds the persistence map full gets no template but is forwarded on its
    first SYN: the template is recorded in a rule of its own, so its failure does not drop
    the packet (it did: a SYN retransmission one second later got through as a known flow)."""
    monkeypatch.setenv("PYLVS_TEST_PERSIST_MAP_SIZE", "1")
    c, _, director, _ = build(lab)
    lab.sh(c, "ip addr add 10.78.0.3/24 dev eth0")
    assert director.table([svc("rr", persist=300)])["ok"]

    def run(src: str) -> tuple[list[str], float]:
        answers, took = lab.timed_client(c, "tcp", VIP, 80, 4, src)
        return [a.split()[0] if a else "" for a in answers], took

    first, _ = run("10.78.0.2")  # takes the map's one place
    assert len(set(first)) == 1, first  # pinned by its template
    second, took = run("10.78.0.3")
    assert all(n in ("r1", "r2") for n in second)
    assert took < 0.9, f"{took:.2f} s for 4 connections: a SYN was dropped and retried"
    again, _ = run("10.78.0.2")
    assert again == first  # the first client's template still pins it
    director.stop()


def test_dr_connection_states_follow_the_input_only_table(lab: Lab) -> None:
    """A DR flow is ESTABLISHED (active) while it lives and FIN_WAIT (inactive, tcpfin timeout)
    once the client sent its FIN, also through the ACKs after it (ip_vs_proto_tcp.c INPUT-ONLY
    table), so lc / wlc and `ipvsadm -L` see closed connections as inactive."""
    c, _, director, _ = build(lab)
    held = lab.held_service(svc("rr"), lab.namespaces[3:5], 81, 81)
    assert director.table([svc("rr"), held])["ok"]
    lab.client(c, "tcp", VIP, 80, 4)  # closed: FIN, then the last ACK, from the client
    assert lab.hold(c, VIP, 81) in ("r1", "r2")
    director.call("housekeep")
    lines = director.text("list").splitlines()
    closed = [line.split() for line in lines if ":80 " in line and "Route" in line]
    live = [line.split() for line in lines if ":81 " in line and "Route" in line]
    # Columns: -> addr Forward Weight ActiveConn InActConn
    assert sorted((f[4], f[5]) for f in closed) == [("0", "2"), ("0", "2")], lines
    assert sorted((f[4], f[5]) for f in live) == [("0", "0"), ("1", "0")], lines
    conns = director.text("conns").splitlines()
    fin = [line for line in conns if line.split()[2:3] == ["FIN_WAIT"]]
    est = [line for line in conns if line.split()[2:3] == ["ESTABLISHED"]]
    assert len(fin) == 4 and len(est) == 1 and f"{VIP}:81" in est[0], conns
    # tcpfin (120 s) for the closed ones, from their last packet; tcp (900 s) for the live one.
    assert all(line.split()[1] in ("02:00", "01:59", "01:58") for line in fin), fin
    assert est[0].split()[1] in ("15:00", "14:59", "14:58"), est
    director.stop()
