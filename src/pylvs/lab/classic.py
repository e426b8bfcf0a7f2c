"""The commands a learner would type by hand for the lab's cluster (pure).

`pylvs lab up` prints these next to what it did, so the seeds' recipes stay visible:

* on the director, seed 003's `vip.sh` (`ipvsadm -C`, `-A -t VIP:80 -s SCHED`, one `-a` per
  real server with `-g` for DR / `-m` for NAT and `-w WEIGHT`; `-p` for persistence) and the
  VIP on the interface - which keepalived does for you on the MASTER;
* NAT (seed 001, course 002): `net.ipv4.ip_forward=1` on the director, the real servers'
  default route through the director's (floating) address;
* on a DR real server, seed 000's `realserver.sh start` (the VIP on lo with a /32 host route,
  arp_ignore=1 / arp_announce=2 on lo and all), which `pylvs realserver start` does.
"""

from __future__ import annotations

from .topology import VIP_PORT, Mode, Topology


def director_lines(topo: Topology) -> list[str]:
    opts = topo.options
    vs = f"{topo.vip}:{VIP_PORT}"
    persist = f" -p {opts.persistence}" if opts.persistence else ""
    method = "-m" if topo.mode is Mode.NAT else "-g"
    lines = [
        f"ip addr add {topo.vip}/32 dev eth0        # keepalived: only on the MASTER",
    ]
    if topo.nat_gateway is not None:
        lines += [
            f"ip addr add {topo.nat_gateway} dev eth1   # keepalived: only on the MASTER",
            "sysctl -w net.ipv4.ip_forward=1",
        ]
    lines += ["ipvsadm -C", f"ipvsadm -A -t {vs} -s {opts.scheduler}{persist}"]
    for i, rs in enumerate(topo.real_servers, 1):
        lines.append(
            f"ipvsadm -a -t {vs} -r {topo.rip(rs)}:{topo.rs_port} {method} -w {opts.weight(i)}"
        )
    return lines


def realserver_lines(topo: Topology) -> list[str]:
    if topo.mode is Mode.NAT:
        assert topo.nat_gateway is not None
        return [f"ip route replace default via {topo.nat_gateway.ip}"]
    vip = topo.vip
    return [
        f"ip addr add {vip}/32 dev lo            # ifconfig lo:0 {vip} netmask 255.255.255.255",
        f"ip route add {vip}/32 dev lo           # route add -host {vip} dev lo:0",
        "sysctl -w net.ipv4.conf.lo.arp_ignore=1",
        "sysctl -w net.ipv4.conf.lo.arp_announce=2",
        "sysctl -w net.ipv4.conf.all.arp_ignore=1",
        "sysctl -w net.ipv4.conf.all.arp_announce=2",
    ]


def classic_text(topo: Topology) -> str:
    """Both sets, with a heading each, ready to print."""
    rs = "NAT real server" if topo.mode is Mode.NAT else "DR real server (realserver.sh start)"
    out = ["# on a director (seed 003 vip.sh; keepalived does this from keepalived.conf)"]
    out += [f"  {line}" for line in director_lines(topo)]
    out.append(f"# on each {rs}")
    out += [f"  {line}" for line in realserver_lines(topo)]
    return "\n".join(out) + "\n"
