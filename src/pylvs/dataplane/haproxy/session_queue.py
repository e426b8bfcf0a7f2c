"""A HAProxy-mode stream waiting in a queue (backend.py's: a server's, when its `maxconn`
is reached, or the backend's, when every server is full).

While it waits the client's socket is only watched for a hang-up (a client that leaves
with nothing sent, or any client with `option abortonclose`, leaves the queue:
back_handle_st_con's abort); `timeout queue` closes it; a slot handed over
(process_srv_queue) or its server going down (pendconn_redistribute) moves it on.
"""

from __future__ import annotations

import socket

from pylvs.sched.haproxy import Server

from .session_connect import ConnectingSession


class QueueingSession(ConnectingSession):
    __slots__ = ()

    def _queue(self, server: Server | None, now: float) -> bool:
        """Wait for a slot of `server` (None: of any server of the backend)."""
        if not self.be.enqueue(self, server):
            if self.direct and self.be.spec.redispatch:
                self.direct = False
                self._balance(now, server)
            else:
                self._give_up("server queue full")
            return False
        self.queued_at = now
        self.queued_on = server
        if not self.started:
            # Not the machine's yet: only a hang-up is watched for (abortonclose).
            self.client.watched = True
            self.client.mask = 0x2000  # EPOLLRDHUP
            self.poller.add(self.client.fd, 0x2000, self._queued_event)
        loop = self.listener.loop
        assert loop is not None
        if self.be.queue_s is not None:
            self.waiter = loop.call_later(self.be.queue_s, self._queue_expired)
        return True

    def dequeued(self, server: Server) -> None:
        """A slot of `server` is this stream's (backend.process_queue)."""
        self.queued_on = False
        self._cancel_waiter()
        if not self.started:
            self.poller.remove(self.client.fd)
            self.client.watched = False
            self.client.mask = 0
        self._go(server)

    def redispatch_queued(self) -> None:
        """Its server went down while it waited for it (pendconn_redistribute): out of that
        queue, the algorithm chooses again (a new wait starts if it queues again)."""
        self._leave_queue()
        self._cancel_waiter()
        if not self.started:  # watched for a hang-up only while queued: _queue does it again
            self.poller.remove(self.client.fd)
            self.client.watched = False
            self.client.mask = 0
        self.direct = False
        self._balance(self.ctx.clock(), None)

    def _queued_event(self, events: int) -> None:
        """The client hung up while queued."""
        try:
            pending = self.client.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:
            pending = b""
        if pending and not self.be.spec.abortonclose:
            # Its data and EOF go to the server once a slot is free; stop the event.
            self.poller.modify(self.client.fd, 0)
            return
        self._leave_queue()
        self._give_up("client aborted while queued")

    def _queue_expired(self) -> None:
        self.waiter = None
        self._leave_queue()
        self._give_up("timeout queue")

    def _leave_queue(self) -> None:
        if self.queued_on is not False:
            server = self.queued_on if isinstance(self.queued_on, Server) else None
            self.be.unqueue(self, server)
            self.queued_on = False
