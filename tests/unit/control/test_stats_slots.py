"""control/slots.py: maxconn connections served at once, the rest waiting up to a backlog."""

from __future__ import annotations

import asyncio
import functools

from pylvs.control.slots import Slots


class Writer:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    async def wait_closed(self) -> None:
        return None


def test_slots_serve_in_turn_refuse_past_the_backlog_and_always_close() -> None:
    async def main() -> None:
        slots = Slots(maxconn=2, backlog=1)
        gate = asyncio.Event()
        running: list[int] = []
        writers = [Writer() for _ in range(5)]

        async def handler(i: int) -> None:
            running.append(i)
            await gate.wait()
            if i == 1:
                raise RuntimeError("a bug in one command")

        tasks = [
            asyncio.create_task(slots.serve(w, functools.partial(handler, i), "test"))
            for i, w in enumerate(writers)
        ]
        for _ in range(5):
            await asyncio.sleep(0)
        assert running == [0, 1]  # two slots
        assert slots.waiting == 1 and slots.refused == 2  # one waits, two refused
        assert writers[3].closed and writers[4].closed
        gate.set()
        await asyncio.gather(*tasks)
        assert running == [0, 1, 2]
        assert all(w.closed for w in writers)

    asyncio.run(main())
