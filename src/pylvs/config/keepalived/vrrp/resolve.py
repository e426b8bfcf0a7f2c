"""Cross-references and whole-file rules, run once the file is read (`finish`).

Follows keepalived 2.2.7 vrrp/vrrp.c `vrrp_complete_init` and `check_vrrp_script_security`:
sync group members must exist and be in one group only; a group of one member is suspicious;
two multicast instances may not share VRID + interface + family; scripts run without
`enable_script_security` are a "SECURITY VIOLATION"; unused vrrp_scripts are reported; the
lvs_sync_daemon instance must exist.  The typed `GlobalDefs` is built here from the global_defs
draft, applying `vrrp_min_garp` (core/global_parser.c) only to values still at their default.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pylvs.config.errors import Kind, Location
from pylvs.config.keepalived.vrrp.global_drafts import ProcessDraft
from pylvs.config.keepalived.vrrp.global_model import (
    VRRP_GARP_DELAY,
    VRRP_GARP_REP,
    GlobalDefs,
    LvsSyncDaemon,
    ProcessSettings,
    VrrpConfig,
)
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keywords import Context

if TYPE_CHECKING:  # (vrrp/model.py: imported with the parsers of instances and groups)
    from pylvs.config.keepalived.vrrp.model import SyncGroup, VrrpInstance


def build_global_defs(parts: VrrpParts, ctx: Context) -> GlobalDefs:
    d = parts.global_draft
    for key, script in d.pending_fifo_scripts.items():
        ctx.error(
            script.loc or Location("?", 0, 0), f"{key}_script specified without {key} - ignoring"
        )
    delay, repeat, refresh = (
        d.vrrp_garp_master_delay,
        d.vrrp_garp_master_repeat,
        d.vrrp_garp_master_refresh,
    )
    if d.vrrp_min_garp:
        # vrrp_min_garp: one GARP, no second burst, no refresh - unless set explicitly
        repeat = 1 if repeat is None else repeat
        delay = 0 if delay is None else delay
        refresh = 0 if refresh is None else refresh
    return GlobalDefs(
        notification_email=d.notification_email,
        notification_email_from=d.notification_email_from,
        smtp_server=d.smtp_server,
        smtp_helo_name=d.smtp_helo_name,
        smtp_connect_timeout=d.smtp_connect_timeout,
        smtp_alert=d.smtp_alert,
        smtp_alert_vrrp=d.smtp_alert_vrrp,
        smtp_alert_checker=d.smtp_alert_checker,
        no_email_faults=d.no_email_faults,
        checker_log_all_failures=d.checker_log_all_failures,
        router_id=d.router_id,
        pylvs_http=d.pylvs_http,
        vrrp_mcast_group4=d.vrrp_mcast_group4,
        vrrp_mcast_group6=d.vrrp_mcast_group6,
        default_interface=d.default_interface,
        lvs_sync_daemon=d.lvs_sync_daemon,
        lvs_timeouts=d.lvs_timeouts,
        lvs_flush=d.lvs_flush,
        lvs_flush_on_stop=d.lvs_flush_on_stop,
        vrrp_garp_master_delay=float(VRRP_GARP_DELAY if delay is None else delay),
        vrrp_garp_master_repeat=VRRP_GARP_REP if repeat is None else repeat,
        vrrp_garp_lower_prio_delay=(
            None if d.vrrp_garp_lower_prio_delay is None else float(d.vrrp_garp_lower_prio_delay)
        ),
        vrrp_garp_lower_prio_repeat=d.vrrp_garp_lower_prio_repeat,
        vrrp_garp_master_refresh=float(0 if refresh is None else refresh),
        vrrp_garp_master_refresh_repeat=d.vrrp_garp_master_refresh_repeat,
        vrrp_garp_interval=d.vrrp_garp_interval,
        vrrp_gna_interval=d.vrrp_gna_interval,
        vrrp_min_garp=d.vrrp_min_garp,
        vrrp_garp_extra_if=d.vrrp_garp_extra_if,
        vrrp_garp_extra_if_all=d.vrrp_garp_extra_if_all,
        vrrp_down_timer_adverts=d.vrrp_down_timer_adverts,
        vrrp_lower_prio_no_advert=d.vrrp_lower_prio_no_advert,
        vrrp_higher_prio_send_advert=d.vrrp_higher_prio_send_advert,
        vrrp_version=d.vrrp_version,
        v3_checksum_as_v2=d.v3_checksum_as_v2,
        vrrp_check_unicast_src=d.vrrp_check_unicast_src,
        vrrp_skip_check_adv_addr=d.vrrp_skip_check_adv_addr,
        vrrp_strict=d.vrrp_strict,
        vrrp_notify_priority_changes=d.vrrp_notify_priority_changes,
        vrrp_startup_delay=d.vrrp_startup_delay,
        script_user=d.script_user,
        script_group=d.script_group,
        enable_script_security=d.enable_script_security,
        notify_fifo=d.notify_fifo,
        vrrp_notify_fifo=d.vrrp_notify_fifo,
        lvs_notify_fifo=d.lvs_notify_fifo,
        max_auto_priority=d.max_auto_priority,
        min_auto_priority_delay=d.min_auto_priority_delay,
        random_seed=d.random_seed,
        nftables=d.nftables,
        nftables_priority=d.nftables_priority,
        nftables_counters=d.nftables_counters,
        nftables_ifindex=d.nftables_ifindex,
        nftables_ipvs=d.nftables_ipvs,
        nftables_ipvs_priority=d.nftables_ipvs_priority,
        nftables_ipvs_start_fwmark=d.nftables_ipvs_start_fwmark,
        vmac_prefix=d.vmac_prefix,
        startup_script=d.startup_script,
        startup_script_timeout=d.startup_script_timeout,
        shutdown_script=d.shutdown_script,
        shutdown_script_timeout=d.shutdown_script_timeout,
        process=_process(parts.process_draft),
        other=tuple(d.other),
    )


def _process(p: ProcessDraft) -> ProcessSettings:
    return ProcessSettings(
        net_namespace=p.net_namespace,
        net_namespace_ipvs=p.net_namespace_ipvs,
        namespace_with_ipsets=p.namespace_with_ipsets,
        instance=p.instance,
        use_pid_dir=p.use_pid_dir,
        linkbeat_use_polling=p.linkbeat_use_polling,
        child_wait_time=p.child_wait_time,
    )


def _sync_groups(parts: VrrpParts, ctx: Context) -> dict[str, SyncGroup]:
    """Drop unknown members and members already in a group (vrrp_complete_init)."""
    names = parts.instance_names()
    owner: dict[str, str] = {}
    result: dict[str, SyncGroup] = {}
    for group in parts.sync_groups.values():
        loc = group.loc or Location("?", 0, 0)
        members: list[str] = []
        for member in group.members:
            if member not in names:
                ctx.error(
                    loc,
                    f"Virtual router {member} "
                    f"specified in sync group {group.name} doesn't exist - ignoring",
                )
            elif member in owner:
                ctx.error(
                    loc,
                    f"Virtual router {member} cannot "
                    f"exist in more than one sync group; ignoring {group.name}",
                )
            else:
                owner[member] = group.name
                members.append(member)
        if not members:
            ctx.error(loc, f"Sync group {group.name} has no virtual router(s) - removing")
            for m in members:
                owner.pop(m, None)
            continue
        if len(members) == 1:
            ctx.warning(
                loc,
                f"Sync group {group.name} has "
                "only 1 virtual router(s) - this probably isn't what you want",
            )
        result[group.name] = replace(group, members=tuple(members))
    return result


def _duplicates(instances: list[VrrpInstance], ctx: Context) -> None:
    seen: dict[tuple[int, str | None, int], VrrpInstance] = {}
    for inst in instances:
        if inst.unicast:
            continue  # unicast instances are told apart by their peers
        key = (inst.vrid, inst.interface, inst.family)
        other = seen.get(key)
        if other is not None:
            loc = inst.loc or Location("?", 0, 0)
            ctx.error(
                loc,
                f"VRRP instances {other.name} and {inst.name} "
                f"have the same VRID {inst.vrid} on interface {inst.interface}",
            )
        else:
            seen[key] = inst


def _script_checks(
    g: GlobalDefs,
    parts: VrrpParts,
    instances: list[VrrpInstance],
    groups: dict[str, SyncGroup],
    ctx: Context,
) -> None:
    """vrrp.c `check_vrrp_script_security` then the unused-script sweep of
    `vrrp_complete_init`; both run only when there are instances.  A script whose command is
    not on this host is disabled, and only scripts that are there make a security violation
    (lib/notify.c `check_script_secure` returns SC_ISSCRIPT for those)."""
    if not parts.instances:
        return
    found = ctx.host.script_found or (lambda _command: True)
    locs: list[Location] = []
    for script in parts.scripts.values():
        command = script.script.argv[0] if script.script.argv else ""
        if not found(command):
            where = script.script.loc or script.loc or Location("?", 0, 0)
            ctx.warning(where, f"Disabling track script {script.name} since not found/accessible")
        elif script.loc is not None:
            locs.append(script.loc)
    used = {t.name for i in instances for t in i.track_scripts}
    used |= {t.name for s in groups.values() for t in s.track_scripts}
    for script in parts.scripts.values():
        if script.name not in used and script.loc is not None:
            ctx.warning(script.loc, f"Warning - script {script.name} is not used")
    for holder in (*instances, *groups.values()):
        for key in ("notify_master", "notify_backup", "notify_fault", "notify_stop", "notify"):
            notify = getattr(holder, key)
            if (
                notify is not None
                and notify.loc is not None
                and found(notify.argv[0] if notify.argv else "")
            ):
                locs.append(notify.loc)
    if locs and not g.enable_script_security:
        ctx.warning(
            min(locs),
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
            Kind.SECURITY,
        )


def finish(parts: VrrpParts, ctx: Context) -> tuple[GlobalDefs, VrrpConfig]:
    g = build_global_defs(parts, ctx)
    groups = _sync_groups(parts, ctx)
    member_of = {m: grp for grp in groups.values() for m in grp.members}
    instances: list[VrrpInstance] = []
    legacy_syncd: LvsSyncDaemon | None = None
    if parts.instances:  # post.py only where there are instances (most big files have none)
        from pylvs.config.keepalived.vrrp.post import complete_instance
    for draft in parts.instances:
        word = draft.lvs_sync_daemon_interface
        if word is not None and legacy_syncd is None and g.lvs_sync_daemon is None:
            legacy_syncd = LvsSyncDaemon(word.text, draft.name)
        inst = complete_instance(draft, ctx, g, parts, member_of.get(draft.name))
        if inst is not None:
            instances.append(inst)
    if legacy_syncd is not None:
        g = _replace_syncd(g, legacy_syncd)
    syncd = g.lvs_sync_daemon
    if (
        syncd is not None
        and syncd.instance is not None
        and syncd.instance not in {i.name for i in instances}
    ):
        loc = parts.global_draft.lvs_sync_daemon_loc or Location("?", 0, 0)
        ctx.error(loc, f"Unable to find vrrp instance {syncd.instance} for lvs_sync_daemon")
    _duplicates(instances, ctx)
    _script_checks(g, parts, instances, groups, ctx)
    config = VrrpConfig(
        instances=tuple(instances),
        scripts=tuple(parts.scripts.values()),
        track_files=tuple(parts.track_files.values()),
        track_processes=tuple(parts.track_processes.values()),
        bfd_instances=tuple(parts.bfds.values()),
        sync_groups=tuple(groups.values()),
        garp_groups=tuple(parts.garp_groups),
        static_addresses=tuple(parts.static_addresses),
        static_routes=tuple(parts.static_routes),
        static_rules=tuple(parts.static_rules),
        track_groups=tuple(parts.track_groups.values()),
        linkbeat_interfaces=tuple(parts.linkbeat_interfaces),
        up_down_delays=tuple(parts.up_down_delays),
    )
    return g, config


def _replace_syncd(g: GlobalDefs, syncd: LvsSyncDaemon) -> GlobalDefs:
    return replace(g, lvs_sync_daemon=syncd)
