"""What every listener of the proxy shares: the data-plane state, clock and tuning knobs.

Also the definition of what the proxy counts, since a user-space proxy never sees packets:

* TCP: one *packet in* is one chunk read from the client socket (one recv(2), at most
  `read_size` bytes), one *packet out* one chunk read from the real server; *bytes* are
  payload bytes (no IP/TCP headers, unlike the kernel's skb->len).  Connection set-up and
  teardown segments are not counted.
* UDP: one packet is one datagram, bytes are its payload.

`conns` counts connections scheduled (TCP accepts, UDP flows, and every datagram under
one-packet scheduling), as ip_vs_conn_stats does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from pylvs.dataplane.base import DataPlaneState
from pylvs.model.dest import Destination
from pylvs.proto.relay import RelayParams

from .descriptors import Descriptors
from .poller import Poller

log = logging.getLogger("pylvs.proxy")


@dataclass(slots=True)
class ProxyContext:
    state: DataPlaneState
    clock: Callable[[], float]
    connect_timeout: float = 5.0
    # Write-buffer marks: above `high_water` bytes queued towards one side, the proxy stops
    # reading from the other side until the queue drains below `low_water`.
    high_water: int = 256 * 1024
    low_water: int = 64 * 1024
    # Receive buffer of each backend UDP socket read.
    udp_read_size: int = 65535
    # Largest TCP chunk read at once (the relays' one shared buffer): large enough that bulk
    # transfers take few system calls.
    read_size: int = 256 * 1024
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _poller: Poller | None = None
    # Real servers that are the proxy's own listening addresses (plane.py): refused.
    loops: set[Destination] = field(default_factory=set)
    # The proxy's own descriptors against its cap (descriptors.py).
    fds: Descriptors = field(default_factory=Descriptors)
    # What every TCP relay machine is given (made from the knobs above).
    relay: RelayParams = field(init=False)
    # Datagrams and connections dropped since start, by reason (metrics; `drop`).
    drops: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.relay = RelayParams(self.high_water, self.low_water, self.connect_timeout)

    def drop(self, reason: str) -> None:
        """Count one datagram or connection dropped for `reason` (DataPlane.drops)."""
        self.drops[reason] = self.drops.get(reason, 0) + 1

    def poller(self, loop: asyncio.AbstractEventLoop) -> Poller:
        """The epoll set every TCP socket of the plane is driven by (made on first use)."""
        if self._poller is None:
            # The C path dates relayed chunks on CLOCK_MONOTONIC (time.monotonic): a plane
            # on another clock (tests moving time by hand) runs the pure-Python path.
            self._poller = Poller(self.read_size, pump=self.clock is time.monotonic)
            log.info(
                "proxy: TCP relays run %s",
                "with the C fast path"
                if self._poller.pump is not None
                else "in pure Python (C fast path not built or switched off)",
            )
        self._poller.attach(loop)
        return self._poller

    @property
    def current_poller(self) -> Poller | None:
        """The poller if one was made (no loop needed)."""
        return self._poller

    def close_poller(self) -> None:
        if self._poller is not None:
            self._poller.close()
            self._poller = None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `coro` as a task the plane owns (cancelled on stop)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task
