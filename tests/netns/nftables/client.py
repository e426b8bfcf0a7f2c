"""A client for the netns tests: N TCP connections (or UDP exchanges) to HOST PORT, one after
the other.

`python client.py tcp|udp HOST PORT N [SRC]` prints one JSON object: `answers`, the line each
exchange got back ("r1 <client address> <client port>", or "" when none came within 3 s),
and `seconds`, how long the N exchanges took.  With SRC the client binds that local address
(a second client address of its namespace).
"""

import json
import socket
import sys
import time


def tcp_once(host: str, port: int, src: str) -> str:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        try:
            if src:
                s.bind((src, 0))
            s.connect((host, port))
            return s.makefile().readline().strip()
        except OSError:
            return ""


def udp_once(host: str, port: int, src: str) -> str:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        try:
            if src:
                s.bind((src, 0))
            s.sendto(b"x", (host, port))
            return s.recv(2048).decode().strip()
        except OSError:
            return ""


if __name__ == "__main__":
    proto, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    src = sys.argv[5] if len(sys.argv) > 5 else ""
    once = udp_once if proto == "udp" else tcp_once
    start = time.monotonic()
    answers = [once(host, port, src) for _ in range(n)]
    print(json.dumps({"answers": answers, "seconds": time.monotonic() - start}))
