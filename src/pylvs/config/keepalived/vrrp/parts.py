"""The mutable accumulator the top-level dispatcher passes to every VRRP-side section parser.

keepalived parses the file in one pass and resolves some names as it goes (a track_script must
name a vrrp_script defined *above* it, vrrp/vrrp_track.c), and others only when the pass is over
(sync group members, vrrp/vrrp.c `vrrp_complete_init`).  The first kind are looked up here
while parsing; the second are checked by `finish`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class VrrpParts:
    """What the VRRP-side sections have parsed so far (created empty by the dispatcher)."""

    global_draft: dict[str, Any] = field(default_factory=dict)
    process_draft: dict[str, Any] = field(default_factory=dict)
    global_other: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    scripts: dict[str, VrrpScript] = field(default_factory=dict)
    track_files: dict[str, TrackFile] = field(default_factory=dict)
    track_processes: dict[str, TrackProcess] = field(default_factory=dict)
    bfds: dict[str, BfdInstance] = field(default_factory=dict)
    sync_groups: dict[str, SyncGroup] = field(default_factory=dict)
    garp_groups: list[GarpGroup] = field(default_factory=list)
    instances: list[dict[str, Any]] = field(default_factory=list)
    static_addresses: list[VirtualAddress] = field(default_factory=list)
    static_routes: list[VirtualRoute] = field(default_factory=list)
    static_rules: list[VirtualRule] = field(default_factory=list)
    track_groups: dict[str, TrackGroup] = field(default_factory=dict)
    linkbeat_interfaces: list[LinkbeatInterface] = field(default_factory=list)
    up_down_delays: list[UpDownDelay] = field(default_factory=list)
    # Set by `script_user` when the user does not exist on this host: keepalived then cannot
    # give scripts without their own `user` a uid ("Unable to set default user").
    script_user_missing: bool = False

    def instance_names(self) -> set[str]:
        return {str(d["name"]) for d in self.instances}
