"""The master CLI's own answers and routing (cli/haproxy_mcli.py) against what the real haproxy
2.6.12 master answered (tests/data/haproxy/cli/goldens.json, recorded by capture_cli.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pylvs.cli.haproxy_mcli import (
    Proc,
    Relay,
    master_answer,
    route,
    show_proc,
    split_commands,
    target_pid,
)
from pylvs.cli.haproxy_msgs import FULL_VERSION

MASTER = json.loads(
    (Path(__file__).parents[2] / "data" / "haproxy" / "cli" / "goldens.json").read_text()
)["master"]
PROCS = [Proc(23154, "worker", started=0), Proc(23153, "foo", program=True, started=0)]


def answer(line: str) -> str:
    """The master's whole answer to `line`, as its CLI loop writes it (relays excluded)."""
    out, level = "", "admin"
    for command in split_commands(line):
        words, where = route(command.split(), PROCS)
        assert not isinstance(where, Relay)
        if isinstance(where, str):
            out += where
            continue
        text, level = master_answer(words, level)
        out += text + "\n" if text else ""
    return out


@pytest.mark.parametrize(
    "name",
    ["help", "unknown", "worker-command-on-master", "no-such-worker", "no-such-pid", "level"],
)
def test_like_haproxys_master(name: str) -> None:
    commands = {
        "help": "help",
        "unknown": "bogus",
        "worker-command-on-master": "show info",
        "no-such-worker": "@2 show info",
        "no-such-pid": "@!1 show info",
        "level": "operator; show cli level",
    }
    assert answer(commands[name]) == MASTER[name]


def test_show_version() -> None:
    assert answer("show version").replace(FULL_VERSION, "VERSION") == MASTER["version"]


def test_show_proc_is_haproxys_table() -> None:
    ours = show_proc(23151, (0, 0), 0, PROCS, 1) + "\n"
    assert ours.replace(FULL_VERSION, "VERSION") == MASTER["processes"]


def test_old_processes_are_listed_apart() -> None:
    procs = [
        Proc(20, "worker", reloads=1, leaving=True, started=0),
        Proc(30, "worker", started=0),
        Proc(21, "foo", program=True, reloads=1, leaving=True, started=0),
    ]
    text = show_proc(10, (1, 0), 0, procs, 3725)
    titles = [line for line in text.splitlines() if line.startswith("#")][1:]
    assert titles == ["# workers", "# old workers", "# programs", "# old programs"]
    assert re.search(r"^20 +worker +1 +0d01h02m05s", text, re.M)
    assert "1 [failed: 0]" in text


def test_routing() -> None:
    assert target_pid("@1", PROCS) == 23154
    assert target_pid("@master", PROCS) == 0
    assert target_pid("@!23153", PROCS) == 23153  # a program by its pid
    assert target_pid("@0", PROCS) == -1
    assert route(["@1", "show", "info"], PROCS) == ([], Relay(23154, "show info"))
    assert route(["@master", "show", "proc"], PROCS) == (["show", "proc"], None)
    assert route(["@1"], PROCS) == ([], "")
    leaving = [Proc(5, "worker", leaving=True), Proc(6, "worker")]
    assert target_pid("@1", leaving) == 6  # the current worker, not the one leaving


def test_commands_split_on_semicolons() -> None:
    assert split_commands("@1 show info; show proc ;\n") == ["@1 show info", "show proc"]
    assert split_commands("set var x a\\;b") == ["set var x a\\;b"]
