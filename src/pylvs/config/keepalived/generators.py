"""`~SEQ(...)`, `~SEQx(...)` and `~LST(...)` line generators of keepalived.conf.

From keepalived's lib/parser.c `add_seq()` / `add_lst()` and keepalived.conf(5):

* `~SEQ(var, end)`, `~SEQ(var, start, end)`, `~SEQ(var, start, step, end)` repeat the rest of
  the line with `$var` set to each number.  With one number the sequence runs from 1 (or -1 for
  a negative end) in steps of +1/-1 towards it; with two the step is +1 or -1.  Numbers are
  read like C `strtol(..., 0)` (0x.. hex, 0.. octal) and may be `$PARAM`s.  `~SEQx` formats
  the value in hex (positive numbers only).
* `~LST(var, v1, v2, ...)` and `~LST({a,b}, {1,2}, {3,4})` repeat the line once per value set;
  missing values are empty, too many is an error.
* The repeated text is processed like any line, so generators nest.  Every generated line keeps
  the file, line and columns of the source line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pylvs.config.errors import Problems
from pylvs.config.keepalived.params import Budget, Params
from pylvs.config.keepalived.srcline import BLANK, SrcLine, is_name, strtol

# keepalived's seq_buf is 3 * 20 + 3 + 1 bytes: the "(...)" arguments must fit.
SEQ_ARGS_MAX = 63
# keepalived would generate any number of lines; a typo like ~SEQ(i, 100000000) should not
# hang the reader, so a longer sequence is refused.
MAX_ITERATIONS = 100_000


@dataclass(frozen=True, slots=True)
class Generator:
    """A `~SEQ`/`~LST` generator line: its variables and the values they take, line by line."""

    names: tuple[str, ...]
    text: SrcLine
    # ~SEQ
    start: int = 0
    step: int = 1
    count: int = 0
    hex: bool = False
    # ~LST
    value_sets: tuple[tuple[str, ...], ...] = ()

    def iterations(self) -> Iterator[tuple[str, ...]]:
        if self.value_sets:
            yield from self.value_sets
            return
        for i in range(self.count):
            v = self.start + i * self.step
            yield (format(v, "x") if self.hex else str(v),)


def _skip(s: str, p: int) -> int:
    while p < len(s) and s[p] in BLANK:
        p += 1
    return p


def _span(s: str, p: int, stops: str) -> int:
    while p < len(s) and s[p] not in stops:
        p += 1
    return p


def _at(s: str, p: int) -> str:
    return s[p] if p < len(s) else ""


def parse_seq(  # noqa: C901 - one branch per ~SEQ() argument form (parser.c)
    line: SrcLine, params: Params, problems: Problems, budget: Budget
) -> Generator | None:
    s = line.text
    loc = line.loc(0)
    p = 4
    hexa = _at(s, p) == "x"
    if hexa:
        p += 1
    p = _skip(s, p)
    if _at(s, p) != "(":
        problems.error(loc, f"Invalid ~SEQ specification '{s}'")
        return None
    p = _skip(s, p + 1)
    var_start = p
    p = _span(s, p, " \t,)")
    var = s[var_start:p]
    p = _skip(s, p)
    if p >= len(s) or s[p] == ")" or not is_name(var):
        problems.error(loc, f"Invalid ~SEQ definition '{s}'")
        return None
    p = _skip(s, p + 1)
    close = s.find(")", p)
    if close < 0:
        problems.error(loc, f"~SEQ missing terminating ')' '{s}'")
        return None
    if close + 1 - p > SEQ_ARGS_MAX:
        problems.error(loc, f"~SEQ parameter strings too long '{s}'")
        return None
    sub = params.substitute(line.slice(p, close + 1), budget)
    if sub.failed:
        return None
    if sub.pending:
        problems.error(loc, f"~SEQ parameter is multiline definition '{s}'")
        return None
    args = sub.line.text
    if len(args) > SEQ_ARGS_MAX:
        problems.error(loc, f"~SEQ parameter strings too long '{s}'")
        return None
    numbers: list[int] = []
    q = 0
    while True:
        value, q = strtol(args, q)
        numbers.append(value)
        q = _skip(args, q)
        if _at(args, q) == ")":
            break
        if _at(args, q) != "," or len(numbers) == 3:
            problems.error(loc, f"Invalid ~SEQ definition '{s}'")
            return None
        q += 1
    if len(numbers) == 1:
        end = numbers[0]
        step = -1 if end < 1 else 1
        start = -1 if end < 0 else 1
    elif len(numbers) == 2:
        start, end = numbers
        step = 1 if start <= end else -1
    else:
        start, step, end = numbers
        if not step or (start < end and step < 0) or (start > end and step > 0):
            problems.error(loc, f"Invalid ~SEQ values '{s}'")
            return None
    if hexa and (start < 0 or end < 0):
        problems.error(loc, f"~SEQx is only valid for positive numbers '{s}'")
        return None
    count = (end - start) // step + 1
    if count > MAX_ITERATIONS:
        problems.error(loc, f"~SEQ would generate {count} lines (at most {MAX_ITERATIONS})")
        return None
    rest = _skip(s, close + 1)
    return Generator((var,), line.slice(rest), start=start, step=step, count=count, hex=hexa)


def _names(s: str, p: int) -> tuple[list[str], int] | None:
    """The variable part of ~LST: `var` or `{a, b, ...}`; returns names and index after it."""
    end_char = ","
    if _at(s, p) == "{":
        end_char = "}"
        p = _skip(s, p + 1)
    names: list[str] = []
    while True:
        start = p
        p = _span(s, p, " \t,}")
        names.append(s[start:p])
        p = _skip(s, p)
        if _at(s, p) == end_char:
            break
        if _at(s, p) != ",":
            return None
        p = _skip(s, p + 1)
    if _at(s, p) == "}":
        p = _skip(s, p + 1)
    if _at(s, p) != ",":
        return None
    return names, _skip(s, p + 1)


def parse_lst(line: SrcLine, problems: Problems) -> Generator | None:
    s = line.text
    loc = line.loc(0)
    invalid = f"Invalid ~LST specification '{s}'"
    p = _skip(s, 4)
    got = _names(s, _skip(s, p + 1)) if _at(s, p) == "(" else None
    if got is None or not all(is_name(n) for n in got[0]):
        problems.error(loc, invalid)
        return None
    names, p = got
    value_sets: list[tuple[str, ...]] = []
    while True:
        end_char = ","
        if _at(s, p) == "{":
            end_char = "}"
            p = _skip(s, p + 1)
        values: list[str] = []
        while True:
            start = p
            p = _span(s, p, " \t,})")
            values.append(s[start:p])
            p = _skip(s, p)
            if _at(s, p) == end_char or (_at(s, p) == ")" and end_char == ","):
                break
            if _at(s, p) != ",":
                problems.error(loc, invalid)
                return None
            p = _skip(s, p + 1)
            if len(values) >= len(names):
                problems.error(loc, f"~LST specification has too many values '{s}'")
                return None
        values += [""] * (len(names) - len(values))
        value_sets.append(tuple(values))
        if len(value_sets) > MAX_ITERATIONS:
            problems.error(loc, invalid)
            return None
        if _at(s, p) == "}" and end_char == "}":
            p = _skip(s, p + 1)
        if _at(s, p) == ")":
            break
        if _at(s, p) != ",":
            problems.error(loc, invalid)
            return None
        p = _skip(s, p + 1)
    return Generator(tuple(names), line.slice(_skip(s, p + 1)), value_sets=tuple(value_sets))
