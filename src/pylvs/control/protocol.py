"""The control-socket protocol: one JSON object per line each way.

A client sends one request line and reads one response line, then closes.  Requests name an
operation (`ipvsadm`, `reload`, `status`, `stop`) with its arguments; responses carry what the
command would print and its exit status, so `pylvs ipvsadm` behaves byte for byte like the
real tool whatever runs it.  Decoding never raises on garbage: a malformed request becomes a
`ProtocolError` that the server answers (exit status 2) before closing the connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MAX_LINE = 1 << 20  # a restore of a large table fits; anything longer is refused
OPS = frozenset({"ipvsadm", "reload", "status", "stop"})


class ProtocolError(ValueError):
    """A request or response line that does not follow this protocol."""


@dataclass(frozen=True, slots=True)
class Request:
    op: str
    argv: tuple[str, ...] = ()
    stdin: str = ""

    def encode(self) -> bytes:
        obj = {"op": self.op, "argv": list(self.argv), "stdin": self.stdin}
        return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


@dataclass(frozen=True, slots=True)
class Response:
    rc: int = 0
    stdout: str = ""
    stderr: str = ""
    data: dict[str, object] = field(default_factory=dict)

    def encode(self) -> bytes:
        obj = {"rc": self.rc, "stdout": self.stdout, "stderr": self.stderr, "data": self.data}
        return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _load(line: bytes) -> dict[str, object]:
    if len(line) > MAX_LINE:
        raise ProtocolError("request too long")
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"not a JSON line: {e}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("not a JSON object")
    return obj


def decode_request(line: bytes) -> Request:
    obj = _load(line)
    op = obj.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError(f"unknown operation {op!r}")
    argv = obj.get("argv", [])
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ProtocolError("argv must be a list of strings")
    stdin = obj.get("stdin", "")
    if not isinstance(stdin, str):
        raise ProtocolError("stdin must be a string")
    return Request(op, tuple(argv), stdin)


def decode_response(line: bytes) -> Response:
    obj = _load(line)
    rc, out, err, data = obj.get("rc"), obj.get("stdout"), obj.get("stderr"), obj.get("data", {})
    if not (
        isinstance(rc, int)
        and isinstance(out, str)
        and isinstance(err, str)
        and isinstance(data, dict)
    ):
        raise ProtocolError("malformed response")
    return Response(rc, out, err, data)
