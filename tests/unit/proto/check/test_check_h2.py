"""HTTP checks over HTTP/2 (proto/check/h2.py), sans I/O: which connections speak it
(src/check.c init_srv_check, src/tcpcheck.c tcpcheck_eval_connect), the frames the check
writes (the preface with the connect, HEADERS once the server's SETTINGS came, DATA for a
body) and how what the server answers is judged, as recorded from haproxy 2.6.12."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events

from pylvs.config.haproxy.convert_checks import plan_checks, pool_for
from pylvs.config.haproxy.reader import load_text
from pylvs.proto.check.schedule import Planned
from pylvs.proto.check.status import Status
from pylvs.proto.check.tcpcheck import CheckRun, Command, Open, Write

HEAD = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n"
HEAD += "    timeout server 1s\n"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def started(text: str) -> dict[str, tuple[Planned, Open]]:
    """Every server's health check, begun: its Planned and first Open, by server."""
    got = load_text(HEAD + text, "h.cfg")
    assert got.ok, [str(p) for p in got.problems]
    config = got.config
    pools = {p.name: pool_for(p) for p in config.proxies if p.has_backend}
    checks = plan_checks(config, pools)
    for p in checks.planned:
        p.check.expire = 0.0
    out = {}
    for p, cmds in checks.wake(1.0, 0.0):
        if not p.check.agent:
            out[p.server.name] = p, next(c for c in cmds if isinstance(c, Open))
    return out


def written(cmds: list[Command]) -> bytes:
    return b"".join(c.data for c in cmds if isinstance(c, Write))


class Server:
    """The server's side of the connection, on the `h2` library."""

    def __init__(self, preface: bytes) -> None:
        cfg = h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_inbound_headers=False
        )
        self.h2 = h2.connection.H2Connection(cfg)
        self.h2.initiate_connection()
        self.requests: list[list[tuple[bytes, bytes]]] = []
        self.bodies: list[bytes] = []
        self.ended: list[int] = []
        self.take(preface)

    def take(self, data: bytes) -> None:
        for e in self.h2.receive_data(data):
            if isinstance(e, h2.events.RequestReceived):
                self.requests.append([(bytes(n), bytes(v)) for n, v in e.headers or ()])
            elif isinstance(e, h2.events.DataReceived):
                self.bodies.append(bytes(e.data or b""))
            elif isinstance(e, h2.events.StreamEnded) and e.stream_id:
                self.ended.append(e.stream_id)

    def out(self) -> bytes:
        return self.h2.data_to_send()

    def answer(self, status: bytes, body: bytes = b"ok") -> bytes:
        sid = self.ended[-1]
        self.h2.send_headers(sid, [(b":status", status), (b"content-length", b"%d" % len(body))])
        self.h2.send_data(sid, body, end_stream=True)
        return self.out()


def exchange(run: CheckRun, preface: bytes) -> Server:
    """Connected, the server's SETTINGS read: the request is on the server's side."""
    assert written(run.connected(1.0)) == b""  # the HEADERS wait for the server's SETTINGS
    server = Server(preface)
    server.take(written(run.received(server.out(), 1.0)))
    return server


def test_which_connections_speak_http2() -> None:
    got = started(
        "backend be\n    option httpchk GET /health\n"
        "    server a 127.0.0.1:80 proto h2 check\n"  # an HTTP check takes the server's proto
        "    server b 127.0.0.1:81 check check-proto h2\n"
        "    server c 127.0.0.1:82 check\n"
        "backend tcp\n    server d 127.0.0.1:83 proto h2 check\n"  # a TCP check does not
        "backend other\n    option httpchk\n    http-check connect port 90\n"
        "    http-check send meth GET\n    http-check expect status 200\n"
        "    server e 127.0.0.1:84 proto h2 check\n"  # nor a connect that is not the default
    )
    assert got["a"][1].preface.startswith(PREFACE)
    assert got["b"][1].preface.startswith(PREFACE)
    assert got["c"][1].preface == b"" and got["d"][1].preface == b""
    assert got["e"][1].preface == b""


def test_a_connect_rule_with_proto_h2_speaks_it_after_the_proxy_header() -> None:
    got = started(
        "backend be\n    option httpchk\n    http-check connect port 90 proto h2 send-proxy\n"
        "    http-check send meth GET\n    http-check expect status 200\n"
        "    server e 127.0.0.1:84 check\n"
    )
    assert got["e"][1].preface.startswith(b"PROXY UNKNOWN\r\n" + PREFACE)


def test_the_request_and_a_200() -> None:
    p, opened = started(
        "backend be\n    option httpchk GET /health HTTP/1.1\n"
        "    http-check send hdr host example.org hdr connection keep-alive\n"
        "    server a 127.0.0.1:80 proto h2 check\n"
    )["a"]
    assert p.run is not None
    # HAProxy's backend SETTINGS: ENABLE_PUSH 0, ENABLE_CONNECT_PROTOCOL 1, 100 streams
    assert opened.preface == PREFACE + bytes.fromhex(
        "000012040000000000000200000000000800000001000300000064"
    )
    server = exchange(p.run, opened.preface)
    # origin-form: :scheme https; Connection is not HTTP/2's; END_STREAM on the HEADERS
    assert server.requests == [
        [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":path", b"/health"),
            (b"host", b"example.org"),
        ]
    ]
    assert server.ended == [1]
    p.run.received(server.answer(b"200"), 1.0)
    assert (p.check.status, p.check.code, p.run.done) == (Status.L7OKD, 200, True)


def test_a_body_goes_in_data_and_a_503_is_a_wrong_status() -> None:
    p, opened = started(
        "backend be\n    option httpchk\n    http-check send meth POST uri /up body hello\n"
        "    server a 127.0.0.1:80 check check-proto h2\n"
    )["a"]
    assert p.run is not None
    server = exchange(p.run, opened.preface)
    assert dict(server.requests[0])[b"content-length"] == b"5"
    assert server.bodies == [b"hello"] and server.ended == [1]
    p.run.received(server.answer(b"503", b"no"), 1.0)
    assert (p.check.status, p.check.code) == (Status.L7STS, 503)


def test_an_http1_answer_and_a_reset_stream_are_socket_errors() -> None:
    text = "backend be\n    option httpchk\n    server a 127.0.0.1:80 check check-proto h2\n"
    p, _ = started(text)["a"]
    assert p.run is not None
    p.run.connected(1.0)
    p.run.received(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 1.0)
    assert (p.check.status, p.check.desc) == (Status.SOCKERR, "")
    p, opened = started(text)["a"]
    assert p.run is not None
    server = exchange(p.run, opened.preface)
    server.h2.reset_stream(1, 2)
    p.run.received(server.out(), 1.0)
    assert (p.check.status, p.check.desc) == (Status.SOCKERR, "")


def test_a_goaway_then_the_close_is_an_empty_response() -> None:
    p, opened = started(
        "backend be\n    option httpchk\n    server a 127.0.0.1:80 proto h2 check\n"
    )["a"]
    assert p.run is not None
    server = exchange(p.run, opened.preface)
    server.h2.close_connection()
    assert p.run.received(server.out(), 1.0) == [] and not p.run.done
    p.run.closed(1.3)
    assert p.check.status is Status.L7RSP
    assert p.check.desc == "TCPCHK got an empty response at step 2"


def test_check_proto_of_the_other_mode_is_refused() -> None:
    got = load_text(
        HEAD + "backend be\n    server a 127.0.0.1:80 check check-proto h2\n"
        "backend be2\n    option httpchk\n    server b 127.0.0.1:80 check check-proto none\n"
        "backend be3\n    server c 127.0.0.1:80 check-proto h2\n"  # no check: not looked at
        "    server d 127.0.0.1:80 check check-proto x\n",
        "h.cfg",
    )
    errors = {p.message for p in got.problems}
    assert errors == {
        "config: backend 'be': server 'a' uses an incompatible MUX protocol for the selected"
        " check type",
        "config: backend 'be2': server 'b' uses an incompatible MUX protocol for the selected"
        " check type",
        "'server be3/d' : 'check-proto' :  unknown MUX protocol 'x'.",
    }
