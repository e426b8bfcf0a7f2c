"""HAProxy `resolvers` sections and a server's run-time resolution settings, as the runtime
serves them (HAProxy 2.6 configuration §5.3; src/resolvers.c `resolvers_new` for the
defaults, src/server.c `srv_parse_resolve_*` for the server's options).

Built by config/haproxy/resolvers.py (the section) and config/haproxy/server.py (the server
keywords); run by dataplane/haproxy/resolvers.py over proto/dns.
"""

from __future__ import annotations

from dataclasses import dataclass

# A nameserver's counters, in `show resolvers`'s order (src/resolvers.c resolv_stats)
COUNTERS = (
    "sent",
    "snd_error",
    "valid",
    "update",
    "cname",
    "cname_error",
    "any_err",
    "nx",
    "timeout",
    "refused",
    "other",
    "invalid",
    "too_big",
    "truncated",
    "outdated",
)


@dataclass(frozen=True, slots=True)
class NameserverSpec:
    """`nameserver NAME ADDR:PORT` (or a `parse-resolv-conf` line: named by its address);
    `proto` "tcp" for `tcp@ADDR:PORT` (a DNS stream server), else "udp"; `maxconn`: a TCP
    nameserver's most connections (0: no limit)."""

    name: str
    address: str  # an IPv4 or IPv6 address
    port: int = 53
    where: str = ""  # FILE:LINE
    proto: str = "udp"
    maxconn: int = 0


@dataclass(frozen=True, slots=True)
class ResolversSpec:
    """A `resolvers` section; times in milliseconds, HAProxy's defaults."""

    name: str
    nameservers: tuple[NameserverSpec, ...] = ()
    accepted_payload_size: int = 512
    resolve_retries: int = 3
    timeout_resolve_ms: int = 1000
    timeout_retry_ms: int = 1000
    hold_nx_ms: int = 30000
    hold_other_ms: int = 30000
    hold_refused_ms: int = 30000
    hold_timeout_ms: int = 30000
    hold_valid_ms: int = 10000
    hold_obsolete_ms: int = 0
    where: str = ""


@dataclass(frozen=True, slots=True)
class ResolveOptions:
    """A server's `resolvers`, `resolve-prefer` (default ipv6, srv_settings_init),
    `resolve-net` (networks as "ADDR/LEN") and `resolve-opts`; `srv_record`: the SRV
    record's name (`_service._proto.name`) the server is filled from."""

    resolvers: str
    prefer: str = "ipv6"  # "ipv4" | "ipv6"
    networks: tuple[str, ...] = ()
    allow_dup_ip: bool = False
    ignore_weight: bool = False
    srv_record: str | None = None
