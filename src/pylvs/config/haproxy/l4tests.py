"""Conditions and sample fetches over a connection's layer-4 facts, compiled for the runtime.

What `tcp-request connection` rules, `use_backend` conditions, stick rules and `stats admin`
of a `mode tcp` proxy need from HAProxy 2.6's samples (configuration manual §7.3.3, src/acl.c,
src/pattern.c): the fetches `src`, `dst` (addresses: the `ip` match, networks and addresses),
`src_port`, `dst_port` (integers: the `int` match, `N`, `N:M`, `:M`, `N:`), the predefined
ACLs `TRUE`, `FALSE`, `LOCALHOST`, and `always_true`/`always_false`.  An `acl` name given on
several lines passes when any line passes (acl.c); `if`/`unless` alternatives are joined by
`or`, the terms of one alternative all pass (`!` negates).  A condition that needs anything
else is refused with its location (`Unsupported`): the runtime would otherwise skip a rule
the configuration relies on.  proto/rules (HAProxy's whole sample and ACL engine) replaces
this once it is on main.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.config.errors import Location
from pylvs.config.haproxy.model import Acl, Condition, Proxy, Sample
from pylvs.model.proxy_spec import ConnFacts, Value

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ADDRESS_FETCHES = frozenset({"src", "dst"})
PORT_FETCHES = frozenset({"src_port", "dst_port"})
CONSTANT_FETCHES = {"always_true": True, "always_false": False}
PREDEFINED = {
    "TRUE": ("always_true", ()),
    "FALSE": ("always_false", ()),
    "LOCALHOST": ("src", ("127.0.0.1/8", "::1")),
}


class UnsupportedError(ValueError):
    """A condition or sample the layer-4 runtime cannot evaluate (located)."""

    def __init__(self, loc: Location | None, message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _value(facts: ConnFacts, fetch: str) -> Value:
    if fetch == "src":
        return facts.src
    if fetch == "dst":
        return facts.dst
    if fetch == "src_port":
        return facts.src_port
    return facts.dst_port


@dataclass(frozen=True, slots=True)
class Fetch:
    """A layer-4 sample fetch (`src`, `dst`, `src_port`, `dst_port`)."""

    name: str

    def fetch(self, facts: ConnFacts) -> Value | None:
        return _value(facts, self.name)


@dataclass(frozen=True, slots=True)
class Match:
    """One `acl` line: a fetch and its patterns (pattern.c pat_match_ip / pat_match_int)."""

    fetch: str
    networks: tuple[Network, ...] = ()
    ranges: tuple[tuple[int | None, int | None], ...] = ()
    constant: bool | None = None

    def test(self, facts: ConnFacts) -> bool:
        if self.constant is not None:
            return self.constant
        value = _value(facts, self.fetch)
        if isinstance(value, int):
            return any(
                (lo is None or value >= lo) and (hi is None or value <= hi)
                for lo, hi in self.ranges
            )
        assert not isinstance(value, str | bytes)
        if value.version == 6 and value.ipv4_mapped is not None:
            mapped: ipaddress.IPv4Address | ipaddress.IPv6Address = value.ipv4_mapped
        else:
            mapped = value
        return any(mapped in net or value in net for net in self.networks)


@dataclass(frozen=True, slots=True)
class Term:
    negate: bool
    acl: tuple[Match, ...]  # any passes

    def test(self, facts: ConnFacts) -> bool:
        passed = any(m.test(facts) for m in self.acl)
        return passed != self.negate


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled `if|unless` condition (model.proxy_spec.ConnTest)."""

    unless: bool
    alternatives: tuple[tuple[Term, ...], ...]

    def test(self, facts: ConnFacts) -> bool:
        passed = any(all(t.test(facts) for t in alt) for alt in self.alternatives)
        return passed != self.unless


def _networks(acl_loc: Location | None, patterns: Sequence[str]) -> tuple[Network, ...]:
    nets: list[Network] = []
    for p in patterns:
        try:
            nets.append(ipaddress.ip_network(p, strict=False))
        except ValueError:
            raise UnsupportedError(acl_loc, f"'{p}' is not an IP address or network") from None
    return tuple(nets)


def _bound(text: str) -> int | None:
    return int(text) if text else None


def _ranges(
    acl_loc: Location | None, patterns: Sequence[str]
) -> tuple[tuple[int | None, int | None], ...]:
    out: list[tuple[int | None, int | None]] = []
    for p in patterns:
        try:
            if ":" in p:
                lo, hi = p.split(":", 1)
                out.append((_bound(lo), _bound(hi)))
            else:
                out.append((int(p), int(p)))
        except ValueError:
            raise UnsupportedError(acl_loc, f"'{p}' is not an integer or a range") from None
    return tuple(out)


def compile_match(
    fetch: str, patterns: Sequence[str], loc: Location | None, sample: Sample | None = None
) -> Match:
    if sample is not None and (sample.converters or sample.args):
        raise UnsupportedError(
            loc, f"the runtime evaluates `{fetch}` without arguments or converters only"
        )
    if fetch in CONSTANT_FETCHES:
        return Match(fetch, constant=CONSTANT_FETCHES[fetch])
    if fetch in ADDRESS_FETCHES:
        return Match(fetch, networks=_networks(loc, patterns))
    if fetch in PORT_FETCHES:
        return Match(fetch, ranges=_ranges(loc, patterns))
    raise UnsupportedError(loc, _unsupported(fetch))


def _unsupported(fetch: str) -> str:
    return (
        f"the mode tcp runtime evaluates the layer-4 fetches src, dst, src_port and dst_port; "
        f"`{fetch}` is not evaluated yet"
    )


def _acl_match(acl: Acl) -> Match:
    method = acl.method
    fetch = acl.sample.fetch
    if (fetch in ADDRESS_FETCHES and method != "ip") or (fetch in PORT_FETCHES and method != "int"):
        raise UnsupportedError(
            acl.loc, f"the `-m {method}` match of `{fetch}` is not evaluated yet"
        )
    if acl.files:
        raise UnsupportedError(acl.loc, "patterns read from files (-f) are not evaluated yet")
    return compile_match(fetch, acl.patterns, acl.loc, acl.sample)


def compile_condition(cond: Condition | None, proxy: Proxy) -> Compiled | None:
    """The condition compiled against `proxy`'s ACLs (None stays None)."""
    if cond is None:
        return None
    alternatives: list[tuple[Term, ...]] = []
    for alt in cond.alternatives:
        terms: list[Term] = []
        for term in alt:
            if term.anonymous is not None:
                matches: tuple[Match, ...] = (_acl_match(term.anonymous),)
            else:
                matches = _named(term.acl or "", proxy, cond.loc)
            terms.append(Term(term.negate, matches))
        alternatives.append(tuple(terms))
    return Compiled(cond.unless, tuple(alternatives))


def _named(name: str, proxy: Proxy, loc: Location | None) -> tuple[Match, ...]:
    lines = [a for a in proxy.acls if a.name == name]
    if lines:
        return tuple(_acl_match(a) for a in lines)
    if name in PREDEFINED:
        fetch, patterns = PREDEFINED[name]
        return (compile_match(fetch, patterns, loc),)
    raise UnsupportedError(loc, f"no ACL named '{name}' in {proxy.type_str} '{proxy.name}'")


def compile_fetch(sample: Sample, loc: Location | None) -> Fetch:
    """A stick rule's key expression."""
    if sample.fetch not in ADDRESS_FETCHES | PORT_FETCHES:
        raise UnsupportedError(loc, _unsupported(sample.fetch))
    if sample.converters or sample.args:
        raise UnsupportedError(
            loc, f"the runtime evaluates `{sample.fetch}` without arguments or converters only"
        )
    return Fetch(sample.fetch)
