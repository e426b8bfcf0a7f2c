"""The signal table of `pylvs run`: keepalived's meanings, and no default death left."""

from __future__ import annotations

import signal

from pylvs.engine.signals import SIGNUM_NAMES, Action, signal_name, signal_table

# signal(7): default action Term or Core, catchable, not a synchronous fault.
FATAL = {
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGABRT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGIO", "SIGPWR",
}  # fmt: skip


def test_every_signal_that_would_end_the_process_is_handled() -> None:
    table = signal_table()
    for name in FATAL:
        assert getattr(signal, name) in table, name
    for rt in range(signal.SIGRTMIN, signal.SIGRTMAX + 1):
        assert rt in table
    for name in ("SIGKILL", "SIGSTOP", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGCHLD"):
        assert getattr(signal, name) not in table, name


def test_keepalived_s_meanings() -> None:
    table = signal_table()
    assert table[signal.SIGHUP] is Action.RELOAD
    assert table[signal.SIGTERM] is table[signal.SIGINT] is Action.STOP
    assert table[signal.SIGUSR1] is Action.DUMP_DATA
    assert table[signal.SIGUSR2] is Action.DUMP_STATS
    assert table[signal.SIGRTMAX - 1] is Action.CLEAR_STATS
    assert table[signal.SIGRTMIN + 2] is Action.DUMP_JSON
    assert table[signal.SIGALRM] is Action.IGNORE


def test_signum_numbers_are_keepalived_s() -> None:
    # `keepalived --signum=X` on this machine (2.2.7): 15 1 10 12 63 36
    assert [SIGNUM_NAMES[n] for n in ("STOP", "RELOAD", "DATA", "STATS", "STATS_CLEAR")] == [
        15, 1, 10, 12, 63,
    ]  # fmt: skip
    assert SIGNUM_NAMES["JSON"] == 36
    assert signal_name(signal.SIGRTMIN + 5) == "SIGRTMIN+5" and signal_name(10) == "SIGUSR1"
