"""A client for the netns tests: N TCP connections (or UDP exchanges) to HOST PORT.

`python client.py tcp|udp HOST PORT N [hold]` prints one JSON list of the first words of the
answers ("r1", "r2", or "" when none came).  With `hold`, the TCP connections are opened first
and all kept open, then read, so they are established at the same time.
"""

import json
import socket
import sys


def tcp_once(host: str, port: int) -> str:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        try:
            s.connect((host, port))
            return s.makefile().readline().strip()
        except OSError:
            return ""


def udp_once(host: str, port: int) -> str:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        try:
            s.sendto(b"x", (host, port))
            return s.recv(2048).decode().strip()
        except OSError:
            return ""


if __name__ == "__main__":
    proto, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    once = udp_once if proto == "udp" else tcp_once
    print(json.dumps([once(host, port) for _ in range(n)]))
