"""haproxy.cfg text -> section statements (src/cfgparse.c `readcfgfile`, HAProxy 2.6).

Each line is split by `lexer.LineSplitter`.  A line whose first word names a section (`global`,
`defaults`, `frontend`, ...) opens it: its statement carries the following lines as `block`
until the next section.  A line before any section is "unknown keyword 'x' out of section".
The conditional directives `.if`, `.elif`, `.else`, `.endif` drop the lines they mask, and
`.alert`, `.warning`, `.notice`, `.diag` report (conditions: cond.py, HAProxy's
`cfg_eval_condition`).  `setenv`, `presetenv`, `unsetenv` and `resetenv` in `global` change
the environment right away, for the lines that follow, as HAProxy applies them while reading.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field

from pylvs.config.errors import Cite, Kind, Location, Problems
from pylvs.config.haproxy.cond import ConditionError, evaluate
from pylvs.config.haproxy.lexer import LineSplitter, Place
from pylvs.config.tree import Statement, Word

SECTIONS = frozenset(
    {
        "global",
        "defaults",
        "frontend",
        "backend",
        "listen",
        "peers",
        "resolvers",
        "userlist",
        "mailers",
        "program",
        "http-errors",
        "ring",
        "cache",
        "log-forward",
        "fcgi-app",
    }
)
MAX_NESTED = 10  # MAXNESTEDCONDS


@dataclass
class _Cond:
    taking: bool  # the current branch is in
    done: bool  # a branch was taken already
    masked: bool  # an enclosing block is out
    seen_else: bool = False


@dataclass
class _Builder:
    splitter: LineSplitter
    problems: Problems
    file: str
    sections: list[Statement] = field(default_factory=list)
    current: Word | None = None
    current_args: tuple[Word, ...] = ()
    lines: list[Statement] = field(default_factory=list)
    conds: list[_Cond] = field(default_factory=list)

    def close(self) -> None:
        if self.current is not None:
            self.sections.append(
                Statement(self.current, self.current_args, block=tuple(self.lines))
            )
        self.current, self.lines = None, []

    def masked(self) -> bool:
        return bool(self.conds) and (self.conds[-1].masked or not self.conds[-1].taking)


def read_sections(
    text: str, filename: str, env: MutableMapping[str, str], problems: Problems
) -> list[Statement]:
    """The sections of `text`; `env` is read for `${...}` and changed by `setenv` & co."""
    b = _Builder(LineSplitter(env, problems), problems, filename)
    place = Place(filename)
    lines = text.split("\n")
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # the file's last newline ends its last line
    for number, line in enumerate(lines, 1):
        place.line = number
        words = b.splitter.split(line, place)
        if not words:
            continue
        first = words[0]
        if first.text.startswith("."):
            _directive(b, words, env)
            continue
        if b.masked():
            continue
        if first.text in SECTIONS:
            b.close()
            b.current, b.current_args = first, tuple(words[1:])
            place.section = words[1].text if len(words) > 1 else first.text
            continue
        if b.current is None:
            problems.error(
                first.loc,
                f"unknown keyword '{first.text}' out of section.",
                Kind.CONFIG,
                Cite.TIGHT,
            )
            continue
        if b.current.text == "global":
            _environment(words, env)
        b.lines.append(Statement(first, tuple(words[1:])))
    if b.conds:
        problems.error(
            Location(filename, place.line, 1),
            "non-terminated '.if' block.",
            Kind.CONFIG,
            Cite.TIGHT,
            abort=True,
        )
    b.close()
    return b.sections


def _environment(words: list[Word], env: MutableMapping[str, str]) -> None:
    """setenv/presetenv/unsetenv/resetenv, applied while reading (cfgparse-global.c)."""
    name, args = words[0].text, [w.text for w in words[1:]]
    if name == "setenv" and len(args) >= 2:
        env[args[0]] = args[1]
    elif name == "presetenv" and len(args) >= 2:
        env.setdefault(args[0], args[1])
    elif name == "unsetenv":
        for a in args:
            env.pop(a, None)
    elif name == "resetenv":
        keep = set(args)
        for key in [k for k in env if k not in keep]:
            del env[key]


def _directive(b: _Builder, words: list[Word], env: MutableMapping[str, str]) -> None:
    first = words[0]
    name = first.text
    if name in (".if", ".elif"):
        _if(b, words, env)
        return
    if name in (".else", ".endif"):
        if len(words) > 1:
            b.problems.error(
                words[1].loc,
                f"Unexpected argument '{words[1].text}' for '{name}'.",
                Kind.CONFIG,
                Cite.TIGHT,
                abort=True,
            )
            return
        if not b.conds:
            b.problems.error(
                first.loc,
                f"lone '{name}' with no matching '.if'.",
                Kind.CONFIG,
                Cite.TIGHT,
                abort=True,
            )
            return
        cond = b.conds[-1]
        if name == ".endif":
            b.conds.pop()
        elif cond.seen_else:
            b.problems.error(
                first.loc,
                "'.else' after '.else' is not permitted.",
                Kind.CONFIG,
                Cite.TIGHT,
                abort=True,
            )
        else:
            cond.seen_else = True
            cond.taking = not cond.done
            cond.done = True
        return
    if b.masked():
        return
    if name in (".alert", ".warning", ".notice", ".diag"):
        if len(words) > 2:
            b.problems.error(
                words[2].loc,
                f"Unexpected argument '{words[2].text}' for '{name}'."
                " Use quotes if the message should contain spaces.",
                Kind.CONFIG,
                Cite.TIGHT,
            )
            return
        message = words[1].text if len(words) > 1 else ""
        if name == ".alert":
            b.problems.error(first.loc, f"'{message}'.", Kind.CONFIG, Cite.TIGHT, abort=True)
        elif name == ".warning":
            b.problems.warning(first.loc, f"'{message}'.", Kind.CONFIG, Cite.TIGHT)
        return
    b.problems.error(first.loc, f"unknown directive '{name}'.", Kind.CONFIG, Cite.TIGHT)


def _if(b: _Builder, words: list[Word], env: MutableMapping[str, str]) -> None:
    first = words[0]
    if first.text == ".if":
        if len(b.conds) >= MAX_NESTED:
            b.problems.error(
                first.loc,
                f"too many nested '.if', max is {MAX_NESTED}.",
                Kind.CONFIG,
                Cite.TIGHT,
                abort=True,
            )
            return
        masked = b.masked()
        b.conds.append(_Cond(taking=False, done=masked, masked=masked))
    elif not b.conds:
        b.problems.error(
            first.loc, "lone '.elif' with no matching '.if'.", Kind.CONFIG, Cite.TIGHT, abort=True
        )
        return
    elif b.conds[-1].seen_else:
        b.problems.error(
            first.loc,
            "'.elif' after '.else' is not permitted.",
            Kind.CONFIG,
            Cite.TIGHT,
            abort=True,
        )
        return
    cond = b.conds[-1]
    if cond.done or cond.masked:
        cond.taking = False
        return
    expr = " ".join(w.text for w in words[1:])
    try:
        value = evaluate(expr, env)
    except ConditionError as e:
        b.problems.error(first.loc, f"{e} in '{first.text}'", Kind.CONFIG, Cite.TIGHT, abort=True)
        value = False
    cond.taking = value
    cond.done = value
