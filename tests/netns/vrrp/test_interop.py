"""pylvs with keepalived 2.2.7 (Debian) on one bridge (issue 5 point 8): the right node is
MASTER for each priority pair in both directions, v2 and v3, after a crash and on the
master's return; nopreempt; PASS mismatch ignored; unicast peers.  One VIP holder each time."""

import pytest

from tests.netns.vrrp.conftest import Confs, Lab, Node, Proc

VIP = "10.77.0.100"
pytestmark = [pytest.mark.root, pytest.mark.oracle, pytest.mark.usefixtures("need_keepalived")]
SIDES = [("pylvs", "keepalived"), ("keepalived", "pylvs")]


def start(node: Node, impl: str, text: str) -> Proc:
    return node.pylvs(text) if impl == "pylvs" else node.keepalived(text)


@pytest.mark.parametrize(("version", "adv", "limit"), [(2, 1, 5.0), (3, 0.1, 2.0)])
@pytest.mark.parametrize(("high", "low"), SIDES)
def test_priority_pair(
    lab: Lab, conf: type[Confs], version: int, adv: float, limit: float, high: str, low: str
) -> None:
    a, b = lab.node("a"), lab.node("b")
    text_a = conf.config(conf.instance(priority=150, version=version, advert_int=adv))
    pa = start(a, high, text_a)
    start(b, low, conf.config(conf.instance(priority=100, version=version, advert_int=adv)))
    lab.expect(VIP, ["a"], limit + 3)
    lab.stays(VIP, ["a"], adv * 2)  # the low side hears and accepts the high side's adverts
    a.crash(pa, f"{VIP}/24")
    lab.expect(VIP, ["b"], limit)
    start(a, high, text_a)
    lab.expect(VIP, ["a"], limit + 3)


@pytest.mark.parametrize(("keeper", "newcomer"), SIDES)
def test_nopreempt(lab: Lab, conf: type[Confs], keeper: str, newcomer: str) -> None:
    a, b = lab.node("a"), lab.node("b")
    start(b, keeper, conf.config(conf.instance(priority=100, version=3, advert_int=0.1)))
    lab.expect(VIP, ["b"], 5)
    text = conf.config(conf.instance(priority=150, version=3, advert_int=0.1, nopreempt=True))
    start(a, newcomer, text)
    lab.stays(VIP, ["b"], 2.0)


@pytest.mark.parametrize(("keeper", "newcomer"), SIDES)
def test_preempt(lab: Lab, conf: type[Confs], keeper: str, newcomer: str) -> None:
    a, b = lab.node("a"), lab.node("b")
    start(b, keeper, conf.config(conf.instance(priority=100, version=3, advert_int=0.1)))
    lab.expect(VIP, ["b"], 5)
    start(a, newcomer, conf.config(conf.instance(priority=150, version=3, advert_int=0.1)))
    lab.expect(VIP, ["a"], 5)


def test_auth_mismatch_ignored(lab: Lab, conf: type[Confs]) -> None:
    a, b = lab.node("a"), lab.node("b")
    a.pylvs(conf.config(conf.instance(priority=150, password="1111")))
    kb = b.keepalived(conf.config(conf.instance(priority=100, password="2222")))
    lab.expect(VIP, ["a", "b"], 8)  # neither accepts the other: both MASTER
    assert "invalid passwd" in kb.text()


@pytest.mark.parametrize(("high", "low"), SIDES)
def test_unicast(lab: Lab, conf: type[Confs], high: str, low: str) -> None:
    a, b = lab.node("a"), lab.node("b")

    def text(prio: int, me: Node, peer: Node) -> str:
        return conf.config(
            conf.instance(
                priority=prio, version=3, advert_int=0.1, unicast_src=me.ip, peers=(peer.ip,)
            )
        )

    pa = start(a, high, text(150, a, b))
    start(b, low, text(100, b, a))
    lab.expect(VIP, ["a"], 5)
    lab.stays(VIP, ["a"], 0.5)
    a.crash(pa, f"{VIP}/24")
    lab.expect(VIP, ["b"], 2)
