"""keepalived.conf for each lab director, written the way seed 000 writes it (pure).

One file does everything, as in the seed: `global_defs` (router_id), `vrrp_instance VI_1`
(MASTER 100 on dir1, BACKUP 99 on dir2, virtual_router_id 51, PASS 1111 for VRRPv2) and a
`virtual_server VIP 80` with `lb_algo wrr` and one `real_server` with a `TCP_CHECK` per web
server.  What differs from the seed is said in the file's comments:

* the health-check timings are short (delay_loop 1, connect_timeout 1, retry 1,
  delay_before_retry 1) so a learner sees a dead real server leave within seconds;
* `retry` instead of `nb_get_retry` (keepalived 2.x: "nb_get_retry is deprecated");
* `persistence_timeout` only with `--persistence` (with it `pylvs lab curl` from the one client
  always lands on one server, which hides the scheduler);
* seed 000's nopreempt recipe (`--nopreempt`): both directors `state BACKUP`, `nopreempt` on
  the higher priority one; `preempt_delay` also needs `state BACKUP` (keepalived vrrp.c clears
  both with `state MASTER`);
* VRRPv3 (`--vrrp-version 3`) carries no authentication (RFC 5798 §9), so the block is left out;
* NAT: the VRRP instance also moves the real servers' gateway (`dev eth1`), `lb_kind NAT`, and
  the real servers listen on 8080;
* `--sync`: `lvs_sync_daemon eth0 VI_1` (keepalived's connection sync, seed 003's
  `--start-daemon`): the MASTER's sync daemon sends its connections, the BACKUP's installs
  them, and they swap on a VRRP transition.
"""

from __future__ import annotations

from .topology import PRIORITIES, VIP_PORT, VRID, Mode, Topology

AUTH_PASS = "1111"


def _fmt_seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _vrrp_block(topo: Topology, index: int) -> list[str]:
    opts = topo.options
    priority = PRIORITIES[index - 1]
    backup_both = opts.nopreempt or bool(opts.preempt_delay)
    state = "MASTER" if index == 1 and not backup_both else "BACKUP"
    lines = ["vrrp_instance VI_1 {", f"    state {state}"]
    if index == 1 and opts.nopreempt:
        lines.append("    nopreempt")
    if index == 1 and opts.preempt_delay:
        lines.append(f"    preempt_delay {_fmt_seconds(opts.preempt_delay)}")
    lines += [
        "    interface eth0",
        f"    virtual_router_id {VRID}",
        f"    priority {priority}",
        f"    advert_int {_fmt_seconds(opts.advert_int)}",
    ]
    if opts.vrrp_version == 2:
        lines += [
            "    authentication {",
            "        auth_type PASS",
            f"        auth_pass {AUTH_PASS}",
            "    }",
        ]
    lines.append("    virtual_ipaddress {")
    lines.append(f"        {topo.vip}")
    if topo.nat_gateway is not None:
        lines.append(f"        {topo.nat_gateway} dev eth1")
    lines += ["    }", "}"]
    return lines


def _virtual_server(topo: Topology) -> list[str]:
    opts = topo.options
    lines = [
        f"virtual_server {topo.vip} {VIP_PORT} {{",
        "    delay_loop 1",
        f"    lb_algo {opts.scheduler}",
        f"    lb_kind {'NAT' if topo.mode is Mode.NAT else 'DR'}",
    ]
    if opts.persistence:
        lines.append(f"    persistence_timeout {opts.persistence}")
    lines.append("    protocol TCP")
    for i, rs in enumerate(topo.real_servers, 1):
        lines += [
            "",
            f"    real_server {topo.rip(rs)} {topo.rs_port} {{",
            f"        weight {opts.weight(i)}",
            "        TCP_CHECK {",
            "            connect_timeout 1",
            "            retry 1",
            "            delay_before_retry 1",
            f"            connect_port {topo.rs_port}",
            "        }",
            "    }",
        ]
    lines.append("}")
    return lines


def keepalived_conf(topo: Topology, index: int) -> str:
    """The keepalived.conf of director `index` (1: dir1, the MASTER; 2: dir2)."""
    if index not in (1, 2):
        raise ValueError("the lab has two directors: index 1 or 2")
    opts = topo.options
    if opts.haproxy:
        about = [
            f"! pylvs lab {topo.lab_id}: dir{index} of the seed 004 pair: keepalived only moves",
            "! the VIP; the haproxy.cfg beside this file balances.",
        ]
    else:
        about = [
            f"! pylvs lab {topo.lab_id}: dir{index} of the seed 000 pair "
            f"({topo.mode.value.upper()}, {opts.real_servers} real server(s)).",
            "! Health checks are faster than the seed's (delay_loop 6, connect_timeout 10,",
            "! nb_get_retry 3, delay_before_retry 3) so a dead web server leaves within seconds.",
        ]
    head = [
        "! Configuration File for keepalived",
        *about,
        "",
        "global_defs {",
        f"    router_id LVS_DEVEL_{index}",
    ]
    if opts.vrrp_version == 3:
        head.append("    vrrp_version 3")
    if opts.sync:
        head.append("    lvs_sync_daemon eth0 VI_1")
    head += ["}", ""]
    if opts.haproxy:
        # Seed 004: keepalived only moves the VIP; haproxy.cfg (below) balances.
        return "\n".join([*head, *_vrrp_block(topo, index)]) + "\n"
    body = [*_vrrp_block(topo, index), "", *_virtual_server(topo)]
    return "\n".join(head + body) + "\n"


def haproxy_cfg(topo: Topology, stats_socket: str) -> str:
    """Seed 004's haproxy.cfg for the lab's addresses, the same on both directors.

    As the seed: `mode tcp`, `balance roundrobin`, a `listen` on the VIP with `option
    redispatch` and `option abortonclose`, servers with `check port` and rise 2 / fall 3, a
    stats socket at level admin.  Differences, said in the file: `inter 1000` (the seed's 5000)
    so a dead server leaves within seconds; `stick on src` only with `--persistence` (from one
    client it always picks one server, which hides the balancing); the VIP's port 80 alone
    (the seed's Exchange ports are not served by the lab's web servers); no `daemon` (the lab
    runs the director in the foreground) and no pidfile/ulimit-n (the lab's own files)."""
    opts = topo.options
    lines = [
        f"# pylvs lab {topo.lab_id}: seed 004's haproxy.cfg, the same on both directors.",
        "# Checks every second (the seed: inter 5000); stickiness only with --persistence.",
        "global",
        f"    stats socket {stats_socket} mode 600 level admin",
        "    maxconn 40000",
        "defaults",
        "    mode tcp",
        "    timeout connect 4000",
        "    timeout client 3600000",
        "    timeout server 3600000",
        "    balance roundrobin",
        "listen web",
        f"    bind {topo.vip}:{VIP_PORT}",
        "    mode tcp",
        "    balance roundrobin",
    ]
    if opts.persistence:
        lines += [
            "    option persist",
            f"    stick-table type ip size 10240k expire {opts.persistence}s",
            "    stick on src",
        ]
    for i, rs in enumerate(topo.real_servers, 1):
        lines.append(
            f"    server {rs.name} {topo.rip(rs)}:{topo.rs_port} weight {opts.weight(i)} "
            f"check port {topo.rs_port} inter 1000 rise 2 fall 3"
        )
    lines += ["    option redispatch", "    option abortonclose", "    maxconn 200000"]
    return "\n".join(lines) + "\n"
