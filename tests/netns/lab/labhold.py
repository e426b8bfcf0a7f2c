"""Long-lived connections through the VIP, run inside the lab's client namespace:
`python labhold.py VIP N SECONDS [EVERY [SOURCE]]` opens N connections (from SOURCE when
given), sends one keep-alive request on
each every EVERY seconds (0.1: "a byte every 100 ms", the answer is the real server's name)
for SECONDS, and prints JSON: per connection its client port, the answers in order, and the
error that ended it early (a reset, a timeout), if any.  No answer may be lost: a request is
sent only after the previous answer came whole."""

from __future__ import annotations

import json
import selectors
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: lab\r\nConnection: keep-alive\r\n\r\n"
STALL = 20.0  # an answer that takes longer than this ends the connection: an error


class Held:
    def __init__(self, vip: str, source: str = "") -> None:
        self.sock = socket.create_connection((vip, 80), timeout=5, source_address=(source, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.answers: list[str] = []
        self.error = ""
        self.buf = b""
        self.sent_at = 0.0
        self.waiting = False

    def send(self, now: float) -> None:
        self.sock.send(REQUEST)
        self.sent_at, self.waiting = now, True

    def readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except OSError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            return
        if not data:
            self.error = "closed by the peer"
            return
        self.buf += data
        head, sep, rest = self.buf.partition(b"\r\n\r\n")
        if not sep:
            return
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(rest) < length:
            return
        self.answers.append(rest[:length].decode().strip())
        self.buf = rest[length:]
        self.waiting = False


def main() -> None:
    vip, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    every = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
    source = sys.argv[5] if len(sys.argv) > 5 else ""
    held = [Held(vip, source) for _ in range(n)]
    sel = selectors.DefaultSelector()
    for h in held:
        sel.register(h.sock, selectors.EVENT_READ, h)
    end = time.monotonic() + seconds
    while True:
        now = time.monotonic()
        live = [h for h in held if not h.error]
        if now >= end and not any(h.waiting for h in live):
            break
        for h in live:
            if h.waiting and now - h.sent_at > STALL:
                h.error = "no answer"
            elif not h.waiting and now < end and now - h.sent_at >= every:
                try:
                    h.send(now)
                except OSError as exc:
                    h.error = f"{type(exc).__name__}: {exc}"
        if not live:
            break
        for key, _ in sel.select(timeout=0.02):
            key.data.readable()
    print(json.dumps([{"port": h.port, "answers": h.answers, "error": h.error} for h in held]))


if __name__ == "__main__":
    main()
