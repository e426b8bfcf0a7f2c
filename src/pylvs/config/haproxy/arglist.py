"""A sample keyword's arguments in parentheses, as HAProxy's arg.c `make_arg_list` reads and
converts them, with its messages.  A module of its own, importing nothing of the sample
machinery, because `haproxy -cc` reads the predicates of a condition (cond.py) with it and
starts without the rest (the type checks of a delay or a size import their parsers when
they are met).
"""

from __future__ import annotations

import ipaddress


class SampleError(Exception):
    """Why a sample expression is refused (reported by the caller with its context)."""

    def __init__(self, message: str, pos: int = 0) -> None:
        super().__init__(message)
        self.pos = pos  # make_arg_list: the argument it failed at (0-based)


ARG_TYPE_NAMES = {
    "SINT": "integer", "STR": "string", "IPV4": "IPv4 address", "MSK4": "IPv4 mask",
    "IPV6": "IPv6 address", "MSK6": "IPv6 mask", "TIME": "delay", "SIZE": "size",
    "FE": "frontend", "BE": "backend", "TAB": "table", "SRV": "server", "USR": "user list",
    "MAP": "map", "REG": "regex", "VAR": "variable", "PBUF_FNUM": "Protocol buffers field number",
}  # fmt: skip


def _unquote_arg(text: str, i: int) -> tuple[str, int]:
    """One argument of make_arg_list from text[i]: quotes and backslash escapes removed;
    returns it and where it stopped (on ',' or ')' outside quotes, or the end)."""
    out: list[str] = []
    squote = dquote = False
    while i < len(text):
        c = text[i]
        if c == '"' and not squote:
            dquote = not dquote
        elif c == "'" and not dquote:
            squote = not squote
        elif c == "\\" and not squote and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "\\ \"'":
                out.append(nxt)
                i += 1
            elif nxt in "rnt":
                out.append({"r": "\r", "n": "\n", "t": "\t"}[nxt])
                i += 1
            else:
                out.append(c)
        elif not squote and not dquote and c in ",)":
            break
        else:
            out.append(c)
        i += 1
    return "".join(out), i


def _check_arg(value: str, kind: str, pos: int) -> None:
    """An argument of type `kind` (ARGT_*), as make_arg_list converts it."""
    ok = True
    if kind == "SINT":
        body = value[1:] if value[:1] in "+-" else value
        ok = (body.isascii() and body.isdigit()) or not body
    elif kind in ("IPV4", "IPV6"):
        ok = _is_ip(value, 4 if kind == "IPV4" else 6)
    elif kind in ("MSK4", "MSK6"):
        bits, sep = (32, ".") if kind == "MSK4" else (128, ":")
        if sep in value:
            ok = _is_ip(value, 4 if kind == "MSK4" else 6)
        else:
            ok = value.isascii() and value.isdigit() and int(value[:4]) <= bits
    elif kind == "TIME":
        from pylvs.proto.stick.spec import parse_time_ms

        ok = not isinstance(parse_time_ms(value), str)
    elif kind == "SIZE":
        from pylvs.proto.stick.keys import parse_size

        ok = not isinstance(parse_size(value), str)
    if not ok:
        name = ARG_TYPE_NAMES.get(kind, kind)
        raise SampleError(f"failed to parse '{value}' as type '{name}' at position {pos + 1}", pos)


def _is_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version and "%" not in text
    except ValueError:
        return False


def make_arg_list(
    text: str, i: int, mandatory: int, types: tuple[str, ...]
) -> tuple[tuple[str, ...], int]:
    """arg.c make_arg_list: the arguments in parentheses at text[i] (if any) for a keyword
    taking `types` (`mandatory` of them required); returns them and where parsing stopped.
    Raises SampleError with HAProxy's message."""
    empty = i >= len(text) or text[i] != "("
    if not empty:
        i += 1
    args: list[str] = []
    pos = 0
    if types and not (empty and not mandatory):
        while pos < len(types):
            value, i = _unquote_arg(text, i) if not empty else ("", i)
            kind = types[pos]
            if not value and kind not in ("STR", "FE", "BE", "TAB", "SRV", "USR", "REG"):
                if pos >= mandatory:
                    break
                name = ARG_TYPE_NAMES.get(kind, kind)
                raise SampleError(
                    f"expected type '{name}' at position {pos + 1}, but got nothing", pos
                )
            _check_arg(value, kind, pos)
            args.append(value)
            pos += 1
            if empty or i >= len(text) or text[i] == ")" or pos >= len(types):
                break
            i += 1  # the comma
    if pos < mandatory:
        name = ARG_TYPE_NAMES.get(types[pos], types[pos]) if pos < len(types) else "end"
        raise SampleError(f"missing arguments (got {pos}/{mandatory}), type '{name}' expected", pos)
    if not empty:
        if i < len(text) and text[i] == ")":
            i += 1
        elif i < len(text):
            raise SampleError(f"expected ')' before '{text[i:]}'", pos - 1 if pos > 1 else pos)
        else:
            raise SampleError("expected ')'", pos - 1 if pos > 1 else pos)
    return tuple(args), i
