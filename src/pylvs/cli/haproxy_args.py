"""`pylvs haproxy`'s command line: HAProxy 2.6's, read as its `init()` reads argv (src/haproxy.c).

Flags are words of their own (no combining: `-db` is one flag, not `-d -b`); the first letter
decides, then the second (`-d` followed by `e`, `p`, `S`, `G`, `R`, `V`, `b`, `D`, `W`, `M`,
`r`, `L`, `K`, else plain `-d`), exactly in HAProxy's order, so `-dbx` is `-db`.  `-v`
answers at once, ignoring what follows; `-cc` takes the next word as its condition; `-sf` and
`-st` take every following word that does not start with `-`; `--` ends the options and the
rest are configuration files.  Anything HAProxy would answer with its usage message is a
`UsageError` (with the alert HAProxy prints first, if any), a bad `-sf`/`-st` pid list an
`AlertError`.
Pure: no I/O here (cli/haproxy.py acts on the `Options`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class UsageError(Exception):
    """HAProxy prints its version, the alert if any, and its usage, and exits 1."""

    def __init__(self, alert: str | None = None) -> None:
        super().__init__(alert or "usage")
        self.alert = alert


class AlertError(Exception):
    """HAProxy alerts and exits with `status` (no usage)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ExitError(Exception):
    """Stop with this status (what had to be said is said)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# -d<x> flags about HAProxy's own machinery: accepted, and each start says what it means here.
MACHINERY = {
    "e": "-de: pylvs's proxy polls with epoll and has no other poller to fall back to",
    "p": "-dp: pylvs's proxy never uses poll(); nothing to disable",
    "S": "-dS: kernel splicing disabled (as `nosplice` in `global`): bodies are copied",
    "G": "-dG: pylvs resolves server names with the system's getaddrinfo(), as before",
    "R": "-dR: pylvs binds its listeners with SO_REUSEPORT as HAProxy does; kept enabled",
    "V": "-dV: pylvs does not speak TLS to servers; there is no certificate to verify",
    "L": "-dL: pylvs is a Python program; it has no shared objects to list",
}


@dataclass
class Options:
    """What the command line asked for (field names follow HAProxy's variables)."""

    files: list[str] = field(default_factory=list)
    version: int = 0  # 1: -v, 2: -vv
    check: bool = False  # -c
    check_condition: bool = False  # -cc
    condition: str | None = None  # -cc's argument
    daemon: bool = False  # -D
    master_worker: bool = False  # -W / -Ws
    systemd: bool = False  # -Ws
    foreground: bool = False  # -db, -Ws
    debug: bool = False  # -d
    quiet: bool = False  # -q
    verbose: bool = False  # -V
    zero_warning: bool = False  # -dW
    diag: bool = False  # -dD
    resolve_dontfail: bool = False  # -dr
    memory_debug: str | None = None  # -dM[...]
    keyword_dump: str | None = None  # -dK<classes>
    machinery: list[str] = field(default_factory=list)  # the -d<x> letters of MACHINERY
    pidfile: str | None = None  # -p
    old_pids: list[int] = field(default_factory=list)  # -sf / -st
    old_pids_signal: str = "USR1"  # USR1 for -sf (finish), TERM for -st (terminate)
    old_socket: str | None = None  # -x
    master_cli: list[str] = field(default_factory=list)  # -S, last given first
    local_peer: str | None = None  # -L
    maxconn: int | None = None  # -n
    maxpconn: int = 0  # -N
    memmax: int | None = None  # -m (MB)
    change_dir: str | None = None  # -C
    warnings: list[str] = field(default_factory=list)  # what HAProxy warns about while parsing


def parse(argv: Sequence[str]) -> Options:
    """Read `argv` (without the program name) as HAProxy 2.6 does."""
    opts = Options()
    args = list(argv)
    _copy_argv(args)
    i = 0
    while i < len(args):
        word = args[i]
        if not word.startswith("-"):
            raise UsageError()
        flag = word[1:]
        if flag[:1] == "v":
            opts.version = 2 if flag[1:2] == "v" else 1
            return opts  # HAProxy displays the version there and then
        if flag[:1] == "d":
            _debug_flag(opts, flag)
        elif flag[:2] == "cc":
            opts.check_condition = True
            i += 1
            opts.condition = args[i] if i < len(args) else None
        elif flag[:1] == "c":
            opts.check = True
        else:
            i = _other_flag(opts, flag, args, i)
            if i < 0:
                return opts  # `--`: the rest were configuration files
        i += 1
    return opts


def _copy_argv(args: list[str]) -> None:
    """haproxy.c copy_argv, which runs first (the master re-executes with the copy): a flag
    that takes a value given none is "failed to copy argv."."""
    i = 0
    while i < len(args):
        word = args[i]
        if not word.startswith("-"):
            i += 1
        elif word == "--":
            return
        elif word[1:2] == "s" and word[2:3] in ("f", "t"):
            i += 1
            while i < len(args) and not args[i].startswith("-"):
                i += 1
        elif word[1:2] == "x":
            i += 2
        elif word[1:2] in ("C", "n", "m", "N", "L", "f", "p", "S"):
            if i + 1 >= len(args):
                raise AlertError("failed to copy argv.", 1)
            i += 2
        else:
            i += 1


def _debug_flag(opts: Options, flag: str) -> None:
    second = flag[1:2]
    if second in MACHINERY:
        opts.machinery.append(second)
    elif second == "b":
        opts.foreground = True
    elif second == "D":
        opts.diag = True
    elif second == "W":
        opts.zero_warning = True
    elif second == "M":
        opts.memory_debug = flag[2:]
    elif second == "r":
        opts.resolve_dontfail = True
    elif second == "K":
        opts.keyword_dump = flag[2:]
    else:
        opts.debug = True


def _other_flag(opts: Options, flag: str, args: list[str], i: int) -> int:
    """The flags past -v, -d* and -c*; returns the index of the last word used (-1: `--`)."""
    first, second = flag[:1], flag[1:2]
    if first == "D":
        opts.daemon = True
    elif first == "W":
        opts.master_worker = True
        if second == "s":
            opts.systemd = opts.foreground = True
    elif first == "q":
        opts.quiet = True
    elif first == "V":
        opts.verbose = True
    elif first == "x":
        if i + 1 >= len(args):
            raise UsageError("Unix socket path expected with the -x flag\n")
        if opts.old_socket is not None:
            opts.warnings.append("-x option already set, overwriting the value")
        opts.old_socket = args[i + 1]
        return i + 1
    elif first == "S":
        if i + 1 >= len(args):
            raise UsageError("Socket and optional bind parameters expected with the -S flag")
        opts.master_cli.insert(0, args[i + 1])  # LIST_INSERT: the last one first
        return i + 1
    elif first == "s" and second in ("f", "t"):
        return _old_pids(opts, flag, args, i)
    elif flag == "-":
        opts.files.extend(args[i + 1 :])
        return -1
    else:
        return _valued_flag(opts, first, args, i)
    return i


def _old_pids(opts: Options, flag: str, args: list[str], i: int) -> int:
    opts.old_pids_signal = "USR1" if flag[1] == "f" else "TERM"
    while i + 1 < len(args) and not args[i + 1].startswith("-"):
        i += 1
        opts.old_pids.append(_pid(flag, args[i]))
    return i


def _pid(flag: str, word: str) -> int:
    """strtol(word, &end, 10) with HAProxy's checks on what it leaves."""
    text = word.lstrip(" \t\n\r\f\v")
    sign = text[:1] if text[:1] in "+-" else ""
    digits = len(text) - len(text[len(sign) :].lstrip("0123456789")) - len(sign)
    number = text[: len(sign) + digits]
    value = int(number) if digits else 0
    rest = text[len(sign) + digits :] if digits else word
    if rest.strip(" \t\n\r\f\v"):
        raise AlertError(f"-{flag[:2]:>2} option: some bytes unconsumed in PID list {{{rest}}}")
    if value <= 0:
        raise UsageError()
    return value


def _valued_flag(opts: Options, first: str, args: list[str], i: int) -> int:
    """-C, -n, -m, -N, -L, -f, -p: the next word is the value."""
    if i + 1 >= len(args):
        raise UsageError()
    value = args[i + 1]
    if first == "C":
        opts.change_dir = value
    elif first == "n":
        opts.maxconn = _atol(value)
    elif first == "m":
        opts.memmax = _atol(value)
    elif first == "N":
        opts.maxpconn = _atol(value)
    elif first == "L":
        opts.local_peer = value
    elif first == "f":
        opts.files.append(value)
    elif first == "p":
        opts.pidfile = value
    else:
        raise UsageError()
    return i + 1


def _atol(text: str) -> int:
    """C's atol: the leading number, 0 when there is none."""
    body = text.lstrip(" \t\n\r\f\v")
    sign = -1 if body[:1] == "-" else 1
    body = body[1:] if body[:1] in "+-" else body
    digits = body[: len(body) - len(body.lstrip("0123456789"))]
    return sign * int(digits) if digits else 0
