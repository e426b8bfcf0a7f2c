"""A tcp stream that became an HTTP one (`switch-mode http`, or a mode http backend): its
connection handed to the HTTP driver (src/stream.c stream_set_http_mode,
src/connection.c conn_upgrade_mux_fe; HAProxy 2.6).

The content rules only peeked at the client's bytes (inspect.py), so the HTTP side reads
the connection from its first byte.  The mux the rule asked for decides who reads it:
`proto h2` an HTTP/2 connection from the first byte; `proto h1` HTTP/1 that never becomes
HTTP/2 (the h1 mux's MX_FL_NO_UPG: the preface is a bad request); none, the default HTTP
mux: HTTP/1 that the HTTP/2 preface upgrades (mux_h1.c H1C_F_UPG_H2C), or HTTP/2 when the
TLS handshake chose ALPN h2 (conn_upgrade_mux_fe picks by the ALPN name).  On HTTP/1 the
stream lives on as the connection's first request (its variables and tracked counters are
the request's: the rules already run are not run again); an HTTP/2 connection makes new
streams and the raw one ends unlogged (SF_IGNORE).  A bind whose mux refuses upgrades
(`proto none`: MX_FL_NO_UPG) makes stream_set_http_mode fail: the stream is aborted and the
client closed (ACT_RET_ABRT, no counter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.model.proxy_spec import ConnFacts
from pylvs.proto.rules import counters
from pylvs.proto.rules.engine import Txn

from . import accept
from .http.stream import HttpSession
from .http2.front import H2Front

if TYPE_CHECKING:
    import _socket

    from .frontend import FrontendListener


def to_http(
    listener: FrontendListener, client: _socket.socket, facts: ConnFacts, txn: Txn, proto: str
) -> None:
    """Hand a switched stream's connection to the HTTP driver (see the module doc)."""
    fe = listener.frontend
    s = txn.stream
    if listener.bind.proto == "none":
        counters.stop_stream(s)
        counters.stop_session(s.sess, s.now)
        accept.close_read(client)
        listener.dropped()
        return
    fe.runtime.rates.session(fe, s.now)
    if fe.logger is not None:
        fe.logger.accepted(facts)
    http = fe.runtime.http
    tls = s.sess.tls
    if proto == "h2" or (not proto and tls is not None and tls.alpn == "h2"):
        counters.stop_stream(s)
        H2Front(listener, client, facts, http, s.sess)
        return
    HttpSession(listener, client, facts, http, s.sess, carried=txn, mux=proto)
