"""`show peers [dict|-] [SECTION]`: the peers sections' state as HAProxy 2.6 prints it.

src/peers.c cli_parse_show_peers / peers_dump_head / peers_dump_peer: per section a header
line (its last change, `disabled`, the resync flags, the time left before the resync gives
up, the task's calls), then per peer (in HAProxy's list order) its name, local or remote,
active or not, address, last status (NONE, CONN, HSHK, ESTA, RETR, PROT, VERS, NAME, UNKN),
the time since the last handshake, the reconnect and heartbeat timers, the counters, the
session's state, the current tables and each shared table's cursors; `dict` adds the
server-key caches.  Object addresses are the Python objects' identities.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.proto.peers import wire
from pylvs.proto.peers.session import CONNECT, GETSTATUS
from pylvs.proto.peers.state import Peer, SharedTable, expired
from pylvs.proto.peers.sync import PeersSection

_STATUS = {
    wire.CONNECT_CODE: "CONN",
    wire.CONNECTED_CODE: "HSHK",
    wire.SUCCESS: "ESTA",
    wire.TRY_AGAIN: "RETR",
    wire.ERR_PROTO: "PROT",
    wire.ERR_VERSION: "VERS",
    wire.ERR_HOST: "NAME",
    wire.ERR_PEER: "UNKN",
}
_NO_DICT = '\n        Dictionary cache not dumped (use "show peers dict")'
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True, slots=True)
class PeersView:
    """A section as the stats socket sees it: the section, when it last changed (wall
    seconds) and the section clock's now (ms)."""

    section: PeersSection
    last_change: float
    now_ms: int


def show_peers(views: Sequence[PeersView], words: Sequence[str]) -> tuple[bool, str]:
    """(ok, text): the dump, or HAProxy's error for an unknown section."""
    args = list(words[2:])
    dump_dict = False
    if args and args[0] == "dict":
        dump_dict, args = True, args[1:]
    elif args and args[0] == "-":
        args = args[1:]
    chosen = list(views)
    if args and args[0]:
        chosen = [v for v in views if v.section.name == args[0]]
        if not chosen:
            return False, "No such peers\n"
    parts = []
    for view in chosen:
        text = _head(view)
        for peer in view.section.peers:
            text += _peer(view, peer, dump_dict)
        parts.append(text)
    return True, "\n".join(parts)


def human_time(ms: int) -> str:
    """tools.c human_time(t, 1000): two units at most, `0s` for nothing."""
    if ms < 0:
        return "?"
    t = ms // 1000
    out, count = "", 2
    if t >= 86400:
        out += f"{t // 86400}d"
        count -= 1
    if count and t % 86400 // 3600:
        out += f"{t % 86400 // 3600}h"
        count -= 1
    if count and t % 3600 // 60:
        out += f"{t % 3600 // 60}m"
        count -= 1
    if (count and t % 60) or not t:
        out += f"{t % 60}s"
    return out


def _since(tick: int | None, now: int) -> str:
    return "<NEVER>" if tick is None else human_time(now - tick)


def _timer(tick: int | None, now: int) -> str:
    if tick is None:
        return "<NEVER>"
    return "<PAST>" if expired(tick, now) else human_time(tick - now)


def _head(view: PeersView) -> str:
    s = view.section
    tm = time.localtime(view.last_change)
    when = f"{tm.tm_mday:02d}/{_MONTHS[tm.tm_mon - 1]}/{tm.tm_year:04d}:{tm.tm_hour:02d}:"
    when += f"{tm.tm_min:02d}:{tm.tm_sec:02d}"
    return (
        f"0x{id(s):x}: [{when}] id={s.name} disabled={int(s.disabled)} flags=0x{s.flags:x}"
        f" resync_timeout={_timer(s.resync_timeout, view.now_ms)} task_calls={s.calls}\n"
    )


def _peer(view: PeersView, peer: Peer, dump_dict: bool) -> str:
    now = view.now_ms
    session = peer.session
    host = peer.host or "0.0.0.0"
    text = (
        f"  0x{id(peer):x}: id={peer.name}({'local' if peer.local else 'remote'},"
        f"{'active' if session is not None else 'inactive'}) addr={host}:{peer.port}"
        f" last_status={_STATUS.get(peer.statuscode, 'NONE')}"
        f" last_hdshk={_since(peer.last_hdshk, now)}\n"
        f"        reconnect={_timer(peer.reconnect, now)} heartbeat={_timer(peer.heartbeat, now)}"
        f" confirm={peer.confirm} tx_hbt={peer.tx_hbt} rx_hbt={peer.rx_hbt}"
        f" no_hbt={peer.no_hbt} new_conn={peer.new_conn} proto_err={peer.proto_err}"
        f" coll={peer.coll}\n"
        f"        flags=0x{peer.flags:x}"
    )
    if session is not None:
        state = "CON" if session.st0 in (CONNECT, GETSTATUS) and session.dst is None else "EST"
        text += f" appctx:0x{id(session):x} st0={session.st0} st1={session.st1}"
        text += f" task_calls={session.calls} state={state}"
        if not session.outgoing and session.src is not None:  # an accepted connection
            text += f"\n        xprt=RAW src={session.src} addr={session.dst}"
    tables = (("remote_table", peer.remote_table), ("last_local_table", peer.last_local_table))
    for label, st in tables:
        if st is not None:
            text += (
                f"\n        {label}:0x{id(st):x} id={st.table.name}"
                f" local_id={st.local_id} remote_id={st.remote_id}"
            )
    if peer.tables:
        text += "\n        shared tables:"
        for st in peer.tables:
            text += _table(st)
            text += _dict(peer) if dump_dict else _NO_DICT
    return text + "\n"


def _table(st: SharedTable) -> str:
    t = st.table
    return (
        f"\n          0x{id(st):x} local_id={st.local_id} remote_id={st.remote_id}"
        f" flags=0x{st.flags:x} remote_data=0x{st.remote_data:x}"
        f"\n              last_acked={st.last_acked} last_pushed={st.last_pushed}"
        f" last_get={st.last_get} teaching_origin={st.teaching_origin} update={st.update}"
        f"\n              table:0x{id(t):x} id={t.name} update={t.update}"
        f" localupdate={t.localupdate} commitupdate={t.commitupdate} refcnt=1"
    )


def _dict(peer: Peer) -> str:
    text = "\n        TX dictionary cache:"
    count = 0
    for i, value in enumerate(peer.cache.tx_ids):
        if value is None:
            break
        if not count:
            text += "\n        "
        count += 1
        text += f"  {i:3d} -> {value}"
        count &= 3
    text += "\n        RX dictionary cache:"
    count = 0
    for i, value in enumerate(peer.cache.rx):
        if not count:
            text += "\n        "
        count += 1
        text += f"  {i:3d} -> {value if value is not None else '-'}"
        count &= 3
    return text
