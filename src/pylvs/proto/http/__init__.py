"""HTTP/1.1 as HAProxy 2.6 speaks it, sans I/O (no sockets, no clock).

Framing, one direction of a connection, bytes in and events out:
    framer.py    Framer: heads, bodies (length, chunked, to EOF), trailers, pipelining, tunnels
    fast.py      the hot path: llhttp (httptools) lexes complete heads
    syntax.py    the reference lexer: HAProxy's grammar, error states and offsets
    fields.py    HAProxy's rules for Content-Length, Transfer-Encoding, Connection, Upgrade, Host
    head.py      the post-parse: version, size, framing, 413/422/WebSocket verdicts
    chunked.py   chunked transfer coding by HAProxy's rules
    limits.py    tune.bufsize / tune.maxrewrite / tune.http.maxhdr and the HTX measure
    message.py   RequestHead, ResponseHead, Body, the H1_MF_* flags
    events.py    what a framer reports
Writing heads back, and each side's keep-alive decision:
    encode.py    heads as HAProxy writes them (lower-case names, version, Connection, chunks)
    connmode.py  http-keep-alive / http-server-close / httpclose per side
Connections (events in, commands out; see conn/__init__.py for the driver's side):
    conn/        ClientMachine, ServerMachine, ServerPool (http-reuse)
    timeouts.py  http-request, http-keep-alive, client, server, connect, tunnel, *-fin
HAProxy's own output:
    answers.py   its error pages, raw or through HTX
    snapshot.py  `show errors` records and their rendering

docs/http.md describes the whole, and what the driver needs from the relay's C pump.
The captures in tests/data/http (recorded from the real haproxy) are the oracle of the tests.
"""
