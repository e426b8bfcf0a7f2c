"""HTTP checks over HTTP/2 under `pylvs run` and the real `haproxy -db` on the same
haproxy.cfg: a `proto h2` server's `option httpchk` and a `check-proto h2` one speak HTTP/2
(check.c init_srv_check, tcpcheck.c tcpcheck_eval_connect), so an h2-only server is UP
(L7OK, code 200) then DOWN on a 503 (L7STS), with the same `show stat` fields and state
lines; an HTTP/1 server checked in HTTP/2 and an h2 server resetting the check's stream are
socket errors (SOCKERR, no information), as haproxy 2.6.12 reports them."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY
from tests.integration.hamode.test_hamode_checks import Run, runs, state_lines
from tests.integration.server_helpers import ThreadedServer

__all__ = ["runs"]  # the fixture, for pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
]


class H2CheckServer(ThreadedServer):
    """An HTTP/2 server (prior knowledge) answering each request `status` ("rst": resets
    the stream instead), or an HTTP/1 one (`h1`: a 400 and the close, whatever it got);
    it records the header lists it received."""

    def __init__(self, status: str = "200", *, h1: bool = False) -> None:
        self.status = status
        self.h1 = h1
        self.requests: list[list[tuple[bytes, bytes]]] = []
        super().__init__(backlog=64)

    def serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError, h2.exceptions.ProtocolError):
            conn.settimeout(10)
            if self.h1:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            h = h2.connection.H2Connection(
                h2.config.H2Configuration(client_side=False, header_encoding=None)
            )
            h.initiate_connection()
            conn.sendall(h.data_to_send())
            while data := conn.recv(65536):
                for e in h.receive_data(data):
                    if isinstance(e, h2.events.RequestReceived):
                        self.requests.append([(bytes(n), bytes(v)) for n, v in e.headers or ()])
                    elif isinstance(e, h2.events.StreamEnded) and e.stream_id:
                        self._answer(h, e.stream_id)
                conn.sendall(h.data_to_send())

    def _answer(self, h: h2.connection.H2Connection, sid: int) -> None:
        if self.status == "rst":
            h.reset_stream(sid, 2)
            return
        h.send_headers(sid, [(b":status", self.status.encode()), (b"content-length", b"2")])
        h.send_data(sid, b"ok", end_stream=True)


def settled(r: Run, want: dict[str, str]) -> dict[str, dict[str, str]]:
    """The first `show stat` whose servers have the "check_status check_code" of `want`
    (a snapshot taken while a check runs shows its code reset: it is skipped)."""
    got: list[dict[str, dict[str, str]]] = []

    def holds(r: Run) -> bool:
        stat = r.stat()
        got.append(stat)
        return all(
            f"{stat[n]['check_status']} {stat[n]['check_code']}" == w for n, w in want.items()
        )

    r.wait(holds)
    return got[-1]


def test_http_checks_in_http2(runs: Callable[[str], dict[str, Run]]) -> None:
    web, web6 = H2CheckServer(), H2CheckServer()
    h1, rst = H2CheckServer(h1=True), H2CheckServer("rst")
    try:
        body = (
            "    mode http\n    option httpchk GET /health HTTP/1.1\n"
            "    http-check send hdr host example.org\n"
            f"    server web 127.0.0.1:{web.port} proto h2 check inter 200 rise 1 fall 1\n"
            f"    server web6 127.0.0.1:{web6.port} check check-proto h2 inter 200 rise 1 fall 1\n"
            f"    server h1 127.0.0.1:{h1.port} check check-proto h2 inter 200 rise 1 fall 1\n"
            f"    server rst 127.0.0.1:{rst.port} proto h2 check inter 200 rise 1 fall 1\n"
        )
        both = runs(body)
        want = {"web": "L7OK 200", "web6": "L7OK 200", "h1": "SOCKERR ", "rst": "SOCKERR "}
        up = {k: settled(r, want) for k, r in both.items()}
        assert up["pylvs"] == up["haproxy"]
        assert up["pylvs"]["rst"]["check_desc"] == "Socket error"
        web.status = "503"
        down = {k: settled(r, {"web": "L7STS 503"})["web"] for k, r in both.items()}
        assert down["pylvs"] == down["haproxy"]
        assert down["pylvs"]["check_status"] == "L7STS" and down["pylvs"]["check_code"] == "503"
        lines = {k: sorted(state_lines(r.proxy)) for k, r in both.items()}
        assert lines["pylvs"] == lines["haproxy"]
        assert any("Server be/web is DOWN" in line for line in lines["pylvs"])
        # what haproxy's and pylvs's checks sent (h2s_bck_make_req_headers)
        sent = [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":path", b"/health"),
            (b"host", b"example.org"),
        ]
        assert web.requests and all(req == sent for req in web.requests + web6.requests)
    finally:
        for s in (web, web6, h1, rst):
            s.close()
