"""The end of tracked stick counters: what a stream and a session give back when they end
(include/haproxy/stream.h stream_store_counters, include/haproxy/session.h
session_store_counters; HAProxy 2.6).

A `track-scN` takes a reference on its entry and counts the connection in `conn_cur`
(common.py start_counters).  When the stream ends, each counter it tracked itself gives the
connection back: `conn_cur` down by one (never below 0) and the entry's expiry re-armed if it
stores `conn_cur`, then the reference dropped; an entry that expired meanwhile goes
(stksess_kill_if_expired).  A slot the session tracks is the session's, even where the stream
tracked its own: the session gives it back when the client connection ends.  `count_session` is
session_count_new's part: a session that passed its rules counts in `sess_cnt`/`sess_rate`.
"""

from __future__ import annotations

from pylvs.proto.sample.stream import Session, Stream, Tracked


def _give_back(t: Tracked, now: float) -> None:
    table, entry = t.table, t.entry
    if table.spec.stores("conn_cur"):
        entry.add("conn_cur", -1)
        table.touch(entry, now)
    table.release(entry, now)


def stop_stream(s: Stream) -> None:
    """stream_store_counters, at `s.now`: once per stream (the slots are emptied)."""
    session = s.sess.sc
    for i, t in enumerate(s.sc):
        if t is None:
            continue
        s.sc[i] = None
        if session[i] is not None:
            continue  # the session's counter (or the slot is the session's)
        _give_back(t, s.now)


def stop_session(sess: Session, now: float) -> None:
    """session_store_counters, when the client connection ends (once: slots emptied)."""
    for i, t in enumerate(sess.sc):
        if t is not None:
            sess.sc[i] = None
            _give_back(t, now)


def count_session(sess: Session, now: float) -> None:
    """session_count_new: a session that passed its session rules counts in the `sess_cnt`
    and `sess_rate` of the counters its connection rules tracked."""
    for t in sess.sc:
        if t is None:
            continue
        table, entry = t.table, t.entry
        if table.spec.stores("sess_cnt"):
            entry.add("sess_cnt")
        if table.spec.stores("sess_rate"):
            table.update_rate(entry, "sess_rate", now)
