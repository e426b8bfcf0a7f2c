"""keepalived.conf's model -> the neutral `DirectorSpec`: the one place that knows both.

The reader (parser.py) gives a `KeepalivedConfig` with every keepalived rule applied; this
turns it into what the runtime consumes (model/director.py): one pool per virtual_server (its
services, one per member of a virtual_server_group, named by keepalived's FMT_VS; its real
servers with their checks; quorum, hysteresis and sorry server as the pool policy), the VRRP
instances (convert_vrrp.py), the tracked files, the notification settings of global_defs and
the few global settings the runtime reads.  What keepalived could not run (a VRRP instance with
AH authentication, ...) is reported into the same problems, with its location.
"""

from __future__ import annotations

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.convert_checks import check, script
from pylvs.config.keepalived.convert_vrrp import track_file, vrrp_spec
from pylvs.config.keepalived.lvs.model import RealServerConf, VirtualServerConf
from pylvs.config.keepalived.model import KeepalivedConfig
from pylvs.config.keepalived.table import service_keys
from pylvs.config.keepalived.vrrp.model import FifoSetting, GlobalDefs, TrackFile
from pylvs.model.checks import TlsClientSpec
from pylvs.model.director import DirectorSpec, GlobalSpec, TimeoutChange
from pylvs.model.notify import (
    FifoSpec,
    NotifySpec,
    ScriptSecurity,
    SmtpServerSpec,
    SmtpSpec,
)
from pylvs.model.pool import PoolPolicy, PoolSpec, RealServerSpec, SorryServer
from pylvs.model.service import AF_INET6
from pylvs.model.syncd import SyncDaemonSpec


def real_server(rs: RealServerConf, tracked: dict[str, TrackFile]) -> RealServerSpec:
    return RealServerSpec(
        server=rs.server,
        checks=tuple(check(c, tracked) for c in rs.checkers),
        notify_up=script(rs.notify_up),
        notify_down=script(rs.notify_down),
        inhibit_on_failure=rs.inhibit_on_failure,
        smtp_alert=rs.smtp_alert,
    )


def pool(
    vs: VirtualServerConf,
    pool_id: str,
    config: KeepalivedConfig,
    tracked: dict[str, TrackFile],
    name: str | None = None,
) -> PoolSpec:
    """`vs` as a pool; `name` is str(vs) when the caller has it already."""
    sorry = vs.sorry_server
    return PoolSpec(
        id=pool_id,
        name=str(vs) if name is None else name,
        services=tuple(vs.service(k) for k in service_keys(vs, config)),
        real_servers=tuple(real_server(rs, tracked) for rs in vs.real_servers),
        policy=PoolPolicy(
            quorum=vs.quorum,
            hysteresis=vs.hysteresis,
            sorry_server=SorryServer(sorry.server, sorry.inhibit) if sorry is not None else None,
            quorum_up=script(vs.quorum_up),
            quorum_down=script(vs.quorum_down),
        ),
        protocol=vs.protocol,
        address=vs.address,
        omega=vs.omega,
        ha_suspend=vs.ha_suspend,
        smtp_alert=vs.smtp_alert,
    )


def pools(config: KeepalivedConfig) -> tuple[PoolSpec, ...]:
    """One pool per virtual server, identified by FMT_VS (+ " inet6" for an IPv6 fwmark,
    + "#N" for the N-th repeat of the same name)."""
    tracked = {t.name: t for t in config.vrrp.track_files}
    seen: dict[str, int] = {}
    out: list[PoolSpec] = []
    for vs in config.virtual_servers:
        name = str(vs)
        base = name + (" inet6" if vs.fwmark is not None and vs.af == AF_INET6 else "")
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(pool(vs, base if n == 0 else f"{base}#{n + 1}", config, tracked, name))
    return tuple(out)


def _fifo(f: FifoSetting | None) -> FifoSpec | None:
    if f is None:
        return None
    return FifoSpec(f.path, f.user, f.group, script(f.script))


def notify_spec(g: GlobalDefs) -> NotifySpec:
    server = g.smtp_server
    return NotifySpec(
        scripts=ScriptSecurity(g.script_user, g.script_group, g.enable_script_security),
        fifo=_fifo(g.notify_fifo),
        vrrp_fifo=_fifo(g.vrrp_notify_fifo),
        health_fifo=_fifo(g.lvs_notify_fifo),
        smtp=SmtpSpec(
            to=g.notification_email,
            server=SmtpServerSpec(server.host, server.port) if server is not None else None,
            connect_timeout=float(g.smtp_connect_timeout),
            helo_name=g.smtp_helo_name,
            sender=g.notification_email_from,
        ),
        smtp_alert=g.smtp_alert,
        no_fault_mail=g.no_email_faults,
        mail_on_change_only=any(k == "no_checker_emails" for k, _ in g.other),
    )


def global_spec(config: KeepalivedConfig) -> GlobalSpec:
    g = config.global_defs
    lt = g.lvs_timeouts
    ssl = config.ssl
    return GlobalSpec(
        router_id=g.router_id,
        http=g.pylvs_http,
        ipvs_timeouts=TimeoutChange(lt.tcp or 0, lt.tcpfin or 0, lt.udp or 0),
        check_tls=(
            TlsClientSpec(ssl.ca, ssl.certificate, ssl.key, ssl.password)
            if ssl is not None
            else None
        ),
        log_all_check_failures=g.checker_log_all_failures,
        flush_at_start=g.lvs_flush,
        flush_on_stop=g.lvs_flush_on_stop,
        sync_daemon=_sync_daemon(g),
    )


def _sync_daemon(g: GlobalDefs) -> SyncDaemonSpec | None:
    d = g.lvs_sync_daemon
    if d is None:
        return None
    return SyncDaemonSpec(d.interface, d.instance, d.syncid, d.maxlen, d.port, d.ttl, d.group)


def to_spec(config: KeepalivedConfig, problems: Problems, where: Location) -> DirectorSpec:
    """The director `config` describes; `where` locates problems that have no place of their
    own (the file's first line)."""
    return DirectorSpec(
        pools=pools(config),
        vrrp=vrrp_spec(config.vrrp, config.global_defs, problems, where),
        track_files=tuple(track_file(t) for t in config.vrrp.track_files),
        notify=notify_spec(config.global_defs),
        globals=global_spec(config),
    )
