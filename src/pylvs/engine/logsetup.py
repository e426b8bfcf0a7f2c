"""Where `pylvs run` logs: the journal or syslog as a service, stderr in a terminal, never both.

keepalived logs through syslog(3) with facility LOG_DAEMON (`-S` picks LOG_LOCAL0-7, user or
daemon) and, with `-l`, also on the console.  Its processes log under their own names
(`Keepalived`, `Keepalived_vrrp`, `Keepalived_healthcheckers`), which is what operators' log
filters match.  pylvs (issue 19 item 2):

* `-l`/`--log-console` or `-G`/`--no-syslog`: stderr only;
* run as a service (systemd's $NOTIFY_SOCKET, $INVOCATION_ID or $JOURNAL_STREAM set) or as a
  forked daemon, or given `-S`: the journal when systemd's journal socket is there and
  $JOURNAL_STREAM names our stderr (systemd.exec(5)), else syslog (/dev/log), else stderr;
* otherwise (in the foreground, a terminal or a redirected stderr): stderr.

`names="keepalived"` makes each record carry keepalived's process name for its part (VRRP
loggers `pylvs.vrrp*` -> Keepalived_vrrp, health `pylvs.health*` -> Keepalived_healthcheckers,
the rest -> Keepalived); the default names them all `pylvs`.  Lines carry keepalived's
wording where it exists.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
import struct
import sys
from collections.abc import Mapping

JOURNAL_SOCKET = "/run/systemd/journal/socket"
SYSLOG_SOCKET = "/dev/log"
SERVICE_VARIABLES = ("NOTIFY_SOCKET", "INVOCATION_ID", "JOURNAL_STREAM")

FACILITIES = {
    "daemon": logging.handlers.SysLogHandler.LOG_DAEMON,
    "user": logging.handlers.SysLogHandler.LOG_USER,
    **{f"local{i}": logging.handlers.SysLogHandler.LOG_LOCAL0 + i for i in range(8)},
}
KEEPALIVED_NAMES = {
    "pylvs.vrrp": "Keepalived_vrrp",
    "pylvs.health": "Keepalived_healthcheckers",
    "": "Keepalived",
}
# syslog priorities (sys/syslog.h) of Python's levels.
PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}


def parse_facility(text: str) -> int:
    """keepalived -S: `0`-`7` (LOG_LOCAL0-7), `local0`-`local7`, `user` or `daemon`."""
    word = text.strip().lower()
    if word.isdigit() and len(word) == 1 and int(word) < 8:
        word = f"local{word}"
    if word not in FACILITIES:
        raise ValueError(f"invalid log facility {text!r} (0-7, local0-local7, user or daemon)")
    return FACILITIES[word]


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def under_service_manager(environ: Mapping[str, str] | None = None) -> bool:
    return any(_env(environ).get(v) for v in SERVICE_VARIABLES)


def journal_is_stderr(environ: Mapping[str, str] | None = None) -> bool:
    """$JOURNAL_STREAM is `DEV:INODE` of the stream systemd gave us: is it still stderr?
    (systemd.exec(5): only then is the journal where this service's output goes.)"""
    try:
        dev, ino = (int(x) for x in _env(environ).get("JOURNAL_STREAM", "").split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def choose_destination(
    *,
    console: bool = False,
    no_syslog: bool = False,
    daemon: bool = False,
    facility_given: bool = False,
    environ: Mapping[str, str] | None = None,
    exists: Mapping[str, bool] | None = None,
    stderr_is_journal: bool | None = None,
) -> str:
    """ "stderr", "journal" or "syslog" by the rules in the module docstring."""
    if console or no_syslog:
        return "stderr"
    if not (daemon or facility_given or under_service_manager(environ)):
        return "stderr"
    have = exists or {p: os.path.exists(p) for p in (JOURNAL_SOCKET, SYSLOG_SOCKET)}
    if stderr_is_journal is None:
        stderr_is_journal = journal_is_stderr(environ)
    if stderr_is_journal and have.get(JOURNAL_SOCKET) and not facility_given:
        return "journal"
    if have.get(SYSLOG_SOCKET):
        return "syslog"
    return "stderr"


def ident_for(logger: str, names: str) -> str:
    if names != "keepalived":
        return "pylvs"
    for prefix, name in KEEPALIVED_NAMES.items():
        if prefix and (logger == prefix or logger.startswith(prefix + ".")):
            return name
    return KEEPALIVED_NAMES[""]


class _IdentFilter(logging.Filter):
    """Puts the process name of the record's part in `record.ident` (syslog, journal) and
    what the console shows in `record.label` (the logger's name unless keepalived's names
    were asked for)."""

    def __init__(self, names: str) -> None:
        super().__init__()
        self.names = names

    def filter(self, record: logging.LogRecord) -> bool:
        ident = ident_for(record.name, self.names)
        record.ident = ident
        record.label = ident if self.names == "keepalived" else record.name
        return True


class JournalHandler(logging.Handler):
    """systemd's native journal protocol (systemd.journal-fields(7), sd_journal_sendv)."""

    def __init__(self, facility: int, path: str = JOURNAL_SOCKET) -> None:
        super().__init__()
        self.facility = facility
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.dropped = 0

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        """The journal is gone (stopping, restarting): count the record, print nothing.
        Python would print a traceback on stderr, which systemd sends to that same journal."""
        self.dropped += 1

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {
                "MESSAGE": self.format(record),
                "PRIORITY": str(PRIORITIES.get(record.levelno, 6)),
                "SYSLOG_FACILITY": str(self.facility),
                "SYSLOG_IDENTIFIER": getattr(record, "ident", "pylvs"),
                "SYSLOG_PID": str(os.getpid()),
            }
            self.sock.sendto(journal_datagram(fields), self.path)
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self.sock.close()
        super().close()


def journal_datagram(fields: Mapping[str, str]) -> bytes:
    """KEY=value lines; a value with a newline goes as KEY, 64-bit length, bytes."""
    out = bytearray()
    for key, value in fields.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


def _syslog_handler(facility: int) -> logging.Handler:
    handler = logging.handlers.SysLogHandler(SYSLOG_SOCKET, facility=facility)
    handler.setFormatter(logging.Formatter(f"%(ident)s[{os.getpid()}]: %(message)s"))
    return handler


def setup_logging(
    level: str = "INFO",
    *,
    syslog: bool = True,
    destination: str | None = None,
    facility: int = FACILITIES["daemon"],
    names: str = "pylvs",
) -> str:
    """Route the root logger to one destination; returns which one.

    `destination` is choose_destination()'s answer; without it, `syslog=False` means
    stderr and `syslog=True` the same rules for a foreground process.
    """
    if destination is None:
        destination = choose_destination(no_syslog=not syslog)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    root.setLevel(level.upper())
    handler: logging.Handler
    try:
        if destination == "journal":
            handler = JournalHandler(facility)
            handler.setFormatter(logging.Formatter("%(message)s"))
        elif destination == "syslog":
            handler = _syslog_handler(facility)
        else:
            raise OSError("stderr")
    except OSError:
        destination = "stderr"
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(label)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(_IdentFilter(names))
    root.addHandler(handler)
    return destination
