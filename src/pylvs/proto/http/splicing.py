"""When an HTTP/1 body or tunnel moves with the kernel's splice(2) (HAProxy 2.6's rules).

HAProxy splices a channel (src/stream.c process_stream, CF_KERN_SPLICING) when splicing is
on (no `nosplice`, no -dS), both connections are raw sockets (raw_sock.c has rcv_pipe and
snd_pipe; TLS has neither), a pipe is free (`maxpipes`) and the frontend's or the backend's
options ask for it: `option splice-request` for the client's bytes, `option
splice-response` for the server's, `option splice-auto` for either once the channel streams
fast (three reads in a row that filled the buffer, CF_STREAMER_FAST: the C path counts them).
The H1 multiplexer then splices only what it does not parse (src/mux_h1.c h1_process_demux
sets SE_FL_MAY_SPLICE): a content-length body and a tunnel (a close-delimited response, after
a 101 or a CONNECT's 2xx), never a chunked one, and never a head.

`how` answers for one direction; `ideal_maxpipes` is haproxy.c's compute_ideal_maxpipes for
a `maxpipes` left unset.  Pure: the driver (dataplane/haproxy/http/passing.py) asks, the pump
(dataplane/proxy/_pipe.h) splices.
"""

from __future__ import annotations

from dataclasses import dataclass

OFF, ON, AUTO = 0, 1, 2  # _pump's PIPE_OFF, PIPE_ON, PIPE_AUTO


@dataclass(frozen=True, slots=True)
class SpliceOptions:
    """A proxy's `option splice-request|splice-response|splice-auto`."""

    request: bool = False
    response: bool = False
    auto: bool = False


NONE = SpliceOptions()


def how(request: bool, fe: SpliceOptions, be: SpliceOptions, *, chunked: bool = False) -> int:
    """OFF, ON or AUTO for the client's (`request`) or the server's bytes of one body or
    tunnel, the options of both proxies ORed as stream.c does; a chunked body never."""
    if chunked:
        return OFF
    if (fe.request or be.request) if request else (fe.response or be.response):
        return ON
    if fe.auto or be.auto:
        return AUTO
    return OFF


def ideal_maxpipes(maxconn: int) -> int:
    """compute_ideal_maxpipes with the global maxconn bounding every splicing proxy: a
    quarter of it (the value itself below 4)."""
    return maxconn // 4 if maxconn >= 4 else maxconn


class Pipes:
    """The pipes in use (streams splicing a direction) against `maxpipes` (pipes_used <
    global.maxpipes in stream.c).  Not a dataclass: a live counter, shared by every stream."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> bool:
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def give(self) -> None:
        self.used = max(self.used - 1, 0)
