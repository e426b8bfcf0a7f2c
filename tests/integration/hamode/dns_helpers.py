"""A tiny authoritative DNS server for the resolvers tests: UDP and TCP on loopback, threads,
answers that the test changes while pylvs or haproxy runs.

Written from RFC 1035 §4.1 with `struct` (not with pylvs's proto/dns, which it tests): A
records for the names it knows, NOERROR with no answer for other types (a v4-only name's AAAA,
as Docker's embedded DNS answers), NXDOMAIN for the names set so, silence for the rest.  With
`junk` on, every answer is followed by datagrams a resolver must drop and count: one too short
to hold an id, one with an id nobody asked, one past 512 bytes.  SRV records (RFC 2782) for the
names `set_srv` gives, each target's A records in the additional section when `additional`
is on.  Over TCP (RFC 1035 §4.2.2, RFC 7766 §6.2.1) each message has its 2-byte length; a
connection serves queries until the client closes it (or, with `tcp_close`, until its
queries are answered), answered in order; `tcp_conns` counts the connections.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from pathlib import Path

from tests.integration.hamode.hamode_helpers import stats_command


class DnsServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock, self.tcp = _bound_pair(host)
        self.sock.settimeout(0.2)
        self.tcp.settimeout(0.2)
        self.host, self.port = host, int(self.sock.getsockname()[1])
        self.lock = threading.Lock()
        self.names: dict[str, list[str]] = {}
        self.nx: set[str] = set()
        self.junk = False
        self.queries = 0
        self.closed = False
        self.srv: dict[str, list[tuple[int, int, int, str]]] = {}
        self.additional = False
        self.tcp_conns = 0
        self.tcp_queries = 0
        self.tcp_close = False  # close each connection once its queries are answered
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.tcp_thread = threading.Thread(target=self._accept, daemon=True)
        self.tcp_thread.start()

    def set(self, name: str, addresses: list[str]) -> None:
        with self.lock:
            self.names[name] = list(addresses)
            self.nx.discard(name)

    def set_nx(self, name: str) -> None:
        with self.lock:
            self.names.pop(name, None)
            self.nx.add(name)

    def set_srv(self, name: str, records: list[tuple[int, int, int, str]]) -> None:
        """SRV records for `name`: (priority, weight, port, target)."""
        with self.lock:
            self.srv[name] = list(records)
            self.nx.discard(name)

    def close(self) -> None:
        self.closed = True
        self.thread.join(2)
        self.tcp_thread.join(2)
        self.sock.close()
        self.tcp.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                self.tcp_conns += 1
            threading.Thread(target=self._serve_tcp, args=(conn,), daemon=True).start()

    def _serve_tcp(self, conn: socket.socket) -> None:
        conn.settimeout(0.5)
        buf = b""
        with conn:
            while not self.closed:
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                    n = int.from_bytes(buf[:2], "big")
                    query, buf = buf[2 : 2 + n], buf[2 + n :]
                    with self.lock:
                        self.tcp_queries += 1
                    answer = None
                    with contextlib.suppress(Exception):
                        answer = self._response(query)
                    if answer is not None:
                        with contextlib.suppress(OSError):
                            conn.sendall(len(answer).to_bytes(2, "big") + answer)
                if self.tcp_close and not buf:
                    return

    def _run(self) -> None:
        while not self.closed:
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            with contextlib.suppress(Exception):  # a query this server cannot read: dropped
                self._answer(data, peer)

    def _answer(self, data: bytes, peer: tuple[str, int]) -> None:
        answer = self._response(data)
        if answer is None:
            return
        self.sock.sendto(answer, peer)
        with self.lock:
            junk = self.junk
        if junk:
            qid = int.from_bytes(answer[:2], "big")
            self.sock.sendto(b"\x01", peer)  # no room for an id
            self.sock.sendto(struct.pack("!HHHHHH", qid ^ 0x5A5A, 0x8180, 1, 0, 0, 0), peer)
            self.sock.sendto(answer + b"\0" * 600, peer)  # past 512 bytes

    def _response(self, data: bytes) -> bytes | None:
        qid, _flags, qdcount = struct.unpack_from("!HHH", data)
        if qdcount != 1:
            return None
        pos, labels = 12, []
        while data[pos]:
            n = data[pos]
            labels.append(data[pos + 1 : pos + 1 + n].decode())
            pos += 1 + n
        question = data[12 : pos + 5]
        qtype = struct.unpack_from("!H", data, pos + 1)[0]
        name = ".".join(labels).lower()
        with self.lock:
            self.queries += 1
            known = self.names.get(name)
            srv = self.srv.get(name)
            nx = name in self.nx
            names = dict(self.names)
            additional = self.additional
        if known is None and srv is None and not nx:
            return None
        rcode = 3 if nx else 0
        answers, extra = b"", b""
        count = extra_count = 0
        if qtype == 1 and known:
            for address in known:
                answers += _record(b"\xc0\x0c", 1, socket.inet_aton(address))
                count += 1
        if qtype == 33 and srv:
            for prio, weight, port, target in srv:
                answers += _record(
                    b"\xc0\x0c", 33, struct.pack("!HHH", prio, weight, port) + _name(target)
                )
                count += 1
                for address in names.get(target, []) if additional else []:
                    extra += _record(_name(target), 1, socket.inet_aton(address))
                    extra_count += 1
        header = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, count, 0, extra_count)
        return header + question + answers + extra


def state_rows(stats: Path) -> list[list[str]]:
    """`show servers state` rows without srv_time_since_last_change."""
    rows = []
    for line in stats_command(stats, "show servers state").splitlines():
        if line and not line.startswith("#") and " " in line:
            words = line.split(" ")
            del words[9]
            rows.append(words)
    return rows


def settle_rows(stats: Path, want: dict[str, str]) -> list[list[str]]:
    """The rows once each server has the address `want` gives it ("-": none), or the last
    seen after 20 s (a busy box: generous)."""
    deadline = time.monotonic() + 20
    while not stats.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    while True:
        rows = state_rows(stats)
        if {r[3]: r[4] for r in rows} == want or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def _bound_pair(host: str) -> tuple[socket.socket, socket.socket]:
    """A UDP socket and a listening TCP socket on the same port (a nameserver's both)."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        tcp = socket.socket()
        try:
            tcp.bind((host, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        return udp, tcp
    raise RuntimeError("no port free for both UDP and TCP")


def _name(host: str) -> bytes:
    return b"".join(bytes((len(p),)) + p.encode() for p in host.split(".")) + b"\0"


def _record(owner: bytes, rtype: int, rdata: bytes) -> bytes:
    return owner + struct.pack("!HHIH", rtype, 1, 1, len(rdata)) + rdata
