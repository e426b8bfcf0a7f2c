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
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.control.ipvsadm.resolver import NUMERIC, Resolver
from pylvs.control.ipvsadm.session import (
    Emit,
    Result,
    SnapshotFn,
    State,
    default_snapshot,
    run_argv,
)
from pylvs.control.ipvsadm.snapshot import DEFAULT_TIMEOUTS, DaemonView, Timeouts
from pylvs.model import ServiceKey, ServiceTable
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


def restore_state(
    text: str,
    state: State,
    *,
    prog: str = "ipvsadm",
    resolver: Resolver = NUMERIC,
    snapshot: SnapshotFn = default_snapshot,
) -> Result:
    """Run every line of `text` against `state` as ipvsadm -R does."""
    output: list[Emit] = []
    changes: list[mt.Change] = []
    zeros: list[ServiceKey | None] = []
    status = 0
    for tokens in split_restore_lines(text):
        r = run_argv(
            [prog, *tokens], state, reading_stdin=True, resolver=resolver, snapshot=snapshot
        )
        output.extend(r.output)
        changes.extend(r.changes)
        zeros.extend(r.zeros)
        state = r.state
        status = r.exit_code
        if r.aborted:
            return Result(state, tuple(output), status, True, tuple(changes), tuple(zeros))
    return Result(state, tuple(output), status, False, tuple(changes), tuple(zeros))


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
