"""The Prometheus exporter against the real haproxy 2.6.12's (control/haproxy/promex.py).

tests/data/haproxy/stats/promex.json was recorded by capture_promex.py on the proxies of the
stats recordings (stats_replay builds the same ones in a FakeRuntime).  What a scraper sees is
compared exactly: the families in order with their `# HELP` and `# TYPE` lines, every sample's
name and labels in order, and the values of every sample but those that move on their own in
a live process (times, the exporter's own connection on `fe`, the process's sizes).
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from pylvs.control.haproxy import promex
from pylvs.model.proxies import ProxiesSnapshot
from pylvs.proto.stick import StickTable, parse_stick_table
from tests.unit.control.haproxy.stats_replay import DATA, build

RECORDED = json.loads((DATA / "promex.json").read_text())["requests"]
START = 1_800_000_000.0

# Samples whose values are the live process's: its clock, sizes, the request being answered,
# its checks' history, the idle-connection estimate (as test_stats_recorded.py leaves them).
LIVE = re.compile(
    r"haproxy_process_(uptime_seconds|start_time_seconds|pool_\w+|max_fds|max_sockets|"
    r"max_connections|hard_max_connections|current_connections|connections_total|"
    r"requests_total|current_tasks|current_run_queue|idle_time_percent|jobs|listeners|"
    r"bytes_out_\w+|current_\w+_rate|max_\w+_rate|build_info|max_memory_bytes)\b"
    r"|haproxy_frontend_\w+\{proxy=\"fe\"|_check_last_change_seconds|_downtime_seconds_total"
    r"|haproxy_server_check_duration_seconds|_last_session_seconds"
    r"|_check_failures_total|_check_up_down_total|need_connections_current"
)


def body(reply: str) -> str:
    chunked = reply.split("\r\n\r\n", 1)[1]
    out = ""
    while chunked:
        size, _, chunked = chunked.partition("\r\n")
        n = int(size, 16)
        if not n:
            break
        out, chunked = out + chunked[:n], chunked[n + 2 :]
    return out


def _split(line: str) -> tuple[str, str]:
    key, _, value = line.rpartition(" ")
    return key, value


def compare(ours: str, theirs: str) -> None:
    mine, want = ours.splitlines(), theirs.splitlines()
    assert [line for line in mine if line.startswith("#")] == [
        line for line in want if line.startswith("#")
    ]
    assert [_split(line)[0] for line in mine] == [_split(line)[0] for line in want]
    differ = [
        (a, b)
        for a, b in zip(mine, want, strict=True)
        if a != b and not a.startswith("#") and not LIVE.search(a)
    ]
    assert not differ


def snapshot() -> tuple[ProxiesSnapshot, list[StickTable]]:
    rt = build([START + 100])
    version = re.search(r'build_info\{version="([^"]+)"', body(RECORDED[0]["reply"]))
    assert version is not None
    rt.info = dataclasses.replace(rt.info, version=version.group(1))
    return rt.snapshot(), list(rt.tables())


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 7])
def test_exposition_matches_haproxys(index: int) -> None:
    record = RECORDED[index]
    target = record["request"].split(" ")[1].encode()
    query = promex.parse_query(target)
    assert query is not None
    snap, tables = snapshot()
    compare(promex.render(snap, tables, query), body(record["reply"]))


def test_the_answer_head() -> None:
    head = RECORDED[0]["reply"].split("\r\n\r\n")[0].split("\r\n")
    fields = [f"{n.decode()}: {v.decode()}" for n, v in promex.HEAD_FIELDS]
    assert head[:4] == ["HTTP/1.1 200 OK", *fields]
    assert RECORDED[8]["reply"].endswith("\r\n\r\n")  # HEAD: no body, not even a last chunk


@pytest.mark.parametrize("target", [b"/metrics?scope=bogus", b"/metrics?scope", b"/m?scope=a=b"])
def test_bad_queries_are_refused_as_haproxy_does(target: bytes) -> None:
    assert promex.parse_query(target) is None
    assert all(RECORDED[i]["reply"].startswith("HTTP/1.1 400 Bad request") for i in (5, 6))


def test_an_empty_scope_selects_nothing() -> None:
    query = promex.parse_query(b"/metrics?scope=")
    assert query is not None and not query.scopes
    assert body(RECORDED[4]["reply"]) == ""


def test_stick_tables_come_newest_first_as_haproxys() -> None:
    """haproxy 2.6.12 with tables ta, tb, tc (in that order) exports tc, tb, ta."""
    words = ["type", "ip", "size", "10"]
    tables = [StickTable(parse_stick_table(name, words)) for name in ("ta", "tb", "tc")]
    out = promex.render(snapshot()[0], tables, promex.Query(scopes=promex.Scope.STICKTABLE))
    names = re.findall(r'haproxy_sticktable_size\{name="(\w+)"', out)
    assert names == ["tc", "tb", "ta"]
