"""proto/stick against a transcript recorded from the real HAProxy 2.6.

tests/data/haproxy/stick/transcript.json was captured by capture.py beside it (its docstring
has the configuration and the steps): client connections through `stick on src` backends, one
of them also tracking counters, and `show|clear|set table` on the stats socket at three
levels.  Here the same configuration's `stick-table` lines are parsed, and each step is
replayed the way HAProxy processes it -- `track-sc0` (entry, counters, a reference held for the
connection), the sticking rules, round robin when they name no server, the store once
connected, the counters released at close -- at the recorded millisecond.  Replies must match
line for line, except the entry addresses (`0x...:`) and `exp=`, which may be a few
milliseconds off (the transcript's clock is the client's).
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pylvs.proto.stick import (
    Level,
    StickRule,
    StickTable,
    parse_stick_table,
    process_sticking_rules,
    process_store_rules,
    table_command,
)
from pylvs.proto.stick.table import Entry
from pylvs.sched.base import Flow
from pylvs.sched.haproxy import Admin, Pool, Server

DATA = Path(__file__).resolve().parents[3] / "data" / "haproxy" / "stick"
RECORDED = json.loads((DATA / "transcript.json").read_text())
LEVELS = {"admin": Level.ADMIN, "operator": Level.OPERATOR, "user": Level.USER}
EXP_TOLERANCE_MS = 40
TABLE_LINES = {
    "lb": "type ip size 10 expire 30m store conn_cnt,conn_cur,conn_rate(10s),gpc0,"
    "http_req_rate(10s)",
    "lbp": "type ip size 10",
    "tint": "type integer size 100",
    "tstr": "type string len 8 size 100 store gpc0",
    "tv6": "type ipv6 size 100 expire 10s",
    "tbin": "type binary len 6 size 100",
    "tsmall": "type integer size 2 store gpc0",
    "texp": "type ip size 10 expire 1s",
    "tnopurge": "type integer size 2 nopurge store gpc0",
    "tbig": "type integer size 512",
}


def cli_words(line: str) -> list[str]:
    """cli.c cli_parse_request: words split on blanks, a backslash escapes the next byte."""
    words, cur, i, inword = [], "", 0, False
    while i < len(line):
        c = line[i]
        if c in " \t":
            if inword:
                words.append(cur)
                cur, inword = "", False
            i += 1
            continue
        inword = True
        if c == "\\" and i + 1 < len(line):
            cur += line[i + 1]
            i += 2
            continue
        cur += c
        i += 1
    if inword:
        words.append(cur)
    return words


class Backend:
    """A listen section: its servers (round robin), table and stickiness."""

    def __init__(self, table: StickTable, persist: bool, track: bool) -> None:
        self.pool = Pool([Server("s1"), Server("s2")])
        self.table = table
        self.persist = persist
        self.track = track

    # the proto.stick.rules.Servers protocol
    def server(self, name: str) -> Server | None:
        return self.pool.server(name)

    def server_by_id(self, puid: int) -> Server | None:
        return self.pool.server_by_id(puid)

    def server_by_addr(self, addr: str) -> Server | None:
        return None

    def address(self, server: Server) -> str:
        return ""


class Replay:
    def __init__(self) -> None:
        self.tables = {}
        for name, line in TABLE_LINES.items():
            spec = parse_stick_table(name, line.split())
            if name in ("lb", "lbp"):  # `stick on src` uses them
                spec = spec.with_data("server_id", "server_key")
            self.tables[name] = StickTable(spec)
        self.backends = {
            "lb": Backend(self.tables["lb"], persist=False, track=True),
            "lbp": Backend(self.tables["lbp"], persist=True, track=False),
        }
        self.held: list[tuple[Backend, Entry | None]] = []

    def connect(self, step: dict[str, Any], now: float) -> str:
        be = self.backends[step["listen"]]
        client = ipaddress.IPv4Address(step["client"])
        table = be.table
        tracked = None
        if be.track:  # tcp-request connection track-sc0 src
            key = table.key_of(client)
            assert key is not None
            tracked = table.get_entry(key, now)
            if tracked is not None:
                table.acquire(tracked)
                tracked.add("conn_cur")
                tracked.add("conn_cnt")
                table.update_rate(tracked, "conn_rate", now)
                table.touch(tracked, now)
        rule = StickRule(table, match=True, store=True)  # stick on src
        sticking = process_sticking_rules(
            [rule], lambda r: (True, client), be, now, persist=be.persist
        )
        server = sticking.server
        if server is None:
            picked = be.pool.assign(Flow(client, 1, client, 80), now)
            assert isinstance(picked, Server)
            server = picked
        process_store_rules(sticking, server, be, now)
        if step["hold"]:
            self.held.append((be, tracked))
        else:
            self.close(be, tracked, now)
        return server.name

    @staticmethod
    def close(be: Backend, tracked: Entry | None, now: float) -> None:
        if tracked is not None:  # session_store_counters
            tracked.add("conn_cur", -1)
            be.table.touch(tracked, now)
            be.table.release(tracked, now)

    def cli(self, cmd: str, level: Level, now: float) -> str:
        words = cli_words(cmd)
        if words[1:2] == ["table"]:
            return table_command(list(self.tables.values()), words, level, now)
        if words[1:2] == ["server"] and words[0] in ("disable", "enable", "set"):
            be_name, srv_name = words[2].split("/")
            pool = self.backends[be_name].pool
            server = pool.server(srv_name)
            assert server is not None
            if words[0] == "disable":
                pool.set_admin(server, Admin.FMAINT, now)
            elif words[0] == "enable" or words[4] == "ready":
                pool.clear_admin(server, Admin.FMAINT | Admin.FDRAIN, now)
            else:  # state drain
                pool.clear_admin(server, Admin.FMAINT, now)
                pool.set_admin(server, Admin.FDRAIN, now)
            return ""
        raise AssertionError(cmd)

    def step(self, step: dict[str, Any]) -> str:
        now = 1000.0 + step["at"] / 1000
        if step["op"] == "conn":
            return self.connect(step, now)
        if step["op"] == "cli":
            return self.cli(step["cmd"], LEVELS[step["level"]], now)
        if step["op"] == "close":
            for be, tracked in self.held:
                self.close(be, tracked, now)
            self.held.clear()
        return ""


POINTER = re.compile(r"^0x[0-9a-f]+:")
EXP = re.compile(r" exp=(\d+)")


def same_line(got: str, want: str) -> bool:
    got, want = POINTER.sub("0x:", got), POINTER.sub("0x:", want)
    got_exp, want_exp = EXP.search(got), EXP.search(want)
    if (got_exp is None) != (want_exp is None):
        return False
    if got_exp and want_exp:
        if abs(int(got_exp.group(1)) - int(want_exp.group(1))) > EXP_TOLERANCE_MS:
            return False
        got, want = EXP.sub(" exp=N", got), EXP.sub(" exp=N", want)
    return got == want


def same_reply(got: str, want: str) -> bool:
    got_lines, want_lines = got.rstrip("\n").split("\n"), want.rstrip("\n").split("\n")
    return len(got_lines) == len(want_lines) and all(
        same_line(g, w) for g, w in zip(got_lines, want_lines, strict=True)
    )


def test_transcript_comes_from_haproxy_2_6() -> None:
    assert RECORDED["haproxy"].startswith("HAProxy version 2.6.")
    assert sum(s["op"] == "cli" for s in RECORDED["steps"]) > 80


def test_every_step_answers_as_haproxy_did() -> None:
    replay = Replay()
    for n, step in enumerate(RECORDED["steps"]):
        got = replay.step(step)
        what = step.get("cmd", step.get("client", step["op"]))
        assert same_reply(got, step["reply"]), (n, what, got, step["reply"])


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("set table t key a=b\\\\c", ["set", "table", "t", "key", "a=b\\c"]),
        ("show  table\tt", ["show", "table", "t"]),
        ("set table t key a\\ b", ["set", "table", "t", "key", "a b"]),
    ],
)
def test_cli_words(line: str, words: list[str]) -> None:
    assert cli_words(line) == words
