"""The master side of the sync: when a connection is sent, and how records fill messages.

net/netfilter/ipvs/ip_vs_sync.c, as a pure machine over proto/conntrack's table:

* `packet(conn, now)` is the tail of ip_vs_in: every input packet of a connection counts in
  its `in_pkts` (a one-packet-scheduled connection counts as sync_threshold instead), then
  ip_vs_sync_conn decides.  `ip_vs_sync_conn_needed`: templates are always candidates;
  with sync_persist_mode a connection under a template is not synced; a TCP connection
  only in ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT or TIME_WAIT, and at once when it has just
  entered one of those other than ESTABLISHED; then sync_refresh_period holds back a resend
  while the announced expiry would move by less than min(refresh, max(timeout/2, 10 s)),
  except for `sync_retries` retries once refresh/8 has passed since the last one; then the
  rate rule: with sync_period > 0 a connection goes when in_pkts % period == threshold
  (templates whenever asked), with period and refresh both 0 only when in_pkts == threshold.
* Each synced connection asks for its controlling entry too (version 1 always, version 0
  only after the connection itself was sent): a template with its own incremented
  `in_pkts`, any other controller with sync_threshold.  So a persistent service's template
  goes out with every input packet of its connections.
* Version 0 sends IPv4 only, and for a one-packet connection nothing, not even its template.
* Records fill the current message of their thread (sync_ports > 1 spreads connections over
  several messages streams, ports 8848 + id); a record that does not fit `maxlen` sends the
  message and starts the next one; a version change does too.  A message is sent at the
  latest IPVS_SYNC_FLUSH_TIME (2 s) after its first record: `tick(now)` sends those.
* `expire_later(conn, now)`: a template whose timer ran out while it still controls
  connections is re-armed for 60 s and synced with sync_threshold (ip_vs_conn_expire).
* `observed(conn, now)` is for a plane that sees its table rather than each input packet
  (pylvs's nftables plane, where the kernel forwards; the proxy, whose C relay counts
  chunks): there is no in_pkts to count, so an entry goes when it is first seen in a
  synced state, when its state changed since it was last sent, and again once its expiry
  moved by the refresh margin past what the last record announced (sync_refresh_period's
  rule, min(refresh, max(timeout/2, 10 s)); with sync_refresh_period 0, max(timeout/2,
  10 s)), so the backup's copy, which lives `timeout` from its arrival, never runs out while
  the master's entry lives.  Each entry is judged on its own (templates included): the
  plane hands over all of them.

Times are seconds (the kernel counts jiffies and keeps the retry count in the low two bits
of sync_endtime; pylvs keeps it in its own field).  Stopping drops what was not sent, as
stop_sync_thread frees the queue and the current buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.conntrack.table import Conn
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.codec import Builder
from pylvs.proto.sync.marks import Mark, Marks, record, state_number
from pylvs.proto.sync.settings import Sysctls

FLUSH_TIME = 2.0  # IPVS_SYNC_FLUSH_TIME: no record waits longer in a message
MIN_REFRESH_DIFF = 10.0  # "max(cp->timeout >> 1, 10UL * HZ)"
PRUNE_EVERY = 10.0
TCP_SYNCED = frozenset(
    {w.TCP_S_ESTABLISHED, w.TCP_S_FIN_WAIT, w.TCP_S_CLOSE, w.TCP_S_CLOSE_WAIT, w.TCP_S_TIME_WAIT}
)


@dataclass(frozen=True, slots=True)
class SendMessage:
    """Send `data` to the group on port + `thread` (command)."""

    thread: int
    data: bytes


@dataclass(slots=True)
class _Buffer:
    builder: Builder
    firstuse: float


class Sender:
    """The master's sync machine; returns the messages to send."""

    def __init__(
        self, sysctls: Sysctls, *, syncid: int, maxlen: int, marks: Marks | None = None
    ) -> None:
        self.sysctls = sysctls
        self.syncid = syncid
        self.maxlen = maxlen
        self.marks = marks if marks is not None else Marks()
        self._buffers: dict[int, _Buffer] = {}
        self._pruned = 0.0
        self.records = 0  # records written into messages
        self.messages = 0  # messages handed out

    # -- events -----------------------------------------------------------------------

    def packet(self, conn: Conn, now: float, *, one_packet: bool = False) -> list[SendMessage]:
        """An input packet of `conn` was handled (after its state changed)."""
        out: list[SendMessage] = []
        if one_packet:
            pkts = self.sysctls.threshold
        else:
            mark = self.marks.get(conn, now)
            mark.in_pkts += 1
            pkts = mark.in_pkts
        if self.sysctls.version == 0:
            self._sync_v0(conn, pkts, now, out, one_packet=one_packet)
        else:
            self._sync_v1(conn, pkts, now, out, one_packet=one_packet)
        return out

    def expire_later(self, conn: Conn, now: float) -> list[SendMessage]:
        """`conn`'s timer ran out while it controls others: it lives 60 s more and is synced."""
        out: list[SendMessage] = []
        if self.sysctls.version == 0:
            self._sync_v0(conn, self.sysctls.threshold, now, out, one_packet=False)
        else:
            self._sync_v1(conn, self.sysctls.threshold, now, out, one_packet=False)
        return out

    def observed(self, conn: Conn, now: float) -> list[SendMessage]:
        """`conn` as a table-watching plane sees it now (module docstring)."""
        out: list[SendMessage] = []
        if self.sysctls.version == 0 and conn.caddr.version != 4:
            return out
        if self.observed_needed(conn, now):
            self._add(conn, now, out)
        return out

    def observed_needed(self, conn: Conn, now: float) -> bool:
        """Whether `observed` sends `conn` now; updates its mark when it says yes."""
        s = self.sysctls
        state = state_number(conn)
        if not conn.template:
            if s.persist_mode and _in_persistence(conn):
                return False
            if conn.protocol == w.IPPROTO_TCP and state not in TCP_SYNCED:
                return False
        mark = self.marks.get(conn, now)
        sent = mark.in_pkts > 0
        margin = max(conn.timeout / 2, MIN_REFRESH_DIFF)
        if s.refresh_period > 0:
            margin = min(s.refresh_period, margin)
        if sent and state == mark.old_state and conn.expires - mark.sync_endtime < margin:
            return False
        mark.in_pkts = s.threshold or 1  # "sent": nothing counts packets on this path
        return _set(mark, state, now + conn.timeout, 0)

    def tick(self, now: float) -> list[SendMessage]:
        """Send the messages whose first record is FLUSH_TIME old."""
        if now - self._pruned >= PRUNE_EVERY:
            self._pruned = now
            self.marks.prune()
        due = [t for t, b in self._buffers.items() if now - b.firstuse >= FLUSH_TIME]
        return [self._send(t) for t in sorted(due)]

    def next_deadline(self) -> float | None:
        if not self._buffers:
            return None
        return min(b.firstuse for b in self._buffers.values()) + FLUSH_TIME

    def flush(self) -> list[SendMessage]:
        """Every partly filled message now (not something the kernel does on its own)."""
        return [self._send(t) for t in sorted(self._buffers)]

    def stop(self) -> int:
        """The daemon stops: partly filled messages are dropped (stop_sync_thread); how
        many."""
        lost = len(self._buffers)
        self._buffers.clear()
        return lost

    # -- ip_vs_sync_conn ----------------------------------------------------------------

    def _sync_v1(
        self, conn: Conn, pkts: int, now: float, out: list[SendMessage], *, one_packet: bool
    ) -> None:
        cp: Conn | None = conn
        while cp is not None:
            if not one_packet and self.needed(cp, pkts, now):
                self._add(cp, now, out)
            one_packet = False
            ct = cp.control
            if ct is not None:
                pkts = self._controller_pkts(ct, now)
            cp = ct

    def _sync_v0(
        self, conn: Conn, pkts: int, now: float, out: list[SendMessage], *, one_packet: bool
    ) -> None:
        cp: Conn | None = conn
        while cp is not None:
            if cp.caddr.version != 4 or one_packet or not self.needed(cp, pkts, now):
                return
            self._add(cp, now, out)
            ct = cp.control
            if ct is not None:
                pkts = self._controller_pkts(ct, now)
            cp = ct

    def _controller_pkts(self, ct: Conn, now: float) -> int:
        if ct.template:
            mark = self.marks.get(ct, now)
            mark.in_pkts += 1
            return mark.in_pkts
        return self.sysctls.threshold

    def needed(self, conn: Conn, pkts: int, now: float) -> bool:
        """ip_vs_sync_conn_needed; updates the connection's mark when it says yes."""
        s = self.sysctls
        mark = self.marks.get(conn, now)
        state = state_number(conn)
        force = False
        if conn.template:
            pass
        elif s.persist_mode and _in_persistence(conn):
            return False
        elif conn.protocol == w.IPPROTO_TCP:
            if state not in TCP_SYNCED:
                return False
            force = state != mark.old_state
            if force and state != w.TCP_S_ESTABLISHED:
                return _set(mark, state, now + conn.timeout, 0)
        endtime, retries = now + conn.timeout, 0
        if s.refresh_period > 0:
            diff = endtime - mark.sync_endtime
            min_diff = max(conn.timeout / 2, MIN_REFRESH_DIFF)
            if abs(diff) < min(s.refresh_period, min_diff):
                if mark.retries >= s.retries:
                    return False
                if now < mark.sync_endtime - conn.timeout + s.refresh_period / 8:
                    return False
                retries = mark.retries + 1
        if s.period > 0:
            if not conn.template and pkts % s.period != s.threshold:
                return False
        elif not s.refresh_period and pkts != s.threshold:
            return False
        return _set(mark, state, endtime, retries)

    # -- message filling ---------------------------------------------------------------

    def _add(self, conn: Conn, now: float, out: list[SendMessage]) -> None:
        mark = self.marks.get(conn, now)
        thread = hash(conn.key) & (self.sysctls.ports - 1)
        buf = self._buffers.get(thread)
        if buf is not None and buf.builder.version != self.sysctls.version:
            out.append(self._send(thread))  # "Send buffer if it is for v0" (and back)
            buf = None
        data = (buf.builder if buf is not None else self._builder()).record(record(conn, mark))
        if buf is not None and not buf.builder.fits(data):
            out.append(self._send(thread))
            buf = None
        if buf is None:
            buf = self._buffers[thread] = _Buffer(self._builder(), now)
        buf.builder.add(data)
        self.records += 1

    def _builder(self) -> Builder:
        return Builder(self.sysctls.version, self.syncid, self.maxlen)

    def _send(self, thread: int) -> SendMessage:
        buf = self._buffers.pop(thread)
        self.messages += 1
        return SendMessage(thread, buf.builder.message())


def _set(mark: Mark, state: int, endtime: float, retries: int) -> bool:
    mark.old_state = state
    mark.sync_endtime = endtime
    mark.retries = retries
    return True


def _in_persistence(conn: Conn) -> bool:
    ct = conn.control
    while ct is not None:
        if ct.template:
            return True
        ct = ct.control
    return False
