"""The lab's web server: answers every HTTP request with its name (`rs1\\n`), like the seeds'
test pages that show which real server served the request.

`python -m pylvs.lab.httpd --name rs1 --port 80 [--ready FILE]` binds 0.0.0.0 (in DR the
packets arrive addressed to the VIP, which is on lo), writes FILE once it listens, and serves
until SIGTERM.  Each answer closes the connection, so every request is a new connection that
the director schedules; a request that asks for `Connection: keep-alive` keeps it open for
the next one (a long-lived connection, as the sync's failover test holds them).
"""

from __future__ import annotations

import argparse
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType


def make_handler(name: str) -> type[BaseHTTPRequestHandler]:
    body = f"{name}\n".encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            keep = self.headers.get("Connection", "").lower() == "keep-alive"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "keep-alive" if keep else "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = not keep

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pylvs.lab.httpd")
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--ready")
    args = parser.parse_args(argv)
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("0.0.0.0", args.port), make_handler(args.name))
    server.daemon_threads = True

    def stop(_sig: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    if args.ready:
        Path(args.ready).write_text(f"{args.name}\n")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
