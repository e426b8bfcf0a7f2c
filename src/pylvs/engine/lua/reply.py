"""`txn:done(reply)` in an HTTP action: the reply a script built (`txn:reply`, or any table
with status/reason/body/headers) sent to the client, the stream ended (HAProxy 2.6
src/hlua.c hlua_txn_forward_reply, hlua_txn_done).

The head is `HTTP/1.1` (`HTTP/1.0` for a 1.0 request), the status (200 unless a number was
given), the given reason or the status's own, the headers in the order the script's table
gave them (names in lower case, as HTX holds them), then `content-length` of the body.
A `transfer-encoding` the script gives is left out and the body goes with its length (HAProxy
2.6 chunks it then): the client reads the same body; the replies of the rules are never
chunked here (proto/rules/h1.answer).  The http-after-response rules run on it, as on a
`return` (http_forward_proxy_resp).
"""

from __future__ import annotations

from typing import Any

from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.rules.http_final import intercepted
from pylvs.proto.rules.replies import Response, reason
from pylvs.proto.sample.message import HttpMessage


def forward_reply(x: Exec, fields: tuple[Any, ...]) -> Ret:
    """The reply's (status, reason, body, [name, value, ...]) as the action's answer."""
    status_v, reason_v, body_v, flat = (tuple(fields) + (None,) * 4)[:4]
    code = int(status_v) if isinstance(status_v, int | float) else 200
    why = bytes(reason_v) if isinstance(reason_v, bytes) else reason(code)
    body = bytes(body_v) if isinstance(body_v, bytes) else b""
    values = [bytes(v) for v in flat.values()] if flat is not None else []
    head = [
        (name.lower(), value)
        for name, value in zip(values[::2], values[1::2], strict=True)
        if name.lower() != b"transfer-encoding"
    ]
    head.append((b"content-length", b"%d" % len(body)))
    req = x.stream.request
    version = b"HTTP/1.0" if req is not None and req.version == b"HTTP/1.0" else b"HTTP/1.1"
    msg = HttpMessage.make_response(code, why, head, version)
    x.txn.status = code
    x.txn.response = Response(msg, body)
    intercepted(x)
    return Ret.ABRT
