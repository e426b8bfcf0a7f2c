"""A whole configuration's compiled rules, as the runtime receives them with the spec.

config/haproxy/compile_rules.py compiles every proxy of a haproxy.cfg into a `ProxyRules`
(ruleset.py) and builds the stick tables and pattern files the rules use; `CompiledProxies`
holds the three and travels to the proxy runtime in `ProxiesSpec.rules`
(model/proxy_spec.py: model may not import proto, so it types the field with the
`ProxyRulesCarrier` Protocol, which this class meets; dataplane/haproxy/rules.py narrows it
back).

Two carriers are equal when they were compiled from equal parsed sections (`source`, the
reader's frozen values) and read the same bytes from their ACL and map files, so a reload
whose rules and files did not change compares equal, as the rest
of the spec does: the compiled rules themselves hold closures and live tables, which have no
useful equality.  `tables` and `patterns` are live state (entries, `add acl`): a runtime
takes them over from the carrier it is started with.

`proc_vars` are the `proc.` variables the configuration names anywhere: they exist from the
start (vars.c vars_check_arg registers them while parsing), which `set-var(...,ifexists)`
sees.  `proc_init` are the global section's `set-var` / `set-var-fmt`, run in order on the
runtime's Process as it starts (vars.c vars_parse_global_set_var).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pylvs.proto.rules.common import SetVar
from pylvs.proto.rules.ruleset import ProxyRules
from pylvs.proto.sample.expr import Expr
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.stream import Process, ProxyRef, Session, Stream
from pylvs.proto.sample.types import Smp
from pylvs.proto.stick.table import StickTable

# `set var`'s compiler: (name, is a log-format, text) -> the SetVar, or HAProxy's message
SetVarCompiler = Callable[[str, bool, str], "SetVar | str"]
SampleCompiler = Callable[[str, str, tuple[bytes, ...]], "Expr | str"]


def proc_var(process: Process, name: str) -> Smp | None:
    """`get var NAME` (vars_get_by_name): a proc. variable, None when there is none."""
    scope, dot, var = name.partition(".")
    if scope != "proc" or not dot:
        return None
    return process.vars.get(var)  # one that exists but holds nothing is not found either


def set_proc_var(
    process: Process, compiler: SetVarCompiler, name: str, fmt: bool, text: str, *, now: float
) -> str | None:
    """`set var`: compile and run it once on a stream of no proxy (the CLI's "CLI" proxy);
    the error message, or None."""
    got = compiler(name, fmt, text)
    if isinstance(got, str):
        return got
    got.apply(Stream(Session(process, ProxyRef("CLI", 0)), now=now))
    return None


@dataclass(frozen=True, eq=False)
class CompiledProxies:
    """Every proxy's rules by name (frontends, backends and listens: a `listen` is one
    entry), the stick tables by name (the proxies' and the peers sections'), the shared
    ACL/map files."""

    proxies: Mapping[str, ProxyRules] = field(default_factory=dict)
    tables: Mapping[str, StickTable] = field(default_factory=dict)
    patterns: PatternStore = field(default_factory=PatternStore)
    env: Mapping[str, str] = field(default_factory=dict)  # after setenv & co (env() fetches)
    source: object = None  # what they were compiled from (compared, never read)
    proc_vars: frozenset[str] = frozenset()
    proc_init: tuple[SetVar, ...] = ()
    set_var_compiler: SetVarCompiler | None = None  # `set var` on the stats socket
    # (backend, server) that rules point to (a server argument, `use-server`): `del server`
    # refuses them (SRV_F_NON_PURGEABLE)
    pinned: frozenset[tuple[str, str]] = frozenset()
    # Lua's txn.f / txn.c (engine/lua): ("fetch"|"conv", Lua's name of it, its arguments)
    # compiled as a fetch or a converter step, or HAProxy's message
    sample_compiler: SampleCompiler | None = None

    def init_process(self, process: Process) -> None:
        """The proc. variables as the configuration leaves them at start-up."""
        for name in self.proc_vars:
            process.vars.create_permanent(name)
        if self.proc_init:
            # the global section's set-var run on a stream of no proxy (vars.c
            # vars_parse_global_set_var)
            start = Stream(Session(process, ProxyRef("", 0)), now=process.start)
            for set_var in self.proc_init:
                set_var.apply(start)

    def proxy_names(self) -> frozenset[str]:
        return frozenset(self.proxies)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompiledProxies):
            return NotImplemented
        if self.source is None or other.source is None:
            return self is other
        return bool(self.source == other.source) and self.patterns.loaded == other.patterns.loaded

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.proxies)))
