"""cli/hostfacts.py `HostInterfaces`: this host's interface names, read on the first look-up."""

from __future__ import annotations

import socket

import pytest

from pylvs.cli.hostfacts import HostInterfaces, host_facts


def test_names_are_this_hosts_interfaces() -> None:
    names = {n for _, n in socket.if_nameindex()}
    interfaces = HostInterfaces()
    for name in names:
        assert name in interfaces
    assert "pylvs-no-such0" not in interfaces
    assert host_facts().interfaces is not None


def test_read_once_and_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake() -> list[tuple[int, str]]:
        calls.append(1)
        return [(1, "lo"), (2, "eth0")]

    monkeypatch.setattr(socket, "if_nameindex", fake)
    interfaces = HostInterfaces()
    assert calls == []
    assert "eth0" in interfaces and "eth1" not in interfaces and "lo" in interfaces
    assert calls == [1]


def test_unreadable_interfaces_are_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> list[tuple[int, str]]:
        raise OSError("no netlink")

    monkeypatch.setattr(socket, "if_nameindex", fail)
    assert "anything" in HostInterfaces()


def test_host_name_is_what_gethostname_says() -> None:
    assert host_facts().hostname == socket.gethostname()
