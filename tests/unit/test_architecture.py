"""Principle 1 (docs/ARCHITECTURE.md): the pure core never does I/O.

Modules under model/, sched/, config/, proto/ may not import the I/O libraries; drivers that do
live in dataplane/, vrrp/, system/, control/ servers and cli/.  This test fails the build when a
pure module grows such an import, so the rule stays true.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "pylvs"
PURE = ["model", "sched", "config", "proto"]
BANNED = {
    "asyncio",
    "socket",
    "subprocess",
    "selectors",
    "pyroute2",
    "time",
    "threading",
    "urllib",
    "http",
}


def pure_modules() -> list[Path]:
    return sorted(p for d in PURE for p in (SRC / d).rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_core_does_no_io(path: Path) -> None:
    bad = imported_roots(path) & BANNED
    assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_the_check_sees_the_pure_packages() -> None:
    assert len(pure_modules()) >= 5
