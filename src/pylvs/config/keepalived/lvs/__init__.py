"""The LVS side of keepalived.conf: virtual_server_group, virtual_server, real_server,
checkers and the SSL block (keepalived/check/check_parser.c and friends).

`TOPLEVEL` holds the top-level keywords of this side (the parser puts them in its one
top-level table); `finish(parts, ctx, known)` then applies keepalived's post-parse rules and
returns the typed `LvsConfig`.
"""

from __future__ import annotations

from pylvs.config.keepalived.lvs.drafts import LvsParts
from pylvs.config.keepalived.lvs.model import LvsConfig
from pylvs.config.keepalived.lvs.resolve import finish
from pylvs.config.keepalived.lvs.resolve_checks import Known
from pylvs.config.keepalived.lvs.vs import parse_ssl, parse_virtual_server
from pylvs.config.keepalived.lvs.vsg import parse_group
from pylvs.config.keywords import Block, Context, Keyword
from pylvs.config.tree import Statement


def _group(st: Statement, ctx: Context, parts: LvsParts) -> None:
    g = parse_group(st, ctx)
    if g is not None:
        parts.groups.append(g)


def _virtual_server(st: Statement, ctx: Context, parts: LvsParts) -> None:
    vs = parse_virtual_server(st, ctx)
    if vs is not None:
        parts.virtual_servers.append(vs)


def _ssl(st: Statement, ctx: Context, parts: LvsParts) -> None:
    parts.ssl = parse_ssl(st, ctx, parts.ssl)


TOPLEVEL: dict[str, Keyword[LvsParts]] = {
    "virtual_server_group": Keyword(_group, 1, Block.REQUIRED),
    "virtual_server": Keyword(_virtual_server, 1, Block.REQUIRED),
    "SSL": Keyword(_ssl, 0, Block.REQUIRED),
}

__all__ = ["TOPLEVEL", "Known", "LvsConfig", "LvsParts", "finish"]
