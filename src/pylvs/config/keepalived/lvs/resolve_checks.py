"""Checker values resolved as check/check_data.c `validate_check_config` does (keepalived 2.2.7).

Precedence for each timing option: the checker's value, else the real server's (which already
inherited the virtual server's), else the checker default set by `queue_checker` and the
checker's handler (retry 1 / DNS 3 / MISC 0; delay_before_retry 1 s / HTTP 3 s / DNS the
delay_loop); warmup defaults to the delay_loop.  The connection defaults to the real server's
address and port as written (queue_checker copies them before any port fix-up).  FILE_CHECK and
BFD_CHECK names must be defined blocks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping

from pylvs.config.keepalived.lvs.checks import (
    Checker,
    CheckTiming,
    Connection,
    FileCheck,
    HttpCheck,
)
from pylvs.config.keepalived.lvs.drafts import CheckerDraft, RealServerDraft, VirtualServerDraft
from pylvs.config.keepalived.lvs.model import RealServerConf
from pylvs.config.keywords import Context


@dataclasses.dataclass(frozen=True)
class Known:
    """Names defined elsewhere in the file (None = not known, do not check)."""

    smtp_alert: bool | None = None
    # track_file name -> (weight, reverse) of its block, for FILE_CHECK without its own weight
    track_files: Mapping[str, tuple[int, bool]] | None = None
    bfd_instances: Collection[str] | None = None


_NO_TIMING = CheckTiming(0, 0.0, 0.0, 0.0, alpha=False, log_all_failures=False)


def resolve_checker(
    c: CheckerDraft,
    rs: RealServerConf,
    r: RealServerDraft,
    d: VirtualServerDraft,
    *,
    ctx: Context,
    k: Known,
) -> Checker | None:
    if c.ref is not None:
        names = k.track_files if c.kind == "FILE_CHECK" else k.bfd_instances
        if names is not None and c.ref[0] not in names:
            what = "track_file" if c.kind == "FILE_CHECK" else "BFD_CHECK - BFD"
            state = "found" if c.kind == "FILE_CHECK" else "configured"
            ctx.error(c.ref[1], f"{what} {c.ref[0]} not {state} - ignoring {c.kind}")
            if c.kind == "FILE_CHECK":  # keepalived then also drops the block at its `}`
                ctx.error(c.end, "FILE_CHECK has no track_file specified - ignoring")
            return None
    if c.kind == "FILE_CHECK" and c.ref is not None and k.track_files is not None:
        built = c.build(c.loc, _NO_TIMING, None)
        if isinstance(built, FileCheck) and built.weight is None:
            weight, reverse = k.track_files[c.ref[0]]
            return dataclasses.replace(built, weight=weight, reverse=reverse)
        return built
    delay_loop = c.delay_loop if c.delay_loop is not None else rs.delay_loop
    if c.delay_before_retry is not None:
        dbr = c.delay_before_retry
    elif rs.delay_before_retry is not None:
        dbr = rs.delay_before_retry
    elif c.default_delay_before_retry:
        dbr = c.default_delay_before_retry
    else:
        dbr = delay_loop
    retry = c.retry if c.retry is not None else rs.retry
    warmup = c.warmup if c.warmup is not None else rs.warmup
    # (positional, in the fields' order, as resolve.py builds the servers: one checker per
    # real server of a big file)
    timing = CheckTiming(
        retry if retry is not None else c.default_retry,  # retry
        dbr,  # delay_before_retry
        warmup if warmup is not None else delay_loop,  # warmup
        delay_loop,  # delay_loop
        c.alpha if c.alpha is not None else rs.alpha,  # alpha
        c.log_all_failures,  # log_all_failures
    )
    conn = None
    if c.has_connection:
        # queue_checker copies the real server's address and port as written in the config
        conn = Connection(
            c.connect_ip or r.address,  # ip
            c.connect_port if c.connect_port is not None else r.port,  # port
            c.connect_timeout if c.connect_timeout is not None else rs.connect_timeout,  # timeout
            c.bindto,  # bindto
            c.bind_port,  # bind_port
            c.bind_if,  # bind_if
            c.fwmark,  # fwmark
        )
        if conn.port == 0 and c.kind not in ("PING_CHECK", "DNS_CHECK", "UDP_CHECK"):
            ctx.note(c.loc, f"{c.kind} connects to port 0: set connect_port or a real server port")
    chk = c.build(c.loc, timing, conn)
    if isinstance(chk, HttpCheck) and chk.virtualhost is None:
        vhost = rs.virtualhost or d.virtualhost
        if vhost is not None:
            chk = dataclasses.replace(chk, virtualhost=vhost)
    return chk
