"""The owner of a server socket's events (endpoint.py) for the HttpSession that carries a
request on it: what the server sent counted on the frontend's and the server's counters,
then each event handed to the session's server machine or its Upstream (upstream.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.proto.http.conn import events as ev

if TYPE_CHECKING:
    from .endpoint import Endpoint
    from .server_side import ServerConn
    from .stream import HttpSession


class ServerOwner:
    """A server socket's events, for the session that carries a request on it."""

    __slots__ = ("s", "sc")

    def __init__(self, s: HttpSession, sc: ServerConn) -> None:
        self.s, self.sc = s, sc

    def read(self, ep: Endpoint, data: bytes) -> None:
        self.s.fe.counters.outpkts += 1  # (the bytes: the exchange's, sizes.settle)
        self.sc.srv.counters.outpkts += 1
        self.s.server_event(self.sc, ev.DataRead(data))

    def eof(self, ep: Endpoint) -> None:
        self.s.server_event(self.sc, ev.EOF_READ)

    def failed(self, ep: Endpoint) -> None:
        self.s.server_event(self.sc, ev.EOF_READ)

    def blocked(self, ep: Endpoint) -> None:
        self.s.server_event(self.sc, ev.WriteBlocked())

    def drained(self, ep: Endpoint) -> None:
        self.s.server_event(self.sc, ev.WriteDrained())

    def connected(self, ep: Endpoint) -> None:
        self.s.up.established(self.sc)
        self.s.run()

    def connect_failed(self, ep: Endpoint, reason: str) -> None:
        self.s.up.connect_failed(self.sc)
