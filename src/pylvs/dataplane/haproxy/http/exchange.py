"""One request and its response as the HTTP driver saw them: the facts logs and stats read.

HAProxy makes a stream per HTTP request (src/stream.c, the H1 multiplexer creates one for
each request of a kept-alive connection) and logs it when it ends; `Exchange` is that
stream's record, handed to the `on_end` hooks (state.py) once the response is sent or the
exchange was cut.  Its times are on the runtime's monotonic clock; `timers()` gives them as
HAProxy's log timers (doc/configuration.txt 8.4, in milliseconds, -1 for a step that did not
happen):

    Th  handshake: 0 (no TLS)               Ti  idle before the request's first byte
    TR  receiving the request head           Tw  waiting in queues
    Tc  connecting to the server             Tr  the server's response head
    Ta  the whole exchange, from accept (or the end of the previous one) to its end

`termination` is HAProxy's two-character termination state (8.5): who ended it and in which
phase (`--` a normal end; `cD` client timeout during data, `sH` server error or timeout
before the response head, `SC` a refused connection, `CR`/`PR` a request the client broke
or HAProxy refused, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pylvs.proto.http.message import RequestHead, ResponseHead

if TYPE_CHECKING:
    from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
    from pylvs.proto.http.h1counters import H1Counters
    from pylvs.proto.sample.stream import Stream


@dataclass(slots=True)
class Exchange:
    """Facts of one HTTP request/response (mutable while it runs, read once it ended)."""

    frontend: str
    started_at: float  # accept, or the end of the previous exchange on the connection
    request_at: float  # the request's first byte (Ti ends)
    head_at: float  # its head complete (TR ends)
    request: RequestHead | None  # None: refused before its head was whole (<BADREQ>)
    first: bool  # the connection's first request
    src: tuple[str, int] = ("", 0)
    backend: BackendRuntime | None = None
    server: ServerRuntime | None = None
    queued_at: float | None = None
    dequeued_at: float | None = None
    connect_at: float | None = None  # the connection attempt began (Tw ends)
    connected_at: float | None = None  # established or reused (Tc ends)
    response_at: float | None = None  # the response head arrived (Tr ends)
    ended_at: float | None = None
    response: ResponseHead | None = None
    status: int = -1  # the status sent to the client (HAProxy's own answers too)
    server_status: int = -1  # the server's final status, as it sent it (its hrsp_*)
    reused: bool = False  # a pooled connection carried it
    retries: int = 0
    redispatched: bool = False
    # %U / %B: the request's and the response's HTX sizes (sizes.py)
    bytes_in: int = 0
    bytes_out: int = 0
    chunked_out: bool = False  # the last response head from the server was chunked
    termination: str = "--"
    logged: bool = True  # False: closed for the client to retry (abort_keep_alive: no line)
    # `capture request header` / `capture response header` values (None: absent), in the
    # frontend's declaration order: the {...} blocks of httplog
    request_captures: tuple[str | None, ...] = ()
    response_captures: tuple[str | None, ...] = ()
    # the rules' stream of this request (variables, captures, last rule: what a log-format
    # reads); None for a request refused before its head was whole, or without rules
    stream: Stream | None = None
    # (force, ignore): the backend's force-persist / ignore-persist rule that matched
    persist: tuple[bool, bool] = (False, False)
    # `capture cookie NAME len N`: the client's cookie (%CC) and the server's (%CS)
    cli_cookie: bytes | None = None
    srv_cookie: bytes | None = None
    # TX_CK_* / TX_SCK_* as %tsc's last two letters (persistence.py sets them)
    cookie_flags: str = "NN"
    intercepted: bool = False  # the frontend answered it itself (intercepted_req)
    applet: str | None = None  # the applet that answered ("<STATS>", "<PROMEX>"): what %s logs
    interim: int = 0  # the 1xx responses the server sent before its final one
    # failed rewrites (wrew) the frontend, the backend and the server count
    rewrites: tuple[int, int, int] = (0, 0, 0)
    # denied (dreq, dresp): the request by the frontend, by the backend too, the response
    denied: tuple[bool, bool, bool] = (False, False, False)
    internal_error: bool = False  # a rule failed (eint: the frontend, backend, server)
    # HTTP compression (compress.py): the algorithm chosen for the request (None: none), and
    # comp_in, comp_out, comp_byp, comp_rsp as the exchange added to them
    comp_algo: str | None = None
    comp_counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    # cache-use's lookups: (proxy, on the frontend's counters, a hit) (http/cache.py)
    cache_counts: list[tuple[str, bool, bool]] = field(default_factory=list)
    # the H1 stats modules whose open stream this is (the client's, the server's side)
    h1_streams: list[H1Counters] | None = None

    def h1_stream(self, counters: H1Counters) -> None:
        """A stream of this exchange opened in an H1 module (mux_h1.c h1s_new)."""
        counters.stream_opened()
        if self.h1_streams is None:
            self.h1_streams = []
        self.h1_streams.append(counters)

    def h1_ended(self) -> None:
        """The exchange is over: its H1 streams close (h1s_destroy)."""
        for counters in self.h1_streams or ():
            counters.stream_closed()
        self.h1_streams = None

    def timers(self) -> dict[str, int]:
        """HAProxy's Th/Ti/TR/Tw/Tc/Tr/Ta in milliseconds (-1: the step did not happen)."""

        def ms(a: float | None, b: float | None) -> int:
            return -1 if a is None or b is None else max(0, round((b - a) * 1000))

        tw = 0 if self.queued_at is None else ms(self.queued_at, self.dequeued_at)
        return {
            "Th": 0,
            "Ti": ms(self.started_at, self.request_at),
            "TR": ms(self.request_at, self.head_at),
            "Tw": tw,
            "Tc": ms(self.connect_at, self.connected_at),
            "Tr": ms(self.connected_at, self.response_at),
            "Ta": ms(self.request_at, self.ended_at),
        }
