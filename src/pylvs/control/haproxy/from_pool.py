"""Snapshot values from sched.haproxy's live balancer objects (what every runtime needs).

`backend_lb(pool)` gives the BackendView fields a `Pool` knows (total effective weight and
its scale, usable active/backup counts, the backup in use, whether weights are dynamic, the
algorithm as `show stat` names it: backend_lb_algo_str, which has no name for `random`);
`server_lb(server)` the ServerView fields a `Server` knows (state, admin flags, weights,
connections, limits, id).  `admin_transition(state)` is what srv_adm_set_ready / _drain /
_maint set and clear, for `Pool.set_admin` / `clear_admin`.
"""

from __future__ import annotations

from typing import Any

from pylvs.sched.haproxy import Admin, Pool, Server

_ALGO_TEXT = {
    "roundrobin": "roundrobin",
    "static-rr": "static-rr",
    "first": "first",
    "leastconn": "leastconn",
    "source": "source",
    "uri": "uri",
    "url_param": "url_param",
    "hdr": "hdr",
    "rdp-cookie": "rdp-cookie",
    "hash": "hash",
}


def backend_lb(pool: Pool) -> dict[str, Any]:
    lb = pool.lb
    return {
        "algo": _ALGO_TEXT.get(pool.params.algorithm, "unknown"),
        "dynamic": pool.params.dynamic,
        "tot_weight": lb.tot_weight,
        "wmult": lb.wmult,
        "wdiv": lb.wdiv,
        "srv_act": lb.srv_act,
        "srv_bck": lb.srv_bck,
        "fbck": lb.fbck.name if lb.fbck is not None else None,
        "beconn": lb.beconn,
        "queued": lb.queued,
    }


def server_lb(server: Server) -> dict[str, Any]:
    return {
        "name": server.name,
        "id": server.puid,
        "backup": server.backup,
        "op_state": int(server.cur_state),
        "admin": int(server.cur_admin),
        "uweight": server.uweight,
        "iweight": server.iweight,
        "eweight": server.cur_eweight,
        "cur_sess": server.served,
        "queued": server.queued,
        "maxconn": server.maxconn,
        "maxqueue": server.maxqueue,
        "last_change": server.last_change,
    }


def admin_transition(state: str) -> tuple[Admin, Admin]:
    """(flags to set, flags to clear) for `set server B/S state ready|drain|maint`."""
    if state == "maint":
        return Admin.FMAINT, Admin.FDRAIN
    if state == "drain":
        return Admin.FDRAIN, Admin.FMAINT
    return Admin.NONE, Admin.FDRAIN | Admin.FMAINT
