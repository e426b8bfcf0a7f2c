"""A frontend's HTTP/2 counters, as src/mux_h2.c's stats module keeps them (h2_stats_module:
the h2_* columns of `show stat`, in its order).  Every frame kind counted is a frame received
(SETTINGS acknowledgements included); the errors are the ones detected here and what was
sent for them; `backend_total_streams` counts every stream, as HAProxy's frontend rows show."""

from __future__ import annotations


class H2Counters:
    __slots__ = (
        "backend_open_streams",
        "backend_total_streams",
        "conn_proto_err",
        "data_rcvd",
        "goaway_rcvd",
        "goaway_resp",
        "headers_rcvd",
        "open_conns",
        "rst_stream_rcvd",
        "rst_stream_resp",
        "settings_rcvd",
        "strm_proto_err",
        "total_conns",
    )

    def __init__(self) -> None:
        self.headers_rcvd = self.data_rcvd = self.settings_rcvd = 0
        self.rst_stream_rcvd = self.goaway_rcvd = 0
        self.conn_proto_err = self.strm_proto_err = 0
        self.rst_stream_resp = self.goaway_resp = 0
        self.open_conns = self.backend_open_streams = 0
        self.total_conns = self.backend_total_streams = 0

    def values(self) -> tuple[int, ...]:
        """In show stat's order (names.MODULE_FIELDS)."""
        return (
            self.headers_rcvd,
            self.data_rcvd,
            self.settings_rcvd,
            self.rst_stream_rcvd,
            self.goaway_rcvd,
            self.conn_proto_err,
            self.strm_proto_err,
            self.rst_stream_resp,
            self.goaway_resp,
            self.open_conns,
            self.backend_open_streams,
            self.total_conns,
            self.backend_total_streams,
        )
