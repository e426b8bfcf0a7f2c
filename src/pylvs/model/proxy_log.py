"""Where and how a HAProxy-style proxy logs, as values (HAProxy 2.6 configuration manual §4.2
`log`, `log-tag`, global `log-send-hostname`; src/log.c parse_logsrv).

A `LogTarget` is one `log` line after `log global` was expanded: a UDP address (IPv4 or
IPv6, port 514 unless given), a unix datagram socket (`/dev/log`, `unix@PATH`) or a
descriptor (`stdout`, `stderr`, `fd@N`), the header format, the facility, the highest level
sent (`level`), the lowest level a line is raised to (`min_level`), the length a line is cut
to, and the `sample` ranges that pick which lines go there.  `ProxyLog` is what a proxy (or
the global section) logs to and under which tag.  The levels and facilities are numbers, as
in syslog (RFC 5424 §6.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
    "uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
# The header formats of `log ... format F` (log.c log_formats[]); "" is HAProxy's
# unspecified one: "local" (no host name) unless log-send-hostname gives one, then "rfc3164".
FORMATS = ("local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw")
MAX_SYSLOG_LEN = 1024  # a target's default `len`
SYSLOG_PORT = 514


@dataclass(frozen=True, slots=True)
class LogTarget:
    """One `log` target (see the module doc).  `kind` "udp": `host` an IP address or a
    name to resolve; "unix": `host` the socket's path; "fd": `fd` the descriptor."""

    kind: str  # "udp" | "unix" | "fd"
    facility: int
    host: str = ""
    port: int = SYSLOG_PORT
    fd: int = -1
    format: str = ""  # one of FORMATS, "" unspecified
    level: int = 7  # lines above it (less severe) are not sent here
    min_level: int = 0  # lines below it (more severe) are sent at it
    maxlen: int = MAX_SYSLOG_LEN
    sample: tuple[tuple[int, int], ...] = ()  # (low, high) ranges, 1-based, sorted
    sample_size: int = 0
    where: str = ""  # FILE:LINE of its `log` line

    def __str__(self) -> str:
        if self.kind == "fd":
            return {1: "stdout", 2: "stderr"}.get(self.fd, f"fd@{self.fd}")
        if self.kind == "unix":
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class LineFormat(Protocol):
    """A compiled log-format (proto/rules/logfmt.LogFormat): built over a stream that
    carries its end facts (proto/log/traffic.LoggedStream)."""

    @property
    def text(self) -> str: ...

    def build(self, s: Any) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ProxyLog:
    """What one proxy (or `global`) logs to: its targets in order and its `log-tag`
    (None: the global one, or the program's name).  A frontend's traffic lines: `format`
    (`option tcplog`, `log-format`...; None: a "Connect from" line at each accept),
    `dontlognull` (no line for a client that sent nothing), `logasap` (the line is sent
    once the server is connected, not at the end)."""

    targets: tuple[LogTarget, ...] = ()
    tag: str | None = None
    format: LineFormat | None = None
    dontlognull: bool = False
    logasap: bool = False


NO_LOG = ProxyLog()
