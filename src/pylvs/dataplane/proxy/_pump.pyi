"""Types of the C fast path (_pump.c)."""

from collections.abc import Callable

DATA: int
EOF_SHUT: int
EOF_CLOSE: int

class Pump:
    def __init__(
        self,
        epfd: int,
        size: int,
        handlers: dict[int, Callable[[int], None]],
        spill: Callable[[int, bytes | None, int], None],
        report: Callable[[int, BaseException], None],
        batch: int = ...,
        ended: Callable[[int, int], None] | None = ...,
    ) -> None: ...
    def run(self) -> None: ...
    def set(self, fd: int, peer: int, mode: int = ...) -> None: ...
    def clear(self, fd: int) -> tuple[int, int, float] | None: ...
    def harvest(self) -> list[tuple[int, int, int, float]]: ...
    def drop(self, fd: int) -> None: ...
    def close(self) -> None: ...
