"""The C number readers HAProxy's parsers use, with their exact leniencies.

HAProxy reads numbers in its config and on its stats socket with the C library and its own
helpers, and its messages depend on what they accept: `strtol`/`strtoul` (leading blanks, a
sign, digits, stopping at the first other character; base 0 also takes 0x.. and 0..),
`atoi` (the same, 0 when there is nothing), tools.c `read_int64` (a sign and digits) and
`strl2llrc` (a sign and digits, nothing else).  Each returns what C would, plus where it
stopped where the caller needs it.
"""

from __future__ import annotations

_BLANKS = " \t\n\v\f\r"


def leading_digits(text: str) -> tuple[int | None, str]:
    """The decimal number `text` starts with (None if it starts with no digit) and the rest."""
    i = 0
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    return (int(text[:i]) if i else None), text[i:]


def _sign(text: str, i: int) -> tuple[int, int]:
    if text[i : i + 1] in ("-", "+"):
        return (-1 if text[i] == "-" else 1), i + 1
    return 1, i


def strtol(text: str, base: int = 10) -> tuple[int, int]:
    """C strtol(text, &end, base) for base 10 or 0: (value, characters used); (0, 0) when
    there is no number."""
    i = len(text) - len(text.lstrip(_BLANKS))
    sign, i = _sign(text, i)
    digits = "0123456789"
    if (
        base == 0
        and text[i : i + 2].lower() == "0x"
        and text[i + 2 : i + 3].lower() in tuple("0123456789abcdef")
    ):
        base, i, digits = 16, i + 2, "0123456789abcdef"
    elif base == 0 and text[i : i + 1] == "0":
        base, digits = 8, "01234567"
    else:
        base = 10
    j = i
    while j < len(text) and text[j].lower() in digits:
        j += 1
    if j == i:
        return 0, 0
    return sign * int(text[i:j], base), j


def atoi(text: str) -> int:
    """C atoi()."""
    return strtol(text)[0]


def strtoul10(text: str) -> int | None:
    """strtoul(text, &end, 10), None when no digit was read or the value wrapped (a '-' in
    front of a non-zero number makes it huge)."""
    value, used = strtol(text)
    if not used:
        return None
    return None if value < 0 else value


def read_int64(text: str) -> int:
    """tools.c read_int64: an optional sign and the digits that follow (0 if none)."""
    sign, i = _sign(text, 0)
    value, _ = leading_digits(text[i:])
    return sign * value if value is not None else 0


def strl2llrc(text: str) -> int | None:
    """tools.c strl2llrc: an optional sign and decimal digits, nothing else."""
    sign, i = _sign(text, 0)
    value, rest = leading_digits(text[i:])
    return None if value is None or rest else sign * value
