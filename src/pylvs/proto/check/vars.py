"""`set-var`, `set-var-fmt` and `unset-var` in a check (src/vars.c action_store,
action_clear, vars_parse_cond_param and var_set's conditions).

A condition list after the name (`set-var(check.x,ifnotexists,ifgt)`) must hold entirely
for the variable to be set: `ifexists` / `ifnotexists` (the variable has / has no value),
`ifempty` / `ifnotempty` (the new value is an empty string or binary, or 0), `ifset` /
`ifnotset` (alias of exists), `ifgt` / `iflt` (the current integer is greater / lower than
the new one; no test unless both are integers).
"""

from __future__ import annotations

from pylvs.proto.check.rules import SetVar
from pylvs.proto.check.sample import Context, Smp, evaluate, render

CONDITIONS = frozenset(
    {"ifexists", "ifnotexists", "ifempty", "ifnotempty", "ifset", "ifnotset", "ifgt", "iflt"}
)


def set_var(rule: SetVar, ctx: Context) -> None:
    if rule.unset:
        ctx.vars.pop(rule.name, None)
        return
    if rule.fmt is not None:
        value: Smp | None = Smp("STR", render(rule.fmt, ctx))
    else:
        assert rule.expr is not None
        value = evaluate(rule.expr, ctx)
    if value is None:
        return
    current = ctx.get_var(rule.name)
    if all(_holds(c, current, value) for c in rule.conditions):
        ctx.vars[rule.name] = value


def _holds(cond: str, current: Smp | None, new: Smp) -> bool:
    if cond in ("ifexists", "ifset"):
        return current is not None
    if cond in ("ifnotexists", "ifnotset"):
        return current is None
    text = new.type in ("STR", "BIN")
    if cond == "ifempty":  # a scalar is never empty
        return text and not new.value
    if cond == "ifnotempty":
        return not text or bool(new.value)
    # ifgt / iflt compare the current integer with the new one, when both are integers
    if current is None or current.type != "SINT" or new.type != "SINT":
        return True
    assert isinstance(current.value, int) and isinstance(new.value, int)
    return current.value > new.value if cond == "ifgt" else current.value < new.value
