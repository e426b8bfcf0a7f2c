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


# Package order (issue 17): a package imports only from packages after it here, or itself;
# packages in one tuple do not import each other.  lab/ and tools/ are not placed yet.
LAYERS: list[tuple[str, ...]] = [
    ("cli",),
    ("engine",),
    ("dataplane", "vrrp", "health", "control"),
    ("notify",),
    ("system",),
    ("config",),
    ("proto",),
    ("sched",),
    ("model",),
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
FORMAT_READERS = ("config", "cli")  # the only packages that know a config format


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n.startswith("pylvs.")}


def package_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0]


def all_modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if len(p.relative_to(SRC).parts) > 1)


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_packages_import_only_downwards(path: Path) -> None:
    own = package_of(path)
    if own not in RANK:
        return
    bad = sorted(
        m
        for m in imported_modules(path)
        if (dep := m.split(".")[1]) != own and dep in RANK and RANK[dep] <= RANK[own]
    )
    assert not bad, f"{path.relative_to(SRC)} ({own}) imports {bad}"


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_only_config_and_cli_know_a_config_format(path: Path) -> None:
    if package_of(path) in FORMAT_READERS:
        return
    formats = sorted(
        m for m in imported_modules(path) if m.startswith("pylvs.config.") and m.count(".") >= 2
        and m.split(".")[2] not in ("errors", "formats", "keywords", "registry")
    )  # fmt: skip
    assert not formats, f"{path.relative_to(SRC)} imports {formats}"
