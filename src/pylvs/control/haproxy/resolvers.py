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


# `show stat domain resolvers`: the resolvers stats module's fields (src/resolvers.c
# resolv_stats): name, description; `id` and `pid` are config strings, the rest u64 gauges
_FIELDS = (
    ("id", "ID"),
    ("pid", "Parent ID"),
    ("sent", "Sent"),
    ("send_error", "Send error"),
    ("valid", "Valid"),
    ("update", "Update"),
    ("cname", "CNAME"),
    ("cname_error", "CNAME error"),
    ("any_err", "Any errors"),
    ("nx", "NX"),
    ("timeout", "Timeout"),
    ("refused", "Refused"),
    ("other", "Other"),
    ("invalid", "Invalid"),
    ("too_big", "Too big"),
    ("truncated", "Truncated"),
    ("outdated", "Outdated"),
)


def stat_resolvers(
    sections: Sequence[tuple[ResolversSpec, Sequence[Mapping[str, int]]]], fmt: str, desc: bool
) -> str:
    """One row per nameserver, every section's (stats_dump_resolvers), as `fmt` ("csv",
    "typed", "json") prints it; JSON's rows follow each other without a comma, as 2.6's do."""
    rows = [
        (ns.name, spec.name, [c.get(k, 0) for k in COUNTERS])
        for spec, counters in sections
        for ns, c in zip(spec.nameservers, counters, strict=True)
    ]
    if fmt == "csv":
        head = "# " + ",".join(name for name, _ in _FIELDS) + ",\n"
        return head + "".join(f"{i},{p},{','.join(map(str, v))},\n" for i, p, v in rows)
    if fmt == "typed":
        out = []
        for ident, parent, values in rows:
            for pos, ((name, what), value) in enumerate(
                zip(_FIELDS, [ident, parent, *values], strict=True)
            ):
                kind = "CGP:str" if pos < 2 else "MGP:u64"
                out.append(f"N.{pos}.{name}:{kind}:{value}" + (f':"{what}"\n' if desc else "\n"))
        return "".join(out)
    items = []
    for ident, parent, values in rows:
        fields = []
        for pos, ((name, _), value) in enumerate(
            zip(_FIELDS, [ident, parent, *values], strict=True)
        ):
            origin, typ, shown = (
                ("Config", "str", f'"{value}"') if pos < 2 else ("Metric", "u64", value)
            )
            fields.append(
                f'{{"field":{{"pos":{pos},"name":"{name}"}},"tags":{{"origin":"{origin}",'
                f'"nature":"Gauge","scope":"Process"}},"value":{{"type":"{typ}","value":{shown}}}}}'
            )
        items.append("[" + ",".join(fields) + "]")
    return "[" + "".join(items) + "]\n"
