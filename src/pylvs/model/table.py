"""The service table as a value, and its diff into add / edit / delete changes.

A `ServiceTable` is the desired (or applied) state: virtual services, each with its real
servers in the order they were added.  `diff(old, new)` yields the minimal list of changes
that turns `old` into `new`, in an order that is safe to apply (removals first, then additions,
then edits), so the engine can apply only what changed (principle 7, "desired state, then
diff") and a reload keeps everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from pylvs.model.service import Address, ModelError, RealServer, ServiceKey, VirtualService


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    service: VirtualService
    dests: tuple[RealServer, ...] = ()
    # The dests by key, for look-ups and for the duplicate check of the next entry: building
    # one entry from another copies it (C speed, keys not hashed again) instead of hashing
    # every dest's address again, which made `ipvsadm -R` quadratic in a service's dests.
    _index: dict[tuple[Address, int], RealServer] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        index: dict[tuple[Address, int], RealServer] = {}
        for d in self.dests:
            if d.key in index:
                raise ModelError(f"Destination already exists: {d} in {self.service.key}")
            index[d.key] = d
        object.__setattr__(self, "_index", index)

    def dest(self, key: tuple[Address, int]) -> RealServer | None:
        return self._index.get(key)

    def with_dest(self, dest: RealServer) -> ServiceEntry:
        """This entry with `dest` added last (ModelError if its key is taken)."""
        if dest.key in self._index:
            raise ModelError(f"Destination already exists: {dest} in {self.service.key}")
        index = dict(self._index)
        index[dest.key] = dest
        return _entry(self.service, (*self.dests, dest), index)

    def replacing(self, dest: RealServer) -> ServiceEntry:
        """This entry with the dest of `dest`'s key replaced in place (it must exist)."""
        index = dict(self._index)
        index[dest.key] = dest
        return _entry(
            self.service, tuple(dest if x.key == dest.key else x for x in self.dests), index
        )

    def without(self, key: tuple[Address, int]) -> ServiceEntry:
        """This entry without the dest of `key` (it must exist)."""
        index = dict(self._index)
        del index[key]
        return _entry(self.service, tuple(x for x in self.dests if x.key != key), index)

    def serving(self, service: VirtualService) -> ServiceEntry:
        """The same dests under an edited service."""
        return _entry(service, self.dests, self._index)


def _entry(
    service: VirtualService,
    dests: tuple[RealServer, ...],
    index: dict[tuple[Address, int], RealServer],
) -> ServiceEntry:
    """An entry whose dests are known to be unique (`index` is theirs, not shared later)."""
    entry = object.__new__(ServiceEntry)
    object.__setattr__(entry, "service", service)
    object.__setattr__(entry, "dests", dests)
    object.__setattr__(entry, "_index", index)
    return entry


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

    @classmethod
    def _of(cls, entries: dict[ServiceKey, ServiceEntry]) -> ServiceTable:
        """A table over `entries`, already keyed by their services (not shared later)."""
        table = cls.__new__(cls)
        table._entries = entries
        return table

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
                    d[s.key] = d[s.key].serving(s)
                case DeleteService(key=k):
                    if k not in d:
                        raise ModelError(f"No such service: {k}")
                    del d[k]
                case AddDest(key=k, dest=rs):
                    d[k] = _need(d, k).with_dest(rs)
                case EditDest(key=k, dest=rs):
                    e = _need(d, k)
                    if e.dest(rs.key) is None:
                        raise ModelError(f"No such destination: {rs}")
                    d[k] = e.replacing(rs)
                case DeleteDest(key=k, dest=dk):
                    e = _need(d, k)
                    if e.dest(dk) is None:
                        raise ModelError("No such destination")
                    d[k] = e.without(dk)
        return ServiceTable._of(d)


def _need(d: dict[ServiceKey, ServiceEntry], k: ServiceKey) -> ServiceEntry:
    if k not in d:
        raise ModelError(f"Service not defined: {k}")
    return d[k]


def same_table(a: ServiceTable, b: ServiceTable) -> bool:
    """The same services with the same real servers, whatever the order (the kernel lists
    them in its own)."""
    if a.keys() != b.keys():
        return False
    for key, entry in a.items():
        other = b[key]
        if entry.service != other.service or set(entry.dests) != set(other.dests):
            return False
    return True


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
        # The entries' own indexes: building sets of the keys again hashed every address
        # twice more (a 6,000-server reload's diff ran on the loop for ~30 ms).
        new_keys = ne._index
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
        old_dests = oe._index
        for d in ne.dests:
            od = old_dests.get(d.key)
            if od is None:
                adds.append(AddDest(key, d))
            elif od != d:
                edits.append(EditDest(key, d))
    return deletes + adds + edits
