"""What each signal does to `pylvs run`: keepalived's meanings, and nothing ends it abruptly.

keepalived (core/main.c `signal_set`, lib/signals.h): SIGHUP reloads, SIGINT and SIGTERM stop,
SIGUSR1 writes the data dumps, SIGUSR2 the VRRP statistics, SIGRTMAX-1 (SIGSTATS_CLEAR) the
statistics and then clears them, SIGRTMIN+2 (SIGJSON) the JSON dump; `keepalived --signum=NAME`
prints these numbers, and so does `pylvs run --signum=NAME`.

Every other signal whose default action would end the process (issue 18 item 2: SIGUSR1 used
to kill pylvs on the spot, leaving its socket, pid file and VIPs behind) is caught too:
SIGQUIT and SIGABRT stop the daemon through its shutdown path like SIGTERM (a service manager
may be configured to send them); the rest (SIGALRM, SIGPROF, SIGVTALRM, SIGIO, SIGPWR,
SIGSTKFLT, SIGXCPU, SIGXFSZ, the real-time signals keepalived gives no meaning) are logged and
ignored.  SIGKILL and SIGSTOP cannot be caught; the synchronous fault signals (SIGSEGV, SIGBUS,
SIGFPE, SIGILL, SIGTRAP, SIGSYS) mean a bug and keep their default.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import signal
from collections.abc import Callable, Mapping

log = logging.getLogger("pylvs")


class Action(enum.Enum):
    STOP = "stop"
    RELOAD = "reload"
    DUMP_DATA = "data"
    DUMP_STATS = "stats"
    CLEAR_STATS = "stats_clear"
    DUMP_JSON = "json"
    IGNORE = "ignore"


SIGJSON = signal.SIGRTMIN + 2
SIGSTATS_CLEAR = signal.SIGRTMAX - 1

# keepalived's --signum names (core/main.c `get_signum`).
SIGNUM_NAMES: dict[str, int] = {
    "STOP": signal.SIGTERM,
    "RELOAD": signal.SIGHUP,
    "DATA": signal.SIGUSR1,
    "STATS": signal.SIGUSR2,
    "STATS_CLEAR": SIGSTATS_CLEAR,
    "JSON": SIGJSON,
}

_MEANINGS: dict[int, Action] = {
    signal.SIGHUP: Action.RELOAD,
    signal.SIGINT: Action.STOP,
    signal.SIGTERM: Action.STOP,
    signal.SIGQUIT: Action.STOP,
    signal.SIGABRT: Action.STOP,
    signal.SIGUSR1: Action.DUMP_DATA,
    signal.SIGUSR2: Action.DUMP_STATS,
    SIGSTATS_CLEAR: Action.CLEAR_STATS,
    SIGJSON: Action.DUMP_JSON,
}

# Default action "terminate" or "core" (signal(7)), not faults, catchable.
_FATAL_BY_DEFAULT = (
    "SIGALRM",
    "SIGPROF",
    "SIGVTALRM",
    "SIGIO",
    "SIGPWR",
    "SIGSTKFLT",
    "SIGXCPU",
    "SIGXFSZ",
)


def signal_table() -> dict[int, Action]:
    """Every signal pylvs run handles, with what it does."""
    table = {
        int(getattr(signal, name)): Action.IGNORE
        for name in _FATAL_BY_DEFAULT
        if hasattr(signal, name)
    }
    for rt in range(signal.SIGRTMIN, signal.SIGRTMAX + 1):
        table[rt] = Action.IGNORE
    table.update({int(k): v for k, v in _MEANINGS.items()})
    return table


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        if signal.SIGRTMIN <= signum <= signal.SIGRTMAX:
            return f"SIGRTMIN+{signum - signal.SIGRTMIN}"
        return f"signal {signum}"


def install(
    loop: asyncio.AbstractEventLoop, actions: Mapping[Action, Callable[[], object]]
) -> Callable[[], None]:
    """Handle every signal of `signal_table()` on `loop`; returns the undo.

    An action missing from `actions` is logged as not available rather than left to its
    default (which could end the process).
    """
    table = signal_table()

    def handler(signum: int, action: Action) -> None:
        fn = actions.get(action)
        name = signal_name(signum)
        if action is Action.IGNORE:
            log.info("Received %s: ignored (pylvs gives it no meaning)", name)
        elif fn is None:
            log.info("Received %s (%s): not available here, ignored", name, action.value)
        else:
            log.debug("Received %s: %s", name, action.value)
            fn()

    for signum, action in table.items():
        loop.add_signal_handler(signum, handler, signum, action)

    def undo() -> None:
        for signum in table:
            loop.remove_signal_handler(signum)

    return undo
