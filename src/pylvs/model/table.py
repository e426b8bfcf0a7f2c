"""The service table as a value, and its diff into add / edit / delete changes.

A `ServiceTable` is the desired (or applied) state: virtual services, each with its real
servers in the order they were added.  `diff(old, new)` yields the minimal list of changes
that turns `old` into `new`, in an order that is safe to apply (removals first, then additions,
then edits), so the engine can apply only what changed (principle 7, "desired state, then
diff") and a reload keeps everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from pylvs.model.service import Address, ModelError, RealServer, ServiceKey, VirtualService


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    service: VirtualService
    dests: tuple[RealServer, ...] = ()

    def __post_init__(self) -> None:
        seen: set[tuple[Address, int]] = set()
        for d in self.dests:
            if d.key in seen:
                raise ModelError(f"Destination already exists: {d} in {self.service.key}")
            seen.add(d.key)

    def dest(self, key: tuple[Address, int]) -> RealServer | None:
        for d in self.dests:
            if d.key == key:
                return d
        return None


@dataclass(frozen=True, slots=True)
class AddService:
    service: VirtualService


@dataclass(frozen=True, slots=True)
class EditService:
    service: VirtualService


@dataclass(frozen=True, slots=True)
class DeleteService:
    key: ServiceKey


@dataclass(frozen=True, slots=True)
class AddDest:
    key: ServiceKey
    dest: RealServer


@dataclass(frozen=True, slots=True)
class EditDest:
    key: ServiceKey
    dest: RealServer


@dataclass(frozen=True, slots=True)
class DeleteDest:
    key: ServiceKey
    dest: tuple[Address, int]


Change = AddService | EditService | DeleteService | AddDest | EditDest | DeleteDest


class ServiceTable(Mapping[ServiceKey, ServiceEntry]):
    """An immutable mapping ServiceKey -> ServiceEntry, in insertion order."""

    __slots__ = ("_entries",)

    def __init__(self, entries: Iterable[ServiceEntry] = ()) -> None:
        d: dict[ServiceKey, ServiceEntry] = {}
        for e in entries:
            if e.service.key in d:
                raise ModelError(f"Service already exists: {e.service.key}")
            d[e.service.key] = e
        self._entries = d

    def __getitem__(self, key: ServiceKey) -> ServiceEntry:
        return self._entries[key]

    def __iter__(self) -> Iterator[ServiceKey]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServiceTable):
            return NotImplemented
        return list(self._entries.items()) == list(other._entries.items())

    def __hash__(self) -> int:
        return hash(tuple(self._entries.items()))

    def __repr__(self) -> str:
        return f"ServiceTable({list(self._entries.values())!r})"

    def entries(self) -> list[ServiceEntry]:
        return list(self._entries.values())

    def apply(self, changes: Iterable[Change]) -> ServiceTable:
        """The table after `changes` (raises ModelError on an impossible change)."""
        d = dict(self._entries)
        for ch in changes:
            match ch:
                case AddService(service=s):
                    if s.key in d:
                        raise ModelError(f"Service already exists: {s.key}")
                    d[s.key] = ServiceEntry(s)
                case EditService(service=s):
                    if s.key not in d:
                        raise ModelError(f"No such service: {s.key}")
                    d[s.key] = ServiceEntry(s, d[s.key].dests)
                case DeleteService(key=k):
                    if k not in d:
                        raise ModelError(f"No such service: {k}")
                    del d[k]
                case AddDest(key=k, dest=rs):
                    e = _need(d, k)
                    d[k] = ServiceEntry(e.service, (*e.dests, rs))
                case EditDest(key=k, dest=rs):
                    e = _need(d, k)
                    if e.dest(rs.key) is None:
                        raise ModelError(f"No such destination: {rs}")
                    d[k] = ServiceEntry(
                        e.service, tuple(rs if x.key == rs.key else x for x in e.dests)
                    )
                case DeleteDest(key=k, dest=dk):
                    e = _need(d, k)
                    if e.dest(dk) is None:
                        raise ModelError("No such destination")
                    d[k] = ServiceEntry(e.service, tuple(x for x in e.dests if x.key != dk))
        return ServiceTable(d.values())


def _need(d: dict[ServiceKey, ServiceEntry], k: ServiceKey) -> ServiceEntry:
    if k not in d:
        raise ModelError(f"Service not defined: {k}")
    return d[k]


def diff(old: ServiceTable, new: ServiceTable) -> list[Change]:
    """Changes that turn `old` into `new`: deletions, then additions, then edits.

    A service whose scheduler, flags or persistence changed is edited in place (as
    `ipvsadm -E` does), so its real servers and their connections stay.
    """
    deletes: list[Change] = []
    adds: list[Change] = []
    edits: list[Change] = []
    for key, oe in old.items():
        ne = new.get(key)
        if ne is None:
            deletes.append(DeleteService(key))
            continue
        if ne is oe:
            continue  # the same entry: nothing to compare
        new_keys = {d.key for d in ne.dests}
        deletes.extend(DeleteDest(key, d.key) for d in oe.dests if d.key not in new_keys)
    for key, ne in new.items():
        prev = old.get(key)
        if prev is None:
            adds.append(AddService(ne.service))
            adds.extend(AddDest(key, d) for d in ne.dests)
            continue
        oe = prev
        if ne is oe:
            continue
        if oe.service != ne.service:
            edits.append(EditService(ne.service))
        old_dests = {d.key: d for d in oe.dests}
        for d in ne.dests:
            od = old_dests.get(d.key)
            if od is None:
                adds.append(AddDest(key, d))
            elif od != d:
                edits.append(EditDest(key, d))
    return deletes + adds + edits
