"""`$NAME=VALUE` parameter definitions and their substitution in keepalived.conf lines.

Rules from keepalived's lib/parser.c (`check_definition`, `find_definition`, `replace_param`,
`set_std_definitions`) and keepalived.conf(5) "Parameter substitution":

* `$NAME=VALUE` at the start of a line (after blanks) defines; no blank before `=`; blanks after
  `=` are skipped; an empty value is allowed.  A value ending in `\\` starts a multiline
  definition whose following lines are collected until one does not end in `\\` (or an empty
  line).  Names starting with `_` are reserved for the predefined ones (keepalived still lets a
  config override them, so we warn and accept).
* `$NAME` is replaced when followed by blank, `,`, `)` or end of line; `${NAME}` anywhere.
  Substitution happens at use time and is recursive: the scan restarts at the replaced text.
  A multiline definition is only replaced at the end of a line; its first line replaces the
  reference and the other lines follow as lines of their own.  Undefined names stay as they are.
* Predefined: `${_PWD}`, `${_INSTANCE}`, `${_RANDOM [MIN [MAX]]}`, `${_ENV VAR}`, `${_HASH}`,
  `${_BANG}`.
* keepalived loops forever on `$A=${A}`; we stop after `MAX_SUBSTITUTIONS` replacements or when a
  line grows past `MAX_LINE` characters and report it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pylvs.config.errors import Kind, Location, Problems
from pylvs.config.keepalived.srcline import (
    BLANK,
    SrcLine,
    is_name_char,
    is_name_start,
)

MAX_SUBSTITUTIONS = 1000
ULONG_MAX = 2**64 - 1
MAX_LINE = 65536
RANDOM_MAX = 32767  # get_random() default upper bound


@dataclass(slots=True)
class Definition:
    """A `$NAME=` parameter or parameter function definition."""

    name: str
    # A multiline value keeps its lines joined with "\n" (keepalived's DEF_LINE_END).
    value: str = ""
    multiline: bool = False
    # Predefined definitions compute their value from their parameters.
    fn: Callable[[tuple[str, ...]], str] | None = None
    min_params: int = 0
    max_params: int = 0
    numbers_only: bool = False


@dataclass(slots=True)
class Budget:
    """Substitutions done on one logical line, shared by all passes over it."""

    count: int = 0


@dataclass(slots=True)
class Substituted:
    """A line after `$NAME` substitution, and whether a definition is still open."""

    line: SrcLine
    changed: bool
    # The rest of each multiline value used, in the order they were met (last one read first).
    pending: list[tuple[list[str], Location]] = field(default_factory=list)
    failed: bool = False


class Params:
    def __init__(
        self,
        problems: Problems,
        *,
        config_id: str,
        rng: random.Random,
        env: Mapping[str, str],
        pwd: Callable[[], str],
    ) -> None:
        self._problems = problems
        self._rng = rng
        self._defs: dict[str, Definition] = {}
        self._reported: set[tuple[Location, str]] = set()
        # The multiline definition being collected, if any.
        self.collecting: Definition | None = None
        self._add_std("_PWD", lambda _p: pwd())
        self._add_std("_INSTANCE", lambda _p: config_id)
        self._add_std("_RANDOM", self._random, 0, 2, numbers_only=True)
        self._add_std("_ENV", lambda p: env.get(p[0], ""), 1, 1)
        self._defs["_HASH"] = Definition("_HASH", "#")
        self._defs["_BANG"] = Definition("_BANG", "!")
        self._random_loc = Location("", 0, 0)

    def _add_std(
        self,
        name: str,
        fn: Callable[[tuple[str, ...]], str],
        min_params: int = 0,
        max_params: int = 0,
        *,
        numbers_only: bool = False,
    ) -> None:
        self._defs[name] = Definition(
            name, fn=fn, min_params=min_params, max_params=max_params, numbers_only=numbers_only
        )

    def _random(self, params: tuple[str, ...]) -> str:
        lo = _strtoul(params[0]) if params else 0
        hi = _strtoul(params[1]) if len(params) > 1 else RANDOM_MAX
        if lo > hi:
            self._error_once(
                self._random_loc, f"${{_RANDOM}}: min {lo} exceeds max {hi}, using {lo}"
            )
            hi = lo
        return str(self._rng.randint(lo, hi))

    def set(self, name: str, value: str) -> None:
        """set_definition(): a generator variable, or any plain single-line value."""
        self._defs[name] = Definition(name, value)

    def get(self, name: str) -> Definition | None:
        return self._defs.get(name)

    # -- definitions -------------------------------------------------------------------------

    def define(self, line: SrcLine) -> bool:
        """check_definition(): if `line` is `$NAME=VALUE`, record it and return True."""
        text = line.text
        if len(text) < 2 or text[0] != "$" or not is_name_start(text[1]):
            return False
        p = 2
        while p < len(text) and text[p] != "=":
            if not is_name_char(text[p]):
                return False
            p += 1
        if p >= len(text):
            return False
        name = text[1:p]
        if name.startswith("_"):
            self._problems.warning(
                line.loc(1), f"parameter names starting with '_' are reserved: ${name}", Kind.NOTE
            )
        value = text[p + 1 :].lstrip(BLANK)
        multiline = value.endswith("\\")
        if multiline:
            value = value[:-1].rstrip(BLANK)
            value = value + "\n" if value else ""
        self._defs[name] = Definition(name, value, multiline)
        if multiline:
            self.collecting = self._defs[name]
        return True

    def continue_multiline(self, text: str) -> None:
        """Add one more line to the definition being collected (read_line in lib/parser.c)."""
        d = self.collecting
        if d is None:
            return
        more = text.endswith("\\")
        if more:
            text = text[:-1].rstrip(BLANK) + "\n"
        else:
            self.collecting = None
            if not d.value:
                # A body of one line is an ordinary definition.
                d.multiline = False
        # Lines holding nothing but the continuation are not added.
        if len(text) >= 2 or (text and not more):
            d.value += text

    def end_multiline(self) -> None:
        """An empty line (or the end of input) ends a multiline definition."""
        d = self.collecting
        if d is not None and not d.value:
            d.multiline = False
        self.collecting = None

    # -- substitution ------------------------------------------------------------------------

    def _error_once(self, loc: Location, message: str) -> None:
        # A line is scanned again after each substitution pass and its residue after a brace
        # (and a generator repeats it): report a problem at one place once.
        if (loc, message) not in self._reported:
            self._reported.add((loc, message))
            self._problems.error(loc, message)

    def _find(self, line: SrcLine, dollar: int) -> tuple[Definition, tuple[str, ...], int] | None:
        """find_definition() for the reference starting at text[dollar] == '$'.

        Returns the definition, its parameters and the index just after the reference.
        """
        text = line.text
        n = len(text)
        p = dollar + 1
        braces = text[p] == "{"
        if braces:
            p += 1
        if p >= n or not is_name_start(text[p]):
            return None
        start = p
        while p < n and is_name_char(text[p]):
            p += 1
        name = text[start:p]
        params: list[str] = []
        if braces:
            words_end = p
            while p < n and (text[p] in BLANK or is_name_char(text[p])):
                p += 1
            params = text[words_end:p].split()
            if params and text[p - 1] in BLANK:
                return None  # keepalived refuses a space before the closing brace
            if p >= n or text[p] != "}":
                return None
            end = p + 1
        else:
            if p < n and text[p] not in " \t,)":
                return None
            end = p
        d = self._defs.get(name)
        if d is None or (d.multiline and end != n):
            return None
        if params:
            loc = line.loc(dollar)
            if not d.max_params:
                return None
            if d.numbers_only and not all(w.isdigit() and w.isascii() for w in params):
                self._error_once(loc, f"Definition {name} requires numeric parameters only.")
                return None
            if not d.min_params <= len(params) <= d.max_params:
                self._error_once(
                    loc,
                    f"Definition {name} requires between {d.min_params} and {d.max_params} "
                    f"parameters, {len(params)} specified.",
                )
                return None
        elif d.min_params:
            return None
        return d, tuple(params), end

    def substitute(self, line: SrcLine, budget: Budget) -> Substituted:
        """replace_param(): substitute every defined reference in `line`."""
        result = Substituted(line, False)
        pos = 0
        while True:
            text = result.line.text
            dollar = text.find("$", pos)
            if dollar < 0 or dollar + 1 >= len(text):
                break
            found = self._find(result.line, dollar)
            if found is None:
                pos = dollar + 1
                continue
            d, params, end = found
            loc = result.line.loc(dollar)
            budget.count += 1
            if budget.count > MAX_SUBSTITUTIONS:
                self._problems.error(
                    loc,
                    f"parameter substitution does not end (is ${d.name} defined through itself?)",
                )
                result.failed = True
                return result
            self._random_loc = loc
            value = d.fn(params) if d.fn is not None else d.value
            if d.multiline:
                first, *rest = value.split("\n")
                value = first
                result.pending.append((rest, loc))
            result.line = result.line.replace(dollar, end, value, loc.col)
            result.changed = True
            if len(result.line.text) > MAX_LINE:
                self._problems.error(
                    loc, f"parameter substitution makes the line longer than {MAX_LINE} characters"
                )
                result.failed = True
                return result
            # A value that is a generator stops the scan, so the generator's own `$var`s are
            # substituted per iteration (replace_param()).
            if value.lstrip(BLANK).startswith("~"):
                break
            pos = dollar
        return result


def _strtoul(digits: str) -> int:
    """strtoul() of a string of decimal digits: saturates at ULONG_MAX."""
    if len(digits.lstrip("0")) > 20:
        return ULONG_MAX
    return min(int(digits), ULONG_MAX)
