"""`pylvs lab curl | fail | heal`: drive traffic through the VIP, break the cluster, mend it.

Failures, as the seeds meet them:

* `fail master|backup|dirN [--how crash|kill|stop]`: `crash` (default) is a director that
  dies with its machine: its processes get SIGKILL and its links go down, so the BACKUP takes
  over after the master-down interval (RFC 3768 §6.4.2).  `kill` is `kill -9 keepalived` on a
  live machine: the VIP and the forwarding rules stay behind (seed 001's split-brain worry).
  `stop` is `service keepalived stop`: SIGTERM, the MASTER sends priority 0 and the BACKUP
  takes over after the skew time (RFC 3768 §6.4.3).  `heal` starts the director again, after
  clearing what a crash left (the VIP on its interfaces), as a rebooted machine would be.
* `fail rs N`: the web server of rsN stops; the health check takes it out.
* `fail link`: VRRP (IP protocol 112) is dropped on the bridge between the directors, each
  hears no adverts and both become MASTER - the documented split brain; `heal link` removes
  the rule and the lower priority one returns to BACKUP on the first advert it hears.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter

from . import netns, nodes
from .commands import Lab, Out, static_vip
from .topology import PRIORITIES, LabError, master_down_interval, skew_time

CUT_TABLE = "pylvs_lab_cut"
CUT_RULES = f"""table bridge {CUT_TABLE} {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        ip protocol vrrp counter drop
    }}
}}
"""
HOWS = ("crash", "kill", "stop")


def probe(lab: Lab, n: int = 10, every: float = 0.0, duration: float = 0.0,
          timeout: float = 1.0) -> list[tuple[float, str]]:  # fmt: skip
    """Requests from the client to the VIP (probe.py in the client's namespace)."""
    argv = [
        sys.executable, "-m", "pylvs.lab.probe", "--host", str(lab.topo.vip), "-n", str(n),
        "--every", str(every), "--duration", str(duration), "--timeout", str(timeout),
    ]  # fmt: skip
    done = subprocess.run(
        ["ip", "netns", "exec", lab.topo.ns("client"), *argv],
        capture_output=True,
        text=True,
        env=nodes._env(),
        check=False,
    )
    if done.returncode != 0:
        raise LabError(f"the client's requests failed to run: {done.stderr.strip()}")
    return [(float(t), str(a)) for t, a in json.loads(done.stdout)]


def distribution_text(lab: Lab, answers: list[str]) -> str:
    counts = Counter(answers)
    total = len(answers)
    weights = {rs.name: lab.topo.options.weight(i) for i, rs in enumerate(lab.topo.real_servers, 1)}
    wsum = sum(weights.values()) or 1
    lines = [f"{total} request(s) to http://{lab.topo.vip}/ from the client:"]
    for name, w in weights.items():
        c = counts.get(name, 0)
        lines.append(
            f"  {name:<5} {c:>5}  {100 * c / max(total, 1):5.1f}%   (weight {w}, "
            f"{100 * w / wsum:5.1f}% of the weights)"
        )
    if counts.get(""):
        lines.append(f"  failed {counts['']:>4}  {100 * counts[''] / total:5.1f}%")
    return "\n".join(lines) + "\n"


def curl(lab_id: str, n: int, out: Out = print) -> list[str]:
    lab = Lab.open(lab_id)
    answers = [a for _, a in probe(lab, n)]
    out(" ".join(a or "FAIL" for a in answers))
    out(distribution_text(lab, answers))
    return answers


def _director(lab: Lab, target: str) -> str:
    masters = lab.masters()
    names = [d.name for d in lab.topo.directors]
    if target in names:
        return target
    if target == "master":
        if not masters:
            raise LabError("no director holds the VIP right now (pylvs lab status)")
        return masters[0]
    others = [n for n in names if n not in masters and n not in lab.state.failed]
    if not others:
        raise LabError("no running BACKUP director right now (pylvs lab status)")
    return others[0]


def valid_targets(directors: list[str], real_servers: int, *, healing: bool) -> list[str]:
    """What `fail` (or `heal`) accepts in a lab with these nodes."""
    rs = f"rs N (N = 1..{real_servers})" if real_servers > 1 else "rs 1"
    return ["master", "backup", *directors, rs, "link", *(["all"] if healing else [])]


def check_target(
    target: str, arg: str, directors: list[str], real_servers: int, *, healing: bool
) -> None:
    """LabError, listing the valid targets, for one `fail`/`heal` does not know (issue 18
    item 19: `fail rs1` used to fall through to "the BACKUP director" and kill it)."""
    known = {"master", "backup", "link", "rs", *directors, *(["all"] if healing else [])}
    if target in known and (target != "rs" or arg):
        return
    if healing and target in {f"rs{i}" for i in range(1, real_servers + 1)}:
        return  # heal names failed nodes, real servers included
    valid = ", ".join(valid_targets(directors, real_servers, healing=healing))
    hint = ""
    if target.startswith("rs") and target[2:].isdigit():
        hint = f" (a real server is `rs {target[2:]}`, with a space)"
    elif target == "rs":
        hint = " (which one? `rs 1`)"
    verb = "heal" if healing else "fail"
    raise LabError(f"cannot {verb} {target!r}{hint}: the targets are {valid}")


def _check(lab: Lab, target: str, arg: str, *, healing: bool) -> None:
    directors = [d.name for d in lab.topo.directors]
    check_target(target, arg, directors, len(lab.topo.real_servers), healing=healing)


def fail(lab_id: str, target: str, arg: str = "", how: str = "crash", out: Out = print) -> str:
    lab = Lab.open(lab_id)
    _check(lab, target, arg, healing=False)
    if target == "rs":
        return _fail_rs(lab, arg, out)
    if target == "link":
        subprocess.run(
            ["ip", "netns", "exec", lab.topo.switch, "nft", "-f", "-"],
            input=CUT_RULES, text=True, check=True, capture_output=True,
        )  # fmt: skip
        lab.state.failed["link"] = "cut"
        lab.save()
        out("VRRP between the directors is dropped on the bridge: each stops hearing the other")
        return "link"
    if how not in HOWS:
        raise LabError(f"--how must be one of {', '.join(HOWS)}")
    director = _director(lab, target)
    role = "master" if lab.holds_vip(director) else "backup"
    procs = [p.proc for p in lab.director_procs(director)]
    started = time.monotonic()
    if how == "stop":
        for proc in procs:
            nodes.stop(lab.paths, proc, signal.SIGTERM, wait=5.0)
        what = "stopped with SIGTERM (VRRP priority 0, VIP released)"
    else:
        for proc in procs:
            nodes.signal_proc(lab.paths, proc, signal.SIGKILL)
        what = "killed with SIGKILL"
        if how == "crash":
            node = lab.topo.node(director)
            netns.set_links(lab.topo.ns(director), [i.name for i in node.interfaces], up=False)
            what += " and its links are down (the machine is gone)"
        else:
            what += " (VIP and rules stay behind, as after kill -9 keepalived)"
    lab.state.failed[director] = f"{how}:{role}"
    lab.save()
    out(f"{director} ({role.upper()}) {what}")
    if role == "master" and not lab.state.static_vip:
        _await_takeover(lab, director, how, started, out)
    return director


def _await_takeover(lab: Lab, director: str, how: str, started: float, out: Out) -> None:
    """Wait for the other director to hold the VIP, so the next command sees the result."""
    other = next(d.name for d in lab.topo.directors if d.name != director)
    prio = PRIORITIES[0] if other == "dir1" else PRIORITIES[1]
    if how == "stop":
        bound = skew_time(lab.topo.options, prio)
        out(f"{other} (BACKUP) takes over after its skew time {bound:.3f} s (priority 0 heard)")
    else:
        bound = master_down_interval(lab.topo.options, prio)
        out(f"{other} (BACKUP) takes over after its master-down interval {bound:.3f} s")
    if nodes.wait_for(lambda: other in lab.masters(), bound + nodes.patience(3.0), step=0.01):
        out(f"{other} is MASTER, {time.monotonic() - started:.2f} s after the failure")
    else:
        out(f"{other} did not take the VIP within {bound + 3.0:.1f} s (pylvs lab status)")


def _rs_name(lab: Lab, arg: str) -> str:
    name = arg if arg.startswith("rs") else f"rs{arg}"
    if name not in [rs.name for rs in lab.topo.real_servers]:
        raise LabError(f"no real server {arg!r} (this lab has rs1..rs{len(lab.topo.real_servers)})")
    return name


def _fail_rs(lab: Lab, arg: str, out: Out) -> str:
    name = _rs_name(lab, arg)
    nodes.stop(lab.paths, f"{name}-httpd", signal.SIGTERM, wait=3.0)
    lab.state.failed[name] = "stopped"
    lab.save()
    out(f"{name}: web server stopped; the TCP_CHECK takes it out within a few seconds")
    return name


def heal(lab_id: str, target: str, arg: str = "", out: Out = print) -> list[str]:
    lab = Lab.open(lab_id)
    _check(lab, target, arg, healing=True)
    healed: list[str] = []
    if target == "all":
        for name in list(lab.state.failed):
            healed += _heal_one(lab, name, out)
    elif target == "rs":
        healed += _heal_one(lab, _rs_name(lab, arg), out)
    elif target == "link":
        healed += _heal_one(lab, "link", out)
    elif target in ("master", "backup"):
        names = [n for n, v in lab.state.failed.items() if v.endswith(f":{target}")]
        if not names:
            raise LabError(f"no failed {target} to heal (pylvs lab status)")
        healed += _heal_one(lab, names[0], out)
    else:
        lab.topo.node(target)
        healed += _heal_one(lab, target, out)
    lab.save()
    return healed


def _heal_one(lab: Lab, name: str, out: Out) -> list[str]:
    how = lab.state.failed.pop(name, "")
    topo = lab.topo
    if name == "link":
        netns.in_ns(topo.switch, "nft", "delete", "table", "bridge", CUT_TABLE, check=False)
        out("VRRP between the directors flows again")
        return [name]
    node = topo.node(name)
    if node.role == "realserver":
        if not nodes.running(lab.paths, f"{name}-httpd"):
            lab.start_httpd(name)
        out(f"{name}: web server running again")
        return [name]
    ns = topo.ns(name)
    if how.startswith(("crash", "kill")):
        # A rebooted director comes back without the addresses the dead one held.
        netns.ip(ns, "addr", "del", f"{topo.vip}/32", "dev", "eth0", check=False)
        if topo.nat_gateway is not None:
            netns.ip(ns, "addr", "del", str(topo.nat_gateway), "dev", "eth1", check=False)
    netns.set_links(ns, [i.name for i in node.interfaces], up=True)
    if lab.state.static_vip and name == "dir1":
        static_vip(topo, name)
    if not all(nodes.running(lab.paths, p.proc) for p in lab.director_procs(name)):
        for p in lab.director_procs(name):
            nodes.stop(lab.paths, p.proc, signal.SIGKILL, wait=1.0)
        lab.start_director(name)
    out(f"{name}: running again (VRRP decides whether it takes the VIP back)")
    return [name]


def watch_masters(
    lab: Lab, seconds: float, step: float = 0.02
) -> list[tuple[float, tuple[str, ...]]]:
    """Who holds the VIP over time: [(monotonic time, masters)] at every change."""
    seen: list[tuple[float, tuple[str, ...]]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        now = time.monotonic()
        masters = tuple(lab.masters())
        if not seen or seen[-1][1] != masters:
            seen.append((now, masters))
        time.sleep(step)
    return seen
