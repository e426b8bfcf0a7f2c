"""A tiny authoritative DNS server for the resolvers tests: UDP on loopback, a thread, answers
that the test changes while pylvs or haproxy runs.

Written from RFC 1035 §4.1 with `struct` (not with pylvs's proto/dns, which it tests): A
records for the names it knows, NOERROR with no answer for other types (a v4-only name's AAAA,
as Docker's embedded DNS answers), NXDOMAIN for the names set so, silence for the rest.  With
`junk` on, every answer is followed by datagrams a resolver must drop and count: one too short
to hold an id, one with an id nobody asked, one past 512 bytes.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class DnsServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.host, self.port = host, int(self.sock.getsockname()[1])
        self.lock = threading.Lock()
        self.names: dict[str, list[str]] = {}
        self.nx: set[str] = set()
        self.junk = False
        self.queries = 0
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def set(self, name: str, addresses: list[str]) -> None:
        with self.lock:
            self.names[name] = list(addresses)
            self.nx.discard(name)

    def set_nx(self, name: str) -> None:
        with self.lock:
            self.names.pop(name, None)
            self.nx.add(name)

    def close(self) -> None:
        self.closed = True
        self.thread.join(2)
        self.sock.close()

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
        qid, _flags, qdcount = struct.unpack_from("!HHH", data)
        if qdcount != 1:
            return
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
            nx = name in self.nx
            junk = self.junk
        if known is None and not nx:
            return
        rcode = 3 if nx else 0
        answers = b""
        count = 0
        if qtype == 1 and known:
            for address in known:
                rdata = socket.inet_aton(address)
                answers += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, len(rdata)) + rdata
                count += 1
        header = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, count, 0, 0)
        self.sock.sendto(header + question + answers, peer)
        if junk:
            self.sock.sendto(b"\x01", peer)  # no room for an id
            self.sock.sendto(struct.pack("!HHHHHH", qid ^ 0x5A5A, 0x8180, 1, 0, 0, 0), peer)
            self.sock.sendto(header + question + b"\0" * 600, peer)  # past 512 bytes
