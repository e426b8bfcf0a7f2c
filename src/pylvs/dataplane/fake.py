"""An in-memory data plane for engine and control tests (principle 6: every interface has a fake).

It applies changes exactly as the real data planes do (same `DataPlaneState`), moves no
packets, and can be told that a client connected (`connect`), which runs the scheduler,
persistence and connection table as the proxy would for an established TCP connection or a
UDP flow.  `fail` makes the next `apply` refuse given services, to exercise the engine's error
path.  Its clock is injectable; `housekeep(now)` is what a real plane's 1 s timer does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from pylvs.model.service import Address, ModelError, Protocol, ServiceKey
from pylvs.model.table import AddService, Change
from pylvs.proto.conntrack.states import TcpEvent, Timeouts
from pylvs.proto.conntrack.table import Conn, ConnEntry

from .base import DataPlane, DataPlaneError, DataPlaneState, change_key
from .service import ServiceRuntime


class FakeDataPlane(DataPlane):
    name: ClassVar[str] = "fake"

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        timeouts: Timeouts | None = None,
        expire_quiescent_template: bool = False,
    ) -> None:
        self.clock = clock
        self.state = DataPlaneState(
            timeouts=timeouts, rng=rng, expire_quiescent_template=expire_quiescent_template
        )
        self.started = False
        self.stopped = False
        self.applied_changes: list[Change] = []
        self._refuse: dict[ServiceKey, str] = {}

    async def start(self) -> None:
        self.started = True

    def fail(self, key: ServiceKey, reason: str) -> None:
        """Refuse AddService for `key` (and its dest changes) from now on with `reason`."""
        self._refuse[key] = reason

    async def apply(self, changes: Sequence[Change]) -> None:
        now = self.clock()
        failures: list[tuple[Change | None, str]] = []
        refused: set[ServiceKey] = set()
        for change in changes:
            key = change_key(change)
            if key in refused:
                continue
            reason = self._refuse.get(key)
            if reason is not None and isinstance(change, AddService):
                refused.add(key)
                failures.append((change, reason))
                continue
            try:
                self.state.apply_one(change, now)
            except ModelError as exc:
                failures.append((change, str(exc)))
                if isinstance(change, AddService):
                    refused.add(key)  # its dest changes are not reported again
            else:
                self.applied_changes.append(change)
        if failures:
            raise DataPlaneError.from_failures(failures)

    def services(self) -> Sequence[ServiceRuntime]:
        return list(self.state.runtimes.values())

    def flow_count(self) -> int:
        return len(self.state.table)

    def connections(self, now: float | None = None) -> list[ConnEntry]:
        return self.state.connections(self.clock() if now is None else now)

    @property
    def timeouts(self) -> Timeouts:
        return self.state.table.timeouts

    def set_timeouts(self, timeouts: Timeouts) -> None:
        self.state.table.timeouts = timeouts

    def zero(self, key: ServiceKey | None = None) -> None:
        self.state.zero(key, self.clock())

    async def stop(self, grace: float) -> None:
        self.stopped = True

    # -- simulated traffic -------------------------------------------------------------

    def connect(
        self, key: ServiceKey, client: Address, client_port: int, now: float | None = None
    ) -> Conn | None:
        """A client connected: schedule it; TCP entries become ESTABLISHED.

        Returns the connection entry, or None when no destination was available.
        """
        now = self.clock() if now is None else now
        rt = self.state.runtimes.get(key)
        if rt is None:
            raise DataPlaneError(f"Service not defined: {key}")
        conn = rt.open_conn(self.state.table, rt.flow(client, client_port), now)
        if conn is not None and key.protocol is Protocol.TCP:
            self.state.table.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, now)
            self.state.table.tcp_event(conn, TcpEvent.BACKEND_CONNECTED, now)
        return conn

    def housekeep(self, now: float | None = None) -> list[Conn]:
        return self.state.housekeep(self.clock() if now is None else now)
