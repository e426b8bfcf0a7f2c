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
which takes the restore's changes only once it is over; `_building_view` lays the state
being built over that snapshot (see there for the numbers it keeps).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.resolver import NUMERIC, Resolver
from pylvs.control.ipvsadm.session import (
    Emit,
    Result,
    SnapshotFn,
    State,
    default_snapshot,
    run_argv,
)
from pylvs.control.ipvsadm.snapshot import (
    DEFAULT_TIMEOUTS,
    ZERO_RATES,
    ZERO_STATS,
    DaemonView,
    DestView,
    ServiceView,
    Snapshot,
    Timeouts,
)
from pylvs.model import Address, RealServer, ServiceKey, ServiceTable
from pylvs.model import table as mt

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
class _Done:
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


def _building_view(snapshot: SnapshotFn, done: _Done) -> SnapshotFn:
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
    state: State, key: ServiceKey, known: dict[ServiceKey, ServiceView], done: _Done
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


def restore_state(
    text: str,
    state: State,
    *,
    prog: str = "ipvsadm",
    resolver: Resolver = NUMERIC,
    snapshot: SnapshotFn = default_snapshot,
    no_sync: str | None = None,
    sync_by_kernel: bool = False,
) -> Result:
    """Run every line of `text` against `state` as ipvsadm -R does (`no_sync`,
    `sync_by_kernel`: run_command)."""
    output: list[Emit] = []
    changes: list[mt.Change] = []
    zeros: list[ServiceKey | None] = []
    syncs: list[c.StartDaemon | c.StopDaemon] = []
    status = 0
    done = _Done(state)
    view = _building_view(snapshot, done)
    for tokens in split_restore_lines(text):
        r = run_argv(
            [prog, *tokens],
            state,
            reading_stdin=True,
            resolver=resolver,
            snapshot=view,
            no_sync=no_sync,
            sync_by_kernel=sync_by_kernel,
        )
        done.note(state, r)
        output.extend(r.output)
        changes.extend(r.changes)
        zeros.extend(r.zeros)
        syncs.extend(r.syncs)
        state = r.state
        status = r.exit_code
        if r.aborted:
            return Result(
                state, tuple(output), status, True, tuple(changes), tuple(zeros), tuple(syncs)
            )
    return Result(state, tuple(output), status, False, tuple(changes), tuple(zeros), tuple(syncs))


@dataclass(frozen=True, slots=True)
class RestoreResult:
    table: ServiceTable
    timeouts: Timeouts
    output: tuple[Emit, ...]
    exit_code: int
    daemons: tuple[DaemonView, ...] = ()
    zeros: tuple[ServiceKey | None, ...] = ()


def restore(
    text: str,
    table: ServiceTable,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    *,
    daemons: tuple[DaemonView, ...] = (),
    prog: str = "ipvsadm",
    resolver: Resolver = NUMERIC,
) -> RestoreResult:
    """`ipvsadm -R < text`: the table and timeouts after it, what it printed, its status."""
    r = restore_state(text, State(table, timeouts, daemons), prog=prog, resolver=resolver)
    return RestoreResult(
        r.state.table, r.state.timeouts, r.output, r.exit_code, r.state.daemons, r.zeros
    )
