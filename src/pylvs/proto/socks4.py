"""SOCKS4 CONNECT as HAProxy 2.6 speaks it to a server's `socks4` proxy (src/connection.c
conn_send_socks4_proxy_request / conn_recv_socks4_proxy_response; the SOCKS4 protocol:
https://www.openssh.com/txt/socks4.protocol).

The request is 16 bytes: version 4, command 1 (CONNECT), the destination port and IPv4
address in network order, and the user id "HAProxy" with its NUL.  The proxy answers 8 bytes:
a 0 version byte, the result code (90: granted; 91-93: refused), then a port and an address
that are ignored.  What fails is worded as HAProxy's conn_err_code_str words it.
"""

from __future__ import annotations

import ipaddress
import struct

REPLY_LEN = 8  # SOCKS4_HS_RSP_LEN
GRANTED = 90
USER_ID = b"HAProxy\0"
SEND_ERROR = "SOCKS4 Proxy write error during handshake"
READ_ERROR = "SOCKS4 Proxy read error during handshake"
DENIED = "SOCKS4 Proxy deny the request"
ABORTED = "SOCKS4 Proxy handshake aborted by server"


def request(host: str, port: int) -> bytes:
    """The CONNECT request for `host:port` (an IPv4 address; another address is sent as
    0.0.0.0, as HAProxy's is_inet_addr() gives 0 for what is not IPv4)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = ipaddress.IPv4Address(0)
    packed = ip.packed if ip.version == 4 else bytes(4)
    return struct.pack("!BBH", 4, 1, port & 0xFFFF) + packed + USER_ID


def reply_error(reply: bytes) -> str | None:
    """None when the 8-byte reply grants the connection, else HAProxy's error text (a reply
    cut short by the proxy's close is a read error)."""
    if len(reply) < REPLY_LEN:
        return READ_ERROR
    return None if reply[1] == GRANTED else DENIED
