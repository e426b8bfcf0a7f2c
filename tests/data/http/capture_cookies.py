"""Record what the real HAProxy 2.6 does with persistence cookies, as golden data for
proto/http/cookies.py.

Run from the repository root (needs the `haproxy` binary; no root):

    .venv/bin/python tests/data/http/capture_cookies.py tests/data/http/cookies.json

Each case runs `haproxy -db` on one `mode http` backend with a `cookie` line (and server
`cookie` values, `option persist`/`redispatch`, disabled or backup servers) in front of
scripted servers on loopback, then sends its exchanges one by one, each on a new client
connection.  Per exchange it records the request sent, which server received it and the bytes
it received, the response that server sent and the bytes the client got, and the wall clock
around the exchange (the cookie dates of `maxidle`/`maxlife` are HAProxy's clock).  A server
answers with the response head the exchange names (`{srv}` replaced by its name) and its
name as the body.  Nothing in the output is written by hand.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.data.haproxy.oracle import free_port, running, version

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def s30(value: int) -> str:
    """HAProxy's s30tob64: 30 bits as 5 base64 characters (for dates sent in cookies)."""
    return "".join(B64[(value >> (24 - 6 * i)) & 0x3F] for i in range(5))


@dataclass
class Server:
    """A scripted HTTP/1.1 server: each request read whole, answered with `reply`."""

    name: str
    reply: bytes = b""
    got: list[bytes] = field(default_factory=list)

    def start(self) -> int:
        self.sock = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()
        return int(self.sock.getsockname()[1])

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.lower().split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.got.append(head + b"\r\n\r\n" + rest[:length])
                data = rest[length:]
                body = self.name.encode()
                head_out = self.reply.replace(b"{srv}", body)
                try:
                    conn.sendall(head_out + b"content-length: %d\r\n\r\n%s" % (len(body), body))
                except OSError:
                    return


def exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as c:
        c.sendall(request)
        got = b""
        while True:
            head, sep, body = got.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.lower().split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if len(body) >= length:
                    return got
            chunk = c.recv(65536)
            if not chunk:
                return got
            got += chunk


OK = b"HTTP/1.1 200 OK\r\n"


def get(cookie: str | None = None, method: str = "GET", extra: str = "") -> bytes:
    lines = [f"{method} / HTTP/1.1", "host: a"]
    if cookie is not None:
        lines.extend(f"cookie: {c}" for c in cookie.split("\n"))
    if extra:
        lines.extend(extra.split("\n"))
    if method == "POST":
        lines.append("content-length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def cases(now: int) -> list[dict[str, object]]:
    """The cases: backend lines, servers (name, options), exchanges (request, reply head)."""
    old = s30((now - 3600) >> 2)  # an hour ago: past any maxidle/maxlife below
    fresh = s30((now - 8) >> 2)
    future = s30((now + 2 * 86400) >> 2)
    two = [("s1", "cookie s1"), ("s2", "cookie s2")]
    plain = [
        (get(), OK),
        (get(), OK),
        (get("SRV=s2"), OK),
        (get("a=1; SRV=s2; b=2"), OK),
        (get("SRV=s1; a=1"), OK),
        (get("a=1; SRV=s1"), OK),
        (get("SRV=zz"), OK),
        (get("SRV="), OK),
        (get("$Version=1; SRV=s2; $Path=/"), OK),
        (get("a = 1 ; SRV = s2 ; b=2"), OK),
        (get("flag; SRV=s1; other"), OK),
        (get("SRV=s2\nx=y"), OK),
        (get("x=y\nSRV=s1"), OK),
        (get('q="a;b"; SRV=s2'), OK),
        (get("a=1, SRV=s2, b=2"), OK),
        (get("SRV=s1; SRV=s2"), OK),
        (get("SRVX=s2; SR=s2"), OK),
        (get(method="POST"), OK),
        (get(), OK + b"cache-control: no-cache\r\n"),
        (get(), OK + b"cache-control: public\r\n"),
        (get(), b"HTTP/1.1 302 Found\r\nlocation: /x\r\n"),
        (get(), b"HTTP/1.1 404 Not Found\r\n"),
        (get(), OK + b"Set-Cookie: SRV=bogus; path=/\r\n"),
        (get(), OK + b"Set-Cookie: app=1\r\nSet-Cookie: SRV=x\r\n"),
        (get("SRV=s2"), OK + b"Set-Cookie: SRV=x\r\n"),
        (get(extra="pragma: no-cache"), OK + b"pragma: no-cache\r\n"),
        (get(), OK + b"expires: Thu, 01 Jan 2037 00:00:00 GMT\r\n"),
    ]
    server_cookies = [
        (get(), OK + b"Set-Cookie: SRV=abc; path=/\r\n"),
        (get(), OK + b"Set-Cookie: SRV = abc ; path=/\r\n"),
        (get(), OK + b"Set-Cookie: app=1\r\nSet-Cookie: SRV=abc; Max-Age=10\r\n"),
        (get("SRV=s2"), OK + b"Set-Cookie: SRV=abc\r\n"),
        (get("SRV=s1"), OK),
        (get(), OK + b"Set-Cookie2: a=1, SRV=abc; Version=1, b=2\r\n"),
        (get(), OK + b"Set-Cookie: other=1\r\n"),
        (get(), OK),
    ]
    prefix = [
        (get(), OK + b"Set-Cookie: JS=abc; path=/\r\n"),
        (get(), OK + b"Set-Cookie: JS=def\r\n"),
        (get("JS=s2~abc"), OK),
        (get("a=1; JS=s1~abc; b=2"), OK),
        (get("JS=abc"), OK),
        (get("JS=s9~abc"), OK),
        (get("JS=s2~"), OK),
        (get("JS=s1~x~y"), OK + b"Set-Cookie: JS=x~y\r\n"),
        (get(), OK + b"Set-Cookie: other=1\r\n"),
    ]
    dated = [
        (get(), OK),
        (get(f"SRV=s2|{fresh}"), OK),
        (get(f"SRV=s2|{old}"), OK),
        (get(f"SRV=s2|{fresh}|{old}"), OK),
        (get(f"SRV=s2|{fresh}|{fresh}"), OK),
        (get(f"SRV=s2|{future}"), OK),
        (get(f"SRV=s2|{fresh}|{future}"), OK),
        (get("SRV=s2|bad!!"), OK),
        (get("SRV=s2|AB"), OK),
        (get("SRV=s1"), OK),
    ]
    down = [
        (get("SRV=s3"), OK),
        (get("SRV=s3"), OK),
        (get("SRV=s1"), OK),
    ]
    return [
        {"name": "insert", "lines": ["cookie SRV insert"], "servers": two, "ex": plain},
        {
            "name": "insert-indirect-nocache",
            "lines": ["cookie SRV insert indirect nocache"],
            "servers": two,
            "ex": plain,
        },
        {
            "name": "insert-attrs",
            "lines": [
                "cookie SRV insert indirect httponly secure domain .a.com domain .b.org"
                " attr SameSite=Lax attr x=1"
            ],
            "servers": two,
            "ex": plain[:4],
        },
        {
            "name": "insert-postonly",
            "lines": ["cookie SRV insert postonly nocache"],
            "servers": two,
            "ex": [(get(), OK), (get(method="POST"), OK), (get("SRV=s1", "POST"), OK)],
        },
        {
            "name": "insert-preserve",
            "lines": ["cookie SRV insert indirect preserve"],
            "servers": two,
            "ex": server_cookies,
        },
        {
            "name": "insert-servercookies",
            "lines": ["cookie SRV insert"],
            "servers": two,
            "ex": server_cookies,
        },
        {
            "name": "indirect-only",
            "lines": ["cookie SRV indirect"],
            "servers": two,
            "ex": server_cookies + plain[2:6],
        },
        {
            "name": "passive",
            "lines": ["cookie SRV"],
            "servers": two,
            "ex": server_cookies + plain[2:8],
        },
        {
            "name": "rewrite",
            "lines": ["cookie SRV rewrite"],
            "servers": two,
            "ex": server_cookies + plain[2:8],
        },
        {"name": "prefix", "lines": ["cookie JS prefix"], "servers": two, "ex": prefix},
        {
            "name": "prefix-indirect",
            "lines": ["cookie JS prefix indirect"],
            "servers": two,
            "ex": prefix,
        },
        {
            "name": "maxidle",
            "lines": ["cookie SRV insert indirect maxidle 60"],
            "servers": two,
            "ex": dated,
        },
        {
            "name": "maxlife",
            "lines": ["cookie SRV insert maxlife 120"],
            "servers": two,
            "ex": dated,
        },
        {
            "name": "maxidle-maxlife",
            "lines": ["cookie SRV insert maxidle 60 maxlife 120"],
            "servers": two,
            "ex": dated,
        },
        {"name": "nomax-dated", "lines": ["cookie SRV insert"], "servers": two, "ex": dated},
        {
            "name": "cookieless-server",
            "lines": ["cookie SRV insert indirect"],
            "servers": [("s1", "cookie s1"), ("s2", "")],
            "ex": [(get(), OK), (get(), OK), (get("SRV=s1"), OK), (get("SRV=s2"), OK)],
        },
        {
            "name": "shared-cookie",
            "lines": ["cookie SRV insert indirect"],
            "servers": [("s1", "cookie a disabled"), ("s2", "cookie a"), ("s3", "cookie b")],
            "ex": [(get("SRV=a"), OK), (get("SRV=a"), OK), (get("SRV=b"), OK)],
        },
        {
            "name": "down",
            "lines": ["cookie SRV insert indirect"],
            "servers": [("s1", "cookie s1"), ("s2", "cookie s2"), ("s3", "cookie s3 disabled")],
            "ex": down,
        },
        {
            "name": "down-persist",
            "lines": ["cookie SRV insert indirect", "option persist"],
            "servers": [("s1", "cookie s1"), ("s2", "cookie s2"), ("s3", "cookie s3 disabled")],
            "ex": down,
        },
        {
            "name": "dynamic",
            "lines": ["cookie SRV insert dynamic", "dynamic-cookie-key secretkey"],
            "servers": [("s1", ""), ("s2", ""), ("s3", "cookie fixed")],
            "ex": [(get(), OK), (get(), OK), (get(), OK)],
        },
    ]


def capture() -> dict[str, object]:
    now = int(time.time())
    out: list[dict[str, object]] = []
    for case in cases(now):
        servers = [Server(name) for name, _ in case["servers"]]  # type: ignore[attr-defined]
        ports = [s.start() for s in servers]
        front = free_port()
        lines = "".join(f"  {line}\n" for line in case["lines"])  # type: ignore[attr-defined]
        srv_lines = "".join(
            f"  server {name} 127.0.0.1:{port} {opts}\n"
            for (name, opts), port in zip(case["servers"], ports, strict=True)  # type: ignore[call-overload]
        )
        config = (
            "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n"
            f"  timeout server 5s\nlisten px\n  bind 127.0.0.1:{front}\n  balance roundrobin\n"
            f"{lines}{srv_lines}"
        )
        exchanges = []
        with running(config, port=front):
            for request, reply in case["ex"]:  # type: ignore[attr-defined]
                for s in servers:
                    s.reply = reply
                    s.got.clear()
                t0 = time.time()
                answer = exchange(front, request)
                t1 = time.time()
                got = [(s.name, s.got[0]) for s in servers if s.got]
                exchanges.append(
                    {
                        "request": request.decode("latin-1"),
                        "reply": reply.decode("latin-1"),
                        "server": got[0][0] if got else None,
                        "received": got[0][1].decode("latin-1") if got else None,
                        "answer": answer.decode("latin-1"),
                        "t0": t0,
                        "t1": t1,
                    }
                )
        for s in servers:
            s.sock.close()
        out.append(
            {
                "name": case["name"],
                "lines": case["lines"],
                "servers": [
                    {"name": n, "port": p, "options": o}
                    for (n, o), p in zip(case["servers"], ports, strict=True)  # type: ignore[call-overload]
                ],
                "exchanges": exchanges,
            }
        )
    return {"version": version(), "cases": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    args.out.write_text(json.dumps(capture(), indent=1) + "\n")


if __name__ == "__main__":
    main()
