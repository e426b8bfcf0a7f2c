"""Read a keepalived.conf into a `KeepalivedConfig`: lexer, then the section parsers.

The lexer (config/keepalived/lexer.py) turns the text into `Statement`s with exact locations,
following includes.  Top-level statements go through one keyword table (config/keywords) made
of the VRRP side's keywords (vrrp.TOPLEVEL: global_defs, vrrp_instance, vrrp_script,
track_file, bfd_instance, ...) and the LVS side's (lvs.TOPLEVEL: virtual_server_group,
virtual_server, SSL); any other keyword is warned about and skipped, as keepalived does
("Unknown keyword '%s'", lib/parser.c).  Both sides then apply keepalived's post-parse rules.
Nothing here raises on bad input: every problem is in `LoadResult.problems`.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived import lvs, vrrp
from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.lexer import iter_file, iter_text
from pylvs.config.keepalived.lvs.model import VirtualServerConf
from pylvs.config.keepalived.model import KeepalivedConfig
from pylvs.config.keepalived.syntax import table
from pylvs.config.keepalived.table import service_keys
from pylvs.config.keywords import Context, HostFacts, Keyword
from pylvs.config.tree import Statement
from pylvs.model.service import Protocol, ServiceKey

T = TypeVar("T")


@dataclass(slots=True)
class _Parts:
    """What the top-level statements produced, side by side: VRRP and LVS."""

    vrrp: vrrp.VrrpParts = field(default_factory=vrrp.VrrpParts)
    lvs: lvs.LvsParts = field(default_factory=lvs.LvsParts)


def _side(kw: Keyword[T], side: str) -> Keyword[_Parts]:
    """`kw` of one side's table, given that side's parts (`side`: the _Parts field)."""
    inner = kw.handler

    def handler(stmt: Statement, ctx: Context, parts: _Parts) -> None:
        inner(stmt, ctx, getattr(parts, side))

    return Keyword(handler, kw.args, kw.block, kw.use_instead, kw.deprecation, kw.unsupported)


TOPLEVEL = table(
    "top level",
    {
        **{k: _side(kw, "vrrp") for k, kw in vrrp.TOPLEVEL.items()},
        **{k: _side(kw, "lvs") for k, kw in lvs.TOPLEVEL.items()},
    },
)


@dataclass(frozen=True)
class LoadResult:
    """A configuration as read, and every problem found reading it."""

    config: KeepalivedConfig
    problems: Problems = field(default_factory=Problems)

    @property
    def ok(self) -> bool:
        return not self.problems.has_errors()


def load(
    path: str,
    *,
    config_id: str | None = None,
    host: HostFacts | None = None,
    rng: random.Random | None = None,
) -> LoadResult:
    """Read the keepalived.conf at `path` (and its includes)."""
    problems = Problems()
    try:
        statements = iter_file(path, problems, config_id=config_id, rng=rng)
    except Exception as exc:  # the lexer must not raise; never let a traceback reach a user
        problems.error(Location(path, 1, 1), f"internal error while reading: {exc!r}")
        return LoadResult(KeepalivedConfig(), problems)
    return _parse(statements, problems, path, config_id, host)


def load_text(
    text: str,
    filename: str,
    *,
    config_id: str | None = None,
    host: HostFacts | None = None,
    base_dir: str | None = None,
    rng: random.Random | None = None,
) -> LoadResult:
    """Read keepalived.conf `text`; `filename` is used in locations, `base_dir` for includes."""
    problems = Problems()
    try:
        statements = iter_text(
            text, filename, problems, config_id=config_id, rng=rng, base_dir=base_dir
        )
    except Exception as exc:  # the lexer must not raise; never let a traceback reach a user
        problems.error(Location(filename, 1, 1), f"internal error while reading: {exc!r}")
        return LoadResult(KeepalivedConfig(), problems)
    return _parse(statements, problems, filename, config_id, host)


def _parse(
    statements: Iterable[Statement],
    problems: Problems,
    filename: str,
    config_id: str | None,
    host: HostFacts | None,
) -> LoadResult:
    ctx = Context(problems=problems, host=host or HostFacts())
    try:
        config = parse_statements(statements, ctx)
    except Exception as exc:  # a parser bug must still end as a reported problem
        ctx.error(Location(filename, 1, 1), f"internal error while parsing: {exc!r}")
        config = KeepalivedConfig()
    return LoadResult(config, problems)


def parse_statements(statements: Iterable[Statement], ctx: Context) -> KeepalivedConfig:
    """Dispatch top-level statements and build the typed configuration."""
    parts = _Parts()
    dispatch(statements, ctx, TOPLEVEL, parts)
    global_defs, vrrp_config = vrrp.finish(parts.vrrp, ctx)
    smtp = global_defs.smtp_alert_checker
    if smtp is None:
        smtp = global_defs.smtp_alert
    known = lvs.Known(
        smtp_alert=smtp,
        track_files={t.name: (t.weight, t.weight_reverse) for t in vrrp_config.track_files},
        bfd_instances={b.name for b in vrrp_config.bfd_instances if not b.vrrp_only},
    )
    lvs_config = lvs.finish(parts.lvs, ctx, known)
    config = KeepalivedConfig(
        global_defs=global_defs,
        vrrp=vrrp_config,
        virtual_server_groups=lvs_config.virtual_server_groups,
        virtual_servers=lvs_config.virtual_servers,
        ssl=lvs_config.ssl,
    )
    _duplicate_services(config, ctx)
    return config


def _duplicate_services(config: KeepalivedConfig, ctx: Context) -> None:
    """Two virtual servers programming the same IPVS service: keepalived's second add fails
    ("File exists"), so only the first one is in the table."""
    # Keys as plain tuples (a ServiceKey is made only for a message): a big file has tens of
    # thousands of virtual servers, and making and hashing their keys was most of this pass.
    seen: dict[tuple[object, ...], VirtualServerConf] = {}
    for vs in config.virtual_servers:
        if vs.group is not None:
            keys: Iterable[tuple[object, ...]] = map(_key_tuple, service_keys(vs, config))
        elif vs.fwmark is not None:
            keys = ((vs.fwmark, vs.af),)
        elif vs.address is not None and vs.protocol is not None:
            keys = ((vs.protocol, vs.address, vs.port),)
        else:
            continue
        for key in keys:
            first = seen.setdefault(key, vs)  # (one hash of the key, an address's is Python)
            if first is vs:
                continue
            if str(first) != str(vs) or vs.group is None:
                ctx.error(
                    vs.loc,
                    f"virtual server {vs} duplicates service {_service_key(key)} of {first}",
                )
                break


def _key_tuple(key: ServiceKey) -> tuple[object, ...]:
    if key.fwmark:
        return (key.fwmark, key.af)
    return (key.protocol, key.address, key.port)


def _service_key(key: tuple[object, ...]) -> ServiceKey:
    if len(key) == 2:
        fwmark, af = key
        assert isinstance(fwmark, int) and isinstance(af, int)
        return ServiceKey.mark(fwmark, af)
    protocol, address, port = key
    assert isinstance(protocol, Protocol) and isinstance(port, int)
    assert isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address))
    return ServiceKey(protocol=protocol, address=address, port=port)
