"""A real server for the netns tests: answers every TCP connection / UDP datagram with NAME.

`python backend.py NAME PORT [tcp|udp|hold] [BIND]`; TCP replies "NAME PEER_IP PEER_PORT\n" and
closes, so the test sees which server it reached and from which address the server saw it;
`hold` replies the same and keeps the connection open until the client closes it.
"""

import socket
import sys
import threading


def hold(conn: socket.socket, line: bytes) -> None:
    with conn:
        conn.sendall(line)
        while conn.recv(4096):
            pass


def serve_tcp(name: str, port: int, bind: str, keep: bool = False) -> None:
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((bind, port))
    s.listen(256)
    while True:
        conn, peer = s.accept()
        line = f"{name} {peer[0]} {peer[1]}\n".encode()
        if keep:
            threading.Thread(target=hold, args=(conn, line), daemon=True).start()
            continue
        conn.sendall(line)
        conn.close()


def serve_udp(name: str, port: int, bind: str) -> None:
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((bind, port))
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(f"{name} {peer[0]} {peer[1]}\n".encode(), peer)


if __name__ == "__main__":
    name, port = sys.argv[1], int(sys.argv[2])
    proto = sys.argv[3] if len(sys.argv) > 3 else "tcp"
    bind = sys.argv[4] if len(sys.argv) > 4 else "0.0.0.0"
    if proto == "udp":
        threading.Thread(target=serve_udp, args=(name, port, bind), daemon=True).start()
    else:
        args = (name, port, bind, proto == "hold")
        threading.Thread(target=serve_tcp, args=args, daemon=True).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    threading.Event().wait()
