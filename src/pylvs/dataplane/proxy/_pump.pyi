"""Types of the C fast path (_pump.c, _body.h, _chunked.h, _splice.h, _balance.h)."""

from collections.abc import Callable

DATA: int
EOF_SHUT: int
EOF_CLOSE: int
LENGTH: int
CHUNKED: int
BODY_SENT: int
BODY_LAST: int
BODY_REFUSED: int
BODY_CUT: int
SPLICE_CLOSED: int
SPLICE_CLIENT_FAILED: int
SPLICE_SERVER_FAILED: int
ROUNDROBIN: int
STATIC_RR: int

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
        body: Callable[[int, int, int, int, bytes | None], None] | None = ...,
        done: Callable[[int, int, int, int, int, int, int, float], None] | None = ...,
    ) -> None: ...
    def run(self) -> None: ...
    def set(self, fd: int, peer: int, mode: int = ...) -> None: ...
    def set_body(self, fd: int, peer: int, mode: int, size: int, left: int = ..., /) -> None: ...
    def resume(self, fd: int, peer: int) -> None: ...
    def splice(self, cfd: int, sfd: int, notify: bool = ..., /) -> None: ...
    def connect_splice(
        self, cfd: int, host: str, port: int, v6: bool, notify: bool, /
    ) -> tuple[int, int]: ...
    def kill(self, cfd: int, reset: bool, /) -> tuple[int, int, int, int, float]: ...
    def clear(self, fd: int) -> tuple[int, int, float] | None: ...
    def harvest(self) -> list[tuple[int, int, int, float]]: ...
    def drop(self, fd: int) -> None: ...
    def close(self) -> None: ...

class Dechunker:
    def __init__(self, cap: int) -> None: ...
    def feed(self, data: bytes | bytearray | memoryview, /) -> tuple[bytes, int]: ...
    def state(self) -> tuple[int, int, int, bytes]: ...

_Tree = list[tuple[int, int]]

class Balancer:
    def load(
        self,
        kind: int,
        servers: list[tuple[int, int, int, int, int, int, int]],
        group: tuple[int, int, int, int, _Tree, _Tree, _Tree] | tuple[int, int, list[int]],
        /,
    ) -> None: ...
    def dump(
        self,
    ) -> tuple[int, int, _Tree, _Tree, _Tree, list[tuple[int, int, int]]] | tuple[int]: ...
    def pick(self) -> int: ...
    @property
    def picks(self) -> int: ...
