"""Shared helpers for the LVS-side keepalived parser tests (read through the real lexer)."""

from __future__ import annotations

import textwrap

from pylvs.config.errors import Problem, Severity
from pylvs.config.keepalived.lvs.model import VirtualServerConf
from pylvs.config.keepalived.parser import LoadResult, load_text
from pylvs.config.keywords import HostFacts

FILE = "k.conf"


def load(text: str, host: HostFacts | None = None) -> LoadResult:
    return load_text(textwrap.dedent(text), FILE, config_id="node", host=host)


def errors(r: LoadResult) -> list[Problem]:
    return [p for p in r.problems if p.severity is Severity.ERROR]


def warnings(r: LoadResult) -> list[Problem]:
    return [p for p in r.problems if p.severity is Severity.WARNING]


def lines(problems: list[Problem]) -> list[int]:
    return [p.loc.line for p in problems]


def has(problems: list[Problem], line: int, fragment: str) -> bool:
    return any(p.loc.line == line and fragment in p.message for p in problems)


def vs(text: str, host: HostFacts | None = None) -> tuple[VirtualServerConf, LoadResult]:
    r = load(text, host)
    assert len(r.config.virtual_servers) == 1, [str(p) for p in r.problems]
    return r.config.virtual_servers[0], r


def minimal(body: str = "", rs_body: str = "", head: str = "10.0.0.1 80") -> str:
    """A virtual server with protocol, scheduler and method set, and one real server."""
    return (
        f"virtual_server {head} {{\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n{body}\n"
        f" real_server 10.1.1.1 80 {{\n{rs_body}\n }}\n}}\n"
    )
