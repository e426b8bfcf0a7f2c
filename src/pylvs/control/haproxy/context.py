"""What a stats socket command runs with: the runtime, the session's state, and its reply.

`CliState` is the per-connection part of HAProxy's appctx (src/cli.c): the level the socket
was opened with (`bind_level`, which also decides whether `show stat` prints addresses) and
the level lowered by `operator` / `user`, the expert / experimental modes, interactive mode,
the severity prefix of messages, the `set timeout cli` value, and the flags a command raises
(`quit`, `nolf`: no newline after this answer).  `Context` is what a handler gets; `Reply` is a
message with its syslog severity (cli_msg / cli_err: 6 info, 5 notice, 4 warning, 3 error), or
a dump (severity None) that `set severity-output` never prefixes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pylvs.control.haproxy.admin import Runtime
from pylvs.model.proxies import SessionView
from pylvs.proto.stick import Level

LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO = 3, 4, 5, 6
PERMISSION_DENIED = "Permission denied\n"
_LEVEL_NAMES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


class Severity(enum.Enum):
    """`set severity-output` / `severity-output` on the socket."""

    NONE = "none"
    NUMBER = "number"
    STRING = "string"


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    severity: int | None = None

    def render(self, output: Severity) -> str:
        """cli_output_msg: "[3]: " or "[err]: " in front of a message when asked."""
        if self.severity is None or output is Severity.NONE or not self.text:
            return self.text
        tag = str(self.severity) if output is Severity.NUMBER else _LEVEL_NAMES[self.severity]
        return f"[{tag}]: {self.text}"


def err(text: str) -> Reply:
    return Reply(text, LOG_ERR)


def msg(text: str, severity: int = LOG_INFO) -> Reply:
    return Reply(text, severity)


@dataclass(slots=True)
class CliState:
    bind_level: Level = Level.ADMIN
    level: Level = Level.ADMIN
    severity: Severity = Severity.NONE
    expert: bool = False
    experimental: bool = False
    prompt: bool = False
    timeout: float | None = None  # `set timeout cli`, seconds
    quit: bool = False
    nolf: bool = False

    def has_level(self, level: Level) -> bool:
        return self.level >= level


@dataclass(frozen=True, slots=True)
class SocketInfo:
    """One stats socket as `show cli sockets` lists it: `unix@/path`, `ipv4@1.2.3.4:9999`."""

    address: str
    level: Level


@dataclass(slots=True)
class Context:
    runtime: Runtime
    state: CliState = field(default_factory=CliState)
    env: Mapping[str, str] = field(default_factory=dict)
    sockets: Sequence[SocketInfo] = ()
    version: str = "2.6.12"
    # The live CLI streams of the socket server itself (`show sess` lists them too).
    cli_sessions: Callable[[], Sequence[SessionView]] | None = None

    def denied(self, level: Level) -> Reply | None:
        """cli_has_level: None when allowed, else the refusal."""
        return None if self.state.has_level(level) else err(PERMISSION_DENIED)


Handler = Callable[[Context, list[str], str | None], Reply]
