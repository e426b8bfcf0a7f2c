"""A client that holds one TCP connection open: `python hold.py HOST PORT`.

Connects, prints the server's line (see backend.py `hold`), and keeps the connection open
until its stdin closes; then closes it and exits.
"""

import socket
import sys

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.create_connection((host, port), timeout=5) as s:
        sys.stdout.write(s.makefile().readline())
        sys.stdout.flush()
        sys.stdin.read()
