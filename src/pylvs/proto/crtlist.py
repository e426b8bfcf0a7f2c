"""A `crt-list` file: one certificate per line, with the bind options it overrides in
brackets and the SNI names it answers for (HAProxy 2.6 src/ssl_crtlist.c crtlist_parse_line /
crtlist_parse_file).  Pure: the config reader checks the file with it, the runtime loads it.
Of the per-line options, `alpn`, `verify` and `ca-file` are read (others are refused as
HAProxy refuses an unknown one: pylvs does not act on them).
"""

from __future__ import annotations

from pylvs.model.tls import CrtListEntry


def parse_crt_list(text: str, path: str) -> tuple[CrtListEntry, ...] | str:
    """A crt-list file (src/ssl_crtlist.c crtlist_parse_file): `CRT [[opts]] [filters]` per
    line, `#` comments; the entries, or HAProxy's message for the first bad line."""
    out: list[CrtListEntry] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        opts: list[str] = []
        if "[" in line:
            head, _, rest = line.partition("[")
            inner, sep, tail = rest.partition("]")
            if not sep:
                return f"parsing [{path}:{n}]: missing ']'"
            if "[" in inner or "]" in tail:
                return f"parsing [{path}:{n}]: too many '[' or ']'"
            words = head.split()
            opts = inner.split()
            filters = tail.split()
        else:
            words = line.split()
            filters = words[1:]
            words = words[:1]
        if len(words) != 1:
            return f"parsing [{path}:{n}]: file must start with a cert"
        entry = _crt_list_entry(words[0], opts, filters, f"parsing [{path}:{n}]")
        if isinstance(entry, str):
            return entry
        out.append(entry)
    return tuple(out)


def _crt_list_entry(
    crt: str, opts: list[str], filters: list[str], where: str
) -> CrtListEntry | str:
    values: dict[str, str] = {}
    i = 0
    while i < len(opts):
        key = opts[i]
        if key not in ("alpn", "verify", "ca-file") or i + 1 >= len(opts):
            return f"{where}: unknown ssl keyword {key}"
        values[key] = opts[i + 1]
        i += 2
    alpn = tuple(values["alpn"].split(",")) if "alpn" in values else None
    return CrtListEntry(crt, tuple(filters), alpn, values.get("verify"), values.get("ca-file"))
