"""The problems the converter (config/keepalived/convert.py `to_spec`) would report, for
`pylvs check`: it needs them, not the spec.

Only the VRRP instances report anything there (convert_vrrp.py `instance`: an instance that
cannot run); the pools, tens of thousands in a big file, report nothing and are not built.  The
converter's modules (the runtime model: director, proxy, VRRP and check specs, forty classes)
are imported only when the file has an instance: a file of virtual servers alone was checked
a twentieth slower for them (bench/config_bench.py, issue 18 #10).
"""

from __future__ import annotations

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.model import KeepalivedConfig


def problems_of(config: KeepalivedConfig, problems: Problems, where: Location) -> None:
    """Add to `problems` what `to_spec(config, problems, where)` would."""
    if not config.vrrp.instances:
        return
    from pylvs.config.keepalived.convert_vrrp import vrrp_spec

    vrrp_spec(config.vrrp, config.global_defs, problems, where)
