"""Locations and problems: every config problem is `FILE:LINE:COL: error|warning: message`.

Parsers never raise on bad input: they collect `Problem`s in a `Problems` and carry on, so a
user sees all of them at once (principle 8).  `ConfigError` is raised only by callers that
want to stop when a collection holds errors.

Besides its severity (what pylvs makes of it: an error means pylvs does not run the text as
written), each problem has a `Kind`: whether the original tool would complain too.  `pylvs
check` derives its exit status from it the way the original's check mode does (`keepalived -t`
exits non-zero on anything it reports, warnings included; `haproxy -c` only on alerts), so
pylvs's own observations stay warnings that change no exit status unless `--strict` asks.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from pylvs.model.frozen import fast_init


class Location(NamedTuple):
    """Where something is in a config file.  A named tuple: readers make one per word, and a
    tuple is made several times faster than a frozen dataclass (ordered by file, line, col)."""

    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Kind(enum.Enum):
    """Who else would report a problem, which decides the exit status of `pylvs check`."""

    # The original tool reports it too (keepalived -t: exit 5; haproxy -c: as its severity).
    CONFIG = "config"
    # The original cannot use the configuration at all (keepalived -t exit 4: no such file).
    FATAL = "fatal"
    # keepalived's "SECURITY VIOLATION" (keepalived -t exit 6).
    SECURITY = "security"
    # pylvs's own observation (a host fact, a likely mistake); the original says nothing.
    NOTE = "note"
    # The original acts on the keyword; pylvs reads it and does not (docs/unsupported.md).
    UNSUPPORTED = "unsupported"
    # A deprecated spelling the original accepts silently; pylvs names the current one.
    DEPRECATED = "deprecated"
    # The original refuses it and pylvs accepts it, saying what to write instead (HAProxy 1.x's
    # `listen NAME ADDR:PORT`, which 2.6 refuses and the seeds use).
    EXTENSION = "extension"


class Cite(enum.Enum):
    """How HAProxy names the place of a message (src/errors.c: the "user messages context"
    its configuration checks set; cfgparse*.c's own "parsing [%s:%d]" prefixes, some with no
    blank before the colon), and when HAProxy says it (src/haproxy.c `init`): while a file is
    read, in the checks after reading (check_config_validity and the post-proxy checks), or
    when the servers' addresses are resolved (srv_init_addr) last."""

    PARSING = "parsing"  # "parsing [FILE:LINE] : " (cfgparse.c, while a file is read)
    TIGHT = "tight"  # "parsing [FILE:LINE]: " (the cfgparse*.c messages written so)
    SERVER = "server"  # "[FILE:LINE] : " (parse_server sets the context while reading a server)
    SERVER_PARSING = "server-parsing"  # "[FILE:LINE] : parsing [FILE:LINE] : " (the same)
    CAPITAL = "capital"  # "Parsing [FILE:LINE]: " (resolvers.c's duplicate names)
    BARE = "bare"  # nothing, while reading (parse_time_err's warnings, the ACL no-pattern one)
    LATE = "late"  # the same words, from a check after reading (proxy_cfg_ensure_no_http)
    LATE_TIGHT = "late-tight"  # "parsing [FILE:LINE]: " after reading (smp_resolve_args)
    LATE_CAPITAL = "late-capital"  # "Parsing [FILE:LINE]: " (log-format compiled late)
    PLACE = "place"  # "[FILE:LINE] : " (check_config_validity with set_usermsgs_ctx)
    NONE = "none"  # nothing: "Proxy 'NAME': ..." (check_config_validity, no context)
    ADDR = "addr"  # "[FILE:LINE] : " from srv_init_addr, after every other check
    # One of the errors smp_resolve_args (sample.c) gathers for a proxy, said in the alert
    # before it ("multiple argument resolution errors:", one line each): nothing of its own
    GROUPED = "grouped"

    @property
    def reading(self) -> bool:
        return self in _READING

    def prefix(self, file: str, line: int) -> str:
        """The words before the message."""
        place = f"[{file}:{line}]"
        if self in (Cite.PARSING, Cite.LATE):
            return f"parsing {place} : "
        if self in (Cite.TIGHT, Cite.LATE_TIGHT):
            return f"parsing {place}: "
        if self in (Cite.CAPITAL, Cite.LATE_CAPITAL):
            return f"Parsing {place}: "
        if self in (Cite.SERVER, Cite.PLACE, Cite.ADDR):
            return f"{place} : "
        if self is Cite.SERVER_PARSING:
            return f"{place} : parsing {place} : "
        return ""


_READING = frozenset(
    {Cite.PARSING, Cite.TIGHT, Cite.CAPITAL, Cite.SERVER, Cite.SERVER_PARSING, Cite.BARE}
)


@fast_init
@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a configuration: where, how bad, what, and its kind."""

    loc: Location
    severity: Severity
    message: str
    kind: Kind = Kind.CONFIG
    cite: Cite = Cite.PARSING  # how HAProxy's own messages place it (pylvs haproxy)
    # An error after which HAProxy reads no further (its ERR_ABORT: `haproxy -c` says nothing
    # of what follows, nor "Fatal errors found in configuration.").
    abort: bool = False
    # A warning HAProxy prints as an alert (ERR_ALERT without ERR_FATAL: the file stays valid)
    alert: bool = False
    # An error HAProxy prints as a warning (ha_warning with ERR_ABORT: cache.c's bad values)
    warned: bool = False

    def __str__(self) -> str:
        # Location.__str__ and Severity.value (an enum property) inlined: a big file prints a
        # hundred thousand problems.
        loc = self.loc
        severity = "error" if self.severity is Severity.ERROR else "warning"
        return f"{loc.file}:{loc.line}:{loc.col}: {severity}: {self.message}"


class Problems:
    """An ordered collection of problems found while reading a configuration."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def error(
        self,
        loc: Location,
        message: str,
        kind: Kind = Kind.CONFIG,
        cite: Cite = Cite.PARSING,
        *,
        abort: bool = False,
    ) -> None:
        self._items.append(Problem(loc, Severity.ERROR, message, kind, cite, abort))

    def warning(
        self,
        loc: Location,
        message: str,
        kind: Kind = Kind.CONFIG,
        cite: Cite = Cite.PARSING,
        *,
        alert: bool = False,
    ) -> None:
        self._items.append(Problem(loc, Severity.WARNING, message, kind, cite, alert=alert))

    def add(self, problem: Problem) -> None:
        self._items.append(problem)

    def extend(self, other: Problems) -> None:
        self._items.extend(other._items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self._items if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self._items if p.severity is Severity.WARNING]

    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self._items)


class ConfigError(Exception):
    """A configuration could not be used; `problems` says why, with locations."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems.errors))
