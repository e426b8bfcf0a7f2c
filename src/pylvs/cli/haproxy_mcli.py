"""The master CLI of `pylvs haproxy -W -S ADDR` (HAProxy 2.6 src/cli.c, src/mworker.c).

A line holds commands separated by `;`.  A command prefixed `@N` (the current worker of
relative number N: there is one, 1), `@!PID` (any worker or program by its pid) or `@master`
goes to that process: a worker's answer is its stats socket's (the master reaches each worker
on a private socket it gave it, as HAProxy's master reaches its workers on a socket pair).  The
master itself answers `show proc` (HAProxy's table of processes), `reload`, `show version`,
`show cli level`, `show cli sockets`, `operator`, `user`, `help`, `prompt` and `quit`; anything
else gets HAProxy's "Unknown command" answer with the closest commands
(control/haproxy/keywords.py, over the master's own list).  Each answer ends with an empty
line.  Without `prompt` the connection closes after the first line, as HAProxy's does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pylvs.cli.haproxy_msgs import FULL_VERSION
from pylvs.control.haproxy.keywords import Keyword, usage

# The master's keywords, in HAProxy's registration order (cli.c's, then mworker.c's).
MASTER_KEYWORDS: tuple[Keyword, ...] = (
    (("show", "cli", "sockets"), "show cli sockets                        : dump list of cli sockets", "m"),  # noqa: E501
    (("show", "cli", "level"), "show cli level                          : display the level of the current CLI session", "m"),  # noqa: E501
    (("show", "version"), "show version                            : show version of the current process", "m"),  # noqa: E501
    (("operator",), "operator                                : lower the level of the current CLI session to operator", "m"),  # noqa: E501
    (("user",), "user                                    : lower the level of the current CLI session to user", "m"),  # noqa: E501
    (("@<relative pid>",), "@<relative pid>                         : send a command to the <relative pid> process", "m"),  # noqa: E501
    (("@!<pid>",), "@!<pid>                                 : send a command to the <pid> process", "m"),  # noqa: E501
    (("@master",), "@master                                 : send a command to the master process", "m"),  # noqa: E501
    (("show", "proc"), "show proc                               : show processes status", "m"),
    (("reload",), "reload                                  : reload haproxy", "m"),
)  # fmt: skip
LEVELS = ("user", "operator", "admin")


@dataclass
class Proc:
    """A process the master started: a worker or a `program`."""

    pid: int
    name: str  # "worker", or the program's id
    program: bool = False
    reloads: int = 0
    started: float = field(default_factory=time.time)
    version: str = FULL_VERSION
    leaving: bool = False  # replaced by a reload, finishing its work


def uptime(seconds: float) -> str:
    up = max(int(seconds), 0)
    return f"{up // 86400}d{up % 86400 // 3600:02d}h{up % 3600 // 60:02d}m{up % 60:02d}s"


def show_proc(
    master_pid: int, counts: tuple[int, int], started: float, procs: Sequence[Proc], now: float
) -> str:
    """mworker.c cli_io_handler_show_proc; `counts`: the master's reloads and failed ones."""
    reloads, failed = counts
    out = f"#{'<PID>':<14} {'<type>':<15} {'<reloads>':<15} {'<uptime>':<15} {'<version>':<15}\n"
    out += (
        f"{master_pid:<15} {'master':<15} {f'{reloads} [failed: {failed}]':<15}"
        f" {uptime(now - started):<15} {FULL_VERSION:<15}\n"
    )
    for title, program in (("workers", False), ("programs", True)):
        mine = [p for p in procs if p.program == program]
        out += f"# {title}\n"
        out += "".join(_row(p, now) for p in mine if not p.leaving)
        old = [p for p in mine if p.leaving]
        if old:
            out += f"# old {title}\n" + "".join(_row(p, now) for p in old)
    return out


def _row(p: Proc, now: float) -> str:
    version = "-" if p.program else p.version
    return f"{p.pid:<15} {p.name:<15} {p.reloads:<15} {uptime(now - p.started):<15} {version:<15}\n"


def target_pid(prefix: str, procs: Sequence[Proc]) -> int | None:
    """cli.c pcli_prefix_to_pid: `@master` is 0, `@!PID` a child's pid, `@N` the current
    worker N (-1: no such process)."""
    if prefix == "@master":
        return 0
    if prefix.startswith("@!"):
        text = prefix[2:]
        if text.isdigit() and any(p.pid == int(text) for p in procs):
            return int(text)
        return -1
    text = prefix[1:]
    if text.isdigit() and int(text) == 1:
        current = [p for p in procs if not p.program and not p.leaving]
        return current[0].pid if current else -1
    return -1


@dataclass(frozen=True)
class Relay:
    """Send `command` to the process `pid` and pass its answer on."""

    pid: int
    command: str


def route(words: Sequence[str], procs: Sequence[Proc]) -> tuple[list[str], Relay | str | None]:
    """Where a command goes: the master's own words (None), a worker (Relay), or the error
    to answer as it is (str; HAProxy ends it with no empty line)."""
    if not words or not words[0].startswith("@"):
        return list(words), None
    pid = target_pid(words[0], procs)
    if pid is None or pid < 0:
        return [], f"Can't find the target PID matching the prefix '{words[0]}'\n"
    if len(words) == 1:
        return [], ""  # a bare prefix: nothing to run
    if pid > 0:
        return [], Relay(pid, " ".join(words[1:]))
    return list(words[1:]), None


def split_commands(line: str) -> list[str]:
    """A request line's commands: `;` separates them (a `\\;` stays in the command)."""
    commands, current, escaped = [], "", False
    for c in line.rstrip("\r\n"):
        if escaped:
            current += c
            escaped = False
        elif c == "\\":
            current += c
            escaped = True
        elif c == ";":
            commands.append(current.strip())
            current = ""
        else:
            current += c
    commands.append(current.strip())
    return [c for c in commands if c]


def master_answer(words: Sequence[str], level: str) -> tuple[str, str]:
    """What the master answers to one of its own commands; returns (text, new level)."""
    first = list(words[:3])
    if first[:2] == ["show", "version"]:
        return f"{FULL_VERSION}\n", level
    if first[:3] == ["show", "cli", "level"]:
        return f"{level}\n", level
    if first[:3] == ["show", "cli", "sockets"]:
        return "", level  # HAProxy 2.6's master lists none: its own are not `stats socket`s
    if first[:1] in (["operator"], ["user"]):
        wanted = first[0]
        if LEVELS.index(wanted) < LEVELS.index(level):
            level = wanted
        return "", level
    return usage(list(words), MASTER_KEYWORDS), level
