"""Test helpers: read keepalived.conf text with the project lexer and run the VRRP-side parsers
over it the way the top-level dispatcher does (the TOPLEVEL keywords, then finish)."""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.config.errors import Problem, Problems
from pylvs.config.keepalived.lexer import read_text
from pylvs.config.keepalived.syntax import table
from pylvs.config.keepalived.vrrp import TOPLEVEL, GlobalDefs, VrrpConfig, VrrpParts, finish
from pylvs.config.keepalived.vrrp.model import VrrpInstance
from pylvs.config.keywords import Context, HostFacts, dispatch_one

FILE = "t.conf"


@dataclass
class Result:
    globals: GlobalDefs
    config: VrrpConfig
    problems: Problems

    def errors(self) -> list[str]:
        return [f"{p.loc.line}:{p.loc.col} {p.message}" for p in self.problems.errors]

    def warnings(self) -> list[str]:
        return [f"{p.loc.line}:{p.loc.col} {p.message}" for p in self.problems.warnings]

    def lines(self) -> set[int]:
        return {p.loc.line for p in self.problems}

    def at(self, line: int) -> list[Problem]:
        return [p for p in self.problems if p.loc.line == line]

    def instance(self, name: str = "VI_1") -> VrrpInstance:
        return next(i for i in self.config.instances if i.name == name)


def parse(text: str, host: HostFacts | None = None, filename: str = FILE) -> Result:
    problems = Problems()
    ctx = Context(problems=problems, host=host or HostFacts())
    stmts = read_text(text, filename, problems)
    parts = VrrpParts()
    top = table("top level", TOPLEVEL)
    for stmt in stmts:
        if stmt.name in top:
            dispatch_one(stmt, ctx, top, parts)
    g, cfg = finish(parts, ctx)
    return Result(g, cfg, problems)


def instance_text(body: str, name: str = "VI_1", extra: str = "") -> str:
    """A vrrp_instance block with `body` inside, after `extra` top-level text."""
    return f"{extra}vrrp_instance {name} {{\n{body}\n}}\n"
