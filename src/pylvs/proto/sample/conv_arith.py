"""Integer, boolean, address and hash converters (src/sample.c, src/ssl_sample.c, src/hash.c;
HAProxy 2.6): `add sub mul div mod and or xor neg cpl not bool odd even ipmask`, `crc32
crc32c djb2 sdbm wt6 xxh3 xxh32 xxh64 sha1 sha2 digest hmac secure_memcmp`.

The arithmetic converters take an integer or a variable name (check_operator: a valid
variable name wins) and saturate as HAProxy does: `add`/`sub`/`mul` stop at the 64-bit
limits, `div` by 0 gives LLONG_MAX and `mod` by 0 gives 0.  The 32-bit hashes give an
unsigned value, optionally passed through the `full_hash` avalanche; xxh3/xxh64 give a
signed 64-bit value (HAProxy stores the unsigned hash in a long long).
"""

from __future__ import annotations

import hashlib
import hmac

import xxhash

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.conv_string import b64decode, check_var_arg
from pylvs.proto.sample.expr import Args, CompileContext, CompileError, compile_var, converter
from pylvs.proto.sample.fetch_internal import get_var
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import S64_MAX, S64_MIN, Smp, clamp64, s64
from pylvs.proto.sample.vars import VarError, VarName, parse_var_name
from pylvs.sched.haproxy.hashes import crc32, djb2, full_hash, sdbm, wt6

# -- arithmetic ---------------------------------------------------------------------------------


def _check_operator(a: Args, ctx: CompileContext) -> Args:
    text = a[0].decode("latin-1")
    try:
        parse_var_name(text)
    except VarError:
        body = text[1:] if text[:1] in "+-" else text
        if not body.isdigit() and body:
            raise CompileError("expects an integer or a variable name") from None
        return (ty.read_int64(a[0]),)
    return (compile_var(text, ctx),)


def operand(s: Stream, arg: int | VarName) -> int | None:
    """sample_conv_var2smp_sint: the integer, or the variable's value as an integer."""
    if isinstance(arg, int):
        return arg
    smp = get_var(s, arg)
    if smp is None:
        return None
    cast = ty.cast(smp, ty.SINT)
    return None if cast is None else cast.num


def _arith(name: str) -> None:
    def fn(s: Stream, smp: Smp, a: Args) -> Smp | None:
        other = operand(s, a[0])
        if other is None:
            return None
        mine = smp.num
        if name == "add":
            value = clamp64(mine + other)
        elif name == "sub":
            value = clamp64(mine - other)
        elif name == "mul":
            value = clamp64(mine * other)
        elif name == "div":
            if not other or (mine == S64_MIN and other == -1):
                value = S64_MAX
            else:
                value = abs(mine) // abs(other) * (1 if (mine < 0) == (other < 0) else -1)
        elif name == "mod":
            if not other or (mine == S64_MIN and other == -1):
                value = 0
            else:
                value = abs(mine) % abs(other) * (-1 if mine < 0 else 1)  # C truncation
        elif name == "and":
            value = mine & other
        elif name == "or":
            value = mine | other
        else:
            value = mine ^ other
        return Smp(ty.SINT, s64(value))

    converter(name, check=_check_operator)(fn)


for _name in ("add", "sub", "mul", "div", "mod", "and", "or", "xor"):
    _arith(_name)


@converter("neg")
def _neg(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.SINT, s64(-smp.num))


@converter("cpl")
def _cpl(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.SINT, s64(~smp.num))


@converter("not")
def _not(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.BOOL, 0 if smp.num else 1)


@converter("bool")
def _bool(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.BOOL, 1 if smp.num else 0)


@converter("odd")
def _odd(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.BOOL, smp.num & 1)


@converter("even")
def _even(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.BOOL, 0 if smp.num & 1 else 1)


# -- addresses --------------------------------------------------------------------------------


@converter("ipmask")
def _ipmask(s: Stream, smp: Smp, a: Args) -> Smp | None:
    """sample_conv_ipmask: an IPv4-mapped address is masked as IPv4; other IPv6 addresses
    need the IPv6 mask."""
    if smp.type == ty.IPV6:
        v4 = ty.v6tov4(smp.text)
        if v4 is not None:
            smp = Smp(ty.IPV4, v4)
    if smp.type == ty.IPV4:
        return Smp(ty.IPV4, bytes(x & y for x, y in zip(smp.text, a[0], strict=True)))
    if a[1] is None:
        return None
    return Smp(ty.IPV6, bytes(x & y for x, y in zip(smp.text, a[1], strict=True)))


# -- hashes -------------------------------------------------------------------------------------


def _hash32(fn: object) -> object:
    def conv(s: Stream, smp: Smp, a: Args) -> Smp | None:
        value = fn(smp.text)  # type: ignore[operator]
        if a and a[0]:
            value = full_hash(value)
        return Smp(ty.SINT, value)

    return conv


_CRC32C_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    """hash.c hash_crc32c: CRC-32C (Castagnoli), reflected, initial and final XOR ~0."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


for _name, _fn in (("crc32", crc32), ("crc32c", crc32c), ("djb2", djb2), ("sdbm", sdbm)):
    converter(_name)(_hash32(_fn))  # type: ignore[arg-type]
converter("wt6")(_hash32(wt6))  # type: ignore[arg-type]


@converter("xxh32")
def _xxh32(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.SINT, xxhash.xxh32_intdigest(smp.text, (a[0] or 0) & 0xFFFFFFFF))


@converter("xxh64")
def _xxh64(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.SINT, s64(xxhash.xxh64_intdigest(smp.text, (a[0] or 0) & (2**64 - 1))))


@converter("xxh3")
def _xxh3(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.SINT, s64(xxhash.xxh3_64_intdigest(smp.text, (a[0] or 0) & (2**64 - 1))))


@converter("sha1")
def _sha1(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.BIN, hashlib.sha1(smp.text).digest())


_SHA2 = {224: hashlib.sha224, 256: hashlib.sha256, 384: hashlib.sha384, 512: hashlib.sha512}


def _check_sha2(a: Args, ctx: CompileContext) -> Args:
    bits = 256 if a[0] is None else a[0]
    if bits not in _SHA2:
        raise CompileError(f"Unsupported number of bits: '{bits}'.")
    return (bits,)


@converter("sha2", check=_check_sha2)
def _sha2(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.BIN, _SHA2[a[0]](smp.text).digest())


def _digest_name(name: bytes) -> str:
    text = name.decode("latin-1").lower()
    try:
        hashlib.new(text)
    except ValueError:
        raise CompileError("algorithm must be a valid OpenSSL message digest name.") from None
    return text


def _check_digest(a: Args, ctx: CompileContext) -> Args:
    return (_digest_name(a[0]),)


@converter("digest", check=_check_digest)
def _digest(s: Stream, smp: Smp, a: Args) -> Smp | None:
    return Smp(ty.BIN, hashlib.new(a[0], smp.text).digest())


def _check_hmac(a: Args, ctx: CompileContext) -> Args:
    name = _digest_name(a[0])
    key = a[1] or b""
    if not key:
        return (name, b"")
    try:
        return (name, compile_var(key.decode("latin-1"), ctx))
    except CompileError:
        pass
    decoded = b64decode(key)
    if decoded is None:
        raise CompileError(
            "failed to parse key : argument needs to be base64 encoded, and can either be a"
            " string or a variable"
        )
    return (name, decoded)


@converter("hmac", check=_check_hmac)
def _hmac(s: Stream, smp: Smp, a: Args) -> Smp | None:
    name, key = a
    if isinstance(key, VarName):
        value = ty.as_str(get_var(s, key))
        decoded = None if value is None else b64decode(value)
        if decoded is None:
            return None
        key = decoded
    return Smp(ty.BIN, hmac.new(key, smp.text, name).digest())


@converter("secure_memcmp", check=check_var_arg)
def _secure_memcmp(s: Stream, smp: Smp, a: Args) -> Smp | None:
    other = get_var(s, a[0])
    if other is None:
        return None
    cast = ty.cast(other, ty.BIN)
    if cast is None:
        return None
    return Smp(ty.BOOL, 1 if hmac.compare_digest(smp.text, cast.text) else 0)
