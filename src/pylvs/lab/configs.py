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
    head = [
        "! Configuration File for keepalived",
        f"! pylvs lab {topo.lab_id}: dir{index} of the seed 000 pair "
        f"({topo.mode.value.upper()}, {opts.real_servers} real server(s)).",
        "! Health checks are faster than the seed's (delay_loop 6, connect_timeout 10,",
        "! nb_get_retry 3, delay_before_retry 3) so a dead web server leaves within seconds.",
        "",
        "global_defs {",
        f"    router_id LVS_DEVEL_{index}",
    ]
    if opts.vrrp_version == 3:
        head.append("    vrrp_version 3")
    if opts.sync:
        head.append("    lvs_sync_daemon eth0 VI_1")
    head += ["}", ""]
    body = [*_vrrp_block(topo, index), "", *_virtual_server(topo)]
    return "\n".join(head + body) + "\n"
