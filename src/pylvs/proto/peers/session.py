"""One peers connection, as a sans-IO machine: bytes in, bytes out, a state.

HAProxy 2.6's src/peers.c peer_io_handler and what it calls: an accepted connection reads the
three hello lines (protocol and version, the name it is known by -- the local peer's --, the
name of the connecting peer) and answers a status; a connecting one sends its hello and reads
the status.  Then both sides read messages and, when none is left, send theirs
(peer_send_msgs): a resync request if this peer was assigned to teach us, acks of the updates
received, the local updates not pushed yet (or a full lesson, stage 1 then 2, then "resync
finished"), and the confirmations of the lessons received.  A message that does not parse ends
the connection with a protocol error (counted: `proto_err`), never more.

The driver (dataplane/haproxy/peers.py) feeds `received`, calls `run` when the section's task
wakes the session, writes `out` and closes the connection once `ended`, then calls `closed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pylvs.proto.peers import state as ps
from pylvs.proto.peers import wire
from pylvs.proto.peers.tables import (
    Definition,
    MalformedError,
    apply_update,
    define,
    encode_update,
    read_define,
    read_update,
    wire_name,
)
from pylvs.proto.peers.wire import MessageTooBigError, TruncatedError
from pylvs.sched.haproxy.cnum import atoi
from pylvs.sched.haproxy.tree import Node

if TYPE_CHECKING:
    from pylvs.proto.peers.state import Peer, SharedTable
    from pylvs.proto.peers.sync import PeersSection

# peer_io_handler's states (st0), numbered as HAProxy's (show peers prints them).
ACCEPT, GETVERSION, GETHOST, GETPEER, SENDSUCCESS, CONNECT, GETSTATUS, WAITMSG = range(8)
EXIT, ERRPROTO, ERRSIZE, END = 8, 9, 10, 11
_HANDSHAKE_MAX = 1024  # a hello line longer than this is no hello
_Lookup = Callable[["SharedTable"], Node | None]


class PeerSession:
    """An accepted (`peer` None) or outgoing (`peer` given) connection of `section`."""

    def __init__(self, section: PeersSection, peer: Peer | None = None) -> None:
        self.section = section
        self.peer = peer
        self.outgoing = peer is not None
        self.st0 = ACCEPT if peer is None else CONNECT
        self.st1 = 0
        self.inbuf = bytearray()
        self.out = bytearray()
        self.released = False
        self.version: tuple[int, int] | None = None
        self.calls = 0
        self.src: str | None = None  # the connection's addresses, for `show peers`
        self.dst: str | None = None

    @property
    def ended(self) -> bool:
        return self.st0 == END

    # -- what the driver calls ----------------------------------------------------------

    def received(self, data: bytes, now: int) -> None:
        self.inbuf += data
        self.run(now)

    def run(self, now: int) -> None:
        """peer_io_handler: as far as the input and the state allow."""
        self.calls += 1
        while self._step(now):
            pass

    def closed(self, now: int) -> None:
        """The connection is gone (either side): peer_session_release."""
        if self.released:
            return
        self.released = True
        peer = self.peer  # set once the peer is known (accepted: after its hello)
        self.st0 = END
        if peer is not None:
            if peer.session is self:
                self.section.deinit(peer, now)
            peer.flags &= ~ps.ALIVE

    # -- the handler ---------------------------------------------------------------------

    def _step(self, now: int) -> bool:
        """One state's work; True to go on."""
        st = self.st0
        if st == ACCEPT:
            self.st0 = GETVERSION
            return True
        if st in (GETVERSION, GETHOST, GETPEER):
            return self._hello_line(now)
        if st == SENDSUCCESS:
            return self._send_success(now)
        if st == CONNECT:
            return False  # the driver calls connected() once the TCP connect succeeds
        if st == GETSTATUS:
            return self._get_status(now)
        if st == WAITMSG:
            return self._wait_msg(now)
        if st == EXIT:
            self.out += wire.status(self.st1)
            self.st0 = END
            return False
        if st == ERRSIZE:
            self.out += wire.error(wire.ERR_SIZELIMIT)
            self.st0 = END
            return False
        if st == ERRPROTO:
            if self.peer is not None:
                self.peer.proto_err += 1
            self.section.proto_errors += 1
            self.out += wire.error(wire.ERR_PROTOCOL)
            self.st0 = END
            return False
        return False

    def connected(self, now: int) -> None:
        """PEER_SESS_ST_CONNECT: the TCP connect succeeded, the hello goes out."""
        peer = self.peer
        if self.st0 != CONNECT or peer is None or peer.session is not self:
            self.st0 = END
            return
        self.out += wire.hello(
            peer.name, self.section.local_name, self.section.pid,
            downgraded=bool(peer.flags & ps.DOWNGRADED),
        )  # fmt: skip
        peer.statuscode = wire.CONNECTED_CODE
        self.st0 = GETSTATUS
        self.run(now)

    def _line(self) -> str | None:
        line = wire.take_line(self.inbuf)
        if line is None and len(self.inbuf) > _HANDSHAKE_MAX:
            self.st0 = END
        return line

    def _exit(self, code: int) -> bool:
        self.st0, self.st1 = EXIT, code
        return True

    def _hello_line(self, now: int) -> bool:
        line = self._line()
        if line is None:
            return self.st0 == END
        if self.st0 == GETVERSION:
            version = wire.version_of(line)
            if version is None:
                return self._exit(wire.ERR_PROTO)
            if version[0] != wire.MAJOR or not 0 <= version[1] <= wire.MINOR:
                return self._exit(wire.ERR_VERSION)
            self.version = version
            self.st0 = GETHOST
            return True
        if self.st0 == GETHOST:
            if line != self.section.local_name:
                return self._exit(wire.ERR_HOST)
            self.st0 = GETPEER
            return True
        name, space, _rest = line.partition(" ")
        if not space:
            return self._exit(wire.ERR_PROTO)
        peer = self.section.peer(name)
        if peer is None:
            return self._exit(wire.ERR_PEER)
        return self._take_peer(peer, now)

    def _take_peer(self, peer: Peer, now: int) -> bool:
        """PEER_SESS_ST_GETPEER: this connection becomes the peer's; an older one is cut
        (a collision: both sides connected at once), unless the peer is the local one."""
        other = peer.session
        if other is not None and other is not self:
            if peer.local:
                return self._exit(wire.TRY_AGAIN)
            peer.reconnect = now + 50 + self.section.rng.randrange(2000)
            self.section.force_shutdown(peer, now)
            peer.heartbeat = None
            peer.coll += 1
        if self.version is not None:
            if self.version[1] == wire.DOWNGRADED_MINOR:
                peer.flags |= ps.DOWNGRADED
            else:
                peer.flags &= ~ps.DOWNGRADED
        peer.session = self
        peer.flags |= ps.ALIVE
        self.peer = peer
        self.st0 = SENDSUCCESS
        return True

    def _send_success(self, now: int) -> bool:
        peer = self.peer
        if peer is None or peer.session is not self:
            self.st0 = END
            return False
        self.out += wire.status(wire.SUCCESS)
        self.section.init_accepted(peer, now)
        self.st0 = WAITMSG
        return True

    def _get_status(self, now: int) -> bool:
        peer = self.peer
        if peer is None or peer.session is not self:
            self.st0 = END
            return False
        line = self._line()
        if line is None:
            return self.st0 == END
        peer.statuscode = atoi(line)  # atoi(trash.area)
        peer.last_hdshk = now
        self.section.wake()
        if peer.statuscode != wire.SUCCESS:
            if peer.statuscode == wire.ERR_VERSION:
                peer.flags |= ps.DOWNGRADED
            self.st0 = END
            return False
        self.section.init_connected(peer, now)
        self.st0 = WAITMSG
        return True

    def _wait_msg(self, now: int) -> bool:
        peer = self.peer
        if peer is None or peer.session is not self:
            self.st0 = END
            return False
        try:
            msg = wire.take_message(self.inbuf)
        except MessageTooBigError:
            self.st0 = ERRSIZE
            return True
        except TruncatedError:
            self.st0 = ERRPROTO
            return True
        if msg is None:
            self._send_msgs(peer, now)
            return False
        try:
            self._treat(peer, msg, now)
        except MalformedError:
            self.st0 = ERRPROTO
            return True
        if self.st0 == WAITMSG:
            peer.flags |= ps.ALIVE
        return True

    # -- messages received -----------------------------------------------------------------

    def _treat(self, peer: Peer, msg: wire.Message, now: int) -> None:
        """peer_treat_awaited_msg."""
        if msg.cls == wire.CLASS_CONTROL:
            self._control(peer, msg.type, now)
        elif msg.cls == wire.CLASS_STICKTABLE:
            if msg.type == wire.DEFINE:
                self._define(peer, read_define(msg.payload))
            elif msg.type == wire.SWITCH:
                self._switch(peer, msg.payload)
            elif msg.type in (wire.UPDATE, wire.INCUPDATE, wire.UPDATE_TIMED, wire.INCUPDATE_TIMED):
                self._update(peer, msg, now)
            elif msg.type == wire.ACK:
                self._ack(peer, msg.payload)
        elif msg.cls == wire.CLASS_RESERVED:
            raise MalformedError("reserved class")

    def _control(self, peer: Peer, typ: int, now: int) -> None:
        section = self.section
        if typ == wire.RESYNC_REQ:  # the peer asks for everything
            for st in peer.tables:
                st.teaching_origin = st.last_pushed = st.update
                st.flags = 0
            peer.flags &= ps.TEACH_RESET
            peer.flags |= ps.TEACH_PROCESS
            section.flags |= ps.RESYNC_REQUESTED
        elif typ in (wire.RESYNC_FINISHED, wire.RESYNC_PARTIAL):
            section.lesson_ended(peer, typ == wire.RESYNC_FINISHED, now)
            peer.confirm += 1
        elif typ == wire.RESYNC_CONFIRM:
            if section.stopping:  # the new process has it all: this one may go
                peer.flags |= ps.TEACH_COMPLETE
                self.st0 = END
                section.wake()
                return
            for st in peer.tables:
                st.update = st.last_pushed = st.teaching_origin
                st.flags = 0
            peer.flags &= ps.TEACH_RESET
        elif typ == wire.HEARTBEAT:
            peer.reconnect = now + ps.RECONNECT_TIMEOUT
            peer.rx_hbt += 1

    def _define(self, peer: Peer, definition: Definition) -> None:
        peer.remote_table = None
        found: SharedTable | None = None
        for st in peer.tables:
            if st.remote_id == definition.table_id:
                st.remote_id = 0
            if found is None and _nid(st) == definition.name:
                found = st
        if found is None or definition.data < 0:
            return
        spec = found.table.spec
        if (
            _NET_TYPES.get(definition.key_type) != spec.key.type.value
            or definition.key_size != spec.key.size
        ):
            return
        found.remote_data = definition.data
        found.remote_id = definition.table_id
        found.remote_def = definition
        peer.remote_table = found

    def _switch(self, peer: Peer, payload: bytes) -> None:
        try:
            ident, _pos = wire.intdecode(payload, 0)
        except TruncatedError:
            raise MalformedError("switch") from None
        peer.remote_table = next((st for st in peer.tables if st.remote_id == ident), None)

    def _update(self, peer: Peer, msg: wire.Message, now: int) -> None:
        st = peer.remote_table
        if st is None or not isinstance(st.remote_def, Definition):
            return  # no table to take it: ignored
        update = read_update(msg.type, msg.payload, st.table, st.remote_def, peer.cache)
        if update.update_id is not None:
            st.last_get = update.update_id
        else:
            st.last_get = (st.last_get + 1) & ps.M32
        if apply_update(st.table, update, now) is not None:
            self.section.learnt += 1

    def _ack(self, peer: Peer, payload: bytes) -> None:
        if peer.flags & ps.TEACH_PROCESS:
            return  # acks are ignored during a lesson
        try:
            ident, update = wire.read_ack(payload)
        except TruncatedError:
            raise MalformedError("ack") from None
        st = peer.table_by_local_id(ident)
        if st is not None:
            st.update = update

    # -- messages sent ----------------------------------------------------------------------

    def heartbeat(self) -> None:
        self.out += wire.control(wire.HEARTBEAT)

    def _send_msgs(self, peer: Peer, now: int) -> None:
        """peer_send_msgs (and the heartbeat due before it)."""
        section = self.section
        if peer.flags & ps.HEARTBEAT_DUE:
            peer.flags &= ~ps.HEARTBEAT_DUE
            self.heartbeat()
            peer.tx_hbt += 1
        if (
            peer.flags & ps.LEARN_ASSIGN
            and section.flags & ps.RESYNC_ASSIGN
            and not section.flags & ps.RESYNC_PROCESS
        ):
            self.out += wire.control(wire.RESYNC_REQ)
            section.flags |= ps.RESYNC_PROCESS
        if peer.tables:
            self._send_tables(peer, now)
        if peer.flags & ps.TEACH_PROCESS and not peer.flags & ps.TEACH_FINISHED:
            # "finished" only from a process that is up to date itself, else "partial"
            done = section.flags & ps.STATEMASK == ps.FINISHED
            self.out += wire.control(wire.RESYNC_FINISHED if done else wire.RESYNC_PARTIAL)
            peer.flags |= ps.TEACH_FINISHED
        while peer.confirm:
            self.out += wire.control(wire.RESYNC_CONFIRM)
            peer.confirm -= 1

    def _send_tables(self, peer: Peer, now: int) -> None:
        tables = peer.tables
        last = peer.last_local_table or tables[0]
        start = (tables.index(last) + 1) % len(tables) if last in tables else 0
        for i in range(len(tables)):
            st = tables[(start + i) % len(tables)]
            if st.last_get != st.last_acked:
                self.out += wire.ack(st.remote_id, st.last_get)
                st.last_acked = st.last_get
            if not peer.flags & ps.TEACH_PROCESS:
                if not peer.flags & ps.LEARN_ASSIGN and st.last_pushed != st.table.localupdate:
                    self._teach(peer, st, _process_lookup, now, timed=False)
            elif not peer.flags & ps.TEACH_FINISHED:
                timed = not peer.flags & ps.DOWNGRADED
                if not st.flags & ps.TEACH_STAGE1:
                    self._teach(peer, st, _stage1_lookup, now, timed=timed)
                if not st.flags & ps.TEACH_STAGE2:
                    self._teach(peer, st, _stage2_lookup, now, timed=timed)

    def _teach(
        self, peer: Peer, st: SharedTable, lookup: _Lookup, now: int, *, timed: bool
    ) -> None:
        """peer_send_teachmsgs: the table's definition if it is not the last one sent, then
        each update the lookup gives."""
        if st is not peer.last_local_table:
            self.out += define(st.local_id, st.table)
            peer.last_local_table = st
        new_pushed = True
        while True:
            node = lookup(st)
            if node is None:
                break
            updateid = node.key
            use_id = (
                new_pushed
                or not st.last_pushed
                or s_le(updateid, st.last_pushed)
                or ((updateid - st.last_pushed) & ps.M32) != 1
            )
            self.out += encode_update(
                st.table, node.item, now, peer.cache,
                update_id=updateid if use_id else None, timed=timed,
            )  # fmt: skip
            st.last_pushed = updateid
            if lookup is _process_lookup and ps.s32(st.last_pushed - st.table.commitupdate) > 0:
                st.table.commitupdate = st.last_pushed
            new_pushed = False


def s_le(a: int, b: int) -> bool:
    """updateid < last_pushed, unsigned."""
    return (a & ps.M32) < (b & ps.M32)


def _nid(st: SharedTable) -> str:
    return wire_name(st.table.spec.name)


_NET_TYPES = {2: "integer", 4: "ip", 5: "ipv6", 6: "string", 7: "binary"}


def _process_lookup(st: SharedTable) -> Node | None:
    """peer_teach_process_stksess_lookup: the next local update after the last pushed."""
    t = st.table
    node = t.updates.lookup_ge((st.last_pushed + 1) & ps.M32)
    if node is None:
        node = t.updates.first()
        if node is None or node.key == st.last_pushed:
            t.commitupdate = st.last_pushed = t.localupdate
            return None
    if ((node.key - st.last_pushed) & ps.M32) > ((t.localupdate - st.last_pushed) & ps.M32):
        t.commitupdate = st.last_pushed = t.localupdate
        return None
    return node


def _stage1_lookup(st: SharedTable) -> Node | None:
    """peer_teach_stage1_stksess_lookup: every update after the last pushed, to the end."""
    t = st.table
    node = t.updates.lookup_ge((st.last_pushed + 1) & ps.M32)
    if node is None:
        st.flags |= ps.TEACH_STAGE1
        head = t.updates.first()
        if head is not None:
            st.last_pushed = (head.key - 1) & ps.M32
        return None
    return node


def _stage2_lookup(st: SharedTable) -> Node | None:
    """peer_teach_stage2_stksess_lookup: then from the start up to the teaching origin."""
    node = st.table.updates.lookup_ge((st.last_pushed + 1) & ps.M32)
    if node is None or node.key > st.teaching_origin:
        st.flags |= ps.TEACH_STAGE2
        return None
    return node
