"""cli/main.py: the `pylvs` program starts without the cyclic collector, and every command
runs with it (why: the comment in `main`).

A probe sub-command is put in COMMANDS (monkeypatched): it records whether the collector is on
while its parser is built (start-up) and while it runs.
"""

from __future__ import annotations

import argparse
import gc
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from pylvs.cli import codecache, main

PROBE = "pylvs.cli._gc_probe"


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    seen: dict[str, bool] = {}
    module = types.ModuleType(PROBE)

    def add_parser(sub: Any) -> None:
        seen["start-up"] = gc.isenabled()
        sub.add_parser("gcprobe")

    def run(_args: argparse.Namespace) -> int:
        seen["run"] = gc.isenabled()
        return 3

    module.add_parser = add_parser  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, PROBE, module)
    monkeypatch.setitem(main.COMMANDS, "gcprobe", "_gc_probe")
    monkeypatch.setattr(codecache, "install", lambda _name: None)  # this process's dataclasses
    was = gc.isenabled()
    gc.enable()
    try:
        yield seen
    finally:
        if not was:
            gc.disable()


def test_the_program_starts_without_the_collector_and_runs_the_command_with_it(
    probe: dict[str, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["pylvs", "gcprobe"])
    assert main.main() == 3
    assert probe == {"start-up": False, "run": True}
    assert gc.isenabled()


def test_the_collector_is_back_when_the_command_line_is_refused(
    probe: dict[str, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["pylvs", "gcprobe", "--no-such-option"])
    with pytest.raises(SystemExit):
        main.main()
    assert probe == {"start-up": False}
    assert gc.isenabled()


def test_a_caller_of_main_keeps_its_collector_as_it_is(probe: dict[str, bool]) -> None:
    assert main.main(["gcprobe"]) == 3
    assert probe == {"start-up": True, "run": True}
