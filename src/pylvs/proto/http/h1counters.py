"""The H1 multiplexer's stats module: show stat's h1_* columns (src/mux_h1.c, HAProxy 2.6).

One set per frontend (its client connections) and per backend (its server connections):
connections and streams open (gauges) and in total, the bytes read from and written to their
sockets (heads and bodies, as the mux's recv and send see them: h1_recv / h1_send), and of
those the bytes moved with splice(2) (h1_rcv_pipe / h1_snd_pipe).  HTTP/2 connections count
in the h2 module instead.  Connections counted elsewhere (the pump's own server
connections, _h1own.h) come in through `sources`: each gives (opened, closed) so far.
"""

from __future__ import annotations

from collections.abc import Callable


class H1Counters:
    """Mutable counters (the driver adds as it goes; stats read `values()`)."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "open_conns",
        "open_streams",
        "sources",
        "spliced_in",
        "spliced_out",
        "total_conns",
        "total_streams",
    )

    def __init__(self) -> None:
        self.open_conns = self.open_streams = 0
        self.total_conns = self.total_streams = 0
        self.bytes_in = self.bytes_out = 0
        self.spliced_in = self.spliced_out = 0
        self.sources: list[Callable[[], tuple[int, int]]] = []

    def opened(self) -> None:
        self.open_conns += 1
        self.total_conns += 1

    def closed(self) -> None:
        self.open_conns -= 1

    def fold(self, source: Callable[[], tuple[int, int]]) -> None:
        """`source` stops: its last counts stay, as if counted here."""
        if source in self.sources:
            self.sources.remove(source)
            opened, closed = source()
            self.total_conns += opened
            self.open_conns += opened - closed

    def stream_opened(self) -> None:
        self.open_streams += 1
        self.total_streams += 1

    def stream_closed(self) -> None:
        self.open_streams -= 1

    def values(self) -> tuple[int, ...]:
        """In show stat's order (names.py: h1_open_connections ... h1_spliced_bytes_out)."""
        opened = closed = 0
        for source in self.sources:
            o, c = source()
            opened += o
            closed += c
        return (
            self.open_conns + opened - closed,
            self.open_streams,
            self.total_conns + opened,
            self.total_streams,
            self.bytes_in,
            self.bytes_out,
            self.spliced_in,
            self.spliced_out,
        )
