"""`set-var`, `set-var-fmt` and `unset-var` in a check (src/vars.c action_store,
action_clear), on proto/sample's variables: a condition list after the name
(`set-var(check.x,ifnotexists,ifgt)`) is vars.c var_set's, as proto/sample.vars applies it.
"""

from __future__ import annotations

from pylvs.proto.check.rules import SetVar
from pylvs.proto.check.sample import Context, Smp, evaluate, render
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.vars import CONDITIONS, parse_var_name

__all__ = ["CONDITIONS", "set_var"]


def set_var(rule: SetVar, ctx: Context) -> None:
    name = parse_var_name(rule.name)
    scope = ctx.scope(name.scope)
    if scope is None:
        return
    if rule.unset:
        scope.unset(name.name)
        return
    if rule.fmt is not None:
        value: Smp | None = Smp(ty.STR, render(rule.fmt, ctx))
    else:
        assert rule.expr is not None
        value = evaluate(rule.expr, ctx)
    if value is not None:
        scope.set(name.name, value, frozenset(rule.conditions))
