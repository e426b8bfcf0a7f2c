"""Where `pylvs run` logs, with which facility and names (issue 19 item 2)."""

from __future__ import annotations

import logging
import socket
import struct
from pathlib import Path
from typing import TypedDict

import pytest

from pylvs.engine import logsetup
from pylvs.engine.logsetup import (
    JOURNAL_SOCKET,
    SYSLOG_SOCKET,
    choose_destination,
    ident_for,
    journal_datagram,
    parse_facility,
)


class Flags(TypedDict, total=False):
    """choose_destination's command line flags."""

    console: bool
    no_syslog: bool
    daemon: bool
    facility_given: bool


BOTH = {JOURNAL_SOCKET: True, SYSLOG_SOCKET: True}


@pytest.mark.parametrize(
    ("kw", "env", "exists", "expected"),
    [
        ({}, {}, BOTH, "stderr"),  # foreground, no service manager: the terminal
        ({"daemon": True}, {}, BOTH, "syslog"),  # detached: syslog (no journal stream)
        ({}, {"INVOCATION_ID": "x"}, BOTH, "syslog"),
        ({}, {"JOURNAL_STREAM": "1:2"}, BOTH, "journal"),
        ({}, {"JOURNAL_STREAM": "1:2"}, {SYSLOG_SOCKET: True}, "syslog"),
        ({}, {"NOTIFY_SOCKET": "/x"}, {}, "stderr"),  # nowhere else to go
        ({"console": True}, {"JOURNAL_STREAM": "1:2"}, BOTH, "stderr"),  # -l
        ({"no_syslog": True, "daemon": True}, {}, BOTH, "stderr"),  # -G
        ({"facility_given": True}, {}, BOTH, "syslog"),  # -S: the facility is syslog's
        ({"facility_given": True}, {"JOURNAL_STREAM": "1:2"}, BOTH, "syslog"),
    ],
)
def test_one_destination(
    kw: Flags, env: dict[str, str], exists: dict[str, bool], expected: str
) -> None:
    ours = "JOURNAL_STREAM" in env  # systemd gave us that stream as stderr
    got = choose_destination(**kw, environ=env, exists=exists, stderr_is_journal=ours)
    assert got == expected


def test_a_journal_stream_that_is_not_our_stderr_is_not_the_journal() -> None:
    # inherited from a parent service: our stderr went elsewhere since
    env = {"JOURNAL_STREAM": "1:2", "INVOCATION_ID": "x"}
    assert choose_destination(environ=env, exists=BOTH, stderr_is_journal=False) == "syslog"


@pytest.mark.parametrize(
    ("word", "facility"),
    [("0", 16), ("7", 23), ("local3", 19), ("user", 1), ("daemon", 3), ("LOCAL1", 17)],
)
def test_facilities_as_keepalived_s_minus_s(word: str, facility: int) -> None:
    assert parse_facility(word) == facility


@pytest.mark.parametrize("word", ["8", "local8", "kern", "", "1" * 5000])
def test_bad_facilities_are_refused(word: str) -> None:
    with pytest.raises(ValueError, match="invalid log facility"):
        parse_facility(word)


def test_keepalived_process_names_by_part() -> None:
    assert ident_for("pylvs.vrrp", "keepalived") == "Keepalived_vrrp"
    assert ident_for("pylvs.vrrp.manager", "keepalived") == "Keepalived_vrrp"
    assert ident_for("pylvs.health", "keepalived") == "Keepalived_healthcheckers"
    assert ident_for("pylvs.proxy", "keepalived") == "Keepalived"
    assert ident_for("pylvs.vrrpx", "keepalived") == "Keepalived"
    assert ident_for("pylvs.vrrp", "pylvs") == "pylvs"


def test_journal_datagram_fields() -> None:
    data = journal_datagram({"MESSAGE": "one\ntwo", "PRIORITY": "6"})
    assert data == b"MESSAGE\n" + struct.pack("<Q", 7) + b"one\ntwo\nPRIORITY=6\n"


def test_syslog_records_carry_facility_and_keepalived_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "log")
    monkeypatch.setattr(logsetup, "SYSLOG_SOCKET", path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sink:
        sink.bind(path)
        sink.settimeout(5)
        try:
            dest = logsetup.setup_logging(
                destination="syslog", facility=parse_facility("local1"), names="keepalived"
            )
            logging.getLogger("pylvs.vrrp").info("(VI_1) Entering MASTER STATE")
            got = sink.recv(4096)
        finally:
            logsetup.setup_logging(destination="stderr")
    assert dest == "syslog"
    # <priority = facility * 8 + severity>: local1 (17) * 8 + info (6) = 142
    assert got.startswith(b"<142>Keepalived_vrrp[")
    assert got.endswith(b"]: (VI_1) Entering MASTER STATE\x00")


def test_journal_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "journal")
    monkeypatch.setattr(logsetup, "JOURNAL_SOCKET", path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sink:
        sink.bind(path)
        sink.settimeout(5)
        handler = logsetup.JournalHandler(parse_facility("daemon"), path)
        handler.addFilter(logsetup._IdentFilter("keepalived"))
        log = logging.getLogger("pylvs.health.test")
        log.addHandler(handler)
        try:
            log.warning("Removing service [10.0.0.2]:tcp:80")
            fields = dict(line.split("=", 1) for line in sink.recv(4096).decode().splitlines())
        finally:
            log.removeHandler(handler)
            handler.close()
    assert fields["MESSAGE"] == "Removing service [10.0.0.2]:tcp:80"
    assert fields["PRIORITY"] == "4" and fields["SYSLOG_FACILITY"] == "3"
    assert fields["SYSLOG_IDENTIFIER"] == "Keepalived_healthcheckers"


def test_a_journal_that_went_away_drops_records_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = logsetup.JournalHandler(3, str(tmp_path / "gone"))
    log = logging.getLogger("pylvs.test.gone")
    log.addHandler(handler)
    try:
        log.error("Stopping")
    finally:
        log.removeHandler(handler)
        handler.close()
    assert handler.dropped == 1
    assert capsys.readouterr().err == ""
