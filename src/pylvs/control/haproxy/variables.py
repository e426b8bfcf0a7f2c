"""`get var` and `set var` on the stats socket (src/vars.c vars_parse_cli_get_var,
vars_parse_cli_set_var; HAProxy 2.6): the process-wide (`proc.`) variables.

`get var proc.NAME` prints "proc.NAME: type=TYPE value=<TEXT>", the value cast to a string
up to its first NUL, with each byte that is not printable as '.', or "(undisplayable)" when
it has no string form; a variable that exists but holds nothing is "not found".
`set var proc.NAME [expr|fmt] TEXT` is experimental (`experimental-mode on`, else it is
refused as restricted): it compiles TEXT as a sample expression or a log-format, as
`set-var` / `set-var-fmt` would in a rule, and runs it once on a stream of no proxy; only the
`proc.` scope may be set.  Both need the operator level.
"""

from __future__ import annotations

from pylvs.control.haproxy.context import Context, Reply, err, msg
from pylvs.proto.sample import types as ty
from pylvs.proto.stick import Level


def _word(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def get_var(ctx: Context, words: list[str], payload: str | None) -> Reply:
    denied = ctx.denied(Level.OPERATOR)
    if denied is not None:
        return denied
    name = _word(words, 2)
    if not name:
        return err("Missing process-wide variable identifier.\n")
    smp = ctx.runtime.proc_var(name)
    if smp is None:
        return err("Variable not found.\n")
    text = f"{name}: type={ty.TYPE_NAMES[smp.type]} value="
    as_text = ty.cast(smp, ty.STR)
    if as_text is None:
        text += "(undisplayable)"
    else:
        # the cast's text is a C string there: it ends at its first NUL
        value = as_text.text.partition(b"\0")[0]
        shown = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in value)
        text += f"<{shown}>"
    return msg(text)  # cli_msg of a line without its newline: the CLI ends it


def set_var(ctx: Context, words: list[str], payload: str | None) -> Reply:
    denied = ctx.denied(Level.OPERATOR)
    if denied is not None:
        return denied
    name, kind, value = _word(words, 2), _word(words, 3), _word(words, 4)
    if not name:
        return err("Missing process-wide variable identifier.\n")
    if not kind:
        return err("Missing either 'expr', 'fmt' or expression.\n")
    if value and kind not in ("expr", "fmt"):
        return err(
            f"'{words[0]} {words[1]}': arg type must be either 'expr' or 'fmt' but got '{kind}'."
        )
    problem = ctx.runtime.set_proc_var(name, kind == "fmt" and bool(value), value or kind)
    if problem is not None:
        return err(problem.rstrip("\n"))  # cli_dynerr: the CLI ends the line
    return Reply("")


def restricted(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """An experimental keyword while `experimental-mode` is off (cli_parse_request)."""
    return err("This command is restricted to experimental mode only.\n")
