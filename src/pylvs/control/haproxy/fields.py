"""Typed stats fields and their four encodings, as HAProxy 2.6 prints them (src/stats.c).

A `Field` is HAProxy's `struct field`: a format (s32, u32, s64, u64, str, flt), three tags
(origin: Metric Status Key Config Product; nature: Gauge Limit min Max Rate Counter Duration
Age Time Name Output avg; scope: Process Service system Cluster) and a value.  A row of
`show stat` or `show info` is a list of fields where None is an empty field (FF_EMPTY).

* `raw` -- the CSV and `show info` text (stats_emit_raw_data_field, csv_enc_append: a string
  is quoted only when it holds `"`, `,`, CR or LF, quotes doubled);
* `typed` -- `u32:12` (stats_emit_typed_data_field) after the tags `MCP:`;
* `json_value` / `json_tags` -- the JSON objects' parts (stats_emit_json_data_field: integers
  beyond +-(2**53-1) cannot be written, which makes the whole row an error object);
* `html` -- numbers with their thousands wrapped in `<span class="rls">` (ulltoh_r, U2H).

Numbers wrap as C stores them (u32 modulo 2**32, ...); floats print as `%f` with trailing
zeros trimmed (flt_trim).
"""

from __future__ import annotations

from dataclasses import dataclass

_ORIGINS = {"M": "Metric", "S": "Status", "K": "Key", "C": "Config", "P": "Product"}
_NATURES = {
    "G": "Gauge",
    "L": "Limit",
    "m": "Min",
    "M": "Max",
    "R": "Rate",
    "C": "Counter",
    "D": "Duration",
    "A": "Age",
    "T": "Time",
    "N": "Name",
    "O": "Output",
    "a": "Avg",
}
_SCOPES = {"P": "Process", "S": "Service", "s": "System", "C": "Cluster"}
_BITS = {"s32": 32, "u32": 32, "s64": 64, "u64": 64}
JSON_INT_MAX = (1 << 53) - 1


@dataclass(frozen=True, slots=True)
class Field:
    kind: str  # s32 | u32 | s64 | u64 | str | flt
    tags: str  # origin, nature, scope letters: "MCP"
    value: int | float | str

    def __post_init__(self) -> None:
        bits = _BITS.get(self.kind)
        if bits is not None:
            assert isinstance(self.value, int)
            wrapped = self.value & ((1 << bits) - 1)
            if self.kind[0] == "s" and wrapped >> (bits - 1):
                wrapped -= 1 << bits
            object.__setattr__(self, "value", wrapped)


Row = list[Field | None]


def u32(value: int, tags: str = "MGP") -> Field:
    return Field("u32", tags, value)


def s32(value: int, tags: str = "MGP") -> Field:
    return Field("s32", tags, value)


def u64(value: int, tags: str = "MGP") -> Field:
    return Field("u64", tags, value)


def text(value: str, tags: str = "MGP") -> Field:
    return Field("str", tags, value)


def flt(value: float, tags: str = "MGP") -> Field:
    return Field("flt", tags, value)


def format_float(value: float) -> str:
    """`%f` with flt_trim: "12.5", "3" (the point goes when nothing meaningful follows)."""
    out = f"{value:f}"
    head, dot, tail = out.partition(".")
    tail = tail.rstrip("0")
    return head + (dot + tail if tail else "")


def csv_encode(value: str) -> str:
    """csv_enc_append with automatic quoting."""
    if any(c in value for c in '\n\r,"'):
        return '"' + value.replace('"', '""') + '"'
    return value


def raw(f: Field | None) -> str:
    if f is None:
        return ""
    if f.kind == "str":
        assert isinstance(f.value, str)
        return csv_encode(f.value)
    if f.kind == "flt":
        return format_float(float(f.value))
    return str(f.value)


def typed(f: Field) -> str:
    """The tags and the typed value: `MCP:u64:12`."""
    if f.kind == "flt":
        return f"{f.tags}:flt:{format_float(float(f.value))}"
    return f"{f.tags}:{f.kind}:{f.value}"


def json_tags(f: Field) -> str:
    origin, nature, scope = f.tags[0], f.tags[1], f.tags[2]
    return (
        f'"tags":{{"origin":"{_ORIGINS[origin]}","nature":"{_NATURES[nature]}",'
        f'"scope":"{_SCOPES[scope]}"}}'
    )


def json_value(f: Field) -> str | None:
    """`,"value":{"type":"u32","value":12}`; None when the integer is beyond JSON's range."""
    if f.kind == "str":
        return f',"value":{{"type":"str","value":"{f.value}"}}'
    if f.kind == "flt":
        return f',"value":{{"type":"flt","value":{format_float(float(f.value))}}}'
    assert isinstance(f.value, int)
    if f.kind in ("s64", "u64") and not -JSON_INT_MAX <= f.value <= JSON_INT_MAX:
        return None
    return f',"value":{{"type":"{f.kind}","value":{f.value}}}'


def thousands(n: int) -> str:
    """ulltoh_r: the last digit of every group of three above the units is wrapped in
    `<span class="rls">` (its right margin is the page's thousands separator):
    1234567 -> `<span class="rls">1</span>23<span class="rls">4</span>567`."""
    digits = str(n)
    out = []
    for i, d in enumerate(reversed(digits)):
        out.append(f'<span class="rls">{d}</span>' if i and i % 3 == 0 else d)
    return "".join(reversed(out))


def html(f: Field | None) -> str:
    """field_to_html_str."""
    if f is None:
        return ""
    if f.kind == "str":
        return str(f.value)
    if f.kind == "flt":
        return format_float(float(f.value))
    assert isinstance(f.value, int)
    return thousands(f.value & ((1 << 64) - 1))
