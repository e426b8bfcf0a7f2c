"""`pylvs haproxy`'s command line read as HAProxy 2.6's init() reads it (src/haproxy.c)."""

from __future__ import annotations

import pytest

from pylvs.cli.haproxy_args import AlertError, UsageError, parse


def test_the_common_service_command_line() -> None:
    o = parse(["-Ws", "-f", "/etc/haproxy/haproxy.cfg", "-p", "/run/haproxy.pid", "-S",
               "/run/haproxy-master.sock"])  # fmt: skip
    assert (o.master_worker, o.systemd, o.foreground) == (True, True, True)
    assert o.files == ["/etc/haproxy/haproxy.cfg"]
    assert o.pidfile == "/run/haproxy.pid"
    assert o.master_cli == ["/run/haproxy-master.sock"]


def test_flags_are_read_by_their_first_letters() -> None:
    o = parse(["-dbx", "-dW", "-dD", "-dr", "-de", "-dS", "-d", "-qq", "-V"])
    assert o.foreground and o.zero_warning and o.diag and o.resolve_dontfail and o.debug
    assert o.machinery == ["e", "S"]
    assert o.quiet and o.verbose


def test_version_answers_at_once() -> None:
    assert parse(["-c", "-vv", "-Z", "not-a-flag"]).version == 2
    assert parse(["-vx"]).version == 1


def test_old_pids_take_the_words_until_the_next_flag() -> None:
    o = parse(["-st", "12", " 13", "-f", "a.cfg", "-sf", "14"])
    assert o.old_pids == [12, 13, 14]
    assert o.old_pids_signal == "USR1"  # the last of -sf/-st decides, as in HAProxy
    assert parse(["-st", "7"]).old_pids_signal == "TERM"


@pytest.mark.parametrize("words", [["-sf", "abc"], ["-sf", "12x"]])
def test_a_pid_with_garbage_is_an_alert(words: list[str]) -> None:
    with pytest.raises(AlertError, match="-sf option: some bytes unconsumed in PID list"):
        parse(words)


@pytest.mark.parametrize("words", [["cfg"], ["-Z"], ["-sf", "0"], ["-x"], ["-C", "x", "y"]])
def test_usage(words: list[str]) -> None:
    with pytest.raises(UsageError):
        parse(words)


def test_a_flag_missing_its_value_fails_before_anything_else() -> None:
    # copy_argv runs first: even -v after it is not reached
    with pytest.raises(AlertError, match="failed to copy argv"):
        parse(["-v", "-p"])


def test_double_dash_ends_the_flags() -> None:
    o = parse(["-c", "--", "-a.cfg", "b.cfg"])
    assert o.files == ["-a.cfg", "b.cfg"] and o.check


def test_values() -> None:
    o = parse(["-n", "100x", "-N", "7", "-m", "64", "-L", "peer1", "-C", "/etc", "-x", "/s"])
    assert (o.maxconn, o.maxpconn, o.memmax) == (100, 7, 64)  # atol: the leading number
    assert (o.local_peer, o.change_dir, o.old_socket) == ("peer1", "/etc", "/s")
    assert parse(["-cc", "1 && 0"]).condition == "1 && 0"
    assert parse(["-S", "a", "-S", "b"]).master_cli == ["b", "a"]  # LIST_INSERT
    assert parse(["-x", "a", "-x", "b"]).warnings == [
        "-x option already set, overwriting the value"
    ]
