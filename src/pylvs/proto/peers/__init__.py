"""HAProxy's peers protocol (stick tables shared between processes), pure.

HAProxy 2.6's src/peers.c and doc/peers-v2.0.txt.  `wire.py`: encoded integers, the
handshake lines, message framing; `tables.py`: table definitions and entry updates (the data
types' encodings, the server-key dictionary caches); `state.py`: peers and the tables shared
with each; `session.py`: one connection's machine (handshake, messages in, messages out);
`sync.py`: the section's task (connects, heartbeats, reconnects, resync at start, the lesson
an old process teaches the new one).  The driver that owns the sockets is
dataplane/haproxy/peers.py; `show peers` is control/haproxy/peers.py.
"""
