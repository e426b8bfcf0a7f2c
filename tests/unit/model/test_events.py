"""The event history's values (model/events.py): numbering, the kept window, records."""

from __future__ import annotations

import pytest

from pylvs.model.events import (
    ConfigReloaded,
    EventLog,
    InstanceStateChanged,
    OperatorActed,
    ServerHealthChanged,
    as_record,
    summary,
)

DOWN = ServerHealthChanged(
    10.0, "[10.1.0.1]:tcp:80", "[10.0.0.1]:tcp:80", False, "TCP_CHECK", "connection refused"
)


def test_numbered_from_one_and_only_the_last_kept() -> None:
    log = EventLog(kept=3)
    for i in range(5):
        assert log.add(ConfigReloaded(float(i), True, ())) == i + 1
    assert [n for n, _ in log] == [3, 4, 5] and len(log) == 3
    assert [n for n, _ in log.after(3)] == [4, 5]
    assert [n for n, _ in log.after(0, limit=2)] == [4, 5]
    assert log.after(0, limit=0) == []
    assert log.after(5) == [] and log.last_seq == 5
    with pytest.raises(ValueError):
        EventLog(kept=0)


def test_summaries() -> None:
    assert summary(DOWN) == (
        "[10.1.0.1]:tcp:80 of [10.0.0.1]:tcp:80 DOWN by TCP_CHECK: connection refused"
    )
    vrrp = InstanceStateChanged(1.0, "VI_1", "BACKUP", "MASTER", "Entering MASTER STATE")
    assert summary(vrrp) == "VRRP VI_1: BACKUP -> MASTER (Entering MASTER STATE)"
    assert summary(ConfigReloaded(1.0, True, ("a", "b"))) == "reloaded: 2 change(s) to the table"
    refused = ConfigReloaded(1.0, False, (), ("k.conf:3:5: error: x",))
    assert summary(refused) == "reload refused (1 problem(s)); running config kept"
    op = OperatorActed(1.0, "http", "ops", "drain 10.1.0.1:80", 0)
    assert summary(op) == "http by ops: drain 10.1.0.1:80"
    bad = OperatorActed(1.0, "ipvsadm", "", "ipvsadm -d -t 1.2.3.4:80", 2, "No such service")
    assert summary(bad) == "ipvsadm: ipvsadm -d -t 1.2.3.4:80 -> exit 2 No such service"


def test_records_are_flat() -> None:
    assert as_record(7, DOWN) == {
        "seq": 7,
        "at": 10.0,
        "kind": "health",
        "summary": summary(DOWN),
        "server": "[10.1.0.1]:tcp:80",
        "pool": "[10.0.0.1]:tcp:80",
        "up": False,
        "checker": "TCP_CHECK",
        "reason": "connection refused",
    }
    rec = as_record(1, ConfigReloaded(2.0, True, ("added x",)))
    assert rec["kind"] == "reload" and rec["changes"] == ["added x"] and rec["problems"] == []
