"""HAProxy `peers` sections as the runtime serves them: who this process is among its peers,
where it listens for them, whom it connects to and which stick tables it shares.

Built by config/haproxy/convert_peers.py from a haproxy.cfg (HAProxy 2.6 configuration §3.5);
run by dataplane/haproxy/peers.py with proto/peers's protocol.  A section without a peer named
as this process (`-L`, `localpeer`, the host name) or `disabled` is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PeerSpec:
    """One peer: its name, and its address (the local peer's is where it listens)."""

    name: str
    host: str  # an address or a name to resolve; "0.0.0.0" for one left empty
    port: int
    local: bool = False


@dataclass(frozen=True, slots=True)
class PeersSpec:
    """A `peers` section this process takes part in."""

    name: str
    local_name: str
    peers: tuple[PeerSpec, ...]  # in the order `show peers` lists them (HAProxy's: reversed)
    # the local peer's listener (`bind`, or its `peer` line): an address and port, or the
    # descriptor of a socket the parent bound (`fd@N`); None: it does not listen
    listen_host: str | None
    listen_port: int = 0
    listen_fd: int | None = None
    tables: tuple[str, ...] = ()  # the shared stick tables' full names, declaration order
    where: str = ""  # FILE:LINE of the section, for messages
