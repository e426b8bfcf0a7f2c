"""A proxy's HTTP/2 counters, as src/mux_h2.c's stats module keeps them (h2_stats_module:
the h2_* columns of `show stat`, in its order), for a frontend's client connections and a
backend's server connections alike.  Every frame kind counted is a frame received
(SETTINGS acknowledgements included); the errors are the ones detected here and what was
sent for them; `backend_total_streams` counts every stream, as HAProxy's rows show."""

from __future__ import annotations

from collections.abc import Iterable

import h2.events


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


def count_frames(st: H2Counters, events: Iterable[h2.events.Event], settled: bool) -> bool:
    """Count the frames behind the library's `events` (h2_process_demux); `settled`: the
    peer's first SETTINGS was counted already.  Returns the new `settled`."""
    for e in events:
        kind = type(e)
        if (
            kind is h2.events.RequestReceived
            or kind is h2.events.TrailersReceived
            or kind is h2.events.ResponseReceived
            or kind is h2.events.InformationalResponseReceived
        ):
            st.headers_rcvd += 1
        elif kind is h2.events.DataReceived:
            st.data_rcvd += 1
        elif kind is h2.events.RemoteSettingsChanged or kind is h2.events.SettingsAcknowledged:
            # h2_process_demux counts the first SETTINGS twice (as the preface's end, then
            # as a frame), which `show stat` shows
            st.settings_rcvd += 1 if settled else 2
            settled = True
        elif kind is h2.events.StreamReset:
            st.rst_stream_rcvd += 1
        elif kind is h2.events.ConnectionTerminated:
            st.goaway_rcvd += 1
    return settled
