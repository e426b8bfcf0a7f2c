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
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pylvs.config.errors import Kind, Location, Problems
from pylvs.config.keepalived import plain
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

# Whether plain lines are read by plain.py (tests turn it off to compare with the general path).
PLAIN_LINES = True
# Bounds that keep a hostile or mistaken config from hanging the reader.
MAX_INCLUDE_DEPTH = 64
MAX_LINES = 1_000_000
# ~SEQ/~LST repeat their line: a long line repeated many times is gigabytes to process
# (keepalived would try).  What generators produce in all is bounded instead.
MAX_GENERATED = 16 * 1024 * 1024


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
    """A file being read: its text, where the reading is, and how it was included."""

    path: str
    directory: str
    text: str | None = None  # None: read when first reached
    include_loc: Location | None = None
    level: Check = Check.NONE  # the include variant's own checks
    saved_check: Check = Check.NONE  # include_check to restore when the file ends
    opened: bool = False
    realpath: str = ""
    pos: int = 0  # where the next line starts in `text` (lines are read in place: no list)
    index: int = 0  # the number of the last line read
    # Where the rest of the last line starts and its text ends, when plain.read stopped in it
    # (0: it did not)
    resume: int = 0
    resume_end: int = 0


@dataclass(slots=True)
class TextSource:
    """The remaining lines of a multiline parameter, all located at its reference."""

    lines: list[str]
    loc: Location
    index: int = 0


@dataclass(slots=True)
class GenSource:
    """A generator line being expanded: its lines still to come."""

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
        self._generated_left = MAX_GENERATED
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
        return True

    def _from_file(self, src: FileSource) -> SrcLine | None:
        if not src.opened and not self._open(src):
            return None
        source = src.text or ""
        while src.pos < len(source):
            end = source.find("\n", src.pos)
            end = len(source) if end < 0 else end
            raw = source[src.pos : end].rstrip("\r")
            src.pos = end + 1
            src.index += 1
            if "\0" in raw:
                where = Location(src.path, src.index, raw.index("\0") + 1)
                self._problems.error(
                    where, "configuration appears to have embedded NULs - ignoring line"
                )
                raw = ""
            if not raw:
                return SrcLine.physical("", src.path, src.index)
            if _FULL.search(raw) is None:
                # No quote, escape, parameter, @id or generator: decomment() reduces to
                # cutting at the first #/! and stripping; done here without the general path.
                cut = _comment_at(raw)
                body = raw[:cut].rstrip(BLANK)
                text = body.lstrip(BLANK)
                if text:
                    col = len(body) - len(text) + 1
                    return SrcLine(text, ((0, col, 1),), col + len(text), src.path, src.index)
                continue
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
                self._generated_left -= len(src.generator.text.text)
                if values is not None and self._generated_left < 0:
                    self._problems.error(
                        src.generator.text.loc(0),
                        f"~SEQ/~LST generate over {MAX_GENERATED // (1024 * 1024)} MiB of"
                        " configuration text - stopping the generator",
                    )
                    values = None
                    self._generated_left = 0
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

    def lines(self) -> Iterator[SrcLine | None]:
        """The logical lines: each is `{`, `}` or one statement's text.  None says that plain
        lines can be read from the current file now (`read_plain`, before the next line)."""
        while True:
            if PLAIN_LINES and self.plain_source() is not None:
                yield None
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
            text = line.text
            # _process() leaves a line without $, @id or ~generator as it is
            done = self._process(line) if text[0] in "@$~" or "$" in text else line
            if done is None or not done.text:
                continue
            include = parse_include(done.text)
            if include is not None:
                self._include(done, *include)
                continue
            yield from self._pieces(done)

    def plain_source(self) -> FileSource | None:
        """The file plain lines come from now: none while a line's residue, a generator's or a
        multiline parameter's lines or a definition being collected come first."""
        if self._residue is None and self.params.collecting is None and self._stack:
            top = self._stack[-1]
            if isinstance(top, FileSource) and top.opened:
                return top
        return None

    def read_plain(
        self, stack: list[plain.Frame], report: plain.Report, include_check: plain.IncludeCheck
    ) -> tuple[bool, int]:
        """Plain lines of the current file into the lexer's `stack`: plain.py's (ready,
        early)."""
        src = self.plain_source()
        if src is None:
            return False, 0
        self._lines_left, ready, early = plain.read(
            src, stack, self._lines_left, report, include_check
        )
        return ready, early

    def _pieces(self, line: SrcLine) -> Iterator[SrcLine]:
        """`line` cut at its braces, as keepalived cuts it one brace at a time.

        keepalived processes the rest of a line after a brace as a line of its own; where that
        could change it (a `$`, `@`, `~` or an include) the rest becomes this reader's residue
        and goes through `_process` again.  Otherwise the cutting goes on in one pass, so a line
        of any number of braces is read in linear time.
        """
        text = line.text
        if ("{" not in text and "}" not in text) or text in ("{", "}"):
            yield line if text[0] not in BLANK and text[-1] not in BLANK else line.strip_blanks()
            return
        if text[-1] == "{" and text.count("{") == 1 and "}" not in text and '"' not in text:
            # `keyword args {`: the statement, then its brace
            yield line.slice(0, len(text[:-1].rstrip(BLANK)))
            yield line.slice(len(text) - 1)
            return
        last_dollar = text.rfind("$")
        for start, end, rest in brace_cuts(text):
            piece = line.slice(start, end).strip_blanks()
            if piece.text:
                yield piece
            if rest is None:
                return
            if text[rest] in "@$~" or last_dollar >= rest or text.startswith("include", rest):
                self._residue = line.slice(rest).strip_blanks()
                return
            self._lines_left -= 1
            if self._lines_left < 0:
                self._problems.error(
                    line.loc(rest), f"configuration expands to over {MAX_LINES} lines"
                )
                return

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
        if gen is None:
            return
        total = len(gen.text.text) * (len(gen.value_sets) or gen.count)
        if total > self._generated_left:
            self._problems.error(
                line.loc(0),
                f"{line.text[:4]} would generate {total:,} characters of configuration"
                f" (at most {MAX_GENERATED // (1024 * 1024)} MiB in all) - ignoring it",
            )
            return
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


_BRACE_OR_QUOTE = re.compile(r'[{}"]')
# What makes a physical line need the general path (decomment, _process).
_FULL = re.compile(r'["\\$@~]')


def _comment_at(raw: str) -> int:
    """Where a #/! comment starts in a line without quotes or escapes (len when none)."""
    hash_at = raw.find("#")
    bang_at = raw.find("!")
    if hash_at < 0:
        return bang_at if bang_at >= 0 else len(raw)
    return hash_at if bang_at < 0 or hash_at < bang_at else bang_at


def brace_cuts(text: str) -> Iterator[tuple[int, int, int | None]]:
    """keepalived's brace cutting of `text`: (start, end, rest) of each piece in turn, `rest`
    being where the line goes on after it (None at the end).  A brace is a piece of its own;
    braces inside `"..."` do not count, and a `"` never closed hides every brace after it."""
    n = len(text)
    p = _skip_blanks(text, 0)
    while p < n:
        if text[p] in "{}":
            cut = _skip_blanks(text, p + 1)
            yield p, p + 1, (cut if cut < n else None)
            p = cut
            continue
        at = _first_brace(text, p)
        if at is None:
            yield p, n, None
            return
        yield p, at, at
        p = at


def _first_brace(text: str, p: int) -> int | None:
    while True:
        m = _BRACE_OR_QUOTE.search(text, p)
        if m is None:
            return None
        if m.group() != '"':
            return m.start()
        close = text.find('"', m.start() + 1)
        if close < 0:
            return None
        p = close + 1
