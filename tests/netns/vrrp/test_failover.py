"""pylvs with pylvs on one bridge (issue 5 point 8): elections, failover, preemption, auth,
unicast, IPv6, two instances per interface; the VIP is on exactly one node after each step."""

import time

import pytest

from tests.netns.vrrp.conftest import Confs, Lab

VIP = "10.77.0.100"
pytestmark = pytest.mark.root


@pytest.mark.parametrize(("version", "adv", "limit"), [(2, 1, 5.0), (3, 0.1, 2.0)])
def test_priority_pair_crash_and_preempt(
    lab: Lab, conf: type[Confs], version: int, adv: float, limit: float
) -> None:
    a, b = lab.node("a"), lab.node("b")
    conf_a = conf.config(conf.instance(priority=150, version=version, advert_int=adv))
    pa = a.pylvs(conf_a)
    b.pylvs(conf.config(conf.instance(priority=100, version=version, advert_int=adv)))
    lab.expect(VIP, ["a"], limit + 3)
    a.crash(pa, f"{VIP}/24")
    lab.expect(VIP, ["b"], limit)
    a.pylvs(conf_a)
    lab.expect(VIP, ["a"], limit + 3)  # preempt: the higher priority takes it back


def test_sigterm_sends_priority_zero(lab: Lab, conf: type[Confs]) -> None:
    a, b = lab.node("a"), lab.node("b")
    pa = a.pylvs(conf.config(conf.instance(priority=150, advert_int=1)))
    b.pylvs(conf.config(conf.instance(priority=100, advert_int=1)))
    lab.expect(VIP, ["a"], 8)
    time.sleep(0.5)
    t0 = time.monotonic()
    pa.signal(15)
    lab.expect(VIP, ["b"], 3)
    # Without the priority-0 advert b would wait 3 x 1 s + skew; with it, only Skew_Time
    # ((256 - 100) / 256 s = 0.61 s).
    assert time.monotonic() - t0 < 2.0
    assert pa.popen.wait(5) == 0


def test_nopreempt_keeps_the_running_master(lab: Lab, conf: type[Confs]) -> None:
    a, b = lab.node("a"), lab.node("b")
    b.pylvs(conf.config(conf.instance(priority=100, version=3, advert_int=0.1)))
    lab.expect(VIP, ["b"], 5)
    a.pylvs(conf.config(conf.instance(priority=150, version=3, advert_int=0.1, nopreempt=True)))
    lab.stays(VIP, ["b"], 2.0)


def test_auth_mismatch_is_ignored(lab: Lab, conf: type[Confs]) -> None:
    a, b = lab.node("a"), lab.node("b")
    pa = a.pylvs(conf.config(conf.instance(priority=150, password="1111")))
    pb = b.pylvs(conf.config(conf.instance(priority=100, password="2222")))
    # Each drops the other's adverts, so both end up MASTER (keepalived does the same).
    lab.expect(VIP, ["a", "b"], 8)
    assert "received an invalid passwd" in pb.text()
    assert "received an invalid passwd" in pa.text()


def test_unicast_peers(lab: Lab, conf: type[Confs]) -> None:
    a, b = lab.node("a"), lab.node("b")
    confs = {
        "a": conf.instance(
            priority=150, version=3, advert_int=0.1, unicast_src=a.ip, peers=(b.ip,)
        ),
        "b": conf.instance(
            priority=100, version=3, advert_int=0.1, unicast_src=b.ip, peers=(a.ip,)
        ),
    }
    pa = a.pylvs(conf.config(confs["a"]))
    b.pylvs(conf.config(confs["b"]))
    lab.expect(VIP, ["a"], 5)
    lab.stays(VIP, ["a"], 0.5)  # b hears a's unicast adverts: no split brain
    a.crash(pa, f"{VIP}/24")
    lab.expect(VIP, ["b"], 2)


def test_ipv6_v3(lab: Lab, conf: type[Confs]) -> None:
    a, b = lab.node("a"), lab.node("b")
    vip6 = "fd00:77::100"
    confs = {
        n: conf.instance(priority=p, version=3, advert_int=0.1, vips=(f"{vip6}/64",))
        for n, p in (("a", 150), ("b", 100))
    }
    pa = a.pylvs(conf.config(confs["a"]))
    b.pylvs(conf.config(confs["b"]))
    lab.expect(vip6, ["a"], 5)
    lab.stays(vip6, ["a"], 0.5)
    a.crash(pa, f"{vip6}/64")
    lab.expect(vip6, ["b"], 2)


def test_active_active_pair_on_one_interface(lab: Lab, conf: type[Confs]) -> None:
    """Seed 001: VI_1 (VRID 51) master on a, VI_2 (VRID 52) master on b, same eth0."""
    a, b = lab.node("a"), lab.node("b")

    def pair(p1: int, p2: int) -> str:
        return conf.config(
            conf.instance("VI_1", vrid=51, priority=p1, version=3, advert_int=0.1),
            conf.instance(
                "VI_2", vrid=52, priority=p2, version=3, advert_int=0.1, vips=("10.77.0.101/24",)
            ),
        )

    pa = a.pylvs(pair(150, 100))
    b.pylvs(pair(100, 150))
    lab.expect(VIP, ["a"], 5)
    lab.expect("10.77.0.101", ["b"], 5)
    a.crash(pa, f"{VIP}/24")
    lab.expect(VIP, ["b"], 2)
    lab.stays("10.77.0.101", ["b"], 0.3)


def test_sighup_reload_keeps_unchanged_instances(lab: Lab, conf: type[Confs]) -> None:
    a = lab.node("a")
    one = conf.instance("VI_1", vrid=51, priority=150, version=3, advert_int=0.1)
    pa = a.pylvs(conf.config(one))
    lab.expect(VIP, ["a"], 5)
    two = conf.instance(
        "VI_2", vrid=52, priority=150, version=3, advert_int=0.1, vips=("10.77.0.101/24",)
    )
    a.write("pylvs.conf", conf.config(one, two))
    pa.signal(1)
    lab.expect("10.77.0.101", ["a"], 3)  # the new instance starts and becomes MASTER
    lab.stays(VIP, ["a"], 0.3)
    log = pa.text()
    assert log.count("(VI_1) Entering MASTER STATE") == 1  # VI_1 kept its state
    a.write("pylvs.conf", conf.config(one))
    pa.signal(1)
    lab.expect("10.77.0.101", [], 3)  # a removed instance releases its VIP
    lab.stays(VIP, ["a"], 0.3)
