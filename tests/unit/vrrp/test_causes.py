"""Why a VRRP instance changed state, for its event (vrrp/manager.py `causes`)."""

from __future__ import annotations

from pylvs.proto.vrrp.commands import Log, ReportState, SendAdvert, State
from pylvs.proto.vrrp.sync import Routed
from pylvs.vrrp.manager import causes

HIGHER = "(VI_1) Master received advert from 10.0.0.2 with higher priority 150, ours 100"


def test_the_batchs_own_words_else_the_entering_line() -> None:
    routed: list[Routed] = [
        ("VI_1", ReportState(State.BACKUP, 100)),
        ("VI_1", Log(HIGHER)),
        ("VI_1", Log("(VI_1) Entering BACKUP STATE")),
        ("VI_2", ReportState(State.MASTER, 100)),
        ("VI_2", Log("(VI_2) Entering MASTER STATE")),
        ("VI_3", Log("(VI_3) something else")),
    ]
    assert causes(routed) == {
        "VI_1": HIGHER,
        "VI_2": "(VI_2) Entering MASTER STATE",
    }


def test_group_lines_count_and_quiet_batches_cost_nothing() -> None:
    routed: list[Routed] = [
        (None, Log("VRRP_Group(G) Syncing instances to MASTER state")),
        ("VI_1", ReportState(State.MASTER, 100)),
        ("VI_1", Log("(VI_1) Entering MASTER STATE")),
    ]
    assert causes(routed) == {"VI_1": "VRRP_Group(G) Syncing instances to MASTER state"}
    assert causes([("VI_1", SendAdvert(100))]) == {}
