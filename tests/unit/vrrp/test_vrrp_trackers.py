"""vrrp_script rise/fall counting, track_file reading, initial and polled tracker events."""

import ipaddress
from pathlib import Path

import pytest

from pylvs.proto.vrrp.events import (
    InterfaceCameUp,
    InterfaceWentDown,
    SourceAddressLost,
    SourceAddressRestored,
    TrackerChanged,
)
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.priority import TrackerKind
from pylvs.system.fake import FakeHost
from pylvs.vrrp.instance import Instance
from pylvs.vrrp.trackers import ScriptResult
from pylvs.vrrp.wiring import build_setups, initial_events, poll_events

from .test_vrrp_driver import spec_from

# (rise, fall, init_fail, run outcomes, reported statuses) worked from keepalived's
# vrrp_script_child_thread counter: 0..rise+fall-1, start rise-1 (0 with init_fail).
CASES = [
    (1, 1, False, [True], [True]),
    (1, 1, False, [False], [False]),
    (1, 1, False, [True, False, True], [True, False, True]),
    (2, 3, False, [True, False, False, False], [True, False]),  # falls on the 3rd failure
    (2, 3, False, [True, False, False, True], [True]),  # a success resets: never falls
    (2, 3, False, [False, True, True], [False, True]),  # first result reported; rise 2 ...
    (3, 1, False, [False, True, True], [False]),  # ... needs 3 successes from 0
    (3, 1, False, [False, True, True, True], [False, True]),
    (2, 1, True, [True, True], [True]),  # init_fail: 2 successes to rise
    (1, 1, True, [False, True], [True]),  # init_fail starts failed: no report of it again
]


@pytest.mark.parametrize(("rise", "fall", "init_fail", "runs", "reports"), CASES)
def test_script_rise_fall(
    rise: int, fall: int, init_fail: bool, runs: list[bool], reports: list[bool]
) -> None:
    r = ScriptResult(rise, fall, init_fail)
    assert r.status == (False if init_fail else None)
    got = [s for ok in runs if (s := r.record(ok)) is not None]
    assert got == reports


CONF = """
track_file tf {
    file "%s"
    weight -10
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    track_interface {
        eth1
    }
    track_file {
        tf
    }
    virtual_ipaddress {
        10.0.0.100/24
    }
}
"""


def test_initial_and_polled_events(tmp_path: Path) -> None:
    f = tmp_path / "tf"
    f.write_text("2\n")
    cfg = spec_from(CONF % f)
    setup = build_setups(cfg)["VI_1"]
    h = FakeHost()
    h.add_link("eth0", addresses=[ipaddress.ip_interface("10.0.0.1/24")])
    h.add_link("eth1", up=False)
    inst = Instance(setup, VrrpMachine(setup.params, source_address=None), 2)
    events = initial_events(inst, h, cfg)
    assert events == [
        SourceAddressLost(),  # no source given to the machine yet
        TrackerChanged(TrackerKind.INTERFACE, "eth1", False),
        TrackerChanged(TrackerKind.FILE, "tf", 2),
    ]
    assert list(poll_events({"VI_1": inst}, h, cfg, None)) == [
        ("VI_1", SourceAddressRestored(ipaddress.ip_address("10.0.0.1")))
    ]
    h.set_link("eth0", up=False)
    h.set_link("eth1", up=True)
    f.write_text("3\n")
    assert list(poll_events({"VI_1": inst}, h, cfg, None)) == [
        ("VI_1", InterfaceWentDown()),
        ("VI_1", TrackerChanged(TrackerKind.INTERFACE, "eth1", True)),
        ("VI_1", TrackerChanged(TrackerKind.FILE, "tf", 3)),
    ]
    assert list(poll_events({"VI_1": inst}, h, cfg, None)) == []  # only changes
    h.set_link("eth0", up=True)
    assert list(poll_events({"VI_1": inst}, h, cfg, None)) == [("VI_1", InterfaceCameUp())]
