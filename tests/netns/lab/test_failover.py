"""VRRP failover on the lab, as seed 000 tells it: the MASTER dies or stops, the BACKUP takes
the VIP; the master returns (preempt after preempt_delay, or not with nopreempt); the VRRP
link is cut (split brain) and healed.  Bounds come from keepalived's timers (vrrp.h
VRRP_MS_DOWN_TIMER, RFC 3768 §6.1 / RFC 5798 §6.1), measured with a 10 ms poll."""

import time

import pytest

from pylvs.lab import operate
from pylvs.lab.topology import PRIORITIES, master_down_interval, skew_time
from tests.netns.lab.conftest import MakeLab
from tests.netns.lab.labload import Load, VipWatch, wait_masters

pytestmark = [pytest.mark.root, pytest.mark.usefixtures("vrrp_driver")]


def quiet(_line: str) -> None:
    """operate's output, not wanted here."""


def test_sigkill_of_master_fails_requests_only_inside_the_failover_window(
    make_lab: MakeLab,
) -> None:
    lab = make_lab(weights=(1, 1))  # seed 000: VRRPv2, advert_int 1
    assert lab.masters() == ["dir1"]
    mdi = master_down_interval(lab.topo.options, PRIORITIES[1])  # 3.613 s
    watch = VipWatch(lab)
    load = Load(lab, duration=mdi + 3.0)
    time.sleep(1.0)
    t0 = time.monotonic()
    operate.fail(lab.topo.lab_id, "master", how="crash", out=quiet)
    results = load.results()
    watch.stop()
    takeover = watch.first(("dir2",), after=t0)
    assert takeover is not None, watch.changes
    # The BACKUP waits the master-down interval after the last advert it heard (sent at
    # most one advert interval before the crash).
    assert mdi - 1.0 - 0.1 <= takeover - t0 <= mdi + 0.5, takeover - t0
    failures = [t for t, a in results if not a]
    assert all(t0 <= t <= t0 + mdi + 0.5 for t in failures), failures[-3:]
    after = [a for t, a in results if t > t0 + mdi + 0.5]
    assert len(after) > 100 and all(after)
    # The crashed director comes back and, preemptive, takes the VIP back.
    operate.heal(lab.topo.lab_id, "master", out=quiet)
    assert wait_masters(lab, ("dir1",), mdi + 2.0) is not None


def test_graceful_stop_takeover_within_skew_and_preempt_delay_on_return(make_lab: MakeLab) -> None:
    lab = make_lab(vrrp_version=3, advert_int=0.5, preempt_delay=2)
    opts = lab.topo.options
    assert wait_masters(lab, ("dir1",), 5.0) is not None
    skew = skew_time(opts, PRIORITIES[1])
    t0 = time.monotonic()
    watch = VipWatch(lab)
    operate.fail(lab.topo.lab_id, "master", how="stop", out=quiet)
    assert wait_masters(lab, ("dir2",), 5.0) is not None
    watch.stop()
    took = watch.first(("dir2",), after=t0)
    assert took is not None
    # SIGTERM returns once dir1 has sent priority 0: dir2 takes over after its skew time.
    assert took - t0 <= skew + 0.3, (took - t0, skew)
    # dir1 returns: it accepts dir2's lower adverts for preempt_delay, then preempts.
    t1 = time.monotonic()
    operate.heal(lab.topo.lab_id, "master", out=quiet)
    back = wait_masters(lab, ("dir1",), 10.0)
    assert back is not None
    elapsed = time.monotonic() - t1
    mdi = master_down_interval(opts, PRIORITIES[0])
    # The slack is dir1's start (a new daemon process: 5.31 s against a bound of 5.30 s was
    # seen in a busy suite); a delay counted twice still fails, none at all the lower bound.
    assert opts.preempt_delay - 0.5 <= elapsed <= opts.preempt_delay + mdi + 2.5, elapsed


def test_nopreempt_master_returns_and_does_not_take_the_vip(make_lab: MakeLab) -> None:
    lab = make_lab(vrrp_version=3, advert_int=0.5, nopreempt=True)
    opts = lab.topo.options
    assert wait_masters(lab, ("dir1",), 5.0) is not None
    operate.fail(lab.topo.lab_id, "master", how="stop", out=quiet)
    assert wait_masters(lab, ("dir2",), 3.0) is not None
    operate.heal(lab.topo.lab_id, "master", out=quiet)
    watch = VipWatch(lab)
    time.sleep(3 * master_down_interval(opts, PRIORITIES[0]))
    watch.stop()
    assert [m for _, m in watch.changes] == [("dir2",)], watch.changes
    assert all(a for _, a in operate.probe(lab, 5))


def test_cut_vrrp_link_split_brain_then_one_master(make_lab: MakeLab) -> None:
    lab = make_lab(vrrp_version=3, advert_int=0.5)
    opts = lab.topo.options
    assert wait_masters(lab, ("dir1",), 5.0) is not None
    operate.fail(lab.topo.lab_id, "link", out=quiet)
    mdi = master_down_interval(opts, PRIORITIES[1])
    # Each stops hearing the other: dir2 becomes MASTER too (the documented split brain).
    assert wait_masters(lab, ("dir1", "dir2"), mdi + 1.0) is not None
    lines: list[str] = []
    from pylvs.lab.commands import status

    status(lab.topo.lab_id, out=lines.append)
    assert "SPLIT BRAIN: both directors hold the VIP" in lines
    operate.heal(lab.topo.lab_id, "link", out=quiet)
    # dir2 hears dir1's higher priority advert and goes back to BACKUP: within two adverts.
    took = wait_masters(lab, ("dir1",), 5.0)
    assert took is not None and took <= 2 * opts.advert_int + 0.3, took
