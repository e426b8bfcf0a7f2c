"""DeadlineTimer: wakes the VRRP scheduler at the microsecond deadline, never before it.

asyncio's epoll timers round the wait up to whole milliseconds; the timerfd is armed with the
absolute CLOCK_MONOTONIC time (keepalived's scheduler), which these tests read back."""

import asyncio
import ctypes
import time

import pytest

from pylvs.vrrp.deadline import DeadlineTimer, _Itimerspec, _libc


def now_us() -> int:
    return time.monotonic_ns() // 1000


def remaining_us(timer: DeadlineTimer) -> int:
    libc = _libc()
    assert libc is not None
    spec = _Itimerspec()
    assert libc.timerfd_gettime(timer._fd, ctypes.byref(spec)) == 0
    return int(spec.it_value.tv_sec) * 1_000_000 + int(spec.it_value.tv_nsec) // 1000


async def fire_times(arms: list[int | None], wait: float) -> tuple[list[int], DeadlineTimer]:
    fired: list[int] = []
    timer = DeadlineTimer(asyncio.get_running_loop(), lambda: fired.append(now_us()))
    try:
        for deadline in arms:
            timer.arm(deadline)
        await asyncio.sleep(wait)
    finally:
        timer.close()
    return fired, timer


def test_armed_with_the_exact_absolute_deadline() -> None:
    async def main() -> tuple[int, int, int, int]:
        timer = DeadlineTimer(asyncio.get_running_loop(), lambda: None)
        try:
            assert timer.precise
            deadline = now_us() + 250_123
            timer.arm(deadline)
            before = now_us()
            left = remaining_us(timer)
            after = now_us()
            return deadline, before, left, after
        finally:
            timer.close()

    deadline, before, left, after = asyncio.run(main())
    # The time left, read between two clock reads, brackets the deadline to the microsecond
    # (a millisecond-rounded timer would overshoot by up to 1000 us): no load can break this.
    assert before + left - 1 <= deadline <= after + left + 1


def test_fires_once_at_the_deadline_never_before() -> None:
    deadline = now_us() + 30_000
    fired, _ = asyncio.run(fire_times([deadline], 0.1))
    assert len(fired) == 1  # within the 0.1 s wait
    assert deadline <= fired[0]


def test_rearming_earlier_moves_the_deadline_and_none_disarms() -> None:
    start = now_us()
    fired, _ = asyncio.run(fire_times([start + 80_000, start + 20_000], 0.15))
    assert len(fired) == 1 and start + 20_000 <= fired[0] < start + 80_000
    fired, _ = asyncio.run(fire_times([now_us() + 20_000, None], 0.06))
    assert fired == []


@pytest.mark.parametrize("past", [0, 1, 5_000])
def test_a_deadline_already_past_fires_at_once(past: int) -> None:
    deadline = now_us() - past
    fired, _ = asyncio.run(fire_times([deadline], 0.03))
    assert len(fired) == 1 and fired[0] >= deadline  # within the 0.03 s wait
