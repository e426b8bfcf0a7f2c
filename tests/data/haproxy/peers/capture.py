"""Capture two haproxy 2.6 processes talking the peers protocol, for
tests/unit/proto/peers/test_capture.py: run from this directory with `haproxy` on PATH; writes
haproxy-2.6.12.json: each peers connection's bytes both ways (through a logging relay on
loopback), what each process's `show table` says at the end, and the configuration."""

import contextlib
import json
import socket
import subprocess
import threading
import time

BASE = 17400
CFG = """global
  nbthread 1
  stats socket {sock} level admin
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
peers mesh
  peer A 127.0.0.1:{a}
  peer B 127.0.0.1:{b}
  table names type string len 20 size 1k srvkey addr
  table numbers type integer size 1k expire 1m store gpc0,http_req_cnt,bytes_in_cnt,server_key
backend web
  stick-table type ip size 1k expire 10m peers mesh
  stick on src
  stick on url_param(name) table mesh/names
  http-request track-sc1 url_param(n) table mesh/numbers
  http-request sc-inc-gpc0(1)
  server s1 127.0.0.1:{s1}
  server s2 127.0.0.1:{s2}
frontend fe
  bind 127.0.0.1:{fe}
  default_backend web
"""
# A's peer B is the relay to B, B's peer A the relay to A: every connection is seen.
PORTS: dict[str, dict[str, int | str]] = {
    "A": dict(a=BASE + 1, b=BASE + 12, fe=BASE + 3, sock="/tmp/peers-capture-A.sock"),
    "B": dict(a=BASE + 11, b=BASE + 2, fe=BASE + 4, sock="/tmp/peers-capture-B.sock"),
}
RELAYS = [(BASE + 11, BASE + 1), (BASE + 12, BASE + 2)]
conns: list[dict[str, object]] = []


def pump(src: socket.socket, dst: socket.socket, log: list[str]) -> None:
    while True:
        try:
            d = src.recv(65536)
        except OSError:
            break
        if not d:
            break
        log.append(d.hex())
        try:
            dst.sendall(d)
        except OSError:
            break
    for s in (src, dst):
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)


def listening(port: int) -> socket.socket:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    return ls


def relay(listen: int, target: int) -> None:
    ls = listening(listen)
    while True:
        c, _ = ls.accept()
        try:
            s = socket.create_connection(("127.0.0.1", target))
        except OSError:  # the processes are stopping
            c.close()
            continue
        rec: dict[str, object] = {"to": target, "client": [], "server": []}
        conns.append(rec)
        threading.Thread(target=pump, args=(c, s, rec["client"]), daemon=True).start()
        threading.Thread(target=pump, args=(s, c, rec["server"]), daemon=True).start()


def web(port: int, name: str) -> None:
    ls = listening(port)
    while True:
        c, _ = ls.accept()
        c.recv(65536)
        body = name.encode()
        c.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (len(body), body)
        )
        c.close()


def cli(sock: str, cmd: str) -> str:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(cmd.encode() + b"\n")
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    return out.decode()


def main() -> None:
    for listen, target in RELAYS:
        threading.Thread(target=relay, args=(listen, target), daemon=True).start()
    for port, name in ((BASE + 21, "s1"), (BASE + 22, "s2")):
        threading.Thread(target=web, args=(port, name), daemon=True).start()
    procs = []
    for name, ports in PORTS.items():
        cfg = CFG.format(s1=BASE + 21, s2=BASE + 22, **ports)
        open(f"{name}.cfg", "w").write(cfg)
        procs.append(subprocess.Popen(["haproxy", "-db", "-L", name, "-f", f"{name}.cfg"]))
    time.sleep(1.5)
    for path in ("/?name=alice&n=7", "/?name=bob&n=300", "/?name=alice&n=7"):
        c = socket.create_connection(("127.0.0.1", int(PORTS["A"]["fe"])))
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        c.recv(65536)
        c.close()
        time.sleep(0.2)
    time.sleep(1)
    tables = {}
    for name, p in PORTS.items():
        tables[name] = {
            t: cli(str(p["sock"]), f"show table {t}") for t in ("web", "mesh/names", "mesh/numbers")
        }
    for proc in procs:
        proc.terminate()
        proc.wait()
    time.sleep(0.3)
    out = {
        "config": CFG,
        "ports": PORTS,
        "connections": conns,
        "tables": tables,
        "servers": {"s1": BASE + 21, "s2": BASE + 22},
    }
    json.dump(out, open("haproxy-2.6.12.json", "w"), indent=1)


main()
