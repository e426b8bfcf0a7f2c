"""The architecture's rules, checked on the source (docs/ARCHITECTURE.md, principle 1).

Three rules, each computed from an import graph built with `ast` (no module is imported):

* **Pure modules do no I/O, transitively.**  Every module of model/, sched/, proto/ and config/
  is pure except the config readers' file-system edge, listed by name below with the reason.  A
  pure module may not import an I/O library, nor any pylvs module that (through any chain of
  imports) does: so a pure module cannot reach `os` by importing a helper that imports it.
* **Packages import downwards only**, in the order of `LAYERS`; packages of one layer do not
  import each other.
* **Only config/ and cli/ know a config format** (config.keepalived, config.haproxy): the runtime
  takes the neutral model (`model.director.DirectorSpec`) through `config.registry`.

Each rule has a test that feeds it a deliberately bad graph, so a rule that stopped seeing
anything would fail too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "pylvs"

# What pure code may not import, at any depth: the event loop, sockets, processes, the OS and
# its signals, TLS, C calls, threads, the clock (time is an argument), netlink.
BANNED = frozenset(
    {
        "asyncio",
        "socket",
        "select",
        "selectors",
        "subprocess",
        "os",
        "signal",
        "ssl",
        "ctypes",
        "fcntl",
        "threading",
        "time",
        "pyroute2",
        "urllib",
        "http",
    }
)
PURE_PACKAGES = ("model", "sched", "proto", "config")

# The file-system edge of the keepalived reader: it opens files, expands include globs and
# reads the host name (keepalived's parser.c read_conf_file / include handling does the same in
# one pass with the lexing, and the reader keeps that shape so its FILE:LINE:COL match).  Every
# other config module is pure; this list is compared with the computed one, so it can neither
# grow silently nor keep a module that became pure.
IO_EDGE = frozenset(
    {
        "pylvs.config.keepalived.includes",  # glob, stat, realpath of include targets
        "pylvs.config.keepalived.preprocess",  # opens the included files
        "pylvs.config.keepalived.lexer",  # opens the main file, reads the host name
        "pylvs.config.keepalived.parser",  # parse_file: lexer + parse
        "pylvs.config.keepalived.source",  # the ConfigSource that loads a path
        "pylvs.config.haproxy.source",  # the ConfigSource: reads the files and the environment
        "pylvs.config.registry",  # builds the formats' ConfigSources
    }
)

# Package order (issue 17): a package imports only packages on later lines, or itself;
# packages on one line do not import each other.  notify/ sits under vrrp/ and health/, which
# both use it; lab/ and tools/ are the lab's and demo's programs, run by cli/; packaging/
# builds man pages and completion from cli/'s parsers.
LAYERS: list[tuple[str, ...]] = [
    ("packaging",),
    ("cli",),
    ("engine", "lab", "tools"),
    ("web",),  # the HTTP surface: renders the engine's snapshots, acts through its Director
    ("dataplane", "vrrp", "health", "control"),
    ("sync",),  # the sync daemons' driver: the planes without the kernel's run them
    ("notify",),
    ("system",),
    ("config",),
    ("proto",),
    ("sched",),
    ("model",),
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
FORMAT_READERS = ("config", "cli")  # the only packages that know a config format
FORMAT_NEUTRAL = (
    "errors",
    "formats",
    "keywords",
    "listen",
    "registry",
)  # config/ modules anyone may use

Graph = Mapping[str, frozenset[str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _targets(name: str, path: Path, known: Iterable[str]) -> frozenset[str]:
    """What `name` imports: pylvs modules (with the packages whose __init__ the import runs)
    and the top-level names of everything else."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known)
    out: set[str] = set()
    for module in found:
        if module.split(".")[0] != "pylvs":
            out.add(module.split(".")[0])
            continue
        parts = module.split(".")
        out.update(q for i in range(2, len(parts) + 1) if (q := ".".join(parts[:i])) in known)
    return frozenset(out)


def build_graph() -> dict[str, frozenset[str]]:
    paths = {module_name(p): p for p in SRC.rglob("*.py")}
    return {name: _targets(name, path, paths) for name, path in paths.items()}


GRAPH = build_graph()


def reach(graph: Graph, start: str) -> dict[str, str]:
    """Every name `start` reaches through imports -> the module that imports it first found
    (breadth first, so the chain shown is a short one)."""
    via: dict[str, str] = {}
    queue = [start]
    while queue:
        module = queue.pop(0)
        for target in sorted(graph.get(module, ())):
            if target not in via and target != start:
                via[target] = module
                if target in graph:
                    queue.append(target)
    return via


def chain(via: Mapping[str, str], start: str, end: str) -> list[str]:
    out = [end]
    while out[-1] != start:
        out.append(via[out[-1]])
    return out[::-1]


def io_chains(graph: Graph, module: str) -> list[list[str]]:
    via = reach(graph, module)
    return [chain(via, module, name) for name in sorted(set(via) & BANNED)]


def package(module: str) -> str:
    """The top-level package a module belongs to ("" for pylvs's own files, e.g. __main__)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (SRC / parts[1]).is_dir() else ""


def pure_candidates(graph: Graph) -> list[str]:
    return sorted(m for m in graph if package(m) in PURE_PACKAGES)


def layer_violations(graph: Graph, module: str) -> list[str]:
    own = package(module)
    if own not in RANK:
        return []
    return sorted(
        target
        for target in graph[module]
        if target.startswith("pylvs.")
        and (dep := package(target)) != own
        and dep in RANK
        and RANK[dep] <= RANK[own]
    )


def format_imports(graph: Graph, module: str) -> list[str]:
    if package(module) in FORMAT_READERS:
        return []
    return sorted(
        t
        for t in graph[module]
        if t.startswith("pylvs.config.") and t.split(".")[2] not in FORMAT_NEUTRAL
    )


# -- the rules on the tree ---------------------------------------------------------------------


@pytest.mark.parametrize("module", [m for m in pure_candidates(GRAPH) if m not in IO_EDGE])
def test_a_pure_module_reaches_no_io(module: str) -> None:
    bad = io_chains(GRAPH, module)
    assert not bad, f"{module} reaches I/O: " + "; ".join(" -> ".join(c) for c in bad)


def test_the_io_edge_is_exactly_the_listed_modules() -> None:
    impure = {m for m in pure_candidates(GRAPH) if io_chains(GRAPH, m)}
    assert impure == IO_EDGE


def test_every_package_is_placed() -> None:
    packages = {package(m) for m in GRAPH} - {""}
    assert packages <= set(RANK), f"not in LAYERS: {sorted(packages - set(RANK))}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_packages_import_only_downwards(module: str) -> None:
    bad = layer_violations(GRAPH, module)
    assert not bad, f"{module} ({package(module)}) imports {bad}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_only_config_and_cli_know_a_config_format(module: str) -> None:
    bad = format_imports(GRAPH, module)
    assert not bad, f"{module} imports {bad}"


def test_the_graph_sees_the_tree() -> None:
    assert len(pure_candidates(GRAPH)) > 100
    assert "pylvs.model.director" in GRAPH["pylvs.config.registry"]
    assert "asyncio" in GRAPH["pylvs.engine.daemon"]


# -- the rules catch what they are for: a deliberately bad graph -------------------------------


def _with(graph: Graph, module: str, *targets: str) -> dict[str, frozenset[str]]:
    bad = dict(graph)
    bad[module] = graph.get(module, frozenset()) | frozenset(targets)
    return bad


def test_an_io_import_two_hops_away_is_found() -> None:
    bad = _with(GRAPH, "pylvs.sched.haproxy.helper_made_up", "os")
    bad = _with(bad, "pylvs.model.table", "pylvs.sched.haproxy.helper_made_up")
    chains = io_chains(bad, "pylvs.model.table")
    assert ["pylvs.model.table", "pylvs.sched.haproxy.helper_made_up", "os"] in chains
    # ... and every pure module importing model.table is caught through it.
    assert io_chains(bad, "pylvs.sched.base")


def test_an_upward_import_is_found() -> None:
    bad = _with(GRAPH, "pylvs.proto.vrrp.packet", "pylvs.health")
    assert layer_violations(bad, "pylvs.proto.vrrp.packet") == ["pylvs.health"]
    sideways = _with(GRAPH, "pylvs.vrrp.run", "pylvs.health.effects")
    assert "pylvs.health.effects" in layer_violations(sideways, "pylvs.vrrp.run")


def test_a_runtime_module_importing_a_format_is_found() -> None:
    bad = _with(GRAPH, "pylvs.engine.daemon", "pylvs.config.keepalived.model")
    assert format_imports(bad, "pylvs.engine.daemon") == ["pylvs.config.keepalived.model"]
