"""`pylvs ipvsadm` when no daemon answers: ipvsadm's `fail(2, "Can't initialize ipvs: ...")`."""

from pathlib import Path

import pytest

from pylvs.cli import ipvsadm as cli
from pylvs.control.protocol import ProtocolError


def test_no_daemon_exits_2_like_ipvsadm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--control", str(tmp_path / "absent.sock"), "-Ln"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Can't initialize ipvs: no pylvs daemon answers on ")


def test_socket_error_after_connecting_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_a: object, **_k: object) -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr("pylvs.control.client.call", broken)
    assert cli.main(["--control", "/nonexistent/pylvs.sock", "-Ln"]) == 2
    assert capsys.readouterr().err.startswith("pylvs ipvsadm: ")


def test_protocol_error_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def garbled(*_a: object, **_k: object) -> None:
        raise ProtocolError("bad reply")

    monkeypatch.setattr("pylvs.control.client.call", garbled)
    assert cli.main(["--control", "/nonexistent/pylvs.sock", "-Ln"]) == 2
    assert capsys.readouterr().err == "pylvs ipvsadm: bad reply\n"


def test_help_and_version_need_no_daemon(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.sock")
    assert cli.main(["--control", path, "-v"]) == 0
    assert cli.main(["--control", path, "-h"]) == 0
