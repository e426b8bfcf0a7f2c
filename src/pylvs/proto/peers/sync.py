"""A peers section's task: connections to make and cut, heartbeats, the resync at start and
the lesson an old process teaches the new one on a reload.

HAProxy 2.6's src/peers.c process_peer_sync, init_accepted_peer, init_connected_peer,
__peer_session_deinit, peer_session_create and peers_register_table:

* A new process first waits (5 s, PEER_RESYNC_TIMEOUT) for the process it replaces to connect
  to it as the local peer and teach it the tables; without an old process, or once that time
  passed, it asks a connected remote peer for a full resync (a "lesson"), one at a time, each
  for 5 s, until a peer says it taught everything it knew while up to date ("resync
  finished") or the time runs out.
* Every remote peer is connected to (and reconnected 5 s after a failed or lost connection);
  an established one with nothing to push gets a heartbeat every 3 s, and a connection on
  which nothing came for a 5 s period after that is cut and made again.  Local updates wake
  the task, which pushes them at once.
* On a soft stop the old process cuts its sessions, connects to its own address (the new
  process listens there) and teaches everything; it may exit once the new one confirmed.

`tick(now)` runs the task and returns when it wants to run again (None: on an event only);
`new_sessions` holds the connections it wants made (the driver connects them).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from pylvs.proto.peers import state as ps
from pylvs.proto.peers import wire
from pylvs.proto.peers.session import CONNECT, END, WAITMSG, PeerSession
from pylvs.proto.peers.state import Peer, SharedTable, expired, first
from pylvs.proto.stick.table import StickTable


class PeersSection:
    def __init__(
        self,
        name: str,
        local_name: str,
        peers: Iterable[Peer],
        tables: Iterable[StickTable],
        *,
        pid: int,
        rng: random.Random | None = None,
        old_process: bool = False,
        disabled: bool = False,
    ) -> None:
        self.name = name
        self.local_name = local_name
        self.peers = list(peers)
        self.pid = pid
        self.rng = rng or random.Random()
        self.old_process = old_process  # started by a reload (-sf): learn from it first
        self.disabled = disabled
        self.flags = 0
        self.resync_timeout: int | None = None
        self.stopping = False
        self.signalled = False  # the soft stop is new (TASK_WOKEN_SIGNAL)
        self.calls = 0
        self.proto_errors = 0
        self.learnt = 0
        self.on_wake: Callable[[], None] | None = None
        self.new_sessions: list[PeerSession] = []
        self.tables = list(tables)
        for table in self.tables:
            self._register(table)

    def _register(self, table: StickTable) -> None:
        """peers_register_table: the table with each peer, under the next local id."""
        for peer in self.peers:
            ident = peer.tables[0].local_id + 1 if peer.tables else 1
            peer.tables.insert(0, SharedTable(table, ident))
        table.sync = self.wake

    @property
    def local(self) -> Peer | None:
        return next((p for p in self.peers if p.local), None)

    def peer(self, name: str) -> Peer | None:
        return next((p for p in self.peers if p.name == name), None)

    def wake(self) -> None:
        if self.on_wake is not None:
            self.on_wake()

    # -- session life ------------------------------------------------------------------

    def create_session(self, peer: Peer, now: int) -> PeerSession:
        """peer_session_create: a connection to make (the driver connects it)."""
        peer.new_conn += 1
        peer.reconnect = now + ps.RECONNECT_TIMEOUT
        peer.heartbeat = None
        peer.statuscode = wire.CONNECT_CODE
        peer.last_hdshk = now
        session = PeerSession(self, peer)
        peer.session = session
        self.new_sessions.append(session)
        return session

    def deinit(self, peer: Peer, now: int) -> None:
        """__peer_session_deinit: the peer has no connection any more."""
        if peer.session is None:
            return
        peer.cache.flush()
        peer.remote_table = peer.last_local_table = None
        peer.session = None
        if peer.flags & ps.LEARN_ASSIGN:  # the lesson was cut: another one later
            peer.flags &= ~ps.LEARN_ASSIGN
            self.flags &= ~(ps.RESYNC_ASSIGN | ps.RESYNC_PROCESS)
            self.flags |= ps.RESYNC_LOCALABORT if peer.local else ps.RESYNC_REMOTEABORT
            self.resync_timeout = now + ps.RESYNC_TIMEOUT
        peer.flags &= ps.TEACH_RESET & ps.LEARN_RESET
        self.wake()

    def force_shutdown(self, peer: Peer, now: int) -> None:
        """peer_session_forceshutdown (a connection still connecting is left alone)."""
        session = peer.session
        if session is None or session.st0 == CONNECT:
            return
        self.deinit(peer, now)
        session.st0 = END

    def _cursors(self, peer: Peer, now: int) -> None:
        peer.heartbeat = now + ps.HEARTBEAT_TIMEOUT
        for st in peer.tables:
            st.last_get = st.last_acked = 0
            t = st.table
            if ps.s32(t.localupdate - st.update) < 0:  # an ack from too long ago
                st.update = (t.localupdate + 0x80000000) & ps.M32
            st.teaching_origin = st.last_pushed = st.update
            st.flags = 0
            if ps.s32(st.last_pushed - t.commitupdate) > 0:
                t.commitupdate = st.last_pushed
        peer.confirm = 0
        peer.flags &= ps.TEACH_RESET & ps.LEARN_RESET

    def init_accepted(self, peer: Peer, now: int) -> None:
        """init_accepted_peer: an old local process connected to teach us, or a remote."""
        peer.statuscode = wire.SUCCESS
        peer.last_hdshk = now
        self.wake()
        self._cursors(peer, now)
        state = self.flags & ps.STATEMASK
        if peer.local:
            if state == ps.FROMLOCAL and not self.flags & ps.RESYNC_ASSIGN:
                peer.flags |= ps.LEARN_ASSIGN  # it teaches without being asked
                self.flags |= ps.RESYNC_ASSIGN | ps.RESYNC_PROCESS | ps.RESYNC_LOCALASSIGN
        elif state == ps.FROMREMOTE and not self.flags & ps.RESYNC_ASSIGN:
            peer.flags |= ps.LEARN_ASSIGN
            self.flags |= ps.RESYNC_ASSIGN | ps.RESYNC_REMOTEASSIGN

    def init_connected(self, peer: Peer, now: int) -> None:
        """init_connected_peer: the handshake we started succeeded."""
        self._cursors(peer, now)
        if peer.local:
            peer.flags |= ps.TEACH_PROCESS  # an old process teaching the new one
        elif self.flags & ps.STATEMASK == ps.FROMREMOTE and not self.flags & ps.RESYNC_ASSIGN:
            peer.flags |= ps.LEARN_ASSIGN
            self.flags |= ps.RESYNC_ASSIGN | ps.RESYNC_REMOTEASSIGN

    def lesson_ended(self, peer: Peer, finished: bool, now: int) -> None:
        """A resync finished / partial message from the peer teaching us."""
        if not peer.flags & ps.LEARN_ASSIGN:
            return
        peer.flags &= ~ps.LEARN_ASSIGN
        self.flags &= ~(ps.RESYNC_ASSIGN | ps.RESYNC_PROCESS)
        if finished:
            self.flags |= ps.RESYNC_LOCAL | ps.RESYNC_REMOTE
            self.flags |= ps.RESYNC_LOCALFINISHED if peer.local else ps.RESYNC_REMOTEFINISHED
        else:
            self.flags |= ps.RESYNC_LOCALPARTIAL if peer.local else ps.RESYNC_REMOTEPARTIAL
            peer.flags |= ps.LEARN_NOTUP2DATE
            self.resync_timeout = now + ps.RESYNC_TIMEOUT
            self.wake()

    # -- the task ------------------------------------------------------------------------

    def soft_stop(self) -> None:
        """SIGUSR1 / a reload: the next tick cuts the sessions and teaches the new process."""
        self.stopping = self.signalled = True
        self.wake()

    @property
    def may_stop(self) -> bool:
        """Whether a stopping process has nothing left to teach (PEERS_F_DONOTSTOP clear)."""
        return not self.flags & ps.DONOTSTOP

    def tick(self, now: int) -> int | None:
        """process_peer_sync, then every established session runs (pushes what is due)."""
        self.calls += 1
        expire = self._stopping(now) if self.stopping else self._running(now)
        for peer in self.peers:
            session = peer.session
            if session is not None and session.st0 == WAITMSG:
                session.run(now)
        return expire

    def _running(self, now: int) -> int | None:
        if self.resync_timeout is None:
            self.resync_timeout = now + ps.RESYNC_TIMEOUT
        if (
            self.flags & ps.STATEMASK == ps.FROMLOCAL
            and (not self.old_process or expired(self.resync_timeout, now))
            and not self.flags & ps.RESYNC_ASSIGN
        ):  # nothing to learn from an old process (any more): ask the remote peers
            self.flags |= ps.RESYNC_LOCAL | ps.RESYNC_LOCALTIMEOUT
            self.resync_timeout = now + ps.RESYNC_TIMEOUT
        expire: int | None = None
        for peer in self.peers:
            if not peer.local:
                expire = first(expire, self._remote(peer, now))
        if (
            self.flags & ps.STATEMASK == ps.FROMREMOTE
            and not self.flags & ps.RESYNC_ASSIGN
            and expired(self.resync_timeout, now)
        ):  # nobody taught us in time: what we have is all there is
            self.flags |= ps.RESYNC_REMOTE | ps.RESYNC_REMOTETIMEOUT
        if self.flags & ps.STATEMASK != ps.FINISHED and not expired(self.resync_timeout, now):
            expire = first(expire, self.resync_timeout)
        return expire

    def _remote(self, peer: Peer, now: int) -> int | None:
        """One remote peer's turn of the task; when it wants to run again."""
        if peer.session is None:
            if peer.statuscode == 0 or (
                peer.statuscode in (wire.CONNECT_CODE, wire.SUCCESS, wire.CONNECTED_CODE)
                and expired(peer.reconnect, now)
            ):
                self.create_session(peer, now)
                return peer.reconnect
            return None if expired(peer.reconnect, now) else peer.reconnect
        if peer.statuscode != wire.SUCCESS:
            return None
        if (
            self.flags & ps.STATEMASK == ps.FROMREMOTE
            and not self.flags & ps.RESYNC_ASSIGN
            and not peer.flags & ps.LEARN_NOTUP2DATE
        ):  # this one teaches us (the request goes out when its session runs)
            peer.flags |= ps.LEARN_ASSIGN
            self.flags |= ps.RESYNC_ASSIGN | ps.RESYNC_REMOTEASSIGN
            return None
        if any(st.last_pushed != st.table.localupdate for st in peer.tables):
            peer.flags &= ~ps.HEARTBEAT_DUE  # updates to push: they tell it we are alive
            peer.heartbeat = now + ps.HEARTBEAT_TIMEOUT
            return first(peer.reconnect, peer.heartbeat)
        if expired(peer.reconnect, now):
            if peer.flags & ps.ALIVE:
                peer.flags &= ~ps.ALIVE
                peer.reconnect = now + ps.RECONNECT_TIMEOUT
            else:  # silent for a whole period: cut, and connect again a little later
                peer.reconnect = now + 50 + self.rng.randrange(2000)
                peer.heartbeat = None
                self.force_shutdown(peer, now)
                peer.no_hbt += 1
        elif expired(peer.heartbeat, now):
            peer.heartbeat = now + ps.HEARTBEAT_TIMEOUT
            peer.flags |= ps.HEARTBEAT_DUE
        return first(peer.reconnect, peer.heartbeat)

    def _stopping(self, now: int) -> int | None:
        if self.signalled:
            self.signalled = False
            if not self.flags & ps.DONOTSTOP:
                self.flags |= ps.DONOTSTOP
                for peer in self.peers:
                    peer.reconnect = now + 50 + self.rng.randrange(2000)
                    if peer.session is not None:
                        self.force_shutdown(peer, now)
        local = self.local
        if local is None:
            self.flags &= ~ps.DONOTSTOP
            return None
        if local.flags & ps.TEACH_COMPLETE:
            self.flags &= ~ps.DONOTSTOP  # the new process has everything
        elif local.session is None:
            if local.statuscode in (0, wire.SUCCESS, wire.CONNECTED_CODE, wire.TRY_AGAIN):
                if self.flags & ps.DONOTSTOP:
                    self.create_session(local, now)
            else:  # it cannot be taught: this process may go anyway
                self.flags &= ~ps.DONOTSTOP
        return None
