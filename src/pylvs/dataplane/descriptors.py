"""How many descriptors a daemon keeps free for itself, whatever its data plane takes.

A user-space proxy holds two descriptors per relayed connection; if it may take them all,
the rest of the daemon (health checks, the control socket's clients, VRRP, notify scripts)
fails for want of one, and a director whose checks fail takes its real servers out.  So the
data plane gets a cap (`DataPlane.keep_free`) below the process's limit, and the rest of the
daemon keeps `reserve_for(...)` descriptors on top of what it has open already.

The accounting is HAProxy's (haproxy.c, 2.6: `global.maxsock` starts with 10 reserved
descriptors and grows by the listeners, one per server check, the CLI's and the peers'
maxconn, before 2 per connection): a few for the process itself, a probe's worth per checker
(a socket, or a MISC_CHECK's pipes and its child), a few per VRRP instance (its sockets, the
netlink and gratuitous-ARP ones it shares), and the control socket's concurrent clients.
"""

from __future__ import annotations

# For the process itself: logging, the resolver, a notify script's pipes, a reload's reads.
PROCESS_RESERVE = 16
# Per checker: a TCP/HTTP/SMTP/DNS/UDP probe holds one socket; a MISC_CHECK's child holds
# three pipes and a pidfd while it runs.
PER_CHECKER = 4
# Per VRRP instance: its send and receive sockets, plus its share of the ARP/NA ones.
PER_VRRP_INSTANCE = 4
# Control-socket clients served at once (`pylvs ipvsadm`, `status`, `reload`); the daemon
# passes its control server's own bound (pylvs.control.server.IN_FLIGHT).
CONTROL_CLIENTS = 64


def reserve_for(checkers: int, vrrp_instances: int, control_clients: int = CONTROL_CLIENTS) -> int:
    """Descriptors the daemon must keep free besides what it has open now."""
    return (
        PROCESS_RESERVE
        + PER_CHECKER * max(0, checkers)
        + PER_VRRP_INSTANCE * max(0, vrrp_instances)
        + max(0, control_clients)
    )
