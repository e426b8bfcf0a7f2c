"""The stats socket's ACL and map commands: `show|add|del|clear acl|map`, `set map`
(src/map.c cli_parse_show_map, cli_parse_add_map, cli_parse_del_map, cli_parse_clear_map,
cli_parse_set_map; HAProxy 2.6).

They act on the runtime's shared pattern references (proto/sample/pattern_ref.py): every ACL
and map converter that names the file sees the change at its next match.  A reference is
named by its file as written in the configuration or by `#<id>`; an entry by its key or by
the `#0x...` identifier `show acl|map` prints for it (HAProxy prints the entry's address;
pylvs prints an identifier as stable as the entry).  `show acl` lists the references ACLs
use (their files and the inline patterns of each ACL), `show map` those maps use.

pylvs keeps one version of each reference: the versioned forms (`@<ver>`, `prepare`,
`commit`) are refused with their own message rather than taken as the current version.
As in map.c, these commands check no access level.
"""

from __future__ import annotations

from pylvs.control.haproxy.context import Context, Reply, err
from pylvs.proto.sample.pattern_ref import Entry, PatternRef


def _kind(words: list[str]) -> str:
    return words[1] if len(words) > 1 else ""


def _word(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def _unknown(kind: str) -> Reply:
    name = "map" if kind == "map" else "ACL"
    return err(f"Unknown {name} identifier. Please use #<id> or <file>.\n")


def _versioned(kind: str) -> Reply:
    return err(f"pylvs keeps one version of each {kind}: '@<ver>' is not supported.\n")


def _ref(ctx: Context, name: str, kind: str) -> PatternRef | None:
    """pat_ref_lookup_ref, restricted to the references of the kind named (PAT_REF_MAP /
    PAT_REF_ACL)."""
    ref = ctx.runtime.patterns().lookup(name)
    if ref is None or ref.is_map != (kind == "map"):
        return None
    return ref


def entry_id(e: Entry) -> str:
    """The identifier `show acl|map` prints for an entry (and `del`/`set` take as #0x...)."""
    return f"{id(e):#x}"


def show(ctx: Context, words: list[str], payload: str | None) -> Reply:
    kind = _kind(words)
    name = _word(words, 2)
    if not name:
        lines = ["# id (file) description\n"]
        for each in sorted(ctx.runtime.patterns().refs.values(), key=lambda r: r.uid):
            if each.is_map != (kind == "map"):
                continue
            file = "" if each.name.startswith("#") else each.name
            lines.append(
                f"{each.uid} ({file}) {each.display}. curr_ver=0 next_ver=0 entry_cnt={len(each)}\n"
            )
        return Reply("".join(lines))
    if name.startswith("@"):
        return _versioned(kind)
    ref = _ref(ctx, name, kind)
    if ref is None:
        return _unknown(kind)
    out = []
    for e in ref:
        if e.value is not None:
            out.append(f"{entry_id(e)} {_text(e.key)} {_text(e.value)}\n")
        else:
            out.append(f"{entry_id(e)} {_text(e.key)}\n")
    return Reply("".join(out))


def _text(b: bytes) -> str:
    return b.decode("latin-1")


def _raw(s: str) -> bytes:
    return s.encode("latin-1")


def add(ctx: Context, words: list[str], payload: str | None) -> Reply:
    kind = _kind(words)
    if _word(words, 2).startswith("@"):
        return _versioned(kind)
    name, key, value = _word(words, 2), _word(words, 3), _word(words, 4)
    if kind == "map":
        if (payload is None and not (name and key and value)) or (payload is not None and not name):
            return err(
                "'add map' expects three parameters (map identifier, key and value)"
                " or one parameter (map identifier) and a payload\n"
            )
    elif not name or not key:
        return err("'add acl' expects two parameters: ACL identifier and pattern.\n")
    ref = ctx.runtime.patterns().lookup(name)
    if ref is None or (kind == "map" and not ref.is_map):
        return _unknown(kind)
    if kind == "acl" and ref.is_map:
        return err(
            "This ACL is shared with a map containing samples. "
            "You must use the command 'add map' to add values.\n"
        )
    if payload is None:
        ref.add(_raw(key), _raw(value) if kind == "map" else None)
        return Reply("")
    return _add_payload(ref, kind, payload)


def _add_payload(ref: PatternRef, kind: str, payload: str) -> Reply:
    """One key (and value) a line, the key up to the first blank (cli_parse_add_map)."""
    for line in payload.split("\n"):
        if not line:
            continue
        end = next((i for i, c in enumerate(line) if c in " \t"), len(line))
        key, rest = line[:end], line[end:]
        if not rest and kind == "map":
            return err(f"Missing value for key '{key}'.\n")
        value = rest[1:].lstrip(" \t") if rest else ""
        ref.add(_raw(key), _raw(value) if kind == "map" else None)
    return Reply("")


def _find(ref: PatternRef, ident: str) -> list[Entry] | None:
    """The entries `ident` names: #0x... one entry by its identifier, else every entry
    with that key; None for a malformed identifier."""
    if ident.startswith("#0x"):
        try:
            wanted = int(ident[1:], 16)
        except ValueError:
            return None
        return [e for e in ref if id(e) == wanted]
    return [e for e in ref if e.key == _raw(ident)]


def delete(ctx: Context, words: list[str], payload: str | None) -> Reply:
    kind = _kind(words)
    name, ident = _word(words, 2), _word(words, 3)
    if not name or not ident:
        what = "map" if kind == "map" else "ACL"
        return err(f"This command expects two parameters: {what} identifier and key.\n")
    ref = _ref(ctx, name, kind)
    if ref is None:
        return _unknown("map")  # cli_parse_del_map says "map" for both
    found = _find(ref, ident)
    if found is None:
        return err("Malformed identifier. Please use #<id> or <file>.\n")
    if not found:
        return err("Key not found.\n")
    ref.remove(found)
    return Reply("")


def clear(ctx: Context, words: list[str], payload: str | None) -> Reply:
    kind = _kind(words)
    name = _word(words, 2)
    if name.startswith("@"):
        return _versioned(kind)
    if not name:
        return err(f"Missing {'map' if kind == 'map' else 'ACL'} identifier.\n")
    ref = _ref(ctx, name, kind)
    if ref is None:
        return _unknown(kind)
    ref.clear()
    return Reply("")


def set_map(ctx: Context, words: list[str], payload: str | None) -> Reply:
    name, ident, value = _word(words, 2), _word(words, 3), _word(words, 4)
    if not name or not ident or not value:
        return err("'set map' expects three parameters: map identifier, key and value.\n")
    ref = ctx.runtime.patterns().lookup(name)
    if ref is None:
        return _unknown("map")
    found = _find(ref, ident)
    if found is None:
        return err("Malformed identifier. Please use #<id> or <file>.\n")
    if not found or not ref.is_map:
        return err("Failed to update an entry.\n")
    ref.update(found, _raw(value))
    return Reply("")
