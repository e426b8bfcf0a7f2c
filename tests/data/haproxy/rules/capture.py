"""Record what the real HAProxy 2.6 does with the rules corpus (cases.py), as golden data for
proto/rules.

Run from the repository root (needs the `haproxy` binary; no root):

    .venv/bin/python tests/data/haproxy/rules/capture.py

For each case it starts `haproxy -db` on the case's configuration in front of a scripted
backend, sends each request on its own connection, and writes `rules.json`: per request the
bytes the backend received (empty when HAProxy answered itself) and the bytes the client
received.  Every file is regenerated whole; nothing in it is written by hand.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(HERE.parents[3]))

from tests.data.haproxy import oracle  # noqa: E402
from tests.data.haproxy.rules import cases  # noqa: E402


class Backend(oracle.Backend):
    """Answers each request head it reads with `response`; remembers what it read."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.seen: list[bytes] = []
        super().__init__("rules", http=True)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            try:
                while True:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        data += chunk
                    head, _, data = data.partition(b"\r\n\r\n")
                    self.seen.append(head + b"\r\n\r\n")
                    conn.sendall(self.response)
            except OSError:
                return


def exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(request)
        c.shutdown(socket.SHUT_WR)
        got = b""
        try:
            while chunk := c.recv(65536):
                got += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return got


def text(data: bytes) -> str:
    return data.decode("latin-1")


def run_case(case: cases.Case) -> list[dict[str, str]]:
    backend = Backend(case.response)
    port = oracle.free_port()
    config = cases.HEAD + case.config
    config = config.replace("${BE}", f"127.0.0.1:{backend.port}")
    config = config.replace("${FE}", f"127.0.0.1:{port}")
    out = []
    try:
        with oracle.running(config, port=port):
            for request in case.requests:
                before = len(backend.seen)
                got = exchange(port, request)
                seen = b"".join(backend.seen[before:])
                out.append({"request": text(request), "server": text(seen), "client": text(got)})
    finally:
        backend.close()
    return out


def main() -> None:
    record = {"haproxy": oracle.version(), "hostname": socket.gethostname(), "cases": {}}
    for case in cases.CASES:
        record["cases"][case.name] = run_case(case)  # type: ignore[index,unused-ignore]
    (HERE / "rules.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
