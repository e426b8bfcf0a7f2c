"""A server's response held while its `http-response wait-for-body` rule waits (src/http_ana.c
http_wait_for_msg_body on the response channel).

The head is not written; what the server machine sends for the client after it (body bytes,
trailers, the end, a cut) is kept in order and counted into `res.body` (body_wait.py), and
the response rules run again on each piece and at the rule's deadline.  When they go on,
the (edited) head is written, then everything kept; when the deadline passes first, the
rules answer HAProxy's 504 and the server's response goes (termination state sD).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import route
from pylvs.proto.http.message import ResponseHead
from pylvs.proto.rules.ruleset import Wait

if TYPE_CHECKING:
    import asyncio

    from .body_wait import BodySoFar
    from .server_side import ServerConn
    from .stream import HttpSession

# The server machine's commands for the client that wait behind a held head.
HELD = frozenset(
    {cmd.DeliverData, cmd.DeliverTrailers, cmd.DeliverEnd, cmd.DeliverCut, cmd.DeliverShut}
)


class ResponseHold:
    """One held response of session `s` (see the module doc)."""

    __slots__ = ("body", "commands", "head", "s", "sc", "timer", "until")

    def __init__(
        self, s: HttpSession, head: ResponseHead, sc: ServerConn, wait: Wait, body: BodySoFar
    ) -> None:
        self.s, self.head, self.sc, self.body = s, head, sc, body
        self.commands: list[cmd.Command] = []
        self.timer: asyncio.TimerHandle | None = None
        self.until: float | None = None
        self._arm(wait)

    def take(self, command: cmd.Command) -> None:
        """A command of the held response's server connection for the client."""
        self.commands.append(command)
        if self.body.take(command):
            self.again()

    def again(self) -> None:
        s = self.s
        if s.hold is not self or s.phases is None:
            return
        s.phases.body(self.body, response=True)
        now = s.ctx.clock()
        got = s.phases.response_again(self.head, now)
        if isinstance(got, Wait):
            self._arm(got)
            return
        self.cancel()
        x = s.x
        if x is None:
            return
        timed_out = self.until is not None and now >= self.until and not self.body.done
        s.ruled(got, self.head, self.sc, x)
        if isinstance(got, ResponseHead):
            for c in self.commands:
                event = route(c)
                if event is not None:
                    s.work.append((None, event))
        elif timed_out:
            x.termination = "sD"  # abort_res: SF_ERR_SRVTO, SF_FINST_D

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.s.hold is self:
            self.s.hold = None

    def _arm(self, wait: Wait) -> None:
        # armed again after it fired too: the loop's timer may fire a little before the
        # deadline by the clock the rules read, and then they wait on
        if wait.until is None or (wait.until == self.until and self.timer is not None):
            return
        if self.timer is not None:
            self.timer.cancel()
        self.until = wait.until
        delay = max(0.0, wait.until - self.s.ctx.clock())
        self.timer = self.s.loop.call_later(delay, self._fired)

    def _fired(self) -> None:
        self.timer = None
        if not self.s.closed:
            self.again()
            self.s.run()
