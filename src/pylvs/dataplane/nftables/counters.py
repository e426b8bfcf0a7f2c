"""`nft -j list table ...` output as typed values: counters and dynamic map/set elements.

libnftables' JSON schema (libnftables-json(5)): a top-level `{"nftables": [...]}` list of
objects, among them `{"counter": {"name", "packets", "bytes", ...}}` and
`{"map"|"set": {"name", "elem": [...]}}`.  An element of a dynamic set or map with timeouts is
`{"elem": {"val": <key>, "timeout": s, "expires": s}}`; a concatenated key is
`{"concat": [...]}`; in a map the element is the pair `[key, value]`.  Everything is checked
here, at the edge, so the rest of the plane handles dataclasses, not dicts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class NftOutputError(ValueError):
    """The JSON did not have the expected shape."""


@dataclass(frozen=True, slots=True)
class CounterValue:
    packets: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Element:
    """One element of a set or map: the key fields, the mapped value, timeout and expiry."""

    key: tuple[str | int, ...]
    value: str | int | None = None
    timeout: int = 0
    expires: int = 0


@dataclass(frozen=True, slots=True)
class TableDump:
    counters: dict[str, CounterValue]
    elements: dict[str, list[Element]]


def _key(raw: Any) -> tuple[str | int, ...]:
    if isinstance(raw, dict) and "concat" in raw:
        parts = raw["concat"]
        if not isinstance(parts, list):
            raise NftOutputError(f"bad concat {raw!r}")
        return tuple(_scalar(p) for p in parts)
    return (_scalar(raw),)


def _scalar(raw: Any) -> str | int:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise NftOutputError(f"unexpected key part {raw!r}")
    return raw


def _element(raw: Any, is_map: bool) -> Element:
    value: str | int | None = None
    if is_map:
        if not (isinstance(raw, list) and len(raw) == 2):
            raise NftOutputError(f"bad map element {raw!r}")
        raw, data = raw
        value = data if isinstance(data, str | int) and not isinstance(data, bool) else None
    timeout = expires = 0
    if isinstance(raw, dict) and "elem" in raw:
        inner = raw["elem"]
        timeout = int(inner.get("timeout", 0))
        expires = int(inner.get("expires", 0))
        raw = inner["val"]
    return Element(_key(raw), value, timeout, expires)


def parse_table(text: str) -> TableDump:
    """Counters and elements of one `nft -j list table` dump."""
    try:
        doc = json.loads(text)
        items = doc["nftables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise NftOutputError(f"not nft JSON: {exc}") from None
    counters: dict[str, CounterValue] = {}
    elements: dict[str, list[Element]] = {}
    for item in items:
        if not isinstance(item, dict):
            raise NftOutputError(f"bad item {item!r}")
        if "counter" in item:
            c = item["counter"]
            counters[str(c["name"])] = CounterValue(int(c["packets"]), int(c["bytes"]))
        for kind in ("map", "set"):
            if kind in item:
                body = item[kind]
                is_map = kind == "map"
                elements[str(body["name"])] = [_element(e, is_map) for e in body.get("elem", [])]
    return TableDump(counters, elements)
