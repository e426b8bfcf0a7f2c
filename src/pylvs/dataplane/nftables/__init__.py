"""The nftables data plane: pylvs's service table rendered to nftables, forwarded by the kernel.

`plane.NftablesDataPlane` is the DataPlane; render.py (with nat.py, dr.py, persist.py, maps.py)
is the pure renderer, ruleset.py the nft objects and transactions, apply.py the nft driver,
counters.py / conntrack.py / neigh.py read the kernel's state at the edge.
"""

from pylvs.dataplane.nftables.plane import NftablesDataPlane

__all__ = ["NftablesDataPlane"]
