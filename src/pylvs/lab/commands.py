"""`pylvs lab up | down | status | exec`: build, show, enter and remove the seeds' cluster.

`up` plans the topology (topology.py), builds the namespaces and bridges (netns.py), sets the
real servers up (`pylvs realserver start` in DR, the director's floating gateway in NAT),
writes each director's keepalived.conf (configs.py) and starts the web servers and the
directors (nodes.py), then waits until one director holds the VIP.  Any failure on the way
removes what was built.  `down` stops the processes by their pid files, then deletes every
namespace named after the lab, so it also clears a lab whose state file was lost in a crash.
Without a VRRP driver (`nodes.vrrp_available()` false) the VIP is put on dir1 by hand and
`status` says so.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pylvs.control.client import call
from pylvs.control.protocol import Request
from pylvs.dataplane.ipvs.genl import kernel_has_ipvs

from . import netns, nodes
from .classic import classic_text
from .configs import haproxy_cfg, keepalived_conf
from .realserver import forget
from .state import LabPaths, LabState
from .topology import PRIORITIES, LabError, LabOptions, Mode, Topology, diagram, plan
from .topology import master_down_interval as mdi

Out = Callable[[str], None]


@dataclass
class Lab:
    """A lab that is up: its plan, its files, its remembered state."""

    topo: Topology
    paths: LabPaths
    state: LabState

    @classmethod
    def open(cls, lab_id: str) -> Lab:
        paths = LabPaths(lab_id)
        state = LabState.load(paths)
        if state is None:
            raise LabError(f"lab {lab_id!r} is not up (start it with `pylvs lab up`)")
        return cls(plan(state.options), paths, state)

    def save(self) -> None:
        self.state.save(self.paths)

    def holds_vip(self, director: str) -> bool:
        return netns.holds(self.topo.ns(director), "eth0", str(self.topo.vip))

    def masters(self) -> list[str]:
        """The directors that hold the VIP on a live link (a crashed one may still have the
        address on its dead interface; it answers nobody)."""
        return [
            d.name
            for d in self.topo.directors
            if self.holds_vip(d.name) and netns.link_up(self.topo.ns(d.name), "eth0")
        ]

    def director_procs(self, director: str) -> list[nodes.Program]:
        return nodes.director_programs(self.topo, self.paths, director)

    def start_director(self, director: str) -> None:
        for program in self.director_procs(director):
            nodes.start(program, self.paths)
        sock = str(self.paths.control(director))
        if not nodes.wait_for(lambda: _answers(sock), nodes.patience(15.0)):
            raise LabError(f"{director}: pylvs run did not start (see {self.paths.dir}/*.log)")

    def start_httpd(self, rs: str) -> None:
        program = nodes.httpd_program(self.topo, self.paths, rs)
        nodes.start(program, self.paths)
        ready = self.paths.ready(program.proc)
        if not nodes.wait_for(ready.exists, nodes.patience(10.0)):
            raise LabError(f"{rs}: the web server did not start (see {self.paths.log(rs)})")

    def ipvsadm(self, director: str, *argv: str) -> str:
        try:
            resp = call(str(self.paths.control(director)), Request("ipvsadm", argv), timeout=5)
        except OSError as e:
            return f"(no answer from pylvs run: {e})\n"
        return resp.stdout + resp.stderr


def _answers(sock: str) -> bool:
    try:
        call(sock, Request("status"), timeout=2)
    except OSError:
        return False
    return True


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError(
            "pylvs lab needs root: it creates network namespaces and nftables rules "
            "(run it with sudo)"
        )
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            raise LabError(f"pylvs lab needs the `{tool}` command (iproute2 / nftables)")


def realserver_setup(topo: Topology, rs: str) -> None:
    """`pylvs realserver start --vip VIP` inside the real server (DR)."""
    argv = [sys.executable, "-m", "pylvs.cli.realserver", "start", "--vip", str(topo.vip)]
    done = subprocess.run(
        ["ip", "netns", "exec", topo.ns(rs), *argv],
        capture_output=True,
        text=True,
        env=nodes._env(),
        check=False,
    )
    if done.returncode != 0:
        raise LabError(f"{rs}: pylvs realserver start failed: {done.stderr.strip()}")


def static_vip(topo: Topology, director: str) -> None:
    ns = topo.ns(director)
    netns.ip(ns, "addr", "add", f"{topo.vip}/32", "dev", "eth0")
    if topo.nat_gateway is not None:
        netns.ip(ns, "addr", "add", str(topo.nat_gateway), "dev", "eth1")
    netns.in_ns(ns, "arping", "-c", "1", "-U", "-I", "eth0", str(topo.vip), check=False)


def up(options: LabOptions, out: Out = print) -> Lab:
    require_root()
    paths = LabPaths(options.lab_id)
    if LabState.load(paths) is not None and netns.lab_namespaces(options.lab_id):
        raise LabError(
            f"lab {options.lab_id!r} is already up (`pylvs lab down` first, or --id OTHER)"
        )
    if netns.lab_namespaces(options.lab_id) or paths.dir.exists():
        out(f"removing the leftovers of an earlier lab {options.lab_id!r}")
        down(options.lab_id, out=lambda _line: None)
    if options.dataplane == "ipvs" and not kernel_has_ipvs():
        raise LabError(
            "--dataplane ipvs: this kernel has no IPVS (no ip_vs module); use --dataplane nftables"
        )
    topo = plan(options)
    lab = Lab(topo, paths, LabState(options, static_vip=not nodes.vrrp_available()))
    lab.save()
    try:
        _build(lab)
    except BaseException:
        down(options.lab_id, out=lambda _line: None)
        raise
    _print_up(lab, out)
    return lab


def _build(lab: Lab) -> None:
    topo = lab.topo
    netns.build(topo)
    for rs in topo.real_servers:
        if topo.mode is Mode.DR and not topo.options.haproxy:  # a proxy's servers need no VIP
            realserver_setup(topo, rs.name)
        lab.start_httpd(rs.name)
    for i, d in enumerate(topo.directors, 1):
        lab.paths.conf(d.name).write_text(keepalived_conf(topo, i))
        if topo.options.haproxy:
            cfg = haproxy_cfg(topo, str(lab.paths.stats_socket(d.name)))
            lab.paths.haproxy_cfg(d.name).write_text(cfg)
    if lab.state.static_vip:
        static_vip(topo, "dir1")
    for d in topo.directors:
        lab.start_director(d.name)
    # keepalived starts even `state MASTER` as BACKUP and waits a master-down interval
    # (vrrp_scheduler.c vrrp_init_state), so the first MASTER appears after about that long.
    wait = mdi(topo.options, PRIORITIES[1]) + topo.options.advert_int + nodes.patience(5.0)
    if not nodes.wait_for(lambda: bool(lab.masters()), wait):
        raise LabError(f"no director took the VIP within {wait:.1f} s (see {lab.paths.dir}/*.log)")


def _print_up(lab: Lab, out: Out) -> None:
    topo = lab.topo
    out(diagram(topo))
    out("generated keepalived.conf:")
    for d in topo.directors:
        out(f"  {d.name}: {lab.paths.conf(d.name)}")
    if topo.options.haproxy:
        out("generated haproxy.cfg (run beside it: pylvs run -f keepalived.conf -f haproxy.cfg):")
        for d in topo.directors:
            out(f"  {d.name}: {lab.paths.haproxy_cfg(d.name)}")
            out(f"  {d.name}'s stats socket: {lab.paths.stats_socket(d.name)}")
    out(f"logs and pid files: {lab.paths.dir}")
    out("")
    if not topo.options.haproxy:
        out("the same by hand:")
        out(classic_text(topo))
    if lab.state.static_vip:
        out("VRRP driver not available: the VIP was put on dir1 by hand (no failover)")
    out(f"MASTER: {', '.join(lab.masters()) or 'none yet'}")
    out("next: pylvs lab curl -n 30 | pylvs lab status | pylvs lab fail master | pylvs lab down")


def down(lab_id: str, out: Out = print) -> list[str]:
    """Stop everything of lab `lab_id` and delete its namespaces and files; returns what
    could not be removed (empty when the lab is gone)."""
    require_root()
    paths = LabPaths(lab_id)
    state = LabState.load(paths)
    if state is not None:
        topo = plan(state.options)
        for d in topo.directors:
            for program in nodes.director_programs(topo, paths, d.name):
                nodes.stop(paths, program.proc, signal.SIGTERM, wait=3.0)
        for rs in topo.real_servers:
            nodes.stop(paths, f"{rs.name}-httpd", signal.SIGTERM, wait=2.0)
    # Whatever still runs in the lab's namespaces (a crashed lab's processes) goes by pid.
    for proc_file in paths.dir.glob("*.pid") if paths.dir.exists() else []:
        pid, marker = nodes.read_pid(paths, proc_file.stem)
        if pid and marker and nodes.alive(pid, marker):
            os.kill(pid, signal.SIGKILL)
    names = netns.lab_namespaces(lab_id)
    for name in names:
        forget(f"/run/netns/{name}")
    failed = netns.remove(names)
    paths.remove()
    out(f"lab {lab_id}: removed {len(names) - len(failed)} namespace(s)")
    for name in failed:
        out(f"could not delete namespace {name}")
    return failed


def down_all(out: Out = print) -> list[str]:
    failed: list[str] = []
    ids = set(netns.lab_ids())
    base = LabPaths("x").base
    if base.exists():
        ids |= {p.name for p in base.iterdir() if p.is_dir()}
    for lab_id in sorted(ids):
        failed += down(lab_id, out)
    return failed


def status(lab_id: str, out: Out = print) -> None:
    lab = Lab.open(lab_id)
    topo = lab.topo
    masters = lab.masters()
    out(f"lab {lab_id} ({topo.mode.value.upper()}), VIP {topo.vip}")
    if len(masters) > 1:
        out("SPLIT BRAIN: both directors hold the VIP")
    for i, d in enumerate(topo.directors):
        procs = [p.proc for p in lab.director_procs(d.name)]
        up_procs = [p for p in procs if nodes.running(lab.paths, p)]
        role = "MASTER" if d.name in masters else "BACKUP"
        if not up_procs:
            role = "down"
        failed = lab.state.failed.get(d.name)
        note = f" [failed: {failed}]" if failed else ""
        out(f"{d.name} prio {PRIORITIES[i]}: {role}{note} (running: {' '.join(up_procs) or '-'})")
        if up_procs and topo.options.haproxy:
            for line in _haproxy_servers(lab.paths.stats_socket(d.name)):
                out(f"    {line}")
        elif up_procs:
            for line in lab.ipvsadm(d.name, "-Ln").splitlines():
                out(f"    {line}")
    for rs in topo.real_servers:
        state = "up" if nodes.running(lab.paths, f"{rs.name}-httpd") else "web server stopped"
        out(f"{rs.name} {topo.rip(rs)}:{topo.rs_port}: {state}")
    if "link" in lab.state.failed:
        out("VRRP link between the directors: cut (pylvs lab heal link)")
    if lab.state.static_vip:
        out("VRRP driver not available: the VIP is on dir1 by hand")


def _haproxy_servers(stats_socket: Path) -> list[str]:
    """Each server of the director's haproxy.cfg as its stats socket's `show stat` has it:
    status, weight, current and total sessions."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(stats_socket))
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError as e:
        return [f"(no answer from the stats socket {stats_socket}: {e})"]
    lines = data.decode(errors="replace").splitlines()
    if not lines or not lines[0].startswith("# "):
        return [f"(the stats socket said: {' '.join(lines)[:200]})"]
    head = lines[0][2:].split(",")
    at = {name: i for i, name in enumerate(head)}
    out = []
    for line in lines[1:]:
        row = line.split(",")
        if len(row) < len(head) or row[at["svname"]] in ("FRONTEND", "BACKEND"):
            continue
        out.append(
            f"{row[at['pxname']]}/{row[at['svname']]}: {row[at['status']]} weight "
            f"{row[at['weight']]}, sessions {row[at['scur']]} now, {row[at['stot']]} in all"
        )
    return out


def exec_in(lab_id: str, node: str, argv: list[str]) -> int:
    lab = Lab.open(lab_id)
    ns = lab.topo.ns(lab.topo.node(node).name) if node != "switch" else lab.topo.switch
    if not argv:
        argv = [os.environ.get("SHELL", "/bin/sh")]
    return subprocess.run(["ip", "netns", "exec", ns, *argv], check=False).returncode
