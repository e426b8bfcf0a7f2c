"""What a backend's `balance` and `hash-type` lines say, as one value, and their parsers.

`LbParams` is HAProxy's `lbprm.algo` bits and arguments (include/haproxy/backend-t.h): the
balance algorithm (its registry name is `haproxy:<algorithm>`), the hash lookup (`map-based`,
the default, or `consistent`), the hash function and the `avalanche` modifier, and the
algorithm's own arguments (`random(<draws>)`, `uri len/depth/whole/path-only`, `url_param
<name>`, `hdr(<name>) use_domain_only`, `rdp-cookie(<name>)`, `hash <expr>`), plus the
backend options the algorithms read (`hash-balance-factor`, `option allbackups`).

`parse_balance` and `parse_hash_type` read the words after the keyword as HAProxy 2.6 does
(src/backend.c backend_parse_balance, src/cfgparse-listen.c "hash-type") and raise
`BalanceError` with HAProxy's message; the config reader adds the location.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.sched.base import Need
from pylvs.sched.haproxy.cnum import atoi, strtol


class BalanceError(ValueError):
    """A `balance` / `hash-type` line HAProxy refuses; the text is HAProxy's."""


class HashType(enum.Enum):
    MAP_BASED = "map-based"
    CONSISTENT = "consistent"


class HashFunction(enum.Enum):
    SDBM = "sdbm"
    DJB2 = "djb2"
    WT6 = "wt6"
    CRC32 = "crc32"


ALGORITHMS = (
    "roundrobin",
    "static-rr",
    "leastconn",
    "first",
    "source",
    "uri",
    "url_param",
    "hdr",
    "rdp-cookie",
    "random",
    "hash",
)
# BE_LB_ALGO_*'s BE_LB_NEED_* bits.
NEEDS = {
    "source": Need.ADDRESS,
    "uri": Need.HTTP,
    "url_param": Need.HTTP,
    "hdr": Need.HTTP,
    "rdp-cookie": Need.PAYLOAD,
    "hash": Need.PAYLOAD,
}
# Algorithms whose weights may change at run time (BE_LB_PROP_DYN); the others accept only
# 0% and 100% (server.c server_parse_weight_change_request).
STATIC = frozenset({"static-rr"})


@dataclass(frozen=True, slots=True)
class LbParams:
    algorithm: str = "roundrobin"
    hash_type: HashType = HashType.MAP_BASED
    hash_function: HashFunction = HashFunction.SDBM
    avalanche: bool = False
    draws: int = 2  # random(<draws>)
    uri_whole: bool = False
    uri_path_only: bool = False
    uri_len: int = 0  # 0: the whole URI
    uri_depth: int = 0  # 0: every directory level
    name: str = ""  # url_param / hdr / rdp-cookie name
    use_domain_only: bool = False
    check_post: bool = False
    expression: str = ""  # `balance hash <expr>`; the runtime evaluates it into Flow.sample
    hash_balance_factor: int = 0  # percent; 0: bounded loads off
    allbackups: bool = False

    @property
    def registry_name(self) -> str:
        return f"haproxy:{self.algorithm}"

    @property
    def need(self) -> Need:
        return NEEDS.get(self.algorithm, Need.NONE)

    @property
    def dynamic(self) -> bool:
        """BE_LB_PROP_DYN: weights may change at run time (all but static-rr and map-based
        hashing)."""
        if self.algorithm in STATIC:
            return False
        if self.algorithm in NEEDS:  # hashing algorithms: dynamic only on the ring
            return self.hash_type is HashType.CONSISTENT
        return True

    @property
    def consistent(self) -> bool:
        """The lookup is the consistent-hash ring (BE_LB_LKUP_CHTREE): consistent hashing,
        and `random` (which draws points on the ring)."""
        return self.algorithm == "random" or (
            self.algorithm in NEEDS and self.hash_type is HashType.CONSISTENT
        )


_UNSUPPORTED = (
    "only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', "
    "'hdr(name)' and 'rdp-cookie(name)' options."
)


def parse_balance(words: Sequence[str], base: LbParams | None = None) -> LbParams:
    """The words after `balance` (src/backend.c backend_parse_balance).

    `base` carries what other lines already set (hash-type, options); the algorithm and its
    arguments are replaced.  A refusal's text is HAProxy's, `balance ` included (what `haproxy
    -c` prints after `parsing [FILE:LINE] : `).
    """
    try:
        return _parse_balance(words, base)
    except BalanceError as e:
        raise BalanceError(f"balance {e}") from None


def _parse_balance(words: Sequence[str], base: LbParams | None) -> LbParams:
    base = base if base is not None else LbParams()
    fresh = LbParams(
        hash_type=base.hash_type,
        hash_function=base.hash_function,
        avalanche=base.avalanche,
        hash_balance_factor=base.hash_balance_factor,
        allbackups=base.allbackups,
    )
    if not words:
        return fresh
    first, rest = words[0], list(words[1:])
    if first in ("roundrobin", "static-rr", "first", "leastconn", "source"):
        return dataclasses.replace(fresh, algorithm=first)
    if first.startswith("random"):
        return dataclasses.replace(fresh, algorithm="random", draws=_draws(first))
    if first == "uri":
        return _uri(rest, dataclasses.replace(fresh, algorithm="uri"))
    if first == "url_param":
        return _url_param(rest, dataclasses.replace(fresh, algorithm="url_param"))
    if first == "hash":
        if not rest:
            raise BalanceError("hash requires a sample expression.")
        if len(rest) > 1:
            raise BalanceError(f"hash takes no other argument (got '{rest[1]}').")
        return dataclasses.replace(fresh, algorithm="hash", expression=rest[0])
    if first.startswith("hdr("):
        return _hdr(first, rest, dataclasses.replace(fresh, algorithm="hdr"))
    if first.startswith("rdp-cookie"):
        return dataclasses.replace(fresh, algorithm="rdp-cookie", name=_rdp_cookie_name(first))
    raise BalanceError(_UNSUPPORTED)


def _draws(word: str) -> int:
    if len(word) > 6 and word[6] == "(" and word[7:8] != ")":
        digits, end = strtol(word[7:], 0)
        rest = word[7 + end :]
        if not rest.startswith(")"):
            if not rest:
                raise BalanceError("random : missing closing parenthesis.")
            raise BalanceError(f"random : unexpected character '{rest[0]}' after argument.")
        if digits < 1:
            raise BalanceError("random : number of draws must be at least 1.")
        return digits
    return 2


def _uri(rest: list[str], params: LbParams) -> LbParams:
    length = depth = 0
    whole = path_only = False
    i = 0
    while i < len(rest):
        word = rest[i]
        if word in ("len", "depth"):
            arg = rest[i + 1] if i + 1 < len(rest) else ""
            if not arg or atoi(arg) <= 0:
                raise BalanceError(f"uri : '{word}' expects a positive integer (got '{arg}').")
            if word == "len":
                length = atoi(arg)
            else:
                depth = atoi(arg)
            i += 2
        elif word in ("whole", "path-only"):
            whole = whole or word == "whole"
            path_only = path_only or word == "path-only"
            i += 1
        else:
            raise BalanceError(
                "uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' "
                f"(got '{word}')."
            )
    return dataclasses.replace(
        params, uri_len=length, uri_depth=depth, uri_whole=whole, uri_path_only=path_only
    )


def _url_param(rest: list[str], params: LbParams) -> LbParams:
    if not rest:
        raise BalanceError("url_param requires an URL parameter name.")
    if len(rest) > 1 and rest[1] != "check_post":
        raise BalanceError(f"url_param only accepts 'check_post' modifier (got '{rest[1]}').")
    return dataclasses.replace(params, name=rest[0], check_post=len(rest) > 1)


def _hdr(word: str, rest: list[str], params: LbParams) -> LbParams:
    end = word.find(")", 4)
    if end <= 4:
        raise BalanceError("hdr requires an http header field name.")
    domain_only = False
    if rest:
        if rest[0] != "use_domain_only":
            raise BalanceError(f"{word} only accepts 'use_domain_only' modifier (got '{rest[0]}').")
        domain_only = True
    return dataclasses.replace(params, name=word[4:end], use_domain_only=domain_only)


def _rdp_cookie_name(word: str) -> str:
    if len(word) == 10:
        return "mstshash"
    if word[10] == "(":
        end = word.find(")", 11)
        if end > 11:
            return word[11:end]
    raise BalanceError("rdp-cookie : missing cookie name.")


_HASH_FUNCTIONS = {f.value: f for f in HashFunction}


def parse_hash_type(words: Sequence[str], base: LbParams | None = None) -> LbParams:
    """The words after `hash-type` (src/cfgparse-listen.c): lookup, function, modifier.

    Without a function, the function is sdbm and `consistent` adds avalanche.
    """
    base = base if base is not None else LbParams()
    kind = words[0] if words else ""
    if kind == "avalanche":
        raise BalanceError(
            "experimental feature 'hash-type avalanche' is not supported anymore, please use "
            "'hash-type map-based sdbm avalanche' instead."
        )
    if kind not in ("consistent", "map-based"):
        raise BalanceError("'hash-type' only supports 'consistent' and 'map-based'.")
    hash_type = HashType(kind)
    if len(words) < 2 or not words[1]:
        avalanche = hash_type is HashType.CONSISTENT
        return dataclasses.replace(
            base, hash_type=hash_type, hash_function=HashFunction.SDBM, avalanche=avalanche
        )
    function = _HASH_FUNCTIONS.get(words[1])
    if function is None:
        raise BalanceError(
            "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions."
        )
    modifier = words[2] if len(words) > 2 else ""
    if modifier and modifier != "avalanche":
        raise BalanceError(
            "'hash-type' only supports 'avalanche' as a modifier for hash functions."
        )
    return dataclasses.replace(
        base, hash_type=hash_type, hash_function=function, avalanche=modifier == "avalanche"
    )
