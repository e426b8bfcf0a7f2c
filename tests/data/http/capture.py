"""Record what the real HAProxy 2.6 does with HTTP/1.1 traffic, as golden data for proto/http.

Run from the repository root (needs the `haproxy` binary; no root):

    .venv/bin/python tests/data/http/capture.py [--haproxy /usr/sbin/haproxy] tests/data/http

It starts `haproxy -db` on loopback in front of a scripted backend written here, sends each
case's bytes from a real client socket, and writes what came out:

* `answers/<name>.http` and `answers.json`: HAProxy's own answers, byte for byte (the error
  pages of every status in http_err_codes[] through `http-request deny deny_status N`, and the
  ones it sends by itself: 400/413/422 from the H1 parser, 408 from `timeout http-request`,
  502 for a garbage response, 503 with no server, 504 from `timeout server`, 500 from a failed
  header rewrite), the config that produced each and whether the connection was closed after;
* `requests.json`: requests (hand-written edge cases and seeded mutations of valid ones) with
  the client's answer, the bytes the backend received and whether the client was closed;
* `responses.json`: responses the backend sends, with what the client got;
* `modes.json`: keep-alive / server-close / httpclose exchanges, HTTP/1.0 and 1.1, with both
  sides' bytes and which connections closed or were reused;
* `show_errors.txt`: `show errors` after a bad request and a bad response.

Every file is regenerated whole; nothing in them is written by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.data.http import cases
from tests.port_helpers import free_port as free_port  # the tests import it from here

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
QUIET = 0.25  # seconds without bytes after which an exchange is over


def text(data: bytes) -> str:
    """Bytes as a JSON-safe string, one character per byte (latin-1)."""
    return data.decode("latin-1")


@dataclass
class Backend:
    """A scripted HTTP server: answers each request it reads with `reply(request_bytes)`.

    It logs every accepted connection, every byte read and every EOF, so a case can tell what
    HAProxy forwarded, on which server connection, and when HAProxy closed it.
    """

    reply: Callable[[bytes], bytes | None] = lambda _req: OK
    close_after: bool = False
    log: list[tuple[int, str, bytes]] = field(default_factory=list)
    port: int = 0

    def start(self) -> None:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._ids = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._ids += 1
            self.log.append((self._ids, "accept", b""))
            threading.Thread(target=self._serve, args=(conn, self._ids), daemon=True).start()

    def _serve(self, conn: socket.socket, cid: int) -> None:
        pending = b""
        conn.settimeout(0.05)
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    if pending:
                        if not self._answer(conn, cid, pending):
                            return
                        pending = b""
                    continue
                except OSError:
                    self.log.append((cid, "reset", b""))
                    return
                if not data:
                    self.log.append((cid, "eof", b""))
                    return
                self.log.append((cid, "data", data))
                pending += data
                if request_complete(pending):
                    if not self._answer(conn, cid, pending):
                        return
                    pending = b""

    def _answer(self, conn: socket.socket, cid: int, request: bytes) -> bool:
        out = self.reply(request)
        if out is None:
            return True
        try:
            conn.sendall(out)
        except OSError:
            return False
        if self.close_after:
            self.log.append((cid, "close", b""))
            return False
        return True


def request_complete(data: bytes) -> bool:
    """True once `data` holds a whole request as HAProxy forwards it (normalised framing)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    lower = head.lower()
    if b"\r\ntransfer-encoding: chunked" in lower:
        return body.endswith(b"\r\n\r\n") and (body.startswith(b"0\r\n") or b"\r\n0\r\n" in body)
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


@dataclass
class Exchange:
    got: bytes
    closed: bool
    kept_alive: bool | None = None  # a further GET on the connection was answered


def read_quiet(c: socket.socket, quiet: float, first: float = 2.0) -> tuple[bytes, bool]:
    """What `c` sends until EOF (True) or `quiet` seconds of silence (False); the first byte
    is awaited `first` seconds (HAProxy may answer after a server's retry or close)."""
    c.settimeout(max(first, quiet))
    got = b""
    try:
        while True:
            data = c.recv(65536)
            if not data:
                return got, True
            got += data
            c.settimeout(quiet)
    except TimeoutError:
        return got, False
    except ConnectionResetError:
        return got, True


def converse(
    port: int, parts: list[bytes | float], quiet: float = QUIET, probe: bool = False
) -> Exchange:
    """Send `parts` (a float is a pause), then read until EOF or `quiet` seconds of silence.

    With `probe`, a connection still open is then given one more GET to learn whether it is
    still usable (HAProxy may keep it open but no longer read from it).
    """
    with socket.create_connection(("127.0.0.1", port)) as c:
        for part in parts:
            if isinstance(part, float):
                time.sleep(part)
            else:
                c.sendall(part)
        got, closed = read_quiet(c, quiet)
        ex = Exchange(got, closed)
        if probe and not closed:
            try:
                c.sendall(b"GET /probe HTTP/1.1\r\nhost: a\r\n\r\n")
                more, _ = read_quiet(c, quiet)
            except OSError:
                more = b""
            ex.kept_alive = more.startswith(b"HTTP/1.1 200")
        return ex


@contextmanager
def haproxy(binary: str, config: str, workdir: Path) -> Iterator[int]:
    """Run haproxy in the foreground on `config` (with FE_PORT substituted); yield the port."""
    port = free_port()
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(config.replace("FE_PORT", str(port)).replace("WORKDIR", str(workdir)))
    proc = subprocess.Popen(
        [binary, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    err = proc.stderr.read() if proc.stderr else b""
                    raise RuntimeError(f"haproxy did not start: {err!r}") from None
                time.sleep(0.02)
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


def config(backend_port: int | None, *, defaults: str = "", frontend: str = "") -> str:
    server = f"    server s1 127.0.0.1:{backend_port}\n" if backend_port else ""
    return (
        "global\n"
        "    stats socket WORKDIR/stats.sock level admin\n"
        "defaults\n"
        "    mode http\n"
        "    timeout connect 1s\n"
        "    timeout client 3s\n"
        "    timeout server 3s\n"
        f"{defaults}"
        "frontend fe\n"
        "    bind 127.0.0.1:FE_PORT\n"
        f"{frontend}"
        "    default_backend be\n"
        "backend be\n"
        f"{server}"
    )


def cli(workdir: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(workdir / "stats.sock"))
        s.sendall(command.encode() + b"\n")
        out = b""
        while data := s.recv(65536):
            out += data
    return out.decode()


def capture_answers(binary: str, work: Path, out: Path) -> None:
    answers: dict[str, dict[str, object]] = {}
    configs: dict[str, str] = {}
    target = out / "answers"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()

    def keep(name: str, cfg: str, trigger: str, ex: Exchange) -> None:
        (target / f"{name}.http").write_bytes(ex.got)
        cfg = re.sub(r"127.0.0.1:[0-9]+\n", "127.0.0.1:BACKEND_PORT\n", cfg)
        cfg_name = next((k for k, v in configs.items() if v == cfg), f"config{len(configs)}")
        configs[cfg_name] = cfg
        answers[name] = {
            "config": cfg_name,
            "trigger": trigger,
            "closed": ex.closed,
            "kept_alive": ex.kept_alive,
        }

    be = Backend()
    be.start()
    deny = "".join(
        f"    http-request deny deny_status {code} if {{ path /deny/{code} }}\n"
        for code in cases.ERROR_CODES
    )
    cfg = config(be.port, frontend=deny)
    with haproxy(binary, cfg, work) as port:
        for code in cases.ERROR_CODES:
            req = f"GET /deny/{code} HTTP/1.1\r\nhost: a\r\n\r\n".encode()
            keep(f"deny-{code}", cfg, text(req), converse(port, [req], probe=True))
        for name, parts in cases.PARSER_ANSWERS.items():
            sent = text(b"".join(p for p in parts if isinstance(p, bytes)))
            keep(name, cfg, sent, converse(port, list(parts), probe=True))
    be.stop()

    # 408: `timeout http-request` with half a request, and with nothing at all.
    be = Backend()
    be.start()
    cfg = config(be.port, defaults="    timeout http-request 300ms\n")
    with haproxy(binary, cfg, work) as port:
        keep(
            "timeout-408-partial",
            cfg,
            "GET / HTTP/1.1 (then silence)",
            converse(port, [b"GET / HTTP/1.1\r\n"], quiet=1.0),
        )
        keep("timeout-408-silent", cfg, "(silence)", converse(port, [], quiet=1.0))
        keep(
            "timeout-keepalive-idle",
            cfg,
            "one request, then silence",
            converse(port, [b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"], quiet=1.0),
        )
    be.stop()

    # 502: the server answers garbage; 504: the server never answers; 503: no server.
    be = Backend(reply=lambda _r: b"garbage\r\n\r\n")
    be.start()
    cfg = config(be.port)
    with haproxy(binary, cfg, work) as port:
        keep("server-garbage-502", cfg, "GET /", converse(port, [cases.GET], probe=True))
    be.stop()
    be = Backend(reply=lambda _r: None)
    be.start()
    cfg = config(be.port, defaults="    timeout server 300ms\n")
    with haproxy(binary, cfg, work) as port:
        keep("server-timeout-504", cfg, "GET /", converse(port, [cases.GET], quiet=1.0, probe=True))
    be.stop()
    cfg = config(None)
    with haproxy(binary, cfg, work) as port:
        keep("no-server-503", cfg, "GET /", converse(port, [cases.GET], probe=True))
    # 500: a header rewrite that does not fit the buffer's reserve (strict-mode is on).
    be = Backend()
    be.start()
    big = "x" * 2000
    cfg = config(be.port, frontend=f"    http-request set-header x-big {big}\n")
    with haproxy(binary, cfg, work) as port:
        keep(
            "rewrite-failed-500",
            cfg,
            "GET / with a 15000-byte header",
            converse(port, [cases.sized_request(15000)], probe=True),
        )
    be.stop()
    doc = {"configs": configs, "answers": answers}
    (out / "answers.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def exchange_record(be: Backend, ex: Exchange) -> dict[str, object]:
    """What the client got and what the backend saw, taken while HAProxy still runs."""
    time.sleep(0.05)  # let the backend log the last bytes and EOFs
    forwarded = b"".join(data for _cid, kind, data in be.log if kind == "data")
    used = sorted({cid for cid, kind, _ in be.log if kind == "data"})
    ended = {cid for cid, kind, _ in be.log if kind in ("eof", "reset")}
    return {
        "got": text(ex.got),
        "closed": ex.closed,
        "forwarded": text(forwarded),
        "server_connections": len(used),
        "server_closed": sum(1 for cid in used if cid in ended),
    }


def capture_requests(binary: str, work: Path, out: Path) -> None:
    be = Backend()
    be.start()
    records = []
    with haproxy(binary, config(be.port), work) as port:
        for name, request in cases.request_cases(random.Random(2026)):
            be.log.clear()
            ex = converse(port, [request])
            records.append({"name": name, "request": text(request), **exchange_record(be, ex)})
    be.stop()
    (out / "requests.json").write_text(json.dumps(records, indent=0) + "\n")


def constant(response: bytes) -> Callable[[bytes], bytes]:
    """A server's reply: the same response whatever the request."""
    return lambda _request: response


def capture_responses(binary: str, work: Path, out: Path) -> None:
    records = []
    for name, request, response in cases.response_cases(random.Random(2026)):
        be = Backend(reply=constant(response), close_after=True)
        be.start()
        with haproxy(binary, config(be.port), work) as port:
            ex = converse(port, [request])
        be.stop()
        records.append(
            {
                "name": name,
                "request": text(request),
                "response": text(response),
                "got": text(ex.got),
                "closed": ex.closed,
            }
        )
    (out / "responses.json").write_text(json.dumps(records, indent=0) + "\n")


def capture_modes(binary: str, work: Path, out: Path) -> None:
    records = []
    for mode in cases.MODES:
        for name, requests, reply in cases.MODE_EXCHANGES:
            be = Backend(reply=constant(reply))
            be.start()
            opt = f"    option {mode}\n" if mode else ""
            with haproxy(binary, config(be.port, defaults=opt), work) as port:
                parts: list[bytes | float] = []
                for r in requests:
                    parts += [r, 0.1]
                ex = converse(port, parts)
                seen = exchange_record(be, ex)
            be.stop()
            records.append(
                {
                    "mode": mode or "http-keep-alive (default)",
                    "name": name,
                    "requests": [text(r) for r in requests],
                    "reply": text(reply),
                    **seen,
                }
            )
    (out / "modes.json").write_text(json.dumps(records, indent=0) + "\n")


def capture_show_errors(binary: str, work: Path, out: Path) -> None:
    be = Backend(reply=lambda _r: b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n")
    be.start()
    with haproxy(binary, config(be.port), work) as port:
        converse(port, [b"GET / HTTP/1.1\r\nhost: a\r\nbad header\r\n\r\n"])
        converse(port, [cases.GET])
        text_out = cli(work, "show errors")
    be.stop()
    (out / "show_errors.txt").write_text(text_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--haproxy", default="haproxy")
    parser.add_argument("--only", choices=["answers", "requests", "responses", "modes", "errors"])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    version = subprocess.run(
        [args.haproxy, "-v"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "VERSION").write_text(version + "\n")
    steps = {
        "answers": capture_answers,
        "requests": capture_requests,
        "responses": capture_responses,
        "modes": capture_modes,
        "errors": capture_show_errors,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, step in steps.items():
            if args.only in (None, name):
                print(f"capturing {name} ...", file=sys.stderr)
                step(args.haproxy, Path(tmp), args.out)
    os.sync()


if __name__ == "__main__":
    main()
