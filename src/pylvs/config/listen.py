"""`ADDR:PORT` as the HTTP surface's listener takes it: `pylvs run --http`, keepalived.conf's
`global_defs { pylvs_http }`, haproxy.cfg's `global` / `pylvs-http` (docs/web.md).  One reader
for all three, pure (ipaddress), so the config readers report a bad address at its line
before the listener would refuse it at start."""

from __future__ import annotations

import ipaddress


def parse_listen(text: str) -> tuple[str, int]:
    """`ADDR:PORT`, `[V6]:PORT` or `:PORT` (all IPv4 addresses): ValueError when invalid."""
    host, sep, port = text.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: expected ADDR:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{text!r}: write an IPv6 address in brackets, [ADDR]:PORT")
    host = host or "0.0.0.0"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{text!r}: {host!r} is not an IP address") from None
    return host, int(port)
