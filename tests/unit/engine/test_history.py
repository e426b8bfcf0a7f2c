"""The daemon's event history (engine/history.py): kept in memory, appended as JSON lines."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from pylvs.engine.history import History, describe, events_response
from pylvs.model.events import ConfigReloaded, OperatorActed
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.table import AddDest, AddService, DeleteDest, DeleteService, EditDest

A = ipaddress.ip_address
KEY = ServiceKey(Protocol.TCP, A("10.0.0.1"), 80)


def test_events_log_gets_one_json_line_each(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"seq": 0}\n')  # appended to, never truncated
    h = History(str(path), kept=2)
    h.open()
    h.record(ConfigReloaded(1.5, True, ("added x",)))
    h.record(OperatorActed(2.5, "ipvsadm", "", "ipvsadm -C", 0))
    h.record(OperatorActed(3.5, "http", "ops", "drain", 0))
    h.close()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["seq"] for x in lines] == [0, 1, 2, 3]
    assert lines[1]["kind"] == "reload" and lines[3]["who"] == "ops"
    # Memory keeps the last two; the file has them all.
    shown = [json.loads(x) for x in events_response(h).stdout.splitlines()]
    assert [x["seq"] for x in shown] == [2, 3]


def test_a_log_that_cannot_be_written_leaves_the_history_in_memory(caplog) -> None:  # type: ignore[no-untyped-def]
    h = History("/dev/full")
    h.open()
    h.record(ConfigReloaded(1.0, True, ()))
    h.record(ConfigReloaded(2.0, True, ()))
    h.close()
    assert len(h.events) == 2
    # Said once, then the file is left alone.
    assert [r.message for r in caplog.records] == [
        "events log /dev/full: [Errno 28] No space left on device; events are kept in memory only"
    ]


def test_changes_in_words() -> None:
    rs = RealServer(A("10.1.0.1"), 8080, weight=3)
    assert (
        describe(AddService(VirtualService(KEY, scheduler="wlc")))
        == "added service TCP 10.0.0.1:80 wlc"
    )
    assert describe(DeleteService(KEY)) == "deleted service TCP 10.0.0.1:80"
    assert describe(AddDest(KEY, rs)) == "added 10.1.0.1:8080 to TCP 10.0.0.1:80 (weight 3)"
    assert describe(EditDest(KEY, rs)) == "changed 10.1.0.1:8080 of TCP 10.0.0.1:80 (weight 3)"
    assert describe(DeleteDest(KEY, (A("::1"), 80))) == "deleted [::1]:80 from TCP 10.0.0.1:80"
