"""nftables objects as values, their text form, and the transaction that applies them.

A `Table` is what pylvs owns in one family (`ip pylvs`, `ip6 pylvs`, `netdev pylvs`): named
counters, sets and maps, and chains of rule lines.  `Table.text()` is the declarative form
(`table ip pylvs { ... }`) the golden tests compare; `transaction(old, new)` is the `nft -f`
script that turns the applied table `old` into `new` in one atomic netlink batch.

The transaction never deletes the table (that would drop the dynamic sets: DR flows and
persistence entries, and reset the counters).  It flushes every rule (`flush table` keeps set
elements and counter values), empties the static maps (their verdicts may name chains about to
be deleted), deletes what `new` no longer has (but not conntrack timeout policies: see
`CtTimeout`), declares what it has (`add` of an existing object
with the same definition is a no-op) and then adds elements and rules.  Conntrack keeps the NAT
bindings of established flows, so replacing the rules does not disturb them
(net/netfilter/nf_nat_core.c: the binding lives in the conntrack entry, not in the rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

TABLE_NAME = "pylvs"


@dataclass(frozen=True, slots=True)
class Counter:
    name: str


@dataclass(frozen=True, slots=True)
class CtTimeout:
    """A conntrack timeout policy (`ct timeout` object) for one layer-4 protocol.

    Its name carries its values, so a changed policy is a new object: the kernel does not
    update a `ct timeout` in place (`add` of an existing one is a no-op), and deleting one
    takes it off every flow that uses it (nf_conntrack_timeout.c `nf_ct_untimeout`), which
    would put established NAT flows back on the kernel's defaults.  `transaction` therefore
    never deletes one; they go with the table.
    """

    name: str
    protocol: str  # tcp, udp
    policy: tuple[tuple[str, int], ...]  # (conntrack state, seconds)

    def body(self, family: str) -> tuple[str, ...]:
        policy = ", ".join(f"{state} : {seconds}" for state, seconds in self.policy)
        return (f"protocol {self.protocol}", f"l3proto {family}", f"policy = {{ {policy} }}")


@dataclass(frozen=True, slots=True)
class NamedSet:
    """A named set or map.  `dynamic` ones are filled by the packet path (update statements)."""

    name: str
    kind: str  # "set" or "map"
    spec: tuple[str, ...]  # "type ipv4_addr : verdict", "flags interval", ...
    elements: tuple[str, ...] = ()
    dynamic: bool = False

    @property
    def capacity(self) -> int:
        """The `size N` of its spec (0 when it declares none: the kernel's default)."""
        for part in self.spec:
            if part.startswith("size "):
                return int(part[5:])
        return 0


@dataclass(frozen=True, slots=True)
class Chain:
    name: str
    rules: tuple[str, ...] = ()
    hook: str = ""  # "type nat hook prerouting priority dstnat; policy accept;" for base chains


@dataclass(frozen=True, slots=True)
class Table:
    family: str  # ip, ip6, netdev
    counters: tuple[Counter, ...] = ()
    sets: tuple[NamedSet, ...] = ()
    chains: tuple[Chain, ...] = ()
    name: str = field(default=TABLE_NAME)
    timeouts: tuple[CtTimeout, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.family} {self.name}"

    def text(self) -> str:
        """The declarative form, as `nft -f` accepts it and golden files hold it."""
        out = [f"table {self.ref} {{"]
        for c in self.counters:
            out.append(f"\tcounter {c.name} {{\n\t}}")
        for t in self.timeouts:
            out.append(f"\tct timeout {t.name} {{")
            out.extend(f"\t\t{line}" for line in t.body(self.family))
            out.append("\t}")
        for s in self.sets:
            out.append(f"\t{s.kind} {s.name} {{")
            out.extend(f"\t\t{line}" for line in s.spec)
            if s.elements:
                out.append("\t\telements = { " + ",\n\t\t\t     ".join(s.elements) + " }")
            out.append("\t}")
        for ch in self.chains:
            out.append(f"\tchain {ch.name} {{")
            if ch.hook:
                out.append(f"\t\t{ch.hook}")
            out.extend(f"\t\t{rule}" for rule in ch.rules)
            out.append("\t}")
        out.append("}")
        return "\n".join(out) + "\n"

    def objects(self) -> set[tuple[str, str]]:
        """(kind, name) of every named object."""
        found = {("counter", c.name) for c in self.counters}
        found |= {(s.kind, s.name) for s in self.sets}
        found |= {("chain", ch.name) for ch in self.chains}
        found |= {("ct timeout", t.name) for t in self.timeouts}
        return found


def _spec(lines: Iterable[str]) -> str:
    return " ".join(f"{line} ;" for line in lines)


def transaction(old: Table | None, new: Table) -> str:
    """The `nft -f` script turning `old` (None: unknown or absent) into `new`, atomically."""
    ref = new.ref
    out = [f"add table {ref}", f"flush table {ref}"]
    if old is not None:
        for s in old.sets:
            if not s.dynamic:
                out.append(f"flush {s.kind} {ref} {s.name}")
        gone = old.objects() - new.objects()
        # Chains first (rules referencing maps and counters are already flushed), then maps,
        # then the counters their elements named.  Conntrack timeout policies stay (CtTimeout).
        for rank in ("chain", "map", "set", "counter"):
            out.extend(f"delete {kind} {ref} {name}" for kind, name in sorted(gone) if kind == rank)
    out.extend(f"add counter {ref} {c.name}" for c in new.counters)
    out.extend(
        f"add ct timeout {ref} {t.name} {{ {_spec(t.body(new.family))} }}" for t in new.timeouts
    )
    for s in new.sets:
        out.append(f"add {s.kind} {ref} {s.name} {{ {_spec(s.spec)} }}")
    for ch in new.chains:
        out.append(f"add chain {ref} {ch.name}" + (f" {{ {ch.hook} }}" if ch.hook else ""))
    for s in new.sets:
        if not s.dynamic:
            # A static map declared by an older run of the same name keeps stale elements.
            if old is None:
                out.append(f"flush {s.kind} {ref} {s.name}")
            if s.elements:
                out.append(f"add element {ref} {s.name} {{ {', '.join(s.elements)} }}")
    for ch in new.chains:
        out.extend(f"add rule {ref} {ch.name} {rule}" for rule in ch.rules)
    return "\n".join(out) + "\n"


def removal(tables: Iterable[Table | str]) -> str:
    """The script deleting pylvs's tables (given as Table or "family"), absent ones included.

    `add table` first makes the `delete` valid when the table does not exist.
    """
    out: list[str] = []
    for t in tables:
        ref = t.ref if isinstance(t, Table) else f"{t} {TABLE_NAME}"
        out += [f"add table {ref}", f"delete table {ref}"]
    return "\n".join(out) + "\n"
