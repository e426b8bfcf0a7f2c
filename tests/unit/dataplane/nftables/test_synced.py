"""Connection sync on the nftables plane, pure parts: what a backup writes for each synced
entry (DR flow map and fin set, persistence sets, conntrack entries with their NAT binding),
what it refuses, and a master's view of the kernel's flows (synced.py)."""

import ipaddress

from pylvs.dataplane.nftables.ctnetlink import CtEntry
from pylvs.dataplane.nftables.plan import MarkAllocator, ServicePlan
from pylvs.dataplane.nftables.planner import plan_service
from pylvs.dataplane.nftables.synced import Mirror, NftTarget, SyncedElement
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import Protocol, ServiceKey
from pylvs.proto.conntrack.states import ConnState, Timeouts
from pylvs.proto.conntrack.table import ConnEntry
from pylvs.proto.sync import Policy, Receiver, SyncConn, SyncMessage, encode
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.codec import Drop
from tests.unit.dataplane.nftables.scenarios import LINKS, MASQ, ROUTE, VIP, tcp80, two

A = ipaddress.ip_address
KEY = ServiceKey.inet(Protocol.TCP, VIP, 80)


class Backup:
    def __init__(self, rt: ServiceRuntime) -> None:
        self.rt = rt
        marks = MarkAllocator()
        self.plan: ServicePlan = plan_service(rt, marks, LINKS, Timeouts())
        self.elements: list[SyncedElement] = []
        self.entries: list[CtEntry] = []
        target = NftTarget(
            lambda: {rt.key: self.plan},
            lambda: {rt.key: rt},
            Timeouts,
            self.elements.extend,
            self.entries.append,
        )
        self.receiver = Receiver(Policy(), target)

    def mark(self, address: str) -> int:
        return next(d.mark for d in self.plan.dests if d.address == A(address))

    def receive(self, *recs: SyncConn, now: float = 0.0) -> None:
        self.receiver.datagram(encode(SyncMessage(1, 1, recs)), A("10.9.9.9"), now)


def conn(
    daddr: str, state: int = w.TCP_S_ESTABLISHED, flags: int = w.F_DROUTE, **kw: object
) -> SyncConn:
    base: dict[str, object] = dict(
        protocol=6, caddr=A("10.0.1.2"), cport=40000, vaddr=A(VIP), vport=80,
        daddr=A(daddr), dport=8080, flags=flags, state=state, timeout=850,
    )  # fmt: skip
    base.update(kw)
    return SyncConn(**base)  # type: ignore[arg-type]


def test_dr_connection_enters_the_flow_map_with_the_senders_remaining_time() -> None:
    b = Backup(tcp80("rr", two(ROUTE)))
    b.receive(conn("10.0.2.12"))
    e, fin = b.elements
    # an earlier connection from this client port may have left it in the fin set
    assert fin.script("pylvs") == (
        "add element netdev pylvs fin-tcp-10.0.0.100-80 { 10.0.1.2 . 40000 . 80 }\n"
        "delete element netdev pylvs fin-tcp-10.0.0.100-80 { 10.0.1.2 . 40000 . 80 }\n"
    )
    assert e.script("pylvs") == (
        "add element netdev pylvs flows-tcp-10.0.0.100-80 "
        f"{{ 10.0.1.2 . 40000 . 80 : 0x{b.mark('10.0.2.12'):08x} }}\n"
        "delete element netdev pylvs flows-tcp-10.0.0.100-80 { 10.0.1.2 . 40000 . 80 }\n"
        "add element netdev pylvs flows-tcp-10.0.0.100-80 "
        f"{{ 10.0.1.2 . 40000 . 80 timeout 900s expires 850s : 0x{b.mark('10.0.2.12'):08x} }}\n"
    )
    assert b.receiver.stats.installed == 1
    b.receive(conn("10.0.2.12", timeout=900))  # the same entry again: an update
    assert b.receiver.stats.updated == 1 and len(b.elements) == 4


def test_dr_connection_past_established_joins_the_fin_set() -> None:
    b = Backup(tcp80("rr", two(ROUTE)))
    b.receive(
        conn("10.0.2.11", state=w.TCP_S_FIN_WAIT, flags=w.F_DROUTE | w.F_INACTIVE, timeout=100)
    )
    flows, fins = b.elements
    assert (flows.set_name, flows.timeout, flows.expires, flows.mark) == (
        "flows-tcp-10.0.0.100-80",
        120,
        100,
        b.mark("10.0.2.11"),
    )
    assert (fins.set_name, fins.key, fins.timeout, fins.mark) == (
        "fin-tcp-10.0.0.100-80", "10.0.1.2 . 40000 . 80", 120, None)  # fmt: skip


def test_templates_enter_the_persistence_sets() -> None:
    dr = Backup(tcp80("rr", two(ROUTE), timeout=300))
    tpl = conn("10.0.2.11", flags=w.F_DROUTE | w.F_TEMPLATE, cport=0, state=0, timeout=200)
    dr.receive(tpl)
    (e,) = dr.elements
    assert (e.family, e.set_name, e.key, e.timeout, e.expires, e.mark) == (
        "netdev",
        "persist-tcp-10.0.0.100-80",
        "10.0.1.2",
        300,
        200,
        dr.mark("10.0.2.11"),
    )
    nat = Backup(tcp80("rr", two(MASQ), timeout=300))
    nat.receive(conn("10.0.2.12", flags=w.F_MASQ | w.F_TEMPLATE, cport=0, state=0, timeout=200))
    (e,) = nat.elements
    assert (e.family, e.set_name, e.key, e.mark) == (
        "ip", "aff-tcp-10.0.0.100-80/10.0.2.12-8080", "10.0.1.2", None)  # fmt: skip


def test_nat_connection_becomes_a_conntrack_entry_with_its_binding() -> None:
    b = Backup(tcp80("rr", two(MASQ)))
    b.receive(conn("10.0.2.11", flags=w.F_MASQ))
    (e,) = b.entries
    f = e.flow
    assert (f.caddr, f.cport, f.vaddr, f.vport, f.daddr, f.dport) == (
        A("10.0.1.2"), 40000, A(VIP), 80, A("10.0.2.11"), 8080)  # fmt: skip
    assert (f.state, f.expires, f.mark, e.replace) == (
        ConnState.ESTABLISHED, 850, b.mark("10.0.2.11"), False)  # fmt: skip
    # bound elsewhere now: the old entry is replaced
    b.receive(conn("10.0.2.12", flags=w.F_MASQ))
    assert b.entries[-1].replace and b.entries[-1].flow.daddr == A("10.0.2.12")
    assert b.elements == []


def test_what_cannot_be_installed_is_refused_and_counted() -> None:
    b = Backup(tcp80("rr", two(ROUTE)))
    b.receive(conn("10.0.2.99"))  # no such real server here
    b.receive(conn("10.0.2.11", vport=81))  # no such service here
    assert b.receiver.stats.drops[Drop.UNSUPPORTED] == 2
    assert b.elements == [] and b.entries == []


def test_mirror_keeps_one_conn_per_entry_and_retires_the_gone() -> None:
    rt = tcp80("rr", two(ROUTE))
    rows = [
        ConnEntry(6, A("10.0.1.2"), 40000, A(VIP), 80, A("10.0.2.11"), 8080,
                  ConnState.ESTABLISHED, 850, service=KEY),
        ConnEntry(6, A("10.0.1.3"), 40001, A(VIP), 80, A("10.0.2.12"), 8080,
                  ConnState.FIN_WAIT, 100, service=KEY),
    ]  # fmt: skip
    m = Mirror()
    first = m.update(rows, {KEY: rt}, Timeouts(), 10.0)
    assert [(c.state, c.timeout, c.expires, c.inactive) for c in first] == [
        (ConnState.ESTABLISHED, 900.0, 860.0, False),
        (ConnState.FIN_WAIT, 120.0, 110.0, True),
    ]
    second = m.update(rows[:1], {KEY: rt}, Timeouts(), 11.0)
    assert second[0] is first[0] and first[1].dead and not first[0].dead


def test_the_synced_count_forgets_what_the_kernel_let_expire() -> None:
    """The backup's ceiling (Policy.max_entries) counts live synced entries only."""
    b = Backup(tcp80("rr", two(ROUTE)))
    b.receive(conn("10.0.2.11", timeout=100), conn("10.0.2.12", cport=40001, timeout=900))
    assert b.receiver.target.synced() == 2
    b.receive(conn("10.0.2.11", cport=40002, timeout=900), now=500.0)
    assert b.receiver.target.synced() == 2  # the first one ran out at 100
