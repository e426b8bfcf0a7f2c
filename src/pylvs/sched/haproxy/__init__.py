"""HAProxy 2.6's balance algorithms (src/lb_*.c, src/backend.c), registered as `haproxy:<name>`.

`pool.Pool` is what a runtime builds per backend and calls; `params` reads `balance` and
`hash-type`; `server.Server` is the per-server state the algorithms read.  Every algorithm
module is imported here so that it registers itself.
"""

from __future__ import annotations

from pylvs.sched.haproxy import chash, fas, fwlc, fwrr, hashed, lbmap
from pylvs.sched.haproxy.params import BalanceError, HashFunction, HashType, LbParams
from pylvs.sched.haproxy.pool import FULL, NO_SERVER, Pool, Verdict
from pylvs.sched.haproxy.server import Admin, Server, State

__all__ = [
    "FULL",
    "NO_SERVER",
    "Admin",
    "BalanceError",
    "HashFunction",
    "HashType",
    "LbParams",
    "Pool",
    "Server",
    "State",
    "Verdict",
    "chash",
    "fas",
    "fwlc",
    "fwrr",
    "hashed",
    "lbmap",
]
