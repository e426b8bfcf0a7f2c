"""`ipvsadm -R`: commands from stdin, one per line (config_stream.c, ipvsadm.c
`restore_table`).

Tokenising (`config_stream_read`): tokens are runs of characters other than space, tab, CR
and LF (at most 4096 each); a token exactly `ipvsadm` is dropped, so lines may start with
it; a line with no other token is skipped.  The code meant to drop `#` comments looks at
the whitespace after a token rather than the token, so it never fires: a `#` is an
ordinary token (which is why the ipvsadm-restore script strips `^#` lines with grep; see
`strip_comment_lines`).  If the input ends without a newline right after two or more
blanks, that last line is lost (the blank-skipping loop hits EOF and discards it).

Each line runs as a full command with `reading_stdin` set: a syntax error (`fail`, status
2) or `tryhelp` (255, e.g. a nested -R) ends the whole restore, as do -h/-v (status 0) and
a listing of a missing service (status 1); a failed kernel call or a popt error is printed
and the next line runs.  The status is that of the last line run.

Each line's kernel call is made before the next line is read, so a listing line (`-L`, `-S`)
shows what the lines before it did.  A daemon's snapshot callback reads its data plane,
which takes the restore's changes only once it is over; `building_view` lays the state
being built over that snapshot (see there for the numbers it keeps).  The lines themselves
are run by session.py (`restore_state`), which is what runs every command.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pylvs.control.ipvsadm.outcome import Result, SnapshotFn, State
from pylvs.model import Address, RealServer, ServiceKey
from pylvs.model import table as mt
from pylvs.model.snapshot import ZERO_RATES, ZERO_STATS, DestView, ServiceView, Snapshot

_WS = " \t\n\r"
MAX_TOKEN = 4096  # config_stream.h MAX_LINE_LENGTH


def split_restore_lines(text: str) -> list[list[str]]:
    """The token lists config_stream_read returns for `text`, skipped lines left out."""
    lines: list[list[str]] = []
    pos, n = 0, len(text)
    tokens: list[str] = []
    while True:
        if pos >= n:
            if tokens:
                lines.append(tokens)
            return lines
        if text[pos] in _WS:
            while True:
                if pos >= n:
                    return lines  # EOF while skipping blanks: this line is dropped
                ch = text[pos]
                pos += 1
                if ch == "\n":
                    if tokens:
                        lines.append(tokens)
                    tokens = []
                    break
                if ch not in _WS:
                    pos -= 1
                    break
            continue
        end = pos
        while end < n and text[end] not in _WS and end - pos < MAX_TOKEN:
            end += 1
        token = text[pos:end]
        pos = end
        tail = ""
        if pos < n and text[pos] in _WS:
            tail = text[pos]
            pos += 1
        if token != "ipvsadm":
            tokens.append(token)
        if tail == "\n":
            if tokens:
                lines.append(tokens)
            tokens = []


def strip_comment_lines(text: str) -> str:
    """ipvsadm-restore's `grep -v '^#'`: drop the lines that start with '#'."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))


@dataclass(slots=True)
class Done:
    """What the lines run so far did that the caller's snapshot may not show yet."""

    start: State
    deleted: set[ServiceKey] = field(default_factory=set)  # -D / -C
    deleted_dests: set[tuple[ServiceKey, tuple[Address, int]]] = field(default_factory=set)
    zeroed: set[ServiceKey] = field(default_factory=set)  # -Z

    def note(self, before: State, r: Result) -> None:
        for ch in r.changes:
            if isinstance(ch, mt.DeleteService):
                self.deleted.add(ch.key)
            elif isinstance(ch, mt.DeleteDest):
                self.deleted_dests.add((ch.key, ch.dest))
        for z in r.zeros:
            self.zeroed.update(before.table if z is None else (z,))

    def table_touched(self, state: State) -> bool:
        return state.table != self.start.table or bool(
            self.deleted or self.deleted_dests or self.zeroed
        )


def building_view(snapshot: SnapshotFn, done: Done) -> SnapshotFn:
    """`snapshot`, with what the restore did so far laid over it.

    Until a line changes something the caller's snapshot is used as it is.  After that the
    services and dests are those of the state being built.  Order: the snapshot's, except
    that what was added (or deleted and added again) comes as the kernel puts it: services
    after the others, dests first, newest first.  Numbers: what the snapshot has for a
    service or dest, as the kernel keeps them; a dest deleted and added again keeps its own
    too (the kernel revives it from its trash).  A service deleted (then added again) or
    zeroed during the restore has its counters and rates, and its dests', start from zero
    (ip_vs_ctl.c: a new service object, and a dest revived for another service object has
    its stats zeroed; -Z zeroes both); connection counts stay.  Timeouts and sync daemons
    are the state's once a line changed them.  Over a snapshot made from the state itself
    (`default_snapshot`) this changes nothing.
    """

    def view(state: State) -> Snapshot:
        live = snapshot(state)
        if state.timeouts != done.start.timeouts:
            live = replace(live, timeouts=state.timeouts)
        if state.daemons != done.start.daemons:
            live = replace(live, daemons=state.daemons)
        if not done.table_touched(state):
            return live
        known = {v.service.key: v for v in live.services}
        order = [k for k in known if k in state.table and k not in done.deleted]
        kept = set(order)
        order += [k for k in state.table if k not in kept]
        return replace(live, services=tuple(_service_view(state, k, known, done) for k in order))

    return view


def _service_view(
    state: State, key: ServiceKey, known: dict[ServiceKey, ServiceView], done: Done
) -> ServiceView:
    entry = state.table[key]
    old = known.get(key)
    renewed = key in done.deleted
    zero = renewed or key in done.zeroed
    old_dests = {d.config.key: d for d in old.dests} if old is not None else {}

    def moved(d: RealServer) -> bool:
        return d.key not in old_dests or renewed or (key, d.key) in done.deleted_dests

    def dest_view(d: RealServer) -> DestView:
        o = old_dests.get(d.key)
        if o is None:
            return DestView(config=d)
        if zero:
            return replace(o, config=d, stats=ZERO_STATS, rates=ZERO_RATES)
        return replace(o, config=d)

    configs = {d.key: d for d in entry.dests}
    dests = [dest_view(d) for d in reversed(entry.dests) if moved(d)]
    dests += [dest_view(configs[k]) for k in old_dests if k in configs and not moved(configs[k])]
    if old is None or zero:
        return ServiceView(entry.service, dests=tuple(dests))
    return replace(old, service=entry.service, dests=tuple(dests))
