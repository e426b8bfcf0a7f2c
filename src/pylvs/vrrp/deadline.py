"""Wake the VRRP scheduler at a deadline in monotonic microseconds, on time to the microsecond.

asyncio's own timers wait in `epoll_wait`, whose timeout is whole milliseconds rounded up
(selectors.EpollSelector), so a master-down timer fires up to 1 ms late — keepalived arms a
timerfd at the exact time (lib/scheduler.c `thread_set_timer`, TFD_TIMER_ABSTIME).  This does
the same on Linux: a CLOCK_MONOTONIC timerfd (timerfd_create(2)) armed with the absolute
deadline — the clock `time.monotonic_ns()` reads — and watched by the event loop, so the
callback runs in the loop as soon as the kernel marks the descriptor readable.  Where timerfd
is missing (not Linux) `loop.call_at` stands in.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import time
from collections.abc import Callable

CLOCK_MONOTONIC = 1
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC
TFD_TIMER_ABSTIME = 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.timerfd_create.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.timerfd_settime.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(_Itimerspec),
            ctypes.POINTER(_Itimerspec),
        ]
    except (OSError, AttributeError):
        return None
    return libc


class DeadlineTimer:
    """Calls `callback` once at the last `arm(deadline_us)`; `arm(None)` disarms."""

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        self.loop = loop
        self.callback = callback
        self.deadline: int | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._libc = _libc()
        self._fd = -1
        if self._libc is not None:
            self._fd = self._libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
        if self._fd >= 0:
            loop.add_reader(self._fd, self._expired)

    @property
    def precise(self) -> bool:
        """True when a timerfd does the waiting (else the loop's millisecond timers)."""
        return self._fd >= 0

    def arm(self, deadline_us: int | None) -> None:
        if deadline_us == self.deadline:
            return
        self.deadline = deadline_us
        if self._fd >= 0 and self._libc is not None:
            self._set(deadline_us)
            return
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if deadline_us is not None:
            # loop.time() is time.monotonic(): the same clock as the deadline.
            when = self.loop.time() + (deadline_us - time.monotonic_ns() // 1000) / 1e6
            self._handle = self.loop.call_at(when, self._fire)

    def _set(self, deadline_us: int | None) -> None:
        assert self._libc is not None
        spec = _Itimerspec()
        if deadline_us is not None:
            sec, usec = divmod(max(deadline_us, 0), 1_000_000)
            # An all-zero it_value would disarm: a deadline at 0 fires 1 ns in instead.
            nsec = usec * 1000 if sec or usec else 1
            spec.it_value.tv_sec, spec.it_value.tv_nsec = sec, nsec
        if self._libc.timerfd_settime(self._fd, TFD_TIMER_ABSTIME, spec, None) < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    def _expired(self) -> None:
        try:
            os.read(self._fd, 8)
        except BlockingIOError:
            return  # re-armed since it fired: nothing is due
        self._fire()

    def _fire(self) -> None:
        self._handle = None
        self.deadline = None
        self.callback()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._fd >= 0:
            self.loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1
