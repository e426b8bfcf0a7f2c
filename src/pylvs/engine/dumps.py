"""The files keepalived writes on SIGUSR1, SIGUSR2, SIGSTATS_CLEAR and SIGJSON, with pylvs's data.

keepalived 2.2.7 writes them in $TMPDIR (default /tmp: lib/utils.c `set_tmp_dir`), mode 0600:

* SIGUSR1: `keepalived.data` (VRRP, vrrp/vrrp_print.c), `keepalived_check.data` (virtual and
  real servers, check/check_print.c) and `keepalived_parent.data` (core/main.c); each opens
  with "------< Global definitions >------";
* SIGUSR2: `keepalived.stats`, the per-instance VRRP counters (vrrp_print_stats), in exactly
  keepalived's layout (tests compare it with a dump the real keepalived wrote);
* SIGSTATS_CLEAR: the same file, then the counters are zeroed;
* SIGJSON: `keepalived.json`, a list of {"data": {...}, "stats": {...}} per instance
  (vrrp/vrrp_json.c), with the fields pylvs has.

Tools that read these files (monitoring exporters, operators' scripts) find the same names,
sections and keys.  The data dumps carry what pylvs knows, in keepalived's line style; lines
about machinery pylvs does not have (VMACs, socket pools, SNMP) are not invented.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pylvs.dataplane.service import ServiceRuntime
from pylvs.engine.signals import Action
from pylvs.model.director import DirectorSpec
from pylvs.model.service import AF_INET6, ForwardMethod
from pylvs.model.snapshot import PoolHealth, ServerHealth
from pylvs.proto.vrrp.packet import VRRP_AUTH_PASS
from pylvs.proto.vrrp.stats import Counter
from pylvs.vrrp.instance import Instance

if TYPE_CHECKING:
    from pylvs.engine.daemon import Daemon

log = logging.getLogger("pylvs")

DATA_FILE = "keepalived.data"
CHECK_FILE = "keepalived_check.data"
PARENT_FILE = "keepalived_parent.data"
STATS_FILE = "keepalived.stats"
JSON_FILE = "keepalived.json"

METHODS = {
    ForwardMethod.MASQ: "NAT",
    ForwardMethod.ROUTE: "DR",
    ForwardMethod.TUNNEL: "TUN",
    ForwardMethod.LOCAL: "NAT",
}


def dump_dir(environ: dict[str, str] | None = None) -> str:
    """keepalived's tmp_dir: $TMPDIR when it is an absolute path, else /tmp."""
    env = os.environ if environ is None else environ
    tmp = env.get("TMPDIR", "")
    return tmp if tmp.startswith("/") else "/tmp"


@dataclass(frozen=True, slots=True)
class DumpSource:
    """What the dumps read: the daemon's parts as they are (None: that part does not run)."""

    spec: DirectorSpec
    instances: tuple[Instance, ...] = ()
    services: tuple[ServiceRuntime, ...] = ()
    pools: tuple[PoolHealth, ...] = ()
    servers: tuple[ServerHealth, ...] = ()
    runs_vrrp: bool = True
    runs_checkers: bool = True


def write_file(directory: str, name: str, text: str) -> str:
    """Write atomically, mode 0600 as keepalived's fopen_safe does; returns the path."""
    path = os.path.join(directory, name)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_dumps(directory: str, files: Iterable[tuple[str, str]]) -> list[str]:
    """Write each (name, text); a failure is logged with the path and does not stop the rest."""
    written = []
    for name, text in files:
        try:
            written.append(write_file(directory, name, text))
        except OSError as e:
            log.error(
                "Can't open dump file %s (%s); set TMPDIR to a writable directory",
                os.path.join(directory, name),
                e.strerror or e,
            )
    if written:
        log.info("Wrote %s", ", ".join(written))
    return written


# -- SIGUSR1 -------------------------------------------------------------------------------


def global_text(spec: DirectorSpec, hostname: str) -> list[str]:
    router_id = spec.globals.router_id or hostname
    v = spec.vrrp.defaults
    return [
        "------< Global definitions >------",
        f" Router ID = {router_id}",
        f" Default smtp_alert = {_unset(spec.notify.smtp_alert)}",
        f" VRRP IPv4 mcast group = {v.mcast_group4}",
        f" VRRP IPv6 mcast group = {v.mcast_group6}",
        f" VRRP default protocol version = {v.version}",
        f" VRRP check unicast_src = {_bool(v.check_unicast_src)}",
        f" VRRP skip check advert addresses = {_bool(v.skip_check_adv_addr)}",
        f" VRRP strict mode = {_bool(v.strict)}",
    ]


def _unset(value: bool | None) -> str:
    return "unset" if value is None else _bool(value)


def _bool(value: object) -> str:
    return "true" if value else "false"


def _when(t: float | None) -> str:
    if t is None:
        return "0.000000"
    stamp = time.strftime("%a %b %e %H:%M:%S", time.localtime(t))
    frac = f"{t % 1:.6f}"[1:]
    return f"{t:.6f} ({stamp}{frac} {time.localtime(t).tm_year})"


def instance_text(inst: Instance) -> list[str]:
    p, m, s = inst.setup.params, inst.machine, inst.setup
    auth = {0: "none", VRRP_AUTH_PASS: "SIMPLE_PASSWORD"}.get(p.auth_type, "IPSEC_AH")
    lines = [
        f" VRRP Instance = {p.name}",
        f"   VRRP Version = {p.version}",
        f"   State = {m.state.name}",
        f"   Wantstate = {m.wantstate.name}",
        f"   Last transition = {_when(inst.last_transition)}",
        f"   Interface = {s.interface}",
        f"   Using src_ip = {m.source_address or '(none)'}",
    ]
    if p.unicast_peers:
        lines.append("   Unicast Peer(s):")
        lines += [f"     {peer.address}" for peer in p.unicast_peers]
    else:
        lines.append(f"   Multicast address {s.group}")
    lines += [
        f"   Virtual Router ID = {p.vrid}",
        f"   Priority = {p.priority}",
        f"   Effective priority = {m.effective_priority}",
        f"   Total priority = {m.total_priority}",
        f"   Advert interval = {_interval(p.adver_int_us)}",
        f"   Master router = {m.master_address or '(none)'}",
        f"   Preempt = {'disabled' if p.nopreempt else 'enabled'}",
        f"   Preempt delay = {p.preempt_delay_us / 1_000_000:g} secs",
        f"   Authentication type = {auth}",
    ]
    if p.auth_type == VRRP_AUTH_PASS:
        lines.append(f"   Password = {p.auth_data.rstrip(bytes(1)).decode('latin-1')}")
    vips = [a for a in s.addresses if any(v.address == a.address for v in p.vips)]
    lines.append(f"   Virtual IP ({len(vips)}):")
    lines += [f"     {a.address} dev {a.dev} scope {a.scope}{_set(inst, a)}" for a in vips]
    evips = [a for a in s.addresses if a not in vips]
    if evips:
        lines.append(f"   Virtual IP Excluded ({len(evips)}):")
        lines += [f"     {a.address} dev {a.dev} scope {a.scope}{_set(inst, a)}" for a in evips]
    lines.append(f"   Using smtp notification = {'yes' if s.smtp_alert else 'no'}")
    return lines


def _set(inst: Instance, spec: object) -> str:
    address = getattr(spec, "address", None)
    return " set" if address is not None and address.ip in inst.held else ""


def _interval(us: int) -> str:
    return f"{us // 1_000_000} sec" if us % 1_000_000 == 0 else f"{us / 1_000:g} milli-sec"


def vrrp_data(src: DumpSource, hostname: str) -> str:
    lines = global_text(src.spec, hostname)
    lines.append("------< VRRP Topology >------")
    for inst in src.instances:
        lines += instance_text(inst)
    return "\n".join(lines) + "\n"


def check_data(src: DumpSource, hostname: str) -> str:
    lines = global_text(src.spec, hostname)
    lines.append("------< LVS Topology >------")
    for rt in src.services:
        lines += service_text(rt)
    lines.append("------< Health checkers >------")
    for vs in src.pools:
        lines += [
            f" Virtual server {vs.name}",
            f"   quorum_state_up = {int(vs.quorum_up)}",
            f"   sorry server active = {_bool(vs.sorry_active)}",
        ]
        for rs in (r for r in src.servers if r.pool == vs.name):
            lines += [
                f"   Real server {rs.name}",
                f"     alive = {int(rs.alive)}",
                f"     effective weight = {rs.weight}",
                f"     in table = {_bool(rs.in_table)}",
            ]
            lines += [
                f"     {c.kind} {c.target}: {'UP' if c.up else 'DOWN'}"
                + (f", {c.reason}" if c.reason else "")
                for c in rs.checks
            ]
    return "\n".join(lines) + "\n"


def service_text(rt: ServiceRuntime) -> list[str]:
    """One virtual server of the live table, as check_data.c `dump_vs` / `dump_rs` word it."""
    svc, key = rt.service, rt.service.key
    lines = [" ------< Virtual server >------"]
    if key.fwmark:
        lines.append(f" VS FWMARK = {key.fwmark}")
    else:
        lines.append(f" VS VIP = {key.address}, VPORT = {key.port}")
    lines.append(f"   Address family = inet{'6' if key.af == AF_INET6 else ''}")
    lines.append(f"   lvs_sched = {svc.scheduler}")
    if svc.timeout:
        lines.append(f"   persistence timeout = {svc.timeout}")
    lines.append(f"   protocol = {'none' if key.protocol is None else key.protocol.name}")
    for d in rt.dests:
        cfg = d.config
        lines += [
            "   ------< Real server >------",
            f"   RIP = {cfg.address}, RPORT = {cfg.port}, WEIGHT = {cfg.weight}",
            f"   forwarding method = {METHODS.get(cfg.method, cfg.method.name)}",
            f"   connection limit range = {cfg.l_threshold} -> {cfg.u_threshold}",
            f"   active connections = {d.activeconns}, inactive = {d.inactconns}",
        ]
    return lines


def parent_data(src: DumpSource, hostname: str) -> str:
    lines = global_text(src.spec, hostname)
    lines += [
        "------< pylvs process >------",
        f" pid = {os.getpid()}",
        f" VRRP = {'running' if src.runs_vrrp else 'not running (-C)'}",
        f" Checkers = {'running' if src.runs_checkers else 'not running (-P)'}",
    ]
    return "\n".join(lines) + "\n"


def data_files(src: DumpSource, hostname: str) -> list[tuple[str, str]]:
    """SIGUSR1: the files keepalived's processes would write, for the parts that run."""
    files = [(PARENT_FILE, parent_data(src, hostname))]
    if src.runs_vrrp:
        files.append((DATA_FILE, vrrp_data(src, hostname)))
    if src.runs_checkers:
        files.append((CHECK_FILE, check_data(src, hostname)))
    return files


# -- SIGUSR2 / SIGSTATS_CLEAR / SIGJSON --------------------------------------------------------


def stats_text(instances: Iterable[Instance]) -> str:
    """vrrp_print_stats, line for line."""
    out: list[str] = []
    for inst in instances:
        st: Callable[[Counter], int] = inst.machine.stats.__getitem__
        out += [
            f"VRRP Instance: {inst.name}",
            "  Advertisements:",
            f"    Received: {st(Counter.ADVERT_RCVD)}",
            f"    Sent: {st(Counter.ADVERT_SENT)}",
            f"  Became master: {st(Counter.BECOME_MASTER)}",
            f"  Released master: {st(Counter.RELEASE_MASTER)}",
            "  Packet Errors:",
            f"    Length: {st(Counter.PACKET_LEN_ERR)}",
            f"    TTL: {st(Counter.IP_TTL_ERR)}",
            f"    Invalid Type: {st(Counter.INVALID_TYPE_RCVD)}",
            "    Advertisement Interval: 0",  # advert_interval_err: never counted (2.2.7)
            f"    Address List: {st(Counter.ADDR_LIST_ERR)}",
            "  Authentication Errors:",
            f"    Invalid Type: {st(Counter.INVALID_AUTHTYPE)}",
            f"    Type Mismatch: {st(Counter.AUTHTYPE_MISMATCH)}",
            f"    Failure: {st(Counter.AUTH_FAILURE)}",
            "  Priority Zero:",
            f"    Received: {st(Counter.PRI_ZERO_RCVD)}",
            f"    Sent: {st(Counter.PRI_ZERO_SENT)}",
        ]
    return "".join(f"{line}\n" for line in out)


def clear_stats(instances: Iterable[Instance]) -> None:
    for inst in instances:
        for counter in inst.machine.stats:
            inst.machine.stats[counter] = 0


_JSON_STATS = (
    ("advert_rcvd", Counter.ADVERT_RCVD),
    ("advert_sent", Counter.ADVERT_SENT),
    ("become_master", Counter.BECOME_MASTER),
    ("release_master", Counter.RELEASE_MASTER),
    ("packet_len_err", Counter.PACKET_LEN_ERR),
    ("advert_interval_err", None),
    ("ip_ttl_err", Counter.IP_TTL_ERR),
    ("invalid_type_rcvd", Counter.INVALID_TYPE_RCVD),
    ("addr_list_err", Counter.ADDR_LIST_ERR),
    ("invalid_authtype", Counter.INVALID_AUTHTYPE),
    ("authtype_mismatch", Counter.AUTHTYPE_MISMATCH),
    ("auth_failure", Counter.AUTH_FAILURE),
    ("pri_zero_rcvd", Counter.PRI_ZERO_RCVD),
    ("pri_zero_sent", Counter.PRI_ZERO_SENT),
)


def json_text(instances: Iterable[Instance]) -> str:
    """vrrp_json_dump's shape: one object per instance with its data and stats."""
    out = []
    for inst in instances:
        p, m = inst.setup.params, inst.machine
        data: dict[str, object] = {
            "iname": p.name,
            "dont_track_primary": int(inst.setup.dont_track_primary),
            "skip_check_adv_addr": int(p.skip_check_adv_addr),
            "strict_mode": int(p.strict_mode),
            "ifp_ifname": inst.setup.interface,
            "master_priority": getattr(m, "master_priority", 0) or 0,
            "last_transition": inst.last_transition or 0.0,
            "lower_prio_no_advert": int(p.lower_prio_no_advert),
            "higher_prio_send_advert": int(p.higher_prio_send_advert),
            "vrid": p.vrid,
            "base_priority": p.priority,
            "effective_priority": m.effective_priority,
            "vipset": bool(inst.held),
            "adver_int": p.adver_int_us / 1_000_000,
            "nopreempt": p.nopreempt,
            "preempt_delay": p.preempt_delay_us // 1_000_000,
            "state": m.state.value,
            "wantstate": m.wantstate.value,
            "version": p.version,
            "smtp_alert": inst.setup.smtp_alert,
            "vips": [f"{a.address} dev {a.dev} scope {a.scope}" for a in inst.setup.addresses],
            "auth_type": p.auth_type,
        }
        stats = {name: (m.stats[c] if c else 0) for name, c in _JSON_STATS}
        out.append({"data": data, "stats": stats})
    return json.dumps(out, separators=(",", ":"))


# -- wiring ----------------------------------------------------------------------------------


def source_of(daemon: Daemon) -> DumpSource:
    """The daemon's parts as the dumps read them."""
    vrrp, health = daemon.vrrp, daemon.health
    pools, servers = health.views() if health is not None else ((), ())
    return DumpSource(
        spec=daemon.spec or DirectorSpec(),
        instances=tuple(vrrp.instances.values()) if vrrp is not None else (),
        services=tuple(daemon.dp.services()),
        pools=pools,
        servers=servers,
        runs_vrrp=daemon.opts.vrrp,
        runs_checkers=daemon.opts.checks,
    )


def dump_actions(daemon: Daemon) -> dict[Action, Callable[[], object]]:
    """What SIGUSR1, SIGUSR2, SIGSTATS_CLEAR and SIGJSON do to `daemon`."""

    def data() -> None:
        write_dumps(dump_dir(), data_files(source_of(daemon), socket.gethostname()))

    def instances() -> tuple[Instance, ...]:
        return tuple(daemon.vrrp.instances.values()) if daemon.vrrp is not None else ()

    def stats() -> None:
        write_dumps(dump_dir(), [(STATS_FILE, stats_text(instances()))])

    def stats_clear() -> None:
        stats()
        clear_stats(instances())

    def json_dump() -> None:
        if instances():  # keepalived writes nothing without VRRP instances
            write_dumps(dump_dir(), [(JSON_FILE, json_text(instances()))])

    return {
        Action.DUMP_DATA: data,
        Action.DUMP_STATS: stats,
        Action.CLEAR_STATS: stats_clear,
        Action.DUMP_JSON: json_dump,
    }
