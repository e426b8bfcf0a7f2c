"""The control-socket protocol: JSON lines, one request in, a streamed answer out.

A client sends one request line and reads the answer, then closes.  Requests name an
operation (`ipvsadm`, `reload`, `status`, `events`, `stop`) with its arguments.  The answer is
zero or more chunk lines `{"out": TEXT}` / `{"err": TEXT}`, each at most `CHUNK` characters of text,
and
then one final line `{"rc": N, "stdout": ..., "stderr": ..., "data": {...}}`: what the command
would print and its exit status, so `pylvs ipvsadm` behaves byte for byte like the real tool
whatever runs it, and a listing of any size (`-Lnc` of a busy director) reaches the client in
pieces no line limit refuses.

Decoding never raises anything but `ProtocolError` (a ValueError) on garbage, whatever its
size or shape: a line is at most `MAX_LINE` bytes and holds at most `MAX_BRACKETS` brackets
outside its strings (so nesting is bounded before the recursive C parser sees it), numbers
have at most `MAX_INT_DIGITS` digits (Python refuses to convert more than 4300), and fields
are type-checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

MAX_LINE = 1 << 20  # a restore of a large table fits; anything longer is refused
CHUNK = 1 << 16  # characters of text per chunk line (<= 6x that once JSON-escaped)
MAX_BRACKETS = 64  # the protocol's own lines have 2 or 3
MAX_INT_DIGITS = 20
OPS = frozenset({"events", "ipvsadm", "reload", "status", "stop"})

# A JSON string, escapes included: what to skip when counting brackets.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class ProtocolError(ValueError):
    """A request or response line that does not follow this protocol."""


@dataclass(frozen=True, slots=True)
class Request:
    op: str
    argv: tuple[str, ...] = ()
    stdin: str = ""

    def encode(self) -> bytes:
        obj = {"op": self.op, "argv": list(self.argv), "stdin": self.stdin}
        return _line(obj)


@dataclass(frozen=True, slots=True)
class Response:
    rc: int = 0
    stdout: str = ""
    stderr: str = ""
    data: dict[str, object] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The whole answer in one final line (small answers, tests)."""
        obj = {"rc": self.rc, "stdout": self.stdout, "stderr": self.stderr, "data": self.data}
        return _line(obj)

    def stream(self, chunk: int = CHUNK) -> Iterator[bytes]:
        """The answer as chunk lines and a final line: no line longer than a chunk's text."""
        for key, text in (("out", self.stdout), ("err", self.stderr)):
            for start in range(0, len(text), chunk):
                yield _line({key: text[start : start + chunk]})
        yield Response(self.rc, "", "", self.data).encode()


def _line(obj: Mapping[str, object]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ProtocolError(f"number of {len(text)} digits")
    return int(text)


def _check_brackets(line: bytes) -> None:
    """Refuse deep nesting before the recursive parser sees it (C-level scans only)."""
    bare = _STRING.sub(b"", line)
    if bare.count(b"[") + bare.count(b"{") > MAX_BRACKETS:
        raise ProtocolError(f"more than {MAX_BRACKETS} brackets (nested too deep?)")


def _load(line: bytes) -> dict[str, object]:
    if len(line) > MAX_LINE:
        raise ProtocolError(f"line longer than {MAX_LINE} bytes")
    _check_brackets(line)
    try:
        obj = json.loads(line.decode("utf-8"), parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"not a JSON line: {e}") from None
    except RecursionError:  # unreachable after _check_brackets; kept as a floor
        raise ProtocolError("nested too deep") from None
    if not isinstance(obj, dict):
        raise ProtocolError("not a JSON object")
    return obj


def decode_request(line: bytes) -> Request:
    obj = _load(line)
    op = obj.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError(f"unknown operation {op!r:.40}")
    argv = obj.get("argv", [])
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ProtocolError("argv must be a list of strings")
    stdin = obj.get("stdin", "")
    if not isinstance(stdin, str):
        raise ProtocolError("stdin must be a string")
    return Request(op, tuple(argv), stdin)


def decode_chunk(line: bytes) -> tuple[str, str] | Response:
    """One answer line: ("out"|"err", text) for a chunk, or the final Response."""
    obj = _load(line)
    if len(obj) == 1:
        ((key, text),) = obj.items()
        if key in ("out", "err") and isinstance(text, str):
            return key, text
    return _final(obj)


def decode_response(line: bytes) -> Response:
    """A whole answer that came as one final line."""
    return _final(_load(line))


def _final(obj: dict[str, object]) -> Response:
    rc, out, err, data = obj.get("rc"), obj.get("stdout"), obj.get("stderr"), obj.get("data", {})
    if not (
        isinstance(rc, int)
        and not isinstance(rc, bool)
        and isinstance(out, str)
        and isinstance(err, str)
        and isinstance(data, dict)
    ):
        raise ProtocolError("malformed response")
    return Response(rc, out, err, data)
