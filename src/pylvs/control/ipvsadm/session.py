"""One whole `ipvsadm` run, pure: argv + state in, output + new state + exit status out.

This ties the parser, `execute` and the printers together the way ipvsadm.c `main` and
`process_options` do, so the `pylvs ipvsadm` driver only has to fetch the state (or a
`Snapshot` with live counters) from the daemon, call `run_argv`, print `output` in order
and send back `state` / `zeros`.  `-R` reads `stdin` (see `restore`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.args import parse
from pylvs.control.ipvsadm.conns import list_conn
from pylvs.control.ipvsadm.execute import execute
from pylvs.control.ipvsadm.format import list_all, list_daemon, list_service, list_timeout
from pylvs.control.ipvsadm.help import VERSION_LINE, usage
from pylvs.control.ipvsadm.messages import Failure, Stream, kernel_error
from pylvs.control.ipvsadm.outcome import Emit as Emit
from pylvs.control.ipvsadm.outcome import Result as Result
from pylvs.control.ipvsadm.outcome import SnapshotFn as SnapshotFn
from pylvs.control.ipvsadm.outcome import State as State
from pylvs.control.ipvsadm.outcome import default_snapshot as default_snapshot
from pylvs.control.ipvsadm.resolver import NUMERIC, Resolver
from pylvs.control.ipvsadm.restore import Done, building_view, split_restore_lines
from pylvs.control.ipvsadm.save import save
from pylvs.model import ServiceKey, ServiceTable
from pylvs.model import table as mt
from pylvs.model.conn import Timeouts
from pylvs.model.snapshot import DEFAULT_TIMEOUTS, DaemonView, Snapshot


def render_list(cmd: c.List | c.Save, snap: Snapshot, resolver: Resolver) -> str | Failure:
    """The stdout text of a listing command (or list_service's "No such service")."""
    if isinstance(cmd, c.Save):
        return save(snap, bool(cmd.fmt & c.Fmt.NUMERIC), resolver)
    match cmd.what:
        case c.ListWhat.CONNECTIONS:
            return list_conn(snap.conns, cmd.fmt, resolver)
        case c.ListWhat.SERVICE:
            assert cmd.key is not None
            return list_service(snap, cmd.key, cmd.fmt, resolver)
        case c.ListWhat.TIMEOUT:
            return list_timeout(snap.timeouts)
        case c.ListWhat.DAEMON:
            return list_daemon(snap)
    return list_all(snap, cmd.fmt, resolver)


def _failure(state: State, f: Failure) -> Result:
    return Result(state, (Emit(f.stream, f.text),), f.exit_code, aborted=f.aborts)


def run_command(
    cmd: c.Command,
    state: State,
    *,
    stdin: str = "",
    prog: str = "ipvsadm",
    resolver: Resolver = NUMERIC,
    snapshot: SnapshotFn = default_snapshot,
    no_sync: str | None = None,
    sync_by_kernel: bool = False,
) -> Result:
    """Carry out a parsed command.

    `no_sync`: connection synchronisation is not available; --start-daemon / --stop-daemon
    fail with this message as a failed kernel call (status 255), in a `-R` input as well.
    `sync_by_kernel`: a kernel runs the sync daemons and judges the requests itself (its
    checks come in its own order: an unknown interface before a daemon already running),
    so they are passed on in `syncs` unchecked.
    """
    match cmd:
        case c.Help(prog=name):
            return Result(state, (Emit(Stream.STDOUT, usage(name)),), 0, aborted=True)
        case c.Version():
            return Result(state, (Emit(Stream.STDOUT, VERSION_LINE),), 0, aborted=True)
        case c.Restore():
            return restore_state(
                stdin,
                state,
                prog=prog,
                resolver=resolver,
                snapshot=snapshot,
                no_sync=no_sync,
                sync_by_kernel=sync_by_kernel,
            )
        case c.List() | c.Save():
            text = render_list(cmd, snapshot(state), resolver)
            if isinstance(text, Failure):
                return _failure(state, text)
            return Result(state, (Emit(Stream.STDOUT, text),) if text else ())
        case c.StartDaemon() | c.StopDaemon() if no_sync is not None:
            return _failure(state, kernel_error(no_sync))
        case c.StartDaemon() | c.StopDaemon() if sync_by_kernel:
            return Result(state, syncs=(cmd,))
    out = execute(cmd, state.table, state.timeouts, state.daemons)
    new_state = State(out.table, out.timeouts, out.daemons)
    if out.error is not None:
        return _failure(new_state, out.error)
    zeros: tuple[ServiceKey | None, ...] = ()
    if out.zero_all:
        zeros = (None,)
    elif out.zero is not None:
        zeros = (out.zero,)
    syncs = (cmd,) if isinstance(cmd, c.StartDaemon | c.StopDaemon) else ()
    return Result(new_state, changes=out.changes, zeros=zeros, syncs=syncs)


def run_argv(
    argv: list[str],
    state: State,
    *,
    stdin: str = "",
    reading_stdin: bool = False,
    resolver: Resolver = NUMERIC,
    snapshot: SnapshotFn = default_snapshot,
    no_sync: str | None = None,
    sync_by_kernel: bool = False,
) -> Result:
    """`ipvsadm argv[1:]` against `state` (argv[0] is the name used in messages)."""
    cmd = parse(argv, reading_stdin=reading_stdin, resolver=resolver)
    if isinstance(cmd, Failure):
        return _failure(state, cmd)
    prog = argv[0] if argv else "ipvsadm"
    return run_command(
        cmd,
        state,
        stdin=stdin,
        prog=prog,
        resolver=resolver,
        snapshot=snapshot,
        no_sync=no_sync,
        sync_by_kernel=sync_by_kernel,
    )


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
    done = Done(state)
    view = building_view(snapshot, done)
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
