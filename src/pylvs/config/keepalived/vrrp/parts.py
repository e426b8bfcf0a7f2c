"""The accumulator the top-level dispatcher passes to every VRRP-side section parser.

keepalived parses the file in one pass and resolves some names as it goes (a track_script must
name a vrrp_script defined *above* it, vrrp/vrrp_track.c), and others only when the pass is over
(sync group members, vrrp/vrrp.c `vrrp_complete_init`).  The first kind are looked up here
while parsing; the second are checked by `finish`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pylvs.config.keepalived.vrrp.global_drafts import GlobalDraft, ProcessDraft

if TYPE_CHECKING:  # (the instance side: vrrp/global_model.py says why it is apart)
    from pylvs.config.keepalived.vrrp.drafts import InstanceDraft
    from pylvs.config.keepalived.vrrp.model import (
        BfdInstance,
        GarpGroup,
        LinkbeatInterface,
        SyncGroup,
        TrackFile,
        TrackGroup,
        TrackProcess,
        UpDownDelay,
        VirtualAddress,
        VirtualRoute,
        VirtualRule,
        VrrpScript,
    )


@dataclass(slots=True)
class VrrpParts:
    """What the VRRP-side sections have parsed so far (created empty by the dispatcher)."""

    global_draft: GlobalDraft = field(default_factory=GlobalDraft)
    process_draft: ProcessDraft = field(default_factory=ProcessDraft)
    scripts: dict[str, VrrpScript] = field(default_factory=dict)
    track_files: dict[str, TrackFile] = field(default_factory=dict)
    track_processes: dict[str, TrackProcess] = field(default_factory=dict)
    bfds: dict[str, BfdInstance] = field(default_factory=dict)
    sync_groups: dict[str, SyncGroup] = field(default_factory=dict)
    garp_groups: list[GarpGroup] = field(default_factory=list)
    instances: list[InstanceDraft] = field(default_factory=list)
    static_addresses: list[VirtualAddress] = field(default_factory=list)
    static_routes: list[VirtualRoute] = field(default_factory=list)
    static_rules: list[VirtualRule] = field(default_factory=list)
    track_groups: dict[str, TrackGroup] = field(default_factory=dict)
    linkbeat_interfaces: list[LinkbeatInterface] = field(default_factory=list)
    up_down_delays: list[UpDownDelay] = field(default_factory=list)

    def instance_names(self) -> set[str]:
        return {d.name for d in self.instances}
