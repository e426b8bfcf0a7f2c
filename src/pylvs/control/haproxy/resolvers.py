"""`show resolvers [ID]`: the `resolvers` sections' nameserver counters as HAProxy 2.6 prints
them (src/resolvers.c cli_parse_stat_resolvers, cli_io_handler_dump_resolvers_to_buffer):
per section a "Resolvers section NAME" line, per nameserver its fifteen counters in
HAProxy's order, padded to the same column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pylvs.model.resolvers import COUNTERS, ResolversSpec


def show_resolvers(
    sections: Sequence[tuple[ResolversSpec, Sequence[Mapping[str, int]]]], name: str | None
) -> str | None:
    """The dump (each section with one counter map per nameserver); None when `name` names
    no section ("Can't find that resolvers section")."""
    if name:
        sections = [s for s in sections if s[0].name == name]
        if not sections:
            return None
    if not sections:
        return "No resolvers found\n"
    out = []
    for spec, counters in sections:
        out.append(f"Resolvers section {spec.name}\n")
        for ns, c in zip(spec.nameservers, counters, strict=True):
            out.append(f" nameserver {ns.name}:\n")
            out.extend(f"  {k + ':':<13}{c.get(k, 0)}\n" for k in COUNTERS)
    return "".join(out)
