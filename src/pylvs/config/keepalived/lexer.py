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

from pylvs.config.errors import Kind, Location, Problems
from pylvs.config.keepalived import plain
from pylvs.config.keepalived.preprocess import Preprocessor, decode
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


class _Builder:
    """Nests the statements: the stack of open blocks is plain.py's (frames as lists), so the
    plain-line reader and the general path below build the same tree."""

    def __init__(self, pre: Preprocessor, problems: Problems) -> None:
        self._pre = pre
        self._problems = problems

    def build(self, lines: Iterable[SrcLine | None]) -> Iterator[Statement]:
        # An explicit stack, not recursion: nesting depth is up to the input.
        stack: list[plain.Frame] = [plain.new_frame(None, Location("", 0, 0))]
        top = stack[0][plain.ITEMS]
        report = self._problems.error
        for line in lines:
            if line is None:  # plain lines can be read from the current file now
                while True:
                    ready, early = self._pre.read_plain(stack, report, self._include_check)
                    if not ready:
                        break
                    yield from top
                    top.clear()
                if early:  # finished before the last plain line: before the next line
                    yield from top[:early]
                    del top[:early]
                continue
            if top:  # finished top-level statements go out before the next line is read
                yield from top
                top.clear()
            if line.text == "{":
                plain.open_block(stack, line.loc(0), report)
            elif line.text == "}":
                plain.close_block(stack, line.loc(0), report)
            else:
                frame = stack[-1]
                plain.flush(frame)
                frame[plain.PENDING] = self._statement(line, frame)
        while len(stack) > 1:
            frame = stack[-1]
            plain.flush(frame)
            owner = frame[plain.OWNER]
            if owner is not None:
                self._problems.error(
                    owner.keyword.loc,
                    f"block of '{owner.keyword.text}' is not closed: missing '}}'",
                )
            else:
                self._problems.error(frame[plain.BRACE], "'{' is not closed: missing '}'")
            plain.end_block(stack, None)
        plain.flush(stack[0])
        yield from top

    def _statement(self, line: SrcLine, frame: plain.Frame) -> Statement | None:
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
        st = Statement(words[0], tuple(words[1:]), raw, raw_loc)
        self._include_check(st, frame)
        return st

    def _include_check(self, st: Statement, frame: plain.Frame) -> None:
        owner = frame[plain.OWNER]
        if (
            st.keyword.text == "include_check"
            and owner is not None
            and owner.keyword.text == "global_defs"
        ):
            self._pre.set_include_check([(w.text, w.loc) for w in st.args])
