"""The LVS side of keepalived.conf: virtual_server_group, virtual_server, real_server,
checkers and the SSL block (keepalived/check/check_parser.c and friends).

Use it like the vrrp package: `TOPLEVEL[keyword](statement, ctx, parts)` for each top-level
statement, then `finish(parts, ctx, known)` applies keepalived's post-parse rules and returns
the typed `LvsConfig`.
"""

from __future__ import annotations

from collections.abc import Callable

from pylvs.config.keepalived.lvs.drafts import LvsParts
from pylvs.config.keepalived.lvs.model import LvsConfig
from pylvs.config.keepalived.lvs.resolve import finish
from pylvs.config.keepalived.lvs.resolve_checks import Known
from pylvs.config.keepalived.lvs.vs import parse_ssl, parse_virtual_server
from pylvs.config.keepalived.lvs.vsg import parse_group
from pylvs.config.keepalived.tree import Statement
from pylvs.config.keepalived.values import Context


def _need(st: Statement, ctx: Context, args: int) -> bool:
    if len(st.args) < args:
        ctx.error(
            st.loc,
            f"Configuration line starting `{st.name}` is missing a parameter after keyword "
            f"`{st.name}` at word position {len(st.args) + 2}",
        )
        return False
    if st.block is None:
        ctx.error(st.loc, f"'{st.name}' needs a {{ }} block")
        return False
    return True


def _group(st: Statement, ctx: Context, parts: LvsParts) -> None:
    if _need(st, ctx, 1):
        g = parse_group(st, ctx)
        if g is not None:
            parts.groups.append(g)


def _virtual_server(st: Statement, ctx: Context, parts: LvsParts) -> None:
    if _need(st, ctx, 1):
        vs = parse_virtual_server(st, ctx)
        if vs is not None:
            parts.virtual_servers.append(vs)


def _ssl(st: Statement, ctx: Context, parts: LvsParts) -> None:
    if _need(st, ctx, 0):
        parts.ssl = parse_ssl(st, ctx, parts.ssl)


TOPLEVEL: dict[str, Callable[[Statement, Context, LvsParts], None]] = {
    "virtual_server_group": _group,
    "virtual_server": _virtual_server,
    "SSL": _ssl,
}

__all__ = ["TOPLEVEL", "Known", "LvsConfig", "LvsParts", "finish"]
