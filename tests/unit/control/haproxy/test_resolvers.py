"""`show resolvers` and `show stat domain resolvers` against haproxy 2.6.12's answers on the
same configuration (tests/data/haproxy/resolvers/show_zero.json: two sections, the second
HAProxy's own `default` from /etc/resolv.conf, no query sent yet)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts
from pylvs.control.haproxy.resolvers import show_resolvers, stat_resolvers

DATA = json.loads(
    (Path(__file__).parents[3] / "data" / "haproxy" / "resolvers" / "show_zero.json").read_text()
)


def _sections() -> list[tuple[object, list[dict[str, int]]]]:
    # the capture's host had one nameserver in /etc/resolv.conf
    host = HostFacts(read_file=lambda path: b"nameserver 10.255.255.53\n")
    config = load_text(DATA["config"], "d.cfg", host=host).config
    return [(s, [{} for _ in s.nameservers]) for s in config.resolvers]


@pytest.mark.parametrize(
    ("command", "fmt", "desc"),
    [
        ("show stat domain resolvers", "csv", False),
        ("show stat domain resolvers typed", "typed", False),
        ("show stat domain resolvers json", "json", False),
        ("show stat domain resolvers desc typed", "typed", True),
    ],
)
def test_stat_domain_resolvers(command: str, fmt: str, desc: bool) -> None:
    got = stat_resolvers(_sections(), fmt, desc)  # type: ignore[arg-type]
    assert got.rstrip("\n") == DATA["answers"][command].rstrip("\n")


def test_show_resolvers() -> None:
    sections = _sections()
    got = show_resolvers(sections, None)  # type: ignore[arg-type]
    assert got is not None
    assert got.rstrip("\n") == DATA["answers"]["show resolvers"].rstrip("\n")
    one = show_resolvers(sections, "default")  # type: ignore[arg-type]
    assert one is not None and one.startswith("Resolvers section default\n")
    assert "ns1" not in one
    assert show_resolvers(sections, "nope") is None  # type: ignore[arg-type]
    assert show_resolvers([], None) == "No resolvers found\n"


def test_counters_in_their_column() -> None:
    sections = _sections()
    sections[0][1][0].update(sent=12, outdated=3)
    got = show_resolvers(sections, "dns")  # type: ignore[arg-type]
    assert got is not None
    assert "  sent:        12\n" in got and "  outdated:    3\n" in got
    csv = stat_resolvers(sections, "csv", False)  # type: ignore[arg-type]
    assert "\nns1,dns,12,0,0,0,0,0,0,0,0,0,0,0,0,0,3,\n" in csv
