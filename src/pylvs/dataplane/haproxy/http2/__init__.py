"""HTTP/2 on the client side of `mode http` frontends (proto/http2 decides, `h2` frames).

(HTTP/2 servers need no driver of their own: `server ... proto h2` connections run
proto/http2/upstream.py's machine on http/server_side.py's ServerConn, bodies in Python.)

    front.py    H2Front: one client connection, the `h2` library's state, streams, windows
    session.py  H2Stream: one stream run as the HTTP driver runs a request (http/stream.py)

A `bind ... proto h2` connection starts as HTTP/2; on other binds the HTTP/1 session hands
its connection over when the first bytes are the HTTP/2 preface (mux_h1.c H1C_F_UPG_H2C).
"""
