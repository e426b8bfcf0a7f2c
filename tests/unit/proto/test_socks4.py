"""The SOCKS4 CONNECT request and reply HAProxy 2.6 exchanges with a server's `socks4` proxy
(src/connection.c; the bytes the reg-test checks/tcp-checks-socks4.vtc's proxy accepts)."""

from __future__ import annotations

from pylvs.proto import socks4


def test_the_request_is_the_one_haproxy_sends() -> None:
    # version 4, CONNECT, port 0x1f90 (8080), 127.0.0.1, "HAProxy\0": 16 bytes
    assert socks4.request("127.0.0.1", 8080) == bytes.fromhex("04011f907f000001") + b"HAProxy\0"
    assert len(socks4.request("10.1.2.3", 1)) == 16
    # not IPv4: HAProxy's is_inet_addr() gives 0 there
    assert socks4.request("::1", 80)[4:8] == bytes(4)


def test_the_reply_grants_or_not() -> None:
    assert socks4.reply_error(bytes.fromhex("005A000000000000")) is None
    assert socks4.reply_error(bytes.fromhex("005B000000000000")) == socks4.DENIED
    assert socks4.reply_error(b"\0Z") == socks4.READ_ERROR  # the proxy closed before 8 bytes
