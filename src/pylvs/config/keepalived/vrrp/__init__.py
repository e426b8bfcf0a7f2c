"""The VRRP side of keepalived.conf: everything except virtual servers and their checkers.

`TOPLEVEL` holds this side's top-level keywords (the parser puts them in its one top-level
table, with the LVS side's); their handlers read into one `VrrpParts`, and `finish(parts, ctx)`
then resolves cross-references and the values keepalived derives after parsing and returns the
typed `GlobalDefs` and `VrrpConfig`.
"""

from __future__ import annotations

from importlib import import_module

from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.vrrp.global_defs import GLOBAL_TABLE, PROCESS_KEYWORDS
from pylvs.config.keepalived.vrrp.global_drafts import ProcessDraft
from pylvs.config.keepalived.vrrp.global_model import GlobalDefs, VrrpConfig
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keepalived.vrrp.resolve import finish
from pylvs.config.keywords import Block, Context, Handler, Keyword
from pylvs.config.tree import Statement


def _global_defs(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    dispatch(stmt.block or (), ctx, GLOBAL_TABLE, parts.global_draft)


def _later(module: str, name: str) -> Handler[VrrpParts]:
    """The handler `name` of vrrp/`module`, imported when a statement first needs it.

    Most big keepalived.conf files are LVS sites with no vrrp_instance, script or static block:
    their check need not import the parsers of those blocks (instance.py brings addresses.py).
    """

    def handler(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
        getattr(import_module(f"pylvs.config.keepalived.vrrp.{module}"), name)(stmt, ctx, parts)

    return handler


def _process(kw: Keyword[ProcessDraft]) -> Keyword[VrrpParts]:
    def handler(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
        kw.handler(stmt, ctx, parts.process_draft)

    return Keyword(handler, kw.args, kw.block)


TOPLEVEL: dict[str, Keyword[VrrpParts]] = {
    "global_defs": Keyword(_global_defs, block=Block.REQUIRED),
    "vrrp_script": Keyword(_later("trackers", "vrrp_script"), block=Block.OPTIONAL),
    "track_file": Keyword(_later("trackers", "track_file"), block=Block.OPTIONAL),
    "vrrp_track_file": Keyword(
        _later("trackers", "track_file"), block=Block.OPTIONAL, use_instead="track_file"
    ),
    "vrrp_track_process": Keyword(_later("trackers", "vrrp_track_process"), block=Block.OPTIONAL),
    "bfd_instance": Keyword(_later("trackers", "bfd_instance"), block=Block.OPTIONAL),
    "vrrp_sync_group": Keyword(_later("sync", "vrrp_sync_group"), block=Block.OPTIONAL),
    "garp_group": Keyword(_later("sync", "garp_group"), block=Block.REQUIRED),
    "vrrp_instance": Keyword(_later("instance", "vrrp_instance"), block=Block.OPTIONAL),
    "static_ipaddress": Keyword(_later("static", "static_ipaddress"), block=Block.REQUIRED),
    "static_routes": Keyword(_later("static", "static_routes"), block=Block.REQUIRED),
    "static_rules": Keyword(_later("static", "static_rules"), block=Block.REQUIRED),
    "linkbeat_interfaces": Keyword(_later("static", "linkbeat_interfaces"), block=Block.REQUIRED),
    "interface_up_down_delays": Keyword(
        _later("static", "interface_up_down_delays"), block=Block.REQUIRED
    ),
    "track_group": Keyword(_later("sync", "track_group"), block=Block.OPTIONAL),
    **{name: _process(kw) for name, kw in PROCESS_KEYWORDS.items()},
}

__all__ = ["TOPLEVEL", "GlobalDefs", "VrrpConfig", "VrrpParts", "finish"]
