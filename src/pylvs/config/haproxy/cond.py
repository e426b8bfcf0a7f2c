"""HAProxy's configuration conditions: `.if`/`.elif` lines and `haproxy -cc` (src/cfgcond.c, 2.6).

An expression is terms joined by `&&` (tighter) and `||`, each term optionally negated by `!`:
a number as C's `strtol(.., 0)` reads it (`-1000`, `0x10`; non-zero is true), a parenthesised
expression, or a predicate with its arguments read by `make_arg_list` (quotes and escapes, no
blank trimming: `streq( a ,a)` is false).  An empty expression is false; anything left after a
complete expression ("200rrr", "!(0))") is an error, as are unknown predicates and missing
arguments.  Versions compare as `split_version` splits them (major, minor, patch, sub, tag —
dev 1, rc/pre 2, release 3 —, tag number, commit), so `2.6-dev0` is older than `2.6.0`, and an
unparsable version is "at least" anything, as HAProxy's `compare_current_version` answers -3.
Pure: the environment is an argument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

VERSION = "2.6.12"  # the HAProxy whose configuration pylvs reads
# The build features `feature()` finds: those of the HAProxy 2.6 pylvs stands in for that pylvs
# provides the equivalent of (its proxy polls with epoll, splices in its C pump, resolves with
# getaddrinfo, serves the Prometheus page, notifies systemd under `pylvs haproxy -Ws`, reads
# regexes with PCRE's syntax rather than POSIX regcomp()'s: Python's re with PCRE's named
# groups, proto/sample/expr.py), terminates and originates TLS with Python's ssl module on
# OpenSSL (dataplane/haproxy/tls.py); the Lua and QUIC ones are absent.
FEATURES = frozenset(
    {"POLL", "EPOLL", "LINUX_SPLICE", "TPROXY", "GETADDRINFO", "PROMEX", "SYSTEMD", "PCRE2", "LUA"}
    | {"OPENSSL"}
)
MAX_RECURSION = 1024  # MAX_CFG_RECURSION
_PREDICATES = {  # name -> number of string arguments (all mandatory)
    "defined": 1,
    "feature": 1,
    "streq": 2,
    "strneq": 2,
    "version_atleast": 1,
    "version_before": 1,
    "openssl_version_atleast": 1,
    "openssl_version_before": 1,
    "ssllib_name_startswith": 1,
}
_NUMBER = re.compile(r"[ \t]*[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


class ConditionError(ValueError):
    """HAProxy's message for an expression it cannot parse or evaluate."""


@dataclass
class _Parser:
    text: str
    env: Mapping[str, str]
    pos: int = 0

    def blanks(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def expr(self, depth: int) -> bool:
        """cfg_parse_cond_expr + cfg_eval_cond_expr: and-terms joined by `||`."""
        if depth <= 0:
            raise ConditionError(f"unparsable conditional expression '{self.text[self.pos :]}'")
        value = self.and_(depth - 1)
        self.blanks()
        if self.text.startswith("||", self.pos):
            self.pos += 2
            self.blanks()
            right = self.expr(depth - 1)
            value = value or right
        return value

    def and_(self, depth: int) -> bool:
        if depth <= 0:
            raise ConditionError(f"unparsable conditional sub-expression '{self.text[self.pos :]}'")
        start = self.pos
        value = self.term(depth - 1)
        if value is None:
            raise ConditionError(f"unparsable conditional sub-expression '{self.text[start:]}'")
        self.blanks()
        if self.text.startswith("&&", self.pos):
            self.pos += 2
            self.blanks()
            right = self.and_(depth - 1)
            value = value and right
        return value

    def term(self, depth: int) -> bool | None:
        """One term (None: nothing to parse here)."""
        self.blanks()
        start = self.pos
        if start >= len(self.text):
            return None
        if depth <= 0:
            raise ConditionError(f"unparsable conditional expression '{self.text[start:]}'")
        neg = False
        while self.pos < len(self.text) and self.text[self.pos] == "!":
            neg = not neg
            self.pos += 1
            self.blanks()
        value = self._number()
        if value is None:
            value = self._paren(start, depth) if self._at("(") else self._predicate(start)
        return value != neg

    def _at(self, c: str) -> bool:
        return self.pos < len(self.text) and self.text[self.pos] == c

    def _number(self) -> bool | None:
        m = _NUMBER.match(self.text, self.pos)
        if m is None:
            return None
        self.pos = m.end()
        digits = m.group(1)
        return int(digits, 8 if digits[:1] == "0" and digits[1:2] not in "xX" else 0) != 0

    def _paren(self, start: int, depth: int) -> bool:
        self.pos += 1
        self.blanks()
        if self.pos >= len(self.text):
            raise ConditionError(f"unparsable conditional expression '{self.text[start:]}'")
        value = self.expr(depth - 1)
        self.blanks()
        if not self._at(")"):
            raise ConditionError(f"expected ')' after conditional expression '{self.text[start:]}'")
        self.pos += 1
        self.blanks()
        return value

    def _predicate(self, start: int) -> bool:
        rest = self.text[self.pos :]
        name = re.split(r"[ (]", rest, maxsplit=1)[0]
        if name not in _PREDICATES:
            raise ConditionError(f"unparsable conditional expression '{self.text[start:]}'")
        need = _PREDICATES[name]
        # here, not at the top: `haproxy -cc` starts without the sample machinery otherwise
        from pylvs.config.haproxy.arglist import SampleError, make_arg_list

        try:
            args, end = make_arg_list(self.text, self.pos + len(name), need, ("STR",) * need)
        except SampleError as e:
            raise ConditionError(
                f"{e} in argument {e.pos} of predicate '{name}' used in conditional expression"
            ) from None
        self.pos = end
        return _evaluate(name, args, self.env)


def _evaluate(name: str, args: tuple[str, ...], env: Mapping[str, str]) -> bool:
    if name == "defined":
        return args[0] in env
    if name == "feature":
        return args[0] in FEATURES
    if name in ("streq", "strneq"):
        return (args[0] == args[1]) == (name == "streq")
    if name in ("version_atleast", "version_before"):
        order = compare_version(args[0])
        return order <= 0 if name == "version_atleast" else order > 0
    if name.startswith("openssl_version"):
        # pylvs is built without an SSL library: HAProxy then fails the evaluation
        raise ConditionError(f"predicate '{name}': no SSL library in this build")
    return False  # ssllib_name_startswith: no SSL library's name starts with anything


def _strtol(text: str, i: int) -> tuple[int, int]:
    """C's strtol(text + i, &end, 10) on the unsigned digits there: (value, end)."""
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    return (int(text[i:j]) if j > i else 0), j


def split_version(text: str) -> tuple[int, ...] | None:
    """haproxy.c split_version: seven numbers, or None when `text` is not a version."""
    value = [0, 0, 0, 0, 3, 0, 0]
    if not text:
        return None
    i, k = 0, 0
    while True:  # <a>.<b>.<c>.<d>, up to a '-'
        value[k], end = _strtol(text, i)
        if end >= len(text):
            return tuple(value)
        sep = text[end]
        i = end + 1
        if sep == "-":
            break
        if sep != "." or k == 3:
            return None
        k += 1
    if not text[i : i + 1].isdigit():
        tag = next((t for t in ("dev", "rc", "pre") if text.startswith(t, i)), None)
        if tag is not None:
            value[4] = 1 if tag == "dev" else 2
            value[5], end = _strtol(text, i + len(tag))
            if end >= len(text):
                return tuple(value)
            if text[end] != "-":
                return None
            i = end + 1
    rest = text[i:]
    last = rest.rsplit("-", 1)[-1] if "-" in rest else rest
    if "-" in rest and not last:
        return None
    value[6] = int(last) if last.isdigit() else 0
    return tuple(value)


def compare_version(text: str) -> int:
    """compare_current_version: -1 older than this version, 0 the same, 1 newer, -3 not a
    version."""
    other = split_version(text)
    if other is None:
        return -3
    current = split_version(VERSION)
    assert current is not None
    return (other > current) - (other < current)


def evaluate(text: str, env: Mapping[str, str]) -> bool:
    """cfg_eval_condition on the words of a condition joined by blanks; ConditionError with
    HAProxy's message when it cannot be parsed or evaluated."""
    if not text:
        return False  # "empty = false"
    parser = _Parser(text, env)
    parser.blanks()
    if parser.pos >= len(text):
        raise ConditionError(f"unparsable conditional expression '{text}'")
    value = parser.expr(MAX_RECURSION)
    parser.blanks()
    if parser.pos < len(text):
        raise ConditionError(
            f"unexpected character '{text[parser.pos]}' at the end of conditional expression"
            f" '{text}'"
        )
    return value
