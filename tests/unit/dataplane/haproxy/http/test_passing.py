"""What a body's pass does when the C path spills (dataplane/haproxy/http/passing.py): the
rest is written to the peer in Python, and the pass waits for the peer's drain only while
bytes are queued there.  A peer that took the rest at once (it read meanwhile on another
CPU) sends no drain event: a pass held then stayed held until the peer gave up (4 curl
uploads through nginx stalled 5 s, its lingering close)."""

from __future__ import annotations

from typing import Any

from pylvs.dataplane.haproxy.http.endpoint import BODY
from pylvs.dataplane.haproxy.http.passing import Pass, Passing
from pylvs.dataplane.proxy.poller import DATA
from pylvs.proto.relay.body import BodyMode


class Poller:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def resume_body(self, fd: int, peer: int) -> None:
        self.calls.append(("resume_body", fd, peer))

    def make_fast(self, fd: int, peer: int, owner: Any, end: Any, mode: int) -> None:
        self.calls.append(("make_fast", fd, peer))

    def unfast(self, fd: int) -> None:
        self.calls.append(("unfast", fd, -1))


class End:
    """An Endpoint's part the pass uses; `room`: bytes its socket takes before it is full."""

    def __init__(self, fd: int, room: int = 1 << 30) -> None:
        self.fd = fd
        self.room = room
        self.queue: list[bytes] = []
        self.holds = 0
        self.connected = True
        self.closed = False
        self.h1 = None
        self.passing: Any = None
        self.passing_to: Any = None

    @property
    def backlog(self) -> bool:
        return bool(self.queue)

    def write(self, data: bytes) -> None:
        if len(data) > self.room:
            self.queue.append(data[self.room :])
        self.room = max(0, self.room - len(data))

    def hold(self, who: int) -> None:
        self.holds |= who

    def release(self, who: int) -> None:
        self.holds &= ~who


def passing(mode: int, dst_room: int) -> tuple[Passing, Poller, End, End]:
    poller = Poller()
    owner = Passing(None, poller)  # type: ignore[arg-type]  # the session is not used here
    src, dst = End(5), End(7, dst_room)
    p = Pass(owner, src, dst, None, mode, True)  # type: ignore[arg-type]
    owner.passes[src.fd] = p
    return owner, poller, src, dst


def test_a_rest_the_peer_takes_at_once_goes_on_in_c_at_once() -> None:
    owner, poller, src, _dst = passing(int(BodyMode.LENGTH), dst_room=1 << 20)
    owner.spilled(src, b"x" * 4096, 0)
    assert poller.calls == [("resume_body", 5, 7)]
    assert not src.holds & BODY
    assert not owner.passes[5].spilled


def test_a_rest_the_peer_cannot_take_holds_the_source_until_it_drains() -> None:
    owner, poller, src, dst = passing(int(BodyMode.LENGTH), dst_room=1000)
    owner.spilled(src, b"x" * 4096, 0)
    assert poller.calls == []
    assert src.holds & BODY
    assert owner.passes[5].spilled
    assert dst.queue == [b"x" * 3096]  # its drain event resumes the pass (check)


def test_a_tunnel_taken_at_once_is_made_fast_again() -> None:
    owner, poller, src, _dst = passing(DATA, dst_room=1 << 20)
    owner.spilled(src, b"y" * 100, 0)
    assert poller.calls == [("unfast", 5, -1), ("make_fast", 5, 7)]
    assert not src.holds & BODY
