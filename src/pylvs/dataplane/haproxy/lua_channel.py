"""What a `mode tcp` stream's driver does with the channels a Lua script changed
(proto/sample/channel.py; HAProxy 2.6 src/hlua.c hlua_channel_*): the request's bytes the
content rules peeked at are taken off the client's socket when the script rewrote them
(the server gets the channel's bytes in their place), and what a request rule's script
sent on the response channel goes to the client at once."""

from __future__ import annotations

import _socket
import socket

from pylvs.proto.sample.channel import Channels


def request_prefix(chn: object, client: _socket.socket) -> bytes | None:
    """The bytes the server gets first, when a script rewrote the request (else None)."""
    if not isinstance(chn, Channels) or not chn.req.changed:
        return None
    left = chn.req.orig
    while left > 0:  # they are there: the rules peeked at them
        try:
            got = client.recv(left, socket.MSG_DONTWAIT)
        except OSError:
            break
        if not got:
            break
        left -= len(got)
    return chn.req.bytes_out()


def reply_to_client(chn: object, client: _socket.socket) -> None:
    """What a request rule's script sent on txn.res: written now (a reply of a few bytes
    into an empty socket buffer; a second at most)."""
    if not isinstance(chn, Channels) or not chn.res.out:
        return
    data = bytes(chn.res.out)
    chn.res.out.clear()
    timeout = client.gettimeout()
    try:
        client.settimeout(1.0)
        client.sendall(data)
    except OSError:
        pass  # the client is gone: the stream ends as it would
    finally:
        client.settimeout(timeout)
