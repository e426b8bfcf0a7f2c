"""A `mode tcp` stream's server side held until the backend's `tcp-response content` rules
decide (src/tcp_rules.c tcp_inspect_response; HAProxy 2.6).

A backend with such rules makes its streams run the relay in Python (never the C pump, whose
splice would pass the server's bytes on unseen): the client's bytes flow to the server as
usual, and what the server sends is read into the gate, not forwarded.  Each read runs the
rules on all of it (`res.payload`, `res.len`, the converters that answer WAIT); they run
with the data final when the server closed or failed, when the buffer is full (16384 bytes
less the 1024 HAProxy keeps to rewrite: channel_full with tune.maxrewrite) or when
`tcp-response inspect-delay` is over (without a delay, at once).
- A rule set that is still missing data waits: nothing is forwarded, the delay's timer runs.
- `accept` (or the end of the rules) opens the gate: what was read goes to the client and
  the relay goes on normally.
- `reject` closes both connections at once (channel_abort of both channels) and nothing of
  the response reaches the client, which gets a FIN; `close` (ACT_TCP_CLOSE: the server
  connection killed) leaves the client the same (haproxy 2.6.12: no byte, a FIN).
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

from pylvs.proto.relay import EOF_READ, SERVER, DataQueued
from pylvs.proto.rules import commands as cmd
from pylvs.proto.rules import tcp_flow
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Drop, ProxyRules, Wait
from pylvs.proto.sample.channel import Channels

if TYPE_CHECKING:
    from pylvs.dataplane.proxy.tcp import End

    from .session import HaSession

BUFFER = 16384 - 1024  # tune.bufsize less tune.maxrewrite: where channel_full says full
_DONTWAIT = socket.MSG_DONTWAIT


class ResponseGate:
    """The server side of one stream until its response rules let it through."""

    __slots__ = ("data", "hs", "rules", "timer", "txn")

    def __init__(self, hs: HaSession, rules: ProxyRules, txn: Txn) -> None:
        self.hs = hs
        self.rules = rules
        self.txn = txn
        self.data = bytearray()
        self.timer: asyncio.TimerHandle | None = None

    def read(self, server: End) -> None:
        """The server's socket is readable (the relay's read, diverted here)."""
        try:
            chunk = server.sock.recv(BUFFER - len(self.data), _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""  # a failed server: the rules run on what came (CF_READ_ERROR)
        eof = not chunk
        self.data += chunk
        if chunk:
            hs = self.hs
            for counters in (hs.svc, hs.dst):
                counters.outpkts += 1
                counters.outbytes += len(chunk)
        self.decide(final=eof or len(self.data) >= BUFFER, eof=eof)

    def decide(self, *, final: bool, eof: bool = False) -> None:
        hs = self.hs
        s = self.txn.stream
        s.now = hs.ctx.clock()
        s.res_payload = bytes(self.data)
        chn = s.lua_chn
        if isinstance(chn, Channels) and chn.response_rules:  # as a Lua script rewrote it
            s.res_payload = chn.res.sync(bytes(self.data))
        s.in_response = True
        try:
            verdict = tcp_flow.content(self.txn, self.rules, final=final, response=True)
        finally:
            s.in_response = False
        if isinstance(verdict, Wait):
            if self.timer is None and verdict.until is not None:
                loop = hs.listener.loop
                assert loop is not None
                self.timer = loop.call_later(max(0.0, verdict.until - s.now), self._expired)
            return
        self.stop()
        closing = any(isinstance(c, cmd.CloseResponse) for c in self.txn.commands)
        self.txn.commands.clear()
        if isinstance(verdict, Drop) or closing:
            hs.response_refused(denied=isinstance(verdict, Drop))
            return
        data = bytes(self.data)
        chn = s.lua_chn
        if isinstance(chn, Channels) and chn.response_rules and chn.res.changed:
            data = chn.res.bytes_out()
        self.data.clear()
        if data:
            self._pass_on(data)
        if eof and not hs.m.state.done:
            hs._on(EOF_READ[SERVER])

    def _expired(self) -> None:
        self.timer = None
        if self.hs.gate is self and not self.hs.m.state.done:
            self.decide(final=True)

    def stop(self) -> None:
        """The gate opens (or the stream ends): the relay reads the server itself again."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.hs.gate is self:
            self.hs.gate = None

    def _pass_on(self, data: bytes) -> None:
        """What the relay does with a chunk read from the server (tcp.py TcpRelay._read)."""
        hs = self.hs
        to = hs.client
        if not to.queue and to.connected:
            try:
                sent = to.sock.send(data, _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                sent = 0  # the client's failure shows on its own next event
            data = data[sent:]
        if data:
            to.queue.append(data)
            to.queued += len(data)
            hs._on(DataQueued(to.side, to.queued))
