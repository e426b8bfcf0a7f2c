"""String and encoding converters (src/sample.c, src/http_conv.c, src/base64.c, HAProxy 2.6):
`lower upper length field word regsub concat add_item strcmp ltrim rtrim cut_crlf bytes iif
json url_dec url_enc hex hex2i htonl base64 b64dec ub64enc ub64dec be2dec be2hex`.

Each follows its C function, including the corners users meet: `field` with no such field
gives no sample while `word` gives an empty string; a count of 0 takes everything up to the
end; `regsub` replaces the first match unless the flags say `g`, `\\1`..`\\9` in the
replacement being the groups; `b64dec` refuses a length that is not a multiple of 4 where
`ub64dec` accepts unpadded input.
"""

from __future__ import annotations

import re

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import (
    Args,
    CompileContext,
    CompileError,
    compile_var,
    converter,
)
from pylvs.proto.sample.fetch_internal import get_var
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp

_HEX = b"0123456789ABCDEF"


@converter("lower")
def _lower(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, smp.text.lower())


@converter("upper")
def _upper(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, smp.text.upper())


@converter("length")
def _length(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.SINT, len(smp.text))


# -- field / word ---------------------------------------------------------------------------


def _check_field(a: Args, ctx: CompileContext) -> Args:
    if not a[0]:
        raise CompileError("Unexpected value 0 for index")
    if not a[1]:
        raise CompileError("Empty separators list")
    return a


def field(data: bytes, index: int, seps: bytes, count: int) -> bytes | None:
    """sample_conv_field (None: the field does not exist)."""
    n = len(data)
    if index < 0:
        current = -1
        end = start = n
        while start > 0:
            if data[start - 1] in seps:
                if current == index:
                    if count == 1:
                        return data[start:end]
                    if count > 1:
                        count -= 1
                else:
                    end = start - 1
                    current -= 1
            start -= 1
        return data[start:end] if current == index else None
    current = 1
    start = end = 0
    while end < n:
        if data[end] in seps:
            if current == index:
                if count == 1:
                    return data[start:end]
                if count > 1:
                    count -= 1
            else:
                start = end + 1
                current += 1
        end += 1
    return data[start:end] if current == index else None


@converter("field", check=_check_field)
def _field(s: Stream, smp: Smp, a: Args) -> Smp | None:
    count = 1 if a[2] is None else a[2]
    out = field(smp.text, a[0], a[1], count)
    return None if out is None else Smp(ty.STR, out)


def word(data: bytes, index: int, seps: bytes, count: int) -> bytes:
    """sample_conv_word (b"" when the word does not exist)."""
    if index < 0:
        return _word_back(data, index, seps, count)
    n = len(data)
    current, inword = 0, False
    start = end = 0
    while end < n:
        issep = data[end] in seps
        if not inword:
            if not issep:
                if current != index:
                    current += 1
                    start = end
                inword = True
        elif issep:
            if current == index:
                if count == 1:
                    return data[start:end]
                if count > 1:
                    count -= 1
            inword = False
        end += 1
    return data[start:end] if current == index else b""


def _word_back(data: bytes, index: int, seps: bytes, count: int) -> bytes:
    """sample_conv_word counting words from the end (a negative index)."""
    current, inword = 0, False
    end = start = len(data)
    while start > 0:
        issep = data[start - 1] in seps
        if not inword:
            if not issep:
                if current != index:
                    current -= 1
                    end = start
                inword = True
        elif issep:
            if current == index:
                if count == 1:
                    return data[start:end]
                if count > 1:
                    count -= 1
            inword = False
        start -= 1
    return data[start:end] if current == index else b""


@converter("word", check=_check_field)
def _word(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, word(smp.text, a[0], a[1], 1 if a[2] is None else a[2]))


# -- regsub -----------------------------------------------------------------------------------


def _check_regsub(a: Args, ctx: CompileContext) -> Args:
    regex, replacement, flags = a
    flags = flags or b""
    for c in flags.decode("latin-1"):
        if c not in "ig":
            raise CompileError(f"invalid regex flag '{c}', only 'i' and 'g' are supported")
    if b"i" in flags:
        regex = re.compile(regex.pattern, re.IGNORECASE)
    return (regex, replacement, b"g" in flags)


def exp_replace(template: bytes, match: re.Match[bytes]) -> bytes:
    """regex.c exp_replace: `\\N` (N a digit) is group N (nothing when it did not match),
    `\\xHH` a byte, `\\` followed by anything else is that character."""
    out = bytearray()
    i, n = 0, len(template)
    while i < n and template[i]:
        c = template[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            break
        c = template[i]
        if 0x30 <= c <= 0x39:
            num = c - 0x30
            group = match.group(num) if num <= match.re.groups else None
            out += group or b""
            i += 1
        elif c == 0x78 and i + 2 < n + 0:
            digits = template[i + 1 : i + 3].upper()
            hex1, hex2 = digits[0] - 0x30, digits[1] - 0x30
            hex1 -= 7 if hex1 > 9 else 0
            hex2 -= 7 if hex2 > 9 else 0
            out.append(((hex1 << 4) + hex2) & 0xFF)
            i += 3
        else:
            out.append(c)
            i += 1
    return bytes(out)


def regsub(data: bytes, regex: re.Pattern[bytes], replacement: bytes, glob: bool) -> bytes:
    """sample_conv_regsub: replace the first (or every) match; an empty match copies the
    character it stands before and moves on."""
    out = bytearray()
    start, end, notbol = 0, len(data), False
    while True:
        match = regex.search(data, start) if (glob or not notbol) else None
        if match is None:
            out += data[start:]
            break
        out += data[start : match.start()]
        out += exp_replace(replacement, match)
        if start >= end:
            break
        step = match.end() - start
        if step == 0:
            out.append(data[start])
            step = 1
        start += step
        notbol = True
    return bytes(out)


@converter("regsub", check=_check_regsub)
def _regsub(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, regsub(smp.text, a[0], a[1], a[2]))


# -- strings with variables --------------------------------------------------------------------


def _var_str(s: Stream, name: object) -> bytes | None:
    """A variable's value as a string (sample_conv_var2smp(..., SMP_T_STR))."""
    if name is None or isinstance(name, bytes):
        return None
    smp = get_var(s, name)  # type: ignore[arg-type]
    return ty.as_str(smp)


def _check_concat(a: Args, ctx: CompileContext) -> Args:
    name = a[1]
    if name:
        try:
            return (a[0], compile_var(name.decode("latin-1"), ctx), a[2])
        except CompileError:
            raise CompileError(
                f"failed to register variable name '{name.decode('latin-1')}'"
            ) from None
    return (a[0], None, a[2])


@converter("concat", check=_check_concat)
def _concat(s: Stream, smp: Smp, a: Args) -> Smp | None:
    middle = _var_str(s, a[1]) or b""
    return Smp(ty.STR, smp.text + (a[0] or b"") + middle + (a[2] or b""))


def _check_add_item(a: Args, ctx: CompileContext) -> Args:
    if not a[1] and not a[2]:
        raise CompileError("one of the optional arguments has to be nonempty")
    return _check_concat(a, ctx)


@converter("add_item", check=_check_add_item)
def _add_item(s: Stream, smp: Smp, a: Args) -> Smp | None:
    var = _var_str(s, a[1])
    suffix = a[2] or b""
    out = smp.text
    if out and ((var is not None and var) or suffix):
        out += a[0]
    if var is not None:
        out += var
    return Smp(ty.STR, out + suffix)


def check_var_arg(a: Args, ctx: CompileContext) -> Args:
    """smp_check_strcmp / smp_check_secure_memcmp: a mandatory variable name."""
    if not a[0]:
        raise CompileError("missing variable name")
    try:
        return (compile_var(a[0].decode("latin-1"), ctx), *a[1:])
    except CompileError:
        raise CompileError(f"failed to register variable name '{a[0].decode('latin-1')}'") from None


@converter("strcmp", check=check_var_arg)
def _strcmp(s: Stream, smp: Smp, a: Args) -> Smp | None:
    other = _var_str(s, a[0])
    if other is None:
        return None
    mine = smp.text
    common = min(len(mine), len(other))
    result = (mine[:common] > other[:common]) - (mine[:common] < other[:common])
    if result == 0 and len(mine) != len(other):
        result = -1 if len(mine) < len(other) else 1
    return Smp(ty.SINT, result)


@converter("ltrim")
def _ltrim(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, smp.text.lstrip(a[0]) if a[0] else smp.text)


@converter("rtrim")
def _rtrim(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, smp.text.rstrip(a[0]) if a[0] else smp.text)


@converter("cut_crlf")
def _cut_crlf(s: Stream, smp: Smp, a: Args) -> Smp | None:
    data = smp.text
    cut = next((i for i, c in enumerate(data) if c in (0x0D, 0x0A)), len(data))
    return Smp(ty.STR, data[:cut])


@converter("bytes")
def _bytes(s: Stream, smp: Smp, a: Args) -> Smp | None:
    data = smp.text
    offset, length = a
    if len(data) <= offset:
        return Smp(smp.type, b"")
    data = data[offset:]
    if length is not None and length < len(data):
        data = data[:length]
    return Smp(smp.type, data)


@converter("iif")
def _iif(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, a[0] if smp.num else a[1])


# -- json / url ------------------------------------------------------------------------------

_JSON_MODES = {b"": 0, b"ascii": 0, b"utf8": 1, b"utf8s": 2, b"utf8p": 3, b"utf8ps": 4}
_JSON_ESCAPES = {0x22: b'\\"', 0x5C: b"\\\\", 0x2F: b"\\/", 0x08: b"\\b", 0x0C: b"\\f"}
_JSON_ESCAPES |= {0x0D: b"\\r", 0x0A: b"\\n", 0x09: b"\\t"}


def _check_json(a: Args, ctx: CompileContext) -> Args:
    mode = a[0] or b""
    if mode not in _JSON_MODES:
        raise CompileError(
            "Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p'"
            " and 'utf8ps'"
        )
    return (_JSON_MODES[mode],)


def _utf8_chars(data: bytes, mode: int) -> list[int] | None:
    """Code points of `data` read as UTF-8 by the json converter's modes: strict modes fail
    on a bad sequence, the `s` modes skip it (the `p` modes accept overlongs and
    surrogates as utf8_next reports them, which Python's decoder also refuses: treated the
    same here)."""
    out: list[int] = []
    i = 0
    while i < len(data):
        for size in (1, 2, 3, 4):
            try:
                ch = data[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(ord(ch))
            i += size
            break
        else:
            if mode in (1, 3):
                return None
            i += 1
            continue
        if out[-1] > 0xFFFF:
            if mode in (1, 3):
                return None
            out.pop()
    return out


def json_escape(data: bytes, mode: int) -> bytes | None:
    chars = list(data) if mode == 0 else _utf8_chars(data, mode)
    if chars is None:
        return None
    out = bytearray()
    for c in chars:
        esc = _JSON_ESCAPES.get(c)
        if esc is not None:
            out += esc
        elif c > 0xFF or not 0x20 <= c < 0x7F:
            out += b"\\u%04x" % c
        else:
            out.append(c)
    return bytes(out)


@converter("json", check=_check_json)
def _json(s: Stream, smp: Smp, a: Args) -> Smp | None:
    out = json_escape(smp.text, a[0])
    return None if out is None else Smp(ty.STR, out)


def url_decode(data: bytes, in_form: bool) -> bytes | None:
    """tools.c url_decode: %XX decoded, '+' a space in a form (after a '?'); a bad escape
    fails; a NUL ends the input."""
    data = data.split(b"\0", 1)[0]
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        if c == 0x2B:
            out.append(0x20 if in_form else c)
        elif c == 0x25:
            pair = data[i + 1 : i + 3]
            if len(pair) < 2 or not all(x in b"0123456789abcdefABCDEF" for x in pair):
                return None
            out.append(int(pair, 16))
            i += 2
        else:
            if c == 0x3F:
                in_form = True
            out.append(c)
        i += 1
    return bytes(out)


@converter("url_dec")
def _url_dec(s: Stream, smp: Smp, a: Args) -> Smp | None:
    out = url_decode(smp.text, bool(a[0]))
    return None if out is None else Smp(ty.STR, out)


_URL_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")


def _check_url_enc(a: Args, ctx: CompileContext) -> Args:
    if (a[0] or b"") not in (b"", b"query"):
        raise CompileError("Unexpected encode type. Allowed value is 'query'")
    return (0,)


@converter("url_enc", check=_check_url_enc)
def _url_enc(s: Stream, smp: Smp, a: Args) -> Smp | None:
    out = bytearray()
    for c in smp.text:
        if c in _URL_SAFE:
            out.append(c)
        else:
            out += b"%%%c%c" % (_HEX[c >> 4], _HEX[c & 15])
    return Smp(ty.STR, bytes(out))


# -- hex and base64 ----------------------------------------------------------------------------


@converter("hex")
def _hex(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, smp.text.hex().upper().encode())


@converter("hex2i")
def _hex2i(s: Stream, smp: Smp, a: Args) -> Smp | None:
    n = 0
    for c in smp.text:
        digit = b"0123456789abcdef".find(bytes([c]).lower())
        if digit < 0:
            return None
        n = (n << 4) + digit
    return Smp(ty.SINT, ty.s64(n))


@converter("htonl")
def _htonl(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.BIN, (smp.num & 0xFFFFFFFF).to_bytes(4, "big"))


_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64REV = {c: i for i, c in enumerate(_B64)}
_UB64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UB64REV = {c: i for i, c in enumerate(_UB64)}


def b64encode(data: bytes, url: bool = False) -> bytes:
    table = _UB64 if url else _B64
    out = bytearray()
    for i in range(0, len(data), 3):
        chunk = data[i : i + 3]
        n = int.from_bytes(chunk.ljust(3, b"\0"), "big")
        quad = [table[(n >> s) & 63] for s in (18, 12, 6, 0)]
        keep = len(chunk) + 1
        out += bytes(quad[:keep])
        if not url:
            out += b"=" * (4 - keep)
    return bytes(out)


def b64decode(data: bytes) -> bytes | None:
    """base64.c base64dec: a multiple of 4 characters, '=' padding only at the end."""
    if len(data) % 4:
        return None
    out = bytearray()
    for i in range(0, len(data), 4):
        quad = data[i : i + 4]
        pad = 0
        values = []
        for j, c in enumerate(quad):
            if c == 0x3D:
                if j < 2:
                    return None
                pad += 1
                values.append(0)
                continue
            if pad or c not in _B64REV:
                return None
            values.append(_B64REV[c])
        n = (values[0] << 18) | (values[1] << 12) | (values[2] << 6) | values[3]
        out += n.to_bytes(3, "big")[: 3 - pad]
    return bytes(out)


def ub64decode(data: bytes) -> bytes | None:
    """base64.c base64urldec: the URL alphabet, padding optional (length % 4 != 1)."""
    rest = len(data) % 4
    if rest == 1:
        return None
    out = bytearray()
    padded = data + b"\0" * ((4 - rest) % 4)
    for i in range(0, len(padded), 4):
        quad = padded[i : i + 4]
        values = []
        for j, c in enumerate(quad):
            if c == 0 and i + j >= len(data):
                values.append(0)
                continue
            if c not in _UB64REV:
                return None
            values.append(_UB64REV[c])
        n = (values[0] << 18) | (values[1] << 12) | (values[2] << 6) | values[3]
        out += n.to_bytes(3, "big")
    pad = (4 - rest) % 4
    return bytes(out[: len(out) - pad] if pad else out)


@converter("base64")
def _base64(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, b64encode(smp.text))


@converter("b64dec")
def _b64dec(s: Stream, smp: Smp, a: Args) -> Smp | None:
    out = b64decode(smp.text)
    return None if out is None else Smp(ty.BIN, out)


@converter("ub64enc")
def _ub64enc(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.STR, b64encode(smp.text, url=True))


@converter("ub64dec")
def _ub64dec(s: Stream, smp: Smp, a: Args) -> Smp | None:
    out = ub64decode(smp.text)
    return None if out is None else Smp(ty.BIN, out)


def _check_be2(a: Args, ctx: CompileContext) -> Args:
    sep, size, truncate = a[0] or b"", 1 if a[1] is None else a[1], a[2] or 0
    if size <= 0 or size > 8:
        raise CompileError(f"chunk_size out of [1..8] range ({size})")
    if truncate not in (0, 1):
        raise CompileError(f"Unsupported truncate value ({truncate})")
    return (sep, size, truncate)


@converter("be2dec", check=_check_be2)
def _be2dec(s: Stream, smp: Smp, a: Args) -> Smp | None:
    sep, size, truncate = a
    data = smp.text
    last = len(data) - size + 1 if truncate else len(data)
    parts = []
    ptr = 0
    while ptr < last:
        chunk = data[ptr : ptr + size]
        ptr += len(chunk)
        parts.append(b"%d" % int.from_bytes(chunk, "big"))
    return Smp(ty.STR, sep.join(parts))


@converter("be2hex", check=_check_be2)
def _be2hex(s: Stream, smp: Smp, a: Args) -> Smp | None:
    sep, size, truncate = a
    data = smp.text
    if not sep and not truncate:
        size = max(len(data), 1)
    last = len(data) - size + 1 if truncate else len(data)
    parts = []
    ptr = 0
    while ptr < last:
        chunk = data[ptr : ptr + size]
        ptr += len(chunk)
        parts.append(chunk.hex().upper().encode())
    return Smp(ty.STR, sep.join(parts))
