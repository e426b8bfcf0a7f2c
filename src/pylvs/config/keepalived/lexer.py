"""Read keepalived.conf text or files into the statement tree of `tree.py`.

`preprocess.Preprocessor` turns files into logical lines (includes, `@id` conditionals,
`$PARAM`s, `~SEQ`/`~LST`, comments and `{`/`}` splitting done); this module splits each line
into words (`words.split_words`, keepalived's `alloc_strvec_r()`) and nests the statements:
a statement directly followed by a `{` line owns the statements up to the matching `}`
[acassen/keepalived: lib/parser.c `process_stream()`, `read_line()`].  A `{` that follows no
statement is reported ("Unexpected '{'") and its contents stay at the current level; a `}` with
no open block is "Extra '}' found"; a block still open at the end of the input is reported at
the statement that opened it (its `end` stays None).  `include_check` statements inside
`global_defs` change the include checks for what is read after them, as in keepalived.

Nothing here raises on bad input: every problem goes into the `Problems` given.
"""

from __future__ import annotations

import os
import random
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pylvs.config.errors import Kind, Location, Problems
from pylvs.config.keepalived.preprocess import Pending, Preprocessor, decode
from pylvs.config.keepalived.srcline import WHITE_SPACE, SrcLine
from pylvs.config.keepalived.words import split_quoted, split_words
from pylvs.config.tree import Statement

__all__ = ["iter_file", "iter_text", "read_file", "read_text", "split_quoted"]


def default_config_id() -> str:
    """keepalived's default config-id: the node name up to its first '.'."""
    return os.uname().nodename.split(".")[0]


def read_file(
    path: str,
    problems: Problems,
    *,
    config_id: str | None = None,
    rng: random.Random | None = None,
) -> tuple[Statement, ...]:
    """The top-level statements of the configuration file `path` (and what it includes)."""
    return tuple(iter_file(path, problems, config_id=config_id, rng=rng))


def iter_file(
    path: str,
    problems: Problems,
    *,
    config_id: str | None = None,
    rng: random.Random | None = None,
) -> Iterator[Statement]:
    """`read_file` one top-level statement at a time: a big file is never held as a tree."""
    where = Location(path, 0, 0)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            problems.error(where, f"Configuration file '{path}' is a directory", Kind.FATAL)
            return iter(())
        if not stat.S_ISREG(st.st_mode) or st.st_mode & (
            stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        ):
            problems.error(
                where,
                f"Configuration file '{path}' is not a regular non-executable file",
                Kind.FATAL,
            )
            return iter(())
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        problems.error(where, f"Unable to find configuration file {path}", Kind.FATAL)
        return iter(())
    except (OSError, ValueError) as e:
        # ValueError: a path with an embedded NUL.
        problems.error(where, f"Unable to read configuration file {path}: {e}", Kind.FATAL)
        return iter(())
    text = decode(data, path, problems)
    del data
    return iter_text(
        text, path, problems, config_id=config_id, rng=rng, base_dir=os.path.dirname(path)
    )


def read_text(
    text: str,
    filename: str,
    problems: Problems,
    *,
    config_id: str | None = None,
    rng: random.Random | None = None,
    base_dir: str | None = None,
) -> tuple[Statement, ...]:
    """The top-level statements of `text`, located in `filename`.

    Includes are relative to `base_dir` (default: the directory of `filename`).  `config_id`
    is what `@ID` lines and `${_INSTANCE}` use (default: the host name up to the first '.');
    `rng` feeds `${_RANDOM}`.
    """
    return tuple(
        iter_text(text, filename, problems, config_id=config_id, rng=rng, base_dir=base_dir)
    )


def iter_text(
    text: str,
    filename: str,
    problems: Problems,
    *,
    config_id: str | None = None,
    rng: random.Random | None = None,
    base_dir: str | None = None,
) -> Iterator[Statement]:
    """`read_text` one top-level statement at a time."""
    pre = Preprocessor(
        problems,
        config_id=default_config_id() if config_id is None else config_id,
        rng=random.Random() if rng is None else rng,
        env=os.environ,
    )
    directory = os.path.dirname(filename) if base_dir is None else base_dir
    pre.push_file(filename, text, directory)
    return _Builder(pre, problems).build(pre.lines())


def _done(
    p: Pending, block: tuple[Statement, ...] | None = None, end: Location | None = None
) -> Statement:
    return Statement(p.keyword, p.args, p.raw, p.raw_loc, block, end)


@dataclass(slots=True)
class _Frame:
    owner: Pending | None  # None: the contents of an unexpected '{' (kept at this level)
    brace: Location
    items: list[Statement] = field(default_factory=list)
    pending: Pending | None = None

    def flush(self) -> None:
        if self.pending is not None:
            self.items.append(_done(self.pending))
            self.pending = None


class _Builder:
    def __init__(self, pre: Preprocessor, problems: Problems) -> None:
        self._pre = pre
        self._problems = problems

    def build(self, lines: Iterable[SrcLine | Pending]) -> Iterator[Statement]:
        # An explicit stack, not recursion: nesting depth is up to the input.
        top = _Frame(None, Location("", 0, 0))
        stack = [top]
        for line in lines:
            if top.items:  # finished top-level statements go out at once
                yield from top.items
                top.items.clear()
            frame = stack[-1]
            if isinstance(line, Pending):
                frame.flush()
                frame.pending = line
                self._include_check(line, frame)
                continue
            if line.text == "{":
                if frame.pending is not None:
                    stack.append(_Frame(frame.pending, line.loc(0)))
                    frame.pending = None
                else:
                    frame.flush()
                    self._problems.error(line.loc(0), "Unexpected '{'")
                    stack.append(_Frame(None, line.loc(0)))
            elif line.text == "}":
                frame.flush()
                if len(stack) == 1:
                    self._problems.error(line.loc(0), "Extra '}' found")
                    continue
                stack.pop()
                self._close(frame, stack[-1], line.loc(0))
            else:
                frame.flush()
                frame.pending = self._statement(line, frame)
        while len(stack) > 1:
            frame = stack.pop()
            frame.flush()
            if frame.owner is not None:
                self._problems.error(
                    frame.owner.keyword.loc,
                    f"block of '{frame.owner.keyword.text}' is not closed: missing '}}'",
                )
            else:
                self._problems.error(frame.brace, "'{' is not closed: missing '}'")
            self._close(frame, stack[-1], None)
        top.flush()
        yield from top.items

    @staticmethod
    def _close(frame: _Frame, parent: _Frame, end: Location | None) -> None:
        if frame.owner is None:
            parent.items.extend(frame.items)
        else:
            parent.items.append(_done(frame.owner, tuple(frame.items), end))

    def _statement(self, line: SrcLine, frame: _Frame) -> Pending | None:
        words, ends, unmatched = split_words(line)
        if unmatched is not None and (line.file, line.line) not in self._pre.quote_lines:
            self._problems.error(line.loc(unmatched), "Unmatched quote")
        if not words:
            return None
        text = line.text
        raw = text[ends[0] :].lstrip(WHITE_SPACE)
        if len(words) > 1:  # the rest of the line starts with the second word (or its quote)
            raw_loc: Location | None = words[1].loc
        else:
            raw_loc = line.loc(len(text) - len(raw)) if raw else None
        pending = Pending(words[0], tuple(words[1:]), raw, raw_loc)
        self._include_check(pending, frame)
        return pending

    def _include_check(self, pending: Pending, frame: _Frame) -> None:
        if (
            pending.keyword.text == "include_check"
            and frame.owner is not None
            and frame.owner.keyword.text == "global_defs"
        ):
            self._pre.set_include_check([(w.text, w.loc) for w in pending.args])
