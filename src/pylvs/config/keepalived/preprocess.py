"""The keepalived.conf line preprocessor: files in, logical lines (statements, `{`, `}`) out.

This is keepalived's `read_line()` [acassen/keepalived: lib/parser.c, v2.2.7 as installed]:
lines come, in this priority, from the residue of the previous line (text after a `{`/`}`),
the innermost generator or multiline-parameter expansion, or the innermost open file.  Every
file line is decommented; an empty line ends a multiline definition being collected.  Then,
repeatedly while a substitution leaves `@` at the start or a `$` in the line (2.2.7's
`recheck`): an `@ID`/`@^ID` prefix is checked against the config-id and stripped, `$NAME=` lines
define, `~SEQ`/`~LST` lines start a generator, and `$PARAM`s are substituted.  A line that is
then an `include` opens the files it names (so `@id include` and `$VAR` in include lines work,
as in keepalived 2.2.7, although the man page says otherwise).  Finally the line is cut at the
first `{` or `}` outside `"..."`: the part before it is returned now and the rest is the residue.

Sources are a stack, which is what keepalived's seq list, multiline stack and include stack
amount to together.  Files are opened only when reached, so include problems come in order.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pylvs.config.errors import Kind, Location, Problems
from pylvs.config.keepalived.generators import Generator, parse_lst, parse_seq
from pylvs.config.keepalived.includes import (
    Check,
    apply_include_check,
    check_file,
    parse_include,
    resolve,
)
from pylvs.config.keepalived.params import Budget, Params
from pylvs.config.keepalived.srcline import BLANK, SrcLine, decomment

# Bounds that keep a hostile or mistaken config from hanging the reader.
MAX_INCLUDE_DEPTH = 64
MAX_LINES = 1_000_000


def decode(data: bytes, path: str, problems: Problems) -> str:
    """UTF-8 text of a config file; undecodable bytes are replaced and reported once."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line_start = data.rfind(b"\n", 0, e.start) + 1
        col = len(data[line_start : e.start].decode("utf-8", "replace")) + 1
        line = data.count(b"\n", 0, e.start) + 1
        where = Location(path, line, col)
        problems.warning(where, "invalid UTF-8; undecodable bytes replaced", Kind.NOTE)
        return data.decode("utf-8", "replace")


@dataclass(slots=True)
class FileSource:
    path: str
    directory: str
    text: str | None = None  # None: read when first reached
    include_loc: Location | None = None
    level: Check = Check.NONE  # the include variant's own checks
    saved_check: Check = Check.NONE  # include_check to restore when the file ends
    opened: bool = False
    realpath: str = ""
    lines: list[str] = field(default_factory=list)
    index: int = 0


@dataclass(slots=True)
class TextSource:
    """The remaining lines of a multiline parameter, all located at its reference."""

    lines: list[str]
    loc: Location
    index: int = 0


@dataclass(slots=True)
class GenSource:
    generator: Generator
    iterations: Iterator[tuple[str, ...]]


Source = FileSource | TextSource | GenSource


class Preprocessor:
    def __init__(
        self,
        problems: Problems,
        *,
        config_id: str,
        rng: random.Random,
        env: Mapping[str, str],
    ) -> None:
        self._problems = problems
        self._config_id = config_id
        self._stack: list[Source] = []
        self._residue: SrcLine | None = None
        self._lines_left = MAX_LINES
        self.include_check = Check.NONE
        # (file, line) of every "Unterminated quote" reported, so the word splitter does not
        # report the same quote again as "Unmatched quote".
        self.quote_lines: set[tuple[str, int]] = set()
        self.params = Params(problems, config_id=config_id, rng=rng, env=env, pwd=self._pwd)

    # -- sources -------------------------------------------------------------------------------

    def push_file(self, path: str, text: str, directory: str) -> None:
        self._stack.append(FileSource(path, directory, text))

    def _files(self) -> list[FileSource]:
        return [s for s in self._stack if isinstance(s, FileSource) and s.opened]

    def _current_dir(self) -> str:
        files = self._files()
        return files[-1].directory if files else ""

    def _pwd(self) -> str:
        return os.path.abspath(self._current_dir() or os.curdir)

    def _open(self, src: FileSource) -> bool:
        src.opened = True
        loc = src.include_loc or Location(src.path, 0, 0)
        if src.text is None:
            checks = self.include_check | src.level
            why = check_file(src.path)
            if why is not None:
                self._report(Check.READ, checks, loc, why)
                return False
            try:
                with open(src.path, "rb") as f:
                    data = f.read()
            except OSError as e:
                msg = f"Configuration file '{src.path}' open problem ({e.strerror}) - skipping"
                self._report(Check.READ, checks, loc, msg)
                return False
            src.text = decode(data, src.path, self._problems)
        src.realpath = os.path.realpath(src.path)
        ancestors = self._files()[:-1]
        if any(a.realpath == src.realpath for a in ancestors):
            self._problems.error(loc, f"include loop: '{src.path}' is already being read")
            return False
        if len(ancestors) >= MAX_INCLUDE_DEPTH:
            self._problems.error(loc, f"includes nested deeper than {MAX_INCLUDE_DEPTH} files")
            return False
        src.lines = src.text.split("\n")
        if src.lines[-1] == "":
            src.lines.pop()
        return True

    def _from_file(self, src: FileSource) -> SrcLine | None:
        if not src.opened and not self._open(src):
            return None
        while src.index < len(src.lines):
            src.index += 1
            raw = src.lines[src.index - 1].rstrip("\r\n")
            if "\0" in raw:
                where = Location(src.path, src.index, raw.index("\0") + 1)
                self._problems.error(
                    where, "configuration appears to have embedded NULs - ignoring line"
                )
                raw = ""
            if not raw:
                return SrcLine.physical("", src.path, src.index)
            d = decomment(SrcLine.physical(raw, src.path, src.index))
            if d.open_quote is not None:
                self._quote_error(d.open_quote)
            if d.line.text:
                return d.line
        return None

    def _next(self) -> SrcLine | None:
        if self._residue is not None:
            residue, self._residue = self._residue, None
            return residue
        while self._stack:
            src = self._stack[-1]
            line: SrcLine | None = None
            if isinstance(src, FileSource):
                line = self._from_file(src)
            elif isinstance(src, TextSource):
                if src.index < len(src.lines):
                    src.index += 1
                    line = SrcLine.synthetic(src.lines[src.index - 1], src.loc)
            else:
                values = next(src.iterations, None)
                if values is not None:
                    for name, value in zip(src.generator.names, values, strict=True):
                        self.params.set(name, value)
                    line = src.generator.text
            if line is not None:
                return line
            self._stack.pop()
            if isinstance(src, FileSource) and src.include_loc is not None:
                self.include_check = src.saved_check
        return None

    # -- lines ---------------------------------------------------------------------------------

    def lines(self) -> Iterator[SrcLine]:
        """The logical lines: each is `{`, `}` or one statement's text."""
        while True:
            line = self._next()
            if line is None:
                self.params.end_multiline()
                return
            self._lines_left -= 1
            if self._lines_left < 0:
                self._problems.error(
                    line.loc(0), f"configuration expands to over {MAX_LINES} lines"
                )
                return
            if self.params.collecting is not None:
                if line.text:
                    self.params.continue_multiline(line.text)
                else:
                    self.params.end_multiline()
                continue
            if not line.text:
                continue
            done = self._process(line)
            if done is None or not done.text:
                continue
            include = parse_include(done.text)
            if include is not None:
                self._include(done, *include)
                continue
            head, self._residue = split_braces(done)
            if head.text:
                yield head

    def _process(self, line: SrcLine) -> SrcLine | None:
        budget = Budget()
        while True:
            text = line.text
            if text.startswith("@"):
                negate = text.startswith("@^")
                start = 2 if negate else 1
                gap = next((i for i in range(start, len(text)) if text[i] in BLANK), -1)
                if gap < 0:
                    return None  # nothing after the config-id
                if (text[start:gap] == self._config_id) == negate:
                    return None
                line = line.slice(_skip_blanks(text, gap))
                text = line.text
            if text.startswith("$") and self.params.define(line):
                return None
            if text.startswith(("~SEQ", "~LST")):
                self._start_generator(line, budget)
                return None
            if text.startswith("~") or "$" not in text:
                return line
            sub = self.params.substitute(line, budget)
            if sub.failed:
                return None
            if not sub.changed:
                return line
            for rest, loc in sub.pending:
                self._stack.append(TextSource(rest, loc))
            d = decomment(sub.line)
            if d.open_quote is not None and (d.open_quote.file, d.open_quote.line) not in (
                self.quote_lines
            ):
                self._quote_error(d.open_quote)
            line = d.line
            if not (line.text.startswith("@") or "$" in line.text):
                return line

    def _start_generator(self, line: SrcLine, budget: Budget) -> None:
        if line.text.startswith("~SEQ"):
            gen = parse_seq(line, self.params, self._problems, budget)
        else:
            gen = parse_lst(line, self._problems)
        if gen is not None:
            self._stack.append(GenSource(gen, gen.iterations()))

    def _include(self, line: SrcLine, level: Check, name_at: int) -> None:
        pattern = line.slice(name_at)
        loc = pattern.loc(0)
        checks = self.include_check | level
        found = resolve(pattern.text, self._current_dir(), checks)
        for problem_level, message in found.problems:
            self._report(problem_level, checks, loc, message)
        saved = self.include_check
        for path in reversed(found.paths):
            directory = os.path.dirname(path)
            self._stack.append(FileSource(path, directory, None, loc, level, saved))

    def _quote_error(self, loc: Location) -> None:
        self.quote_lines.add((loc.file, loc.line))
        self._problems.error(loc, "Unterminated quote")

    def _report(self, level: Check, checks: Check, loc: Location, message: str) -> None:
        # lib/parser.c `file_config_error`: a checked level is CONFIG_FILE_NOT_FOUND (keepalived
        # -t exits 4), an unchecked one is only logged
        if level & (checks | Check.ALWAYS):
            self._problems.error(loc, message, Kind.FATAL)
        else:
            self._problems.warning(loc, message, Kind.NOTE)

    def set_include_check(self, args: list[tuple[str, Location]]) -> None:
        """Apply an `include_check` statement (keepalived's include_check_set())."""

        def report(i: int, message: str) -> None:
            self._problems.error(args[i][1], message)

        self.include_check = apply_include_check(self.include_check, [w for w, _ in args], report)


def _skip_blanks(text: str, i: int) -> int:
    while i < len(text) and text[i] in BLANK:
        i += 1
    return i


def split_braces(line: SrcLine) -> tuple[SrcLine, SrcLine | None]:
    """Cut `line` at its first `{`/`}` outside quotes: (this line, residue or None)."""
    text = line.text
    at: int | None = 0
    if text[:1] not in ("{", "}"):
        at = None
        i = 0
        while i < len(text):
            c = text[i]
            if c == '"':
                close = text.find('"', i + 1)
                if close < 0:
                    break
                i = close + 1
                continue
            if c in "{}":
                at = i
                break
            i += 1
    if at is None:
        return line.strip_blanks(), None
    cut = _skip_blanks(text, at + 1) if at == 0 else at
    rest = line.slice(cut).strip_blanks()
    return line.slice(0, cut).strip_blanks(), rest if rest.text else None
