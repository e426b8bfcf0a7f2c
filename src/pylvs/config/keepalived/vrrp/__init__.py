"""The VRRP side of keepalived.conf: everything except virtual servers and their checkers.

The top-level dispatcher (config/keepalived/parser.py) creates one empty `VrrpParts`, calls
`TOPLEVEL[keyword](stmt, ctx, parts)` for every top-level statement whose keyword is in
`TOPLEVEL`, and then `finish(parts, ctx)` once, which resolves cross-references and the values
keepalived derives after parsing and returns the typed `GlobalDefs` and `VrrpConfig`.
"""

from __future__ import annotations

from collections.abc import Callable

from pylvs.config.keepalived.tree import Statement
from pylvs.config.keepalived.values import Context
from pylvs.config.keepalived.vrrp.global_defs import PROCESS_KEYWORDS, global_defs
from pylvs.config.keepalived.vrrp.instance import vrrp_instance
from pylvs.config.keepalived.vrrp.model import GlobalDefs, VrrpConfig
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keepalived.vrrp.resolve import finish
from pylvs.config.keepalived.vrrp.static import (
    interface_up_down_delays,
    linkbeat_interfaces,
    static_ipaddress,
    static_routes,
    static_rules,
)
from pylvs.config.keepalived.vrrp.sync import garp_group, track_group, vrrp_sync_group
from pylvs.config.keepalived.vrrp.trackers import (
    bfd_instance,
    track_file,
    vrrp_script,
    vrrp_track_process,
)

TopLevelHandler = Callable[[Statement, Context, VrrpParts], None]


def _process_keyword(name: str) -> TopLevelHandler:
    handler = PROCESS_KEYWORDS[name]

    def top(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
        handler(stmt, ctx, parts.process_draft)

    return top


TOPLEVEL: dict[str, TopLevelHandler] = {
    "global_defs": global_defs,
    "vrrp_script": vrrp_script,
    "track_file": track_file,
    "vrrp_track_file": track_file,
    "vrrp_track_process": vrrp_track_process,
    "bfd_instance": bfd_instance,
    "vrrp_sync_group": vrrp_sync_group,
    "garp_group": garp_group,
    "vrrp_instance": vrrp_instance,
    "static_ipaddress": static_ipaddress,
    "static_routes": static_routes,
    "static_rules": static_rules,
    "linkbeat_interfaces": linkbeat_interfaces,
    "interface_up_down_delays": interface_up_down_delays,
    "track_group": track_group,
    **{name: _process_keyword(name) for name in PROCESS_KEYWORDS},
}

__all__ = ["TOPLEVEL", "GlobalDefs", "VrrpConfig", "VrrpParts", "finish"]
