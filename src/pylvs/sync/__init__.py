"""The IPVS connection sync on the wire: drivers around proto/sync's pure machines.

`sockets` makes the multicast sockets as ip_vs_sync.c does; `daemon` runs a master
(`Master`: sends what the sender decides) or a backup (`Backup`: hands what arrives to the
receiver and its target table) in the asyncio event loop.
"""

from pylvs.sync.daemon import Backup, Master
from pylvs.sync.sockets import Link, LinkError

__all__ = ["Backup", "Link", "LinkError", "Master"]
