"""Variables: `set-var`, `unset-var`, `var()` and their scopes (src/vars.c, HAProxy 2.6).

A variable name starts with its scope: `proc.` (the process), `sess.` (the client
connection), `txn.` (one HTTP transaction), `req.` / `res.` (one direction of it), `check.`
(a health check); then letters, digits, `_` and `.`.  A variable holds a sample of any type.

`set-var(name[,cond...])` sets only when its conditions hold (vars.c var_set):
`ifexists`/`ifnotexists` (the variable exists, set or not), `ifset`/`ifnotset` (it holds a
value), `ifempty`/`ifnotempty` (the new value is an empty string or binary; a scalar is never
empty, so `ifempty` refuses it), `ifgt`/`iflt` (the old integer is greater/less than the new
one; only when both are integers).  `proc.` variables the configuration names exist from the
start, unset, and survive `unset-var` (they are permanent); other variables disappear.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.sample.types import ANY, BIN, SINT, STR, Smp

SCOPES = ("proc", "sess", "txn", "req", "res", "check")
CONDITIONS = (
    "ifexists",
    "ifnotexists",
    "ifempty",
    "ifnotempty",
    "ifset",
    "ifnotset",
    "ifgt",
    "iflt",
)


class VarError(ValueError):
    """A variable name or condition HAProxy refuses (its message)."""


@dataclass(frozen=True, slots=True)
class VarName:
    scope: str
    name: str

    def __str__(self) -> str:
        return f"{self.scope}.{self.name}"


def parse_var_name(text: str) -> VarName:
    """vars.c vars_hash_name: `scope.name`; raises VarError with HAProxy's message."""
    if not text:
        raise VarError("Empty variable name cannot be accepted")
    scope, dot, name = text.partition(".")
    if not dot or scope not in SCOPES or not name:
        raise VarError(
            f"invalid variable name '{text}'. A variable name must be start by its scope. "
            "The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
        )
    for i, c in enumerate(name):
        if not (c.isascii() and (c.isalnum() or c in "_.")):
            raise VarError(f"invalid syntax at char '{name[i:]}'")
    return VarName(scope, name)


def parse_conditions(words: list[str]) -> frozenset[str]:
    for word in words:
        if word not in CONDITIONS:
            raise VarError(f'unknown condition "{word}"')
    return frozenset(words)


# A variable that exists but holds nothing (created by the configuration, or unset while
# permanent) has type ANY, as in HAProxy.
_UNSET = Smp(ANY, 0)


class Vars:
    """One scope's variables (struct vars)."""

    __slots__ = ("permanent", "values")

    def __init__(self) -> None:
        self.values: dict[str, Smp] = {}
        self.permanent: set[str] = set()

    def get(self, name: str) -> Smp | None:
        """The value, or None when the variable does not exist or holds nothing."""
        smp = self.values.get(name)
        return None if smp is None or smp.type == ANY else smp

    def create_permanent(self, name: str) -> None:
        """vars_check_arg / parse_store for a proc. variable: it exists from the start."""
        self.permanent.add(name)
        self.values.setdefault(name, _UNSET)

    def set(self, name: str, smp: Smp, conditions: frozenset[str] = frozenset()) -> bool:
        """vars.c var_set: store `smp` unless a condition refuses; whether it was stored."""
        old = self.values.get(name)
        if old is None:
            if "ifexists" in conditions:
                return False
            previous = ANY
        else:
            if "ifnotexists" in conditions:
                return False
            previous = old.type
        if ("ifset" in conditions and previous == ANY) or (
            "ifnotset" in conditions and previous != ANY
        ):
            if old is None:
                self.values[name] = _UNSET  # var_set created it before refusing
            return False
        if not self._accepts(smp, old, previous, conditions):
            if old is None:
                self.values[name] = _UNSET
            return False
        self.values[name] = smp
        return True

    @staticmethod
    def _accepts(smp: Smp, old: Smp | None, previous: int, conditions: frozenset[str]) -> bool:
        if "ifempty" in conditions and smp.type not in (ANY, STR, BIN):
            return False
        if smp.type == SINT and previous == SINT and old is not None:
            if "ifgt" in conditions and not old.num > smp.num:
                return False
            if "iflt" in conditions and not old.num < smp.num:
                return False
        if smp.type in (STR, BIN):
            if "ifnotempty" in conditions and not smp.text:
                return False
            if "ifempty" in conditions and smp.text:
                return False
        return True

    def unset(self, name: str) -> None:
        """vars.c var_clear: a permanent variable stays, holding nothing."""
        if name in self.permanent:
            self.values[name] = _UNSET
        else:
            self.values.pop(name, None)

    def clear(self) -> None:
        self.values = {name: _UNSET for name in self.permanent}
