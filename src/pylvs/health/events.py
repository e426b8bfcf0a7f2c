"""What a health transition asks the outside world to do (commands, in the imperative).

The pure engine (health/effects.py) returns these; the manager carries them out: log a line
in keepalived's wording, run a notify / quorum script, write a line to the notify FIFOs, send
an SMTP alert.  `fmt_rs` / `fmt_vs` are keepalived's FMT_RS / FMT_VS
(check/check_data.c `format_rs`, `format_vs`; lib/utils.c `inet_sockaddrtotrio_r`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model.notify import Alert, ScriptSpec
from pylvs.model.pool import PoolSpec
from pylvs.model.service import Address, RealServer


@dataclass(frozen=True, slots=True)
class LogLine:
    text: str


@dataclass(frozen=True, slots=True)
class RunScript:
    """Run `script`; `stopping` scripts get keepalived's 1 s time limit (omega on shutdown)."""

    script: ScriptSpec
    stopping: bool = False


@dataclass(frozen=True, slots=True)
class FifoLine:
    """One line (without the newline) for notify_fifo and lvs_notify_fifo."""

    text: str


Effect = LogLine | RunScript | FifoLine | Alert


def fmt_rs(server: RealServer | tuple[Address, int], pool: PoolSpec) -> str:
    """FMT_RS: `[addr]:proto:port`, proto of the virtual server (none for fwmark)."""
    addr, port = server.key if isinstance(server, RealServer) else server
    proto = pool.protocol.name.lower() if pool.protocol is not None else "none"
    return f"[{addr}]:{proto}:{port}"


def fmt_vs(pool: PoolSpec) -> str:
    """FMT_VS: the pool's name."""
    return pool.name


def rs_alert(router_id: str, rs: str, vs: str, state: str, body: str) -> Alert:
    """smtp.c `smtp_alert` SMTP_MSG_RS / SMTP_MSG_RS_SHUT subject."""
    return Alert(f"[{router_id}] Realserver {rs} of virtual server {vs} - {state}", body)


def vs_alert(router_id: str, vs: str, state: str, body: str) -> Alert:
    """smtp.c `smtp_alert` SMTP_MSG_VS subject."""
    return Alert(f"[{router_id}] Virtualserver {vs} - {state}", body)
