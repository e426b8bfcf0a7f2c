"""`filter NAME [ARGS]` as src/filters.c `parse_filter` reads it (2.6): a name must be one of
the registered filters (flt_dump_kws lists them in the alert, one an indented line, as the
build of haproxy 2.6.12 this project compares with registers them), and a filter whose parser
takes no arguments (flt_http_comp.c `parse_http_comp_flt`) refuses any that follow.
"""

from __future__ import annotations

from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement

# flt_dump_kws: "[SCOPE] name", the scope right-aligned on 4 characters
REGISTERED = (
    ("CACHE", "cache"),
    ("COMP", "compression"),
    ("FCGI", "fcgi-app"),
    ("OT", "opentracing"),
    ("SPOE", "spoe"),
    ("TRACE", "trace"),
)
_NO_ARGS = ("compression",)


def check(st: Statement, ctx: Context, d: ProxyDraft) -> bool:
    """False (after an alert) when HAProxy refuses the line."""
    if not st.args:
        where = f"parsing [{st.loc.file}:{st.loc.line}] : "
        ctx.error(st.loc, f"{where}missing argument for 'filter' in {d.type_str} '{d.name}'.")
        return False
    name = st.args[0].text
    if name not in {n for _, n in REGISTERED}:
        listed = "".join(f"\n    [{scope:>4}] {n}" for scope, n in REGISTERED)
        ctx.error(st.loc, f"'filter' : unknown keyword '{name}'. Registered keywords :{listed}")
        return False
    if name in _NO_ARGS and len(st.args) > 1:
        ctx.error(st.loc, f"'filter {name}' : unknown keyword '{st.args[1].text}'.")
        return False
    return True
