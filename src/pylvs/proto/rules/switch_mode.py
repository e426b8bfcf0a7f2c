"""`tcp-request content switch-mode http [proto NAME]`: a tcp stream becomes an HTTP one
(src/stream.c tcp_action_switch_stream_mode, stream_set_http_mode; HAProxy 2.6).

On a raw stream the action records the mux asked for and stops the rule set (ACT_RET_STOP):
the driver then hands the connection to the HTTP side, the bytes inspected so far included,
and the frontend's HTTP rules run on the request.  On a stream that is HTTP already (each
later request of a switched connection runs the content rules again) it only stops the set.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.rules.engine import Exec, Ret

# The frontend muxes of HAProxy 2.6's HTTP mode a `proto` may name (`haproxy -vv`:
# "Available multiplexer protocols"); "" is the default one.
HTTP_MUXES = ("", "h1", "h2")


@dataclass(frozen=True, slots=True)
class SwitchMode:
    """The action (see the module doc); `proto` is one of HTTP_MUXES."""

    proto: str = ""

    def run(self, x: Exec) -> Ret:
        if x.stream.request is None:  # !IS_HTX_STRM(s)
            x.txn.switch_mode = self.proto
        return Ret.STOP
