"""A destination as the schedulers see it: configuration plus live counters.

This is the runtime half of the kernel's `struct ip_vs_dest`: weight and `last_weight`,
thresholds, the active / inactive / persistent connection counters and the AVAILABLE and
OVERLOAD flags.  The counter rules are those of net/netfilter/ipvs/ip_vs_conn.c
(`ip_vs_bind_dest`, `ip_vs_unbind_dest`) and ip_vs_ctl.c (`__ip_vs_update_dest`); see
reference §1.1-1.2.  Mutable on purpose: the data plane updates it on every connection and the
schedulers read it on every pick.
"""

from __future__ import annotations

from pylvs.model.service import Address, ForwardMethod, RealServer, format_addr_port


class Destination:
    """Live state of one real server inside one virtual service."""

    __slots__ = (
        "activeconns",
        "address",
        "available",
        "config",
        "host",
        "inactconns",
        "l_threshold",
        "last_weight",
        "overloaded",
        "persistconns",
        "port",
        "u_threshold",
        "weight",
    )

    def __init__(self, config: RealServer) -> None:
        self.config = config
        self.address: Address = config.address
        # The address as socket calls take it, made once: str() of an ipaddress is slow and
        # the proxy connects to this dest once per connection.  The address never changes
        # (it is half of the dest's key).
        self.host = str(config.address)
        self.port = config.port
        self.weight = config.weight
        # "keep the last_weight with latest non-0 weight" (__ip_vs_update_dest): set on add.
        self.last_weight = config.weight
        self.u_threshold = config.u_threshold
        self.l_threshold = config.l_threshold
        self.activeconns = 0
        self.inactconns = 0
        self.persistconns = 0
        self.overloaded = False
        self.available = True

    @property
    def method(self) -> ForwardMethod:
        return self.config.method

    @property
    def key(self) -> tuple[Address, int]:
        return (self.address, self.port)

    def update(self, config: RealServer) -> None:
        """Apply an edit (`ipvsadm -e`), as __ip_vs_update_dest does for an existing dest."""
        old_u = self.u_threshold
        self.config = config
        self.weight = config.weight
        if config.weight != 0:
            self.last_weight = config.weight
        self.u_threshold = config.u_threshold
        self.l_threshold = config.l_threshold
        self.available = True
        if config.u_threshold == 0 or config.u_threshold > old_u:
            self.overloaded = False

    # -- connection accounting (ip_vs_conn.c) ------------------------------------------

    def total_conns(self) -> int:
        """ip_vs_dest_totalconns: active + inactive; persistent templates are not counted."""
        return self.activeconns + self.inactconns

    def overhead(self) -> int:
        """ip_vs_dest_conn_overhead (include/net/ip_vs.h): activeconns*256 + inactconns."""
        return (self.activeconns << 8) + self.inactconns

    def bind(self, *, active: bool = False, template: bool = False) -> None:
        """A connection (or persistence template) was bound to this destination."""
        if template:
            self.persistconns += 1
        elif active:
            self.activeconns += 1
        else:
            self.inactconns += 1
        if self.u_threshold != 0 and self.total_conns() >= self.u_threshold:
            self.overloaded = True

    def unbind(self, *, active: bool = False, template: bool = False) -> None:
        """A connection (or template) bound to this destination expired."""
        if template:
            self.persistconns = max(0, self.persistconns - 1)
        elif active:
            self.activeconns = max(0, self.activeconns - 1)
        else:
            self.inactconns = max(0, self.inactconns - 1)
        self._maybe_clear_overload()

    def recount(self, active: int, inactive: int, persistent: int) -> None:
        """Counts read from the kernel's own tables (the nftables data plane reads conntrack
        each round instead of seeing every bind and unbind): the overload flag follows them
        with the same rules — set at u_threshold, cleared below l_threshold or 3/4 of it."""
        self.activeconns, self.inactconns, self.persistconns = active, inactive, persistent
        if self.u_threshold != 0 and self.total_conns() >= self.u_threshold:
            self.overloaded = True
        elif self.overloaded:
            self._maybe_clear_overload()

    def _maybe_clear_overload(self) -> None:
        """ip_vs_unbind_dest: the OVERLOAD flag goes when the count drops low enough."""
        total = self.total_conns()
        if self.l_threshold != 0:
            if total < self.l_threshold:
                self.overloaded = False
        elif self.u_threshold != 0:
            if total * 4 < self.u_threshold * 3:
                self.overloaded = False
        else:
            self.overloaded = False

    def set_active(self, active: bool) -> None:
        """A TCP connection moved between the active and inactive counters (set_tcp_state)."""
        if active:
            self.inactconns = max(0, self.inactconns - 1)
            self.activeconns += 1
        else:
            self.activeconns = max(0, self.activeconns - 1)
            self.inactconns += 1

    def __repr__(self) -> str:
        return (
            f"Destination({format_addr_port(self.address, self.port)} w={self.weight} "
            f"act={self.activeconns} inact={self.inactconns} ovl={self.overloaded})"
        )
