"""`tcp-request content switch-mode http [proto NAME]` as HAProxy 2.6's parser and checks
take it (src/stream.c stream_parse_switch_mode and check_tcp_switch_stream_mode;
src/cfgparse.c's PR_O_HTTP_UPG warnings).

The parser wants a mode (`http`, the only one: "downgrade is not supported"), a proxy with a
frontend, and after `proto` a known multiplexer; the check (reported without a line by
HAProxy, at the rule's here) wants one that serves a frontend in HTTP mode: `h1` or `h2`
(`fcgi` serves backends, `none` is a TCP one: "not compatible with the selected mode").
The rule's words after the mode and proto may only be a condition.
"""

from __future__ import annotations

from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement, Word
from pylvs.proto.rules.switch_mode import HTTP_MUXES

# The multiplexers `proto` may name (haproxy -vv's "Available multiplexer protocols").
MUXES = ("h1", "h2", "fcgi", "none")


def words_ok(st: Statement, ctx: Context, d: ProxyDraft, rule_set: str, head: list[Word]) -> bool:
    """Check the action's words (`head`: the action and its arguments, before any
    condition) with HAProxy's messages."""
    what = f"'{rule_set.split(maxsplit=1)[0]} switch-mode'"
    args = [w.text for w in head[1:]]
    if not args:
        ctx.error(st.loc, f"{what} expects a mode as argument.")
        return False
    if d.kind == "backend":
        ctx.error(
            st.loc,
            f"{what} not allowed because {d.type_str} '{d.name}' has no frontend capability",
        )
        return False
    if args[0] != "http":
        ctx.error(head[1].loc, f"{what} expects a valid mode (got '{args[0]}').")
        return False
    used = 1
    if len(args) > 1 and args[1] == "proto":
        if len(args) < 3:
            ctx.error(head[2].loc, f"{what}: 'proto' expects a protocol as argument.")
            return False
        if args[2] not in MUXES:
            ctx.error(
                head[3].loc,
                f"{what}: 'proto' expects a valid MUX protocol, if specified (got '{args[2]}')",
            )
            return False
        if args[2] not in HTTP_MUXES:
            ctx.error(
                head[3].loc,
                f"Proxy '{d.name}': MUX protocol '{args[2]}' is not compatible with the selected"
                " mode.",
            )
            return False
        used = 3
    if len(args) > used:
        ctx.error(
            head[used + 1].loc,
            f"'{rule_set} switch-mode' only accepts 'if' or 'unless', in {d.type_str}"
            f" '{d.name}' (got '{args[used]}')",
        )
        return False
    return True


def proto_of(args: tuple[str, ...]) -> str:
    """The mux a checked rule asks for ("": the default)."""
    return args[2] if len(args) >= 3 else ""
