"""`pylvs ipvsadm`: a byte-compatible clone of ipvsadm 1.31 that talks to the pylvs daemon.

Pure core (no I/O): `parse` (argv -> Command | Failure), `execute` (Command + table ->
Outcome), the printers (`list_all`, `list_service`, `list_conn`, `save`, `usage`), `restore`
and `run_argv`, which does one whole invocation.  Host name look-ups come in through a
`Resolver`; `system_resolver.system_resolver()` is the one that asks the host.
"""

from pylvs.control.ipvsadm.args import parse
from pylvs.control.ipvsadm.command import Command, Fmt, ListWhat
from pylvs.control.ipvsadm.conns import list_conn
from pylvs.control.ipvsadm.execute import Outcome, execute
from pylvs.control.ipvsadm.format import list_all, list_daemon, list_service, list_timeout
from pylvs.control.ipvsadm.help import VERSION_LINE, usage
from pylvs.control.ipvsadm.messages import Failure, Stream
from pylvs.control.ipvsadm.resolver import NUMERIC, Resolver
from pylvs.control.ipvsadm.restore import split_restore_lines, strip_comment_lines
from pylvs.control.ipvsadm.save import save
from pylvs.control.ipvsadm.session import (
    Emit,
    RestoreResult,
    Result,
    State,
    render_list,
    restore,
    run_argv,
)
from pylvs.model.conn import Timeouts
from pylvs.model.snapshot import (
    ConnView,
    DaemonView,
    DestView,
    ServiceView,
    Snapshot,
    Stats,
    snapshot_from_table,
)
from pylvs.model.stats import Rates

__all__ = [
    "NUMERIC",
    "VERSION_LINE",
    "Command",
    "ConnView",
    "DaemonView",
    "DestView",
    "Emit",
    "Failure",
    "Fmt",
    "ListWhat",
    "Outcome",
    "Rates",
    "Resolver",
    "RestoreResult",
    "Result",
    "ServiceView",
    "Snapshot",
    "State",
    "Stats",
    "Stream",
    "Timeouts",
    "execute",
    "list_all",
    "list_conn",
    "list_daemon",
    "list_service",
    "list_timeout",
    "parse",
    "render_list",
    "restore",
    "run_argv",
    "save",
    "snapshot_from_table",
    "split_restore_lines",
    "strip_comment_lines",
    "usage",
]
