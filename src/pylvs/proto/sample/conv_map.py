"""Map converters: `map_<match>[_<output>](file[,default])` (src/map.c, HAProxy 2.6).

The map file is loaded once per file name and shared (`pattern_ref.PatternStore`), so the
stats socket's `add map`/`del map`/`set map` change what every converter using it returns.
The key is matched with the method in the name (`str` when none: `map` is `map_str`), the
value is parsed as the output type (a string; an integer, `read_int64` with nothing after
it; an IPv4 or IPv6 address).  `map_regm` substitutes `\\N` in the value with the groups of
the matching regex.  No match: the default (parsed like a value), else no sample.
"""

from __future__ import annotations

from collections.abc import Callable

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.conv_string import exp_replace
from pylvs.proto.sample.expr import Args, CompileContext, CompileError, converter
from pylvs.proto.sample.pattern import Matcher, PatternError
from pylvs.proto.sample.pattern_ref import PatternFileError
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp

_MATCHES = ("str", "beg", "sub", "dir", "dom", "end", "reg", "regm", "int", "ip")


class MapValueError(ValueError):
    pass


def parse_value(out: str, text: bytes) -> Smp:
    """map_parse_str / map_parse_int / map_parse_ip."""
    if out == "str":
        return Smp(ty.STR, text)
    if out == "int":
        body = text[1:] if text[:1] in (b"-", b"+") else text
        if body and not body.isdigit():
            raise MapValueError(text.decode("latin-1"))
        return Smp(ty.SINT, ty.read_int64(text))
    v4 = ty.buf2ip(text) if text.count(b".") == 3 else None
    if v4 is not None:
        return Smp(ty.IPV4, v4)
    v6 = ty.buf2ip6(text)
    if v6 is None:
        raise MapValueError(text.decode("latin-1"))
    return Smp(ty.IPV6, v6)


def _check_map(match: str, out: str) -> Callable[[Args, CompileContext], Args]:
    def check(a: Args, ctx: CompileContext) -> Args:
        path = a[0].decode("latin-1")
        try:
            ref = ctx.patterns.file(path, is_map=True)
            matcher = Matcher(match, [ref], parse_value=lambda v: parse_value(out, v))
        except (PatternFileError, PatternError) as e:
            raise CompileError(str(e)) from None
        except MapValueError as e:
            raise CompileError(f"unable to parse value '{e}'") from None
        default = None
        if isinstance(a[1], int):
            default = Smp(ty.SINT, a[1])
        elif a[1] is not None and out == "ip":
            try:
                default = parse_value(out, a[1])
            except MapValueError:
                shown = a[1].decode("latin-1")
                raise CompileError(f"map: cannot parse default ip <{shown}>.") from None
        elif a[1] is not None:
            default = Smp(ty.STR, a[1])
        return (matcher, default)

    return check


def _map_conv(match: str, out: str) -> Callable[[Stream, Smp, Args], Smp | None]:
    def fn(s: Stream, smp: Smp, a: Args) -> Smp | None:
        matcher: Matcher = a[0]
        found = matcher.match(smp)
        if found is not None and found.entry is not None:
            value = found.entry.value or b""
            if match == "regm" and found.groups is not None:
                return Smp(ty.STR, exp_replace(value, found.groups))
            return parse_value(out, value)
        if found is not None:
            return Smp(ty.SINT, 1)
        default: Smp | None = a[1]
        return default

    return fn


for _match in _MATCHES:
    for _out in ("str", "int", "ip"):
        if _match == "regm" and _out != "str":
            continue
        _name = f"map_{_match}" + ("" if _out == "str" else f"_{_out}")
        converter(_name, check=_check_map(_match, _out))(_map_conv(_match, _out))
converter("map", check=_check_map("str", "str"))(_map_conv("str", "str"))
