"""What the client and server machines share: events dispatched by type to one method each,
and nothing answered once the machine is closed."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from . import commands as cmd

E = TypeVar("E")
Handler = Callable[[Any, Any, float, list[cmd.Command]], None]


class Machine(abc.ABC, Generic[E]):
    """A connection machine: `handle(event, now)` returns the commands for the driver."""

    handlers: ClassVar[dict[type, Handler]] = {}

    @property
    @abc.abstractmethod
    def closed(self) -> bool:
        """Nothing is answered once this is true (each machine says when it is)."""

    def handle(self, event: E, now: float) -> list[cmd.Command]:
        out: list[cmd.Command] = []
        if not self.closed:
            handler = self.handlers.get(type(event))
            if handler is not None:
                handler(self, event, now, out)
        return out
