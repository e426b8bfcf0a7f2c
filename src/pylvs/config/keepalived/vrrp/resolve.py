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
from typing import Any

from pylvs.config.errors import Location
from pylvs.config.keepalived.values import Context
from pylvs.config.keepalived.vrrp.model import (
    FifoSetting,
    GlobalDefs,
    LvsSyncDaemon,
    ProcessSettings,
    SyncGroup,
    VrrpConfig,
    VrrpInstance,
)
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keepalived.vrrp.post import complete_instance


def build_global_defs(parts: VrrpParts, ctx: Context) -> GlobalDefs:
    d: dict[str, Any] = {k: v for k, v in parts.global_draft.items() if not k.startswith("_")}
    for key in ("notify_fifo", "vrrp_notify_fifo", "lvs_notify_fifo"):
        script = d.pop(key + "_pending_script", None)
        if script is None:
            continue
        fifo = d.get(key)
        if fifo is None:
            ctx.error(script.loc, f"{key}_script specified without {key} - ignoring")
        else:
            d[key] = FifoSetting(fifo.path, fifo.user, fifo.group, script)
    if d.get("vrrp_min_garp"):
        # vrrp_min_garp: one GARP, no second burst, no refresh - unless set explicitly
        d.setdefault("vrrp_garp_master_repeat", 1)
        d.setdefault("vrrp_garp_master_delay", 0)
        d.setdefault("vrrp_garp_master_refresh", 0)
    for key in ("vrrp_garp_master_delay", "vrrp_garp_lower_prio_delay", "vrrp_garp_master_refresh"):
        if key in d:
            d[key] = float(d[key])
    return GlobalDefs(
        **d, process=ProcessSettings(**parts.process_draft), other=tuple(parts.global_other)
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
        result[group.name] = SyncGroup(**{**_fields(group), "members": tuple(members)})
    return result


def _fields(group: SyncGroup) -> dict[str, Any]:
    return {name: getattr(group, name) for name in SyncGroup.__slots__}


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
    used = {t.name for i in instances for t in i.track_scripts}
    used |= {t.name for s in groups.values() for t in s.track_scripts}
    for script in parts.scripts.values():
        if script.name not in used and script.loc is not None:
            ctx.warning(script.loc, f"Warning - script {script.name} is not used")
    locs: list[Location] = [s.loc for s in parts.scripts.values() if s.name in used and s.loc]
    for holder in (*instances, *groups.values()):
        for key in ("notify_master", "notify_backup", "notify_fault", "notify_stop", "notify"):
            script = getattr(holder, key)
            if script is not None and script.loc is not None:
                locs.append(script.loc)
    if locs and not g.enable_script_security:
        ctx.warning(
            min(locs),
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
        )


def finish(parts: VrrpParts, ctx: Context) -> tuple[GlobalDefs, VrrpConfig]:
    g = build_global_defs(parts, ctx)
    groups = _sync_groups(parts, ctx)
    member_of = {m: grp for grp in groups.values() for m in grp.members}
    instances: list[VrrpInstance] = []
    legacy_syncd: LvsSyncDaemon | None = None
    for draft in parts.instances:
        word = draft.get("_lvs_sync_daemon_interface")
        if word is not None and legacy_syncd is None and g.lvs_sync_daemon is None:
            legacy_syncd = LvsSyncDaemon(word.text, draft["name"])
        inst = complete_instance(dict(draft), ctx, g, parts, member_of.get(draft["name"]))
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
        loc: Location = parts.global_draft["_loc_lvs_sync_daemon"]
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
