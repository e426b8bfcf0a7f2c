"""`pylvs haproxy`: reading the configuration as HAProxy's `init()` does, `-c` and `-cc`.

Files and directories (src/haproxy.c `cfgfiles_expand_directories`): a directory stands for
its regular files whose name ends in `.cfg` (the first `.cfg` in the name must be its end) and
does not start with a dot, sorted by name; a name that cannot be stat'ed is fatal.  The files
are read in order as one configuration (config/haproxy/reader.py `load_texts`: the same reader
as `pylvs check`), and the problems printed as HAProxy prints them: errors as alerts, HAProxy's
warnings as warnings (`-dW` or `zero-warning` makes them fatal), pylvs's own remarks (keywords
it reads and does not act on, HAProxy 1.x syntax it accepts) as notices, which never change
the verdict.  `-c` then prints HAProxy's verdict line and exits 0 (valid), 1 (invalid) or 2 (no
listener); `-cc` evaluates a condition as `.if` would (config/haproxy/cond.py) and exits 0
(true), 1 (false) or 2 (error).
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pylvs.cli.haproxy_args import ExitError, Options, UsageError
from pylvs.cli.haproxy_msgs import Messages
from pylvs.config.errors import Cite, Kind, Problem, Problems, Severity

if TYPE_CHECKING:  # `-cc` and the usage answers start without the configuration reader
    from pylvs.config.haproxy.model import HaproxyConfig
    from pylvs.config.haproxy.reader import HaproxyResult

# Problems HAProxy reports itself; the other kinds are pylvs's remarks.
_HAPROXY_KINDS = (Kind.CONFIG, Kind.FATAL, Kind.SECURITY, Kind.EXTENSION)


def expand(names: Sequence[str], msgs: Messages) -> list[str]:
    """The configuration files `names` stand for; ExitError(1) when one cannot be opened."""
    files: list[str] = []
    for name in names:
        try:
            is_dir = stat.S_ISDIR(os.stat(name).st_mode)
        except OSError as e:
            msgs.alert(f"Cannot open configuration file/directory {name} : {e.strerror}")
            raise ExitError(1) from None
        if not is_dir:
            files.append(name)
            continue
        try:
            entries = sorted(os.listdir(name), key=os.fsencode)
        except OSError as e:
            msgs.alert(f"Cannot open configuration directory {name} : {e.strerror}")
            raise ExitError(1) from None
        files.extend(_config_files(name, entries))
    return files


def _config_files(directory: str, entries: list[str]) -> Iterator[str]:
    for entry in entries:
        at = entry.find(".cfg")
        if entry.startswith(".") or at < 0 or at + 4 != len(entry):
            continue
        path = f"{directory}/{entry}"
        if os.path.isfile(path):
            yield path


@dataclass(frozen=True)
class Loaded:
    config: HaproxyConfig
    problems: Problems
    files: list[str]


def load(opts: Options, msgs: Messages, env: dict[str, str], *, convert: bool = False) -> Loaded:
    """Read the configuration `opts` names; ExitError(1) if HAProxy would refuse it.  With
    `convert` (-c), what the runtime would refuse is reported too (a rule that does not
    compile, an argument naming a backend or table that is not there: HAProxy's
    check_config_validity finds those), as starting it would report it."""
    from pylvs.cli.hostfacts import host_facts
    from pylvs.config.haproxy.reader import load_texts

    msgs.context = "config"
    files = expand(opts.files, msgs)
    if not files:
        raise UsageError()
    texts = []
    if opts.master_worker:  # -W: as `master-worker` in `global` (`program` sections need it)
        texts.append(("global\n    master-worker\n", "-W"))
    if "S" in opts.machinery:  # -dS: as `nosplice` in `global` (haproxy.c: GTUNE_USE_SPLICE)
        texts.append(("global\n    nosplice\n", "-dS"))
    for path in files:
        try:
            with open(path, "rb") as f:
                texts.append((f.read().decode("utf-8", "surrogateescape"), path))
        except OSError as e:
            msgs.alert(f"Could not open configuration file {path} : {e.strerror}")
            raise ExitError(1) from None
    host = host_facts()
    if opts.resolve_dontfail:  # -dr: a server name that does not resolve is no error
        host = dataclasses.replace(host, resolves=None, resolve_dontfail=True)
    if opts.local_peer is not None:  # -L: the local peer's name in `peers` sections
        host = dataclasses.replace(host, hostname=opts.local_peer)
    result = load_texts(texts, env=env, host=host)
    if convert and result.ok:
        from pylvs.config.haproxy.source import check as conversion_problems

        conversion_problems(result, host.read_file, files[0])
    report(result, files, msgs, zero_warning=opts.zero_warning)
    msgs.context = ""
    return Loaded(result.config, result.problems, files)


def report(result: HaproxyResult, files: list[str], msgs: Messages, *, zero_warning: bool) -> None:
    """Print the problems as HAProxy would (src/haproxy.c `init`); ExitError(1) on an error,
    or on a warning under zero-warning.  HAProxy reads the files one by one ("Error(s) found in
    configuration file" after each one that has errors; an error that aborts stops it there),
    stops before its checks after reading if reading found errors ("Fatal errors found in
    configuration."), then runs them and stops if they find errors, then resolves the servers'
    addresses ("Failed to initialize server(s) addr.").  `pylvs check` shows everything at once."""
    reading, late, addr = _phases(result)
    if any(p.severity is Severity.ERROR for p in reading):
        if not _say_reading(reading, files, msgs):
            msgs.alert("Fatal errors found in configuration.")
        raise ExitError(1)
    late_placed = [p for p in late if p.cite.reading]  # pylvs finds late what HAProxy reads
    said = _in_order(reading + late_placed, files)
    said += [p for p in late if not p.cite.reading]
    for p in said:
        _say(p, msgs)
    if any(p.severity is Severity.ERROR for p in said):
        msgs.alert("Fatal errors found in configuration.")
        raise ExitError(1)
    for p in addr:
        _say(p, msgs)
    if any(p.severity is Severity.ERROR for p in addr):
        msgs.alert("Failed to initialize server(s) addr.")
        raise ExitError(1)
    haproxy_warns = any(_haproxy_says(p) for p in said + addr)
    if haproxy_warns and (zero_warning or result.config.global_.zero_warning):
        msgs.alert("Some warnings were found and 'zero-warning' is set. Aborting.")
        raise ExitError(1)


def _phases(result: HaproxyResult) -> tuple[list[Problem], list[Problem], list[Problem]]:
    """The problems once each, by when HAProxy reports them: while reading, in its checks
    after reading (in the order found), when resolving the servers' addresses."""
    reading: list[Problem] = []
    late: list[Problem] = []
    addr: list[Problem] = []
    for n, p in enumerate(dict.fromkeys(result.problems)):
        if p.cite is Cite.ADDR:
            addr.append(p)
        elif p.cite.reading and (n < result.read or _read_time(p)):
            reading.append(p)
        else:
            late.append(p)
    return reading, late, addr


def _say_reading(reading: list[Problem], files: list[str], msgs: Messages) -> bool:
    """What reading said, file by file, up to an error that aborts; whether one did."""
    by_file: dict[str, list[Problem]] = {}
    for p in _in_order(reading, files):
        by_file.setdefault(p.loc.file, []).append(p)
    for path in [*files, *(f for f in by_file if f not in files)]:
        bad = aborted = False
        for p in by_file.get(path, ()):
            _say(p, msgs)
            bad = bad or p.severity is Severity.ERROR
            if p.abort and p.severity is Severity.ERROR:
                aborted = True
                break
        if bad:
            msgs.alert(f"Error(s) found in configuration file : {path}")
        if aborted:
            return True
    return False


def _read_time(p: Problem) -> bool:
    """Whole-file checks of pylvs's that HAProxy makes while reading (cfgparse-listen.c finds
    a proxy name used twice when the second section opens)."""
    return p.severity is Severity.ERROR and " has the same name as " in p.message


def _in_order(problems: list[Problem], files: list[str]) -> list[Problem]:
    """What HAProxy says while reading, file by file in command-line order, then by place."""
    order = {path: n for n, path in enumerate(files)}
    return sorted(problems, key=lambda p: (order.get(p.loc.file, -1), p.loc))


def _haproxy_says(p: Problem) -> bool:
    """A warning of HAProxy's (its alerts that are not errors do not count as warnings)."""
    return p.kind in _HAPROXY_KINDS and not p.alert


def cited(p: Problem, pylvs: bool = False) -> str:
    """The message as HAProxy prints it: its place as HAProxy names it (config/errors.py Cite),
    "pylvs: " before pylvs's own observations."""
    own = "pylvs: " if pylvs else ""
    return f"{p.cite.prefix(p.loc.file, p.loc.line)}{own}{p.message}"


def _say(p: Problem, msgs: Messages) -> None:
    if p.cite is Cite.GROUPED:  # said in the alert before it (sample.c smp_resolve_args)
        return
    if p.warned:
        msgs.warning(cited(p))
    elif p.severity is Severity.ERROR or p.alert:
        msgs.alert(cited(p))
    elif _haproxy_says(p):
        msgs.warning(cited(p))
    else:
        msgs.notice(cited(p, pylvs=True))


def check(opts: Options, msgs: Messages, env: dict[str, str]) -> int:
    """-c: read, report, and give HAProxy's verdict."""
    loaded = load(opts, msgs, env, convert=True)
    if msgs.warned and not msgs.quiet:
        print("Warnings were found.")
    if loaded.config.listeners == 0:
        if not msgs.quiet:
            print("Configuration file has no error but will not start (no listener) => exit(2).")
        return 2
    if not msgs.quiet:
        print("Configuration file is valid")
    return 0


def check_condition(condition: str | None, msgs: Messages, env: dict[str, str]) -> int:
    """-cc: the condition split as a configuration line is (quotes, escapes, `$VAR`), its
    words joined by blanks, then evaluated."""
    from pylvs.config.haproxy.cond import ConditionError, evaluate
    from pylvs.config.haproxy.lexer import LineSplitter, Place

    if condition is None:
        raise UsageError()
    msgs.context = "config"
    problems = Problems()
    words = LineSplitter(dict(env), problems).split(condition, Place("-cc"))
    if words is None:
        msgs.alert(_syntax_error(problems))
        return 2
    try:
        return 0 if evaluate(" ".join(w.text for w in words), env) else 1
    except ConditionError as e:
        msgs.alert(f"Failed to evaluate condition: {e}")
        return 2


def _syntax_error(problems: Problems) -> str:
    """parse_line's error, worded as haproxy -cc words it."""
    said = " ".join(p.message for p in problems)
    if "quote" in said:
        return "Syntax Error in condition: Unmatched quote."
    if "hexadecimal" in said:
        return "Syntax Error in condition: Truncated or invalid hexadecimal sequence."
    if "too many words" in said:
        return "Error in condition: Too many words."
    return f"Syntax Error in condition: {said or 'unparsable'}"
