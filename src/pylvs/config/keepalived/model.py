"""The whole keepalived.conf as one typed, frozen value (`parser.load` returns it).

`global_defs` and `vrrp` come from the VRRP side (config/keepalived/vrrp), the virtual server
groups, virtual servers and SSL block from the LVS side (config/keepalived/lvs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.config.keepalived.lvs.model import SslConf, VirtualServerConf, VirtualServerGroup
from pylvs.config.keepalived.vrrp.global_model import GlobalDefs, VrrpConfig


@dataclass(frozen=True, slots=True)
class KeepalivedConfig:
    """A whole keepalived.conf, read and resolved (see the module)."""

    global_defs: GlobalDefs = field(default_factory=GlobalDefs)
    vrrp: VrrpConfig = field(default_factory=VrrpConfig)
    virtual_server_groups: tuple[VirtualServerGroup, ...] = ()
    virtual_servers: tuple[VirtualServerConf, ...] = ()
    ssl: SslConf | None = None

    def group(self, name: str) -> VirtualServerGroup | None:
        for g in self.virtual_server_groups:
            if g.name == name:
                return g
        return None
