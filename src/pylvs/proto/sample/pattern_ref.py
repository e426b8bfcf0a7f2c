"""Pattern references: the lists behind `acl ... -f FILE`, inline ACL patterns and maps.

HAProxy (src/pattern.c, `struct pat_ref`) loads each file once and shares it between every
ACL and map converter that names it; the stats socket can change it at run time (`add map`,
`del acl`, `clear map`, ...) and every user sees the change.  A reference here is an ordered
list of entries (a key and, for maps, a value) with a generation number that users compare
to know when to rebuild what they derived from it.

File formats (pattern.c pat_ref_read_from_file / pat_ref_read_from_file_smp): lines starting
with `#` and blank lines are skipped, leading blanks are stripped; an ACL line is one pattern
up to the end of line (inner spaces included); a map line is a key (up to the first blank)
and a value (the rest of the line, outer blanks trimmed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

ReadFile = Callable[[str], bytes | None]


class PatternFileError(ValueError):
    """A pattern or map file that cannot be read (HAProxy's message)."""


@dataclass(frozen=True, slots=True)
class Entry:
    key: bytes
    value: bytes | None = None
    line: int = 0


class PatternRef:
    """One shared list of patterns (struct pat_ref)."""

    __slots__ = ("display", "entries", "generation", "is_map", "name", "uid")

    def __init__(self, name: str, *, is_map: bool, uid: int, display: str = "") -> None:
        self.name = name
        self.is_map = is_map
        self.uid = uid  # the `#<id>` the stats socket names it by
        self.display = display or name
        self.entries: list[Entry] = []
        self.generation = 0

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def _changed(self) -> None:
        self.generation += 1

    def add(self, key: bytes, value: bytes | None = None) -> None:
        """pat_ref_add: a new entry at the end."""
        self.entries.append(Entry(key, value))
        self._changed()

    def delete(self, key: bytes) -> bool:
        """pat_ref_delete: every entry with this key; whether any was found."""
        kept = [e for e in self.entries if e.key != key]
        found = len(kept) != len(self.entries)
        self.entries = kept
        if found:
            self._changed()
        return found

    def remove(self, entries: list[Entry]) -> None:
        """pat_ref_delete_by_id: these very entries (the stats socket's `#0x...`)."""
        gone = {id(e) for e in entries}
        self.entries = [e for e in self.entries if id(e) not in gone]
        self._changed()

    def update(self, entries: list[Entry], value: bytes) -> None:
        """pat_ref_set(_by_id): these entries get `value`."""
        chosen = {id(e) for e in entries}
        self.entries = [Entry(e.key, value, e.line) if id(e) in chosen else e for e in self.entries]
        self._changed()

    def set(self, key: bytes, value: bytes) -> bool:
        """pat_ref_set: the value of every entry with this key; whether any was found."""
        found = False
        for i, e in enumerate(self.entries):
            if e.key == key:
                self.entries[i] = Entry(e.key, value, e.line)
                found = True
        if found:
            self._changed()
        return found

    def clear(self) -> None:
        self.entries = []
        self._changed()

    def load_acl(self, data: bytes) -> None:
        for n, raw in enumerate(data.split(b"\n"), 1):
            if raw[:1] == b"#":
                continue
            line = raw.lstrip(b" \t")
            for stop in (b"\r", b"\n"):
                line = line.split(stop, 1)[0]
            if line:
                self.entries.append(Entry(line, None, n))
        self._changed()

    def load_map(self, data: bytes) -> None:
        for n, raw in enumerate(data.split(b"\n"), 1):
            if raw[:1] == b"#":
                continue
            line = raw.lstrip(b" \t").split(b"\r", 1)[0]
            if not line:
                continue
            end = 0
            while end < len(line) and line[end] not in b" \t":
                end += 1
            value = line[end:].lstrip(b" \t").rstrip(b" \t")
            self.entries.append(Entry(line[:end], value, n))
        self._changed()


class PatternStore:
    """Every pattern reference of a configuration, by file name (and by `#id`)."""

    def __init__(self, read_file: ReadFile | None = None) -> None:
        self.read_file = read_file
        self.refs: dict[str, PatternRef] = {}
        # Each file's bytes as read at load: a reload compares them (HAProxy reads every
        # file again on reload), never the live entries `add acl` edits.
        self.loaded: dict[str, bytes] = {}
        self._next_uid = 0

    def _new(self, name: str, *, is_map: bool, display: str = "") -> PatternRef:
        ref = PatternRef(name, is_map=is_map, uid=self._next_uid, display=display)
        self._next_uid += 1
        self.refs[name] = ref
        return ref

    def file(self, path: str, *, is_map: bool, display: str = "") -> PatternRef:
        """The shared reference of file `path`, loaded on first use (pat_ref_lookup, then
        pat_ref_read_from_file[_smp]; `display`: what `show acl|map` says of it, from that
        first use); raises PatternFileError."""
        ref = self.refs.get(path)
        if ref is not None:
            return ref
        if self.read_file is None:
            raise PatternFileError(f"failed to open pattern file <{path}>")
        data = self.read_file(path)
        if data is None:
            raise PatternFileError(f"failed to open pattern file <{path}>")
        self.loaded[path] = data
        ref = self._new(path, is_map=is_map, display=display)
        if is_map:
            ref.load_map(data)
        else:
            ref.load_acl(data)
        return ref

    def inline(self, patterns: list[bytes], display: str) -> PatternRef:
        """The anonymous reference of an ACL's inline patterns."""
        ref = self._new(f"#anonymous-{self._next_uid}", is_map=False, display=display)
        for p in patterns:
            ref.entries.append(Entry(p))
        return ref

    def lookup(self, name: str) -> PatternRef | None:
        """A reference by file name or `#<id>` as the stats socket names it."""
        if name.startswith("#") and name[1:].isdigit():
            uid = int(name[1:])
            return next((r for r in self.refs.values() if r.uid == uid), None)
        return self.refs.get(name)
