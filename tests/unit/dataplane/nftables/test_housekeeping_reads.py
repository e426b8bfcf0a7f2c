"""What a housekeeping round reads, and the fast conntrack counter it relies on.

The per-round reading of conntrack and of the dynamic sets is what cost the benchmark's kernel
path up to 10 % of its rate (docs/nftables.md, Benchmark), so these tests pin down that a round
without a connection-counting scheduler lists only the counters and never reads conntrack, that
a listing (`refresh`) then reads the connection counts once, off the event loop, and that
`count` gives exactly the counts the full parse gives (ip_vs_proto_tcp.c
tcp_state_active_table: ESTABLISHED and the SYN states are active, everything else and all UDP
inactive).
"""

import asyncio
import ipaddress
import random
import time

import pytest

from pylvs.dataplane.base import DataPlaneError
from pylvs.dataplane.nftables import conntrack, dr, neigh
from pylvs.dataplane.nftables import plan as plan_mod
from pylvs.dataplane.nftables.accounting import flow_counts
from pylvs.dataplane.nftables.apply import Nft, NftError
from pylvs.dataplane.nftables.counters import CounterValue, Element, TableDump
from pylvs.dataplane.nftables.plan import MARK_BASE
from pylvs.dataplane.nftables.plane import NftablesDataPlane
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.table import AddDest, AddService, Change, DeleteDest, DeleteService
from tests.unit.dataplane.nftables.scenarios import LINKS, MASQ, ROUTE, VIP, two

A, B = MARK_BASE | 1, MARK_BASE | 2


def tcp(state: str, mark: int, extra: str = "[ASSURED] ") -> str:
    return (
        f"ipv4     2 tcp      6 117 {state} src=10.0.1.2 dst=10.0.0.100 sport=40000 dport=80 "
        f"src=10.0.2.11 dst=10.0.1.2 sport=8080 dport=40000 {extra}mark={mark} zone=0 use=2"
    )


def udp(mark: int) -> str:
    return (
        "ipv6     10 udp      17 29 src=fd00::2 dst=fd00::100 sport=5000 dport=53 [UNREPLIED] "
        f"src=fd00::11 dst=fd00::2 sport=53 dport=5000 mark={mark} zone=0 use=2"
    )


def test_count_by_hand() -> None:
    text = "\n".join(
        [
            tcp("ESTABLISHED", A),
            tcp("SYN_SENT2", A, ""),  # simultaneous open: a SYN state, active
            tcp("SYN_RECV", A),
            tcp("TIME_WAIT", A),
            tcp("FIN_WAIT", B),
            tcp("ESTABLISHED", B),
            udp(B),  # UDP is never active
            tcp("ESTABLISHED", 5),  # not a pylvs mark
            tcp("ESTABLISHED", MARK_BASE + 0x10000),  # outside 0x6c76xxxx
        ]
    )
    assert conntrack.count(text) == {A: (3, 1), B: (1, 2)}
    assert conntrack.count("") == {}


def test_count_equals_the_full_parse_on_random_tables() -> None:
    rng = random.Random(7)
    states = ["ESTABLISHED", "SYN_SENT", "SYN_SENT2", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
              "CLOSE", "CLOSE_WAIT", "LAST_ACK"]  # fmt: skip
    marks = [A, B, MARK_BASE | 3, 0, 5, MARK_BASE - 1]
    lines = []
    for _ in range(2000):
        mark = rng.choice(marks)
        if rng.random() < 0.8:
            lines.append(tcp(rng.choice(states), mark, rng.choice(["", "[ASSURED] "])))
        else:
            lines.append(udp(mark))
    text = "\n".join(lines) + "\n"
    assert conntrack.count(text) == flow_counts(conntrack.parse(text))


class FakeNft(Nft):
    """Records what the plane asks nft for; listings show two in-flows and two live sets."""

    def __init__(self) -> None:
        self.dumps: list[str] = []
        self.scripts: list[str] = []

    async def run(self, script: str) -> None:
        self.scripts.append(script)

    def _dump(self) -> TableDump:
        return TableDump({"conns-x": CounterValue(1, 0)}, {"flows-x": [Element(("a",), A)]})

    async def dump(self, family: str, table: str, *, counters_only: bool = False) -> TableDump:
        self.dumps.append("counters" if counters_only else "full")
        return self._dump()


@pytest.fixture
def ct_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def fake() -> dict[int, tuple[int, int]]:
        calls.append(1)
        return {}

    monkeypatch.setattr(conntrack, "read_counts", fake)
    return calls


def make(sched: str) -> tuple[NftablesDataPlane, FakeNft]:
    nft = FakeNft()
    dp = NftablesDataPlane(nft=nft, interval=3600.0)
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), sched)
    changes: list[Change] = [AddService(svc), *(AddDest(svc.key, d) for d in two(MASQ))]
    asyncio.run(dp.apply(changes))
    return dp, nft


def test_round_without_counting_scheduler_reads_counters_only(ct_reads: list[int]) -> None:
    dp, nft = make("rr")

    async def go() -> None:
        await dp.refresh()  # after a change a listing reads the counts once...
        assert nft.dumps == ["full"] and len(ct_reads) == 1
        await dp.refresh()  # ...then only the counters until the next round
        assert nft.dumps == ["full", "counters"] and len(ct_reads) == 1
        await dp.housekeep()
        assert nft.dumps == ["full", "counters", "counters"] and len(ct_reads) == 1
        await dp.refresh()
        await dp.refresh()
        assert nft.dumps[3:] == ["full", "counters"] and len(ct_reads) == 2
        dp.services()  # reads nothing itself
        assert len(nft.dumps) == 5 and len(ct_reads) == 2

    asyncio.run(go())


def test_round_with_counting_scheduler_reads_everything(ct_reads: list[int]) -> None:
    dp, nft = make("wlc")

    async def go() -> None:
        await dp.housekeep()
        assert nft.dumps == ["full"] and len(ct_reads) == 1
        await dp.refresh()  # the round's counts are fresh: only the counters are read
        assert nft.dumps == ["full", "counters"] and len(ct_reads) == 1

    asyncio.run(go())


def test_a_listing_reads_conntrack_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A conntrack read takes ~0.1 s per 10^5 flows; the loop serving VRRP adverts, health
    checks and the control socket must go on meanwhile (it was read on the loop before)."""

    def slow_counts() -> dict[int, tuple[int, int]]:
        time.sleep(0.3)
        return {A: (2, 1)}

    def slow_flows() -> list[conntrack.CtFlow]:
        time.sleep(0.3)
        return conntrack.parse(tcp("ESTABLISHED", A) + "\n" + tcp("TIME_WAIT", A) + "\n")

    monkeypatch.setattr(conntrack, "read_counts", slow_counts)
    monkeypatch.setattr(conntrack, "read_flows", slow_flows)
    dp, _ = make("rr")

    async def go() -> None:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        await dp.refresh()
        assert ticks >= 10  # ~30 in 0.3 s; none if the read blocked the loop
        (rt,) = dp.services()
        assert sorted((d.activeconns, d.inactconns) for d in rt.dests) == [(0, 0), (2, 1)]
        ticks = 0
        await dp.refresh(connections=True)
        assert ticks >= 10
        task.cancel()
        # connections() lists what that refresh read, without reading again.
        monkeypatch.setattr(conntrack, "read_flows", lambda: [])
        states = sorted(c.state.value for c in dp.connections())
        assert states == ["ESTABLISHED", "TIME_WAIT"]

    asyncio.run(go())


class FullMapNft(FakeNft):
    """A DR table whose `full-` counter is set by the test."""

    def __init__(self) -> None:
        super().__init__()
        self.unrecorded = 0

    def _dump(self) -> TableDump:
        return TableDump({"full-tcp-10.0.0.100-80": CounterValue(self.unrecorded, 0)}, {})


def test_full_dr_flow_map_is_warned_about_while_it_grows(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(neigh, "resolve", lambda addresses: dict(LINKS))
    nft = FullMapNft()
    dp = NftablesDataPlane(nft=nft, interval=3600.0)
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), "rr")
    asyncio.run(dp.apply([AddService(svc), *(AddDest(svc.key, d) for d in two(ROUTE, port=80))]))
    assert "full-tcp-10.0.0.100-80" in nft.scripts[-1]
    with caplog.at_level("WARNING", logger="pylvs"):
        asyncio.run(dp.housekeep())  # nothing unrecorded: quiet
        assert not caplog.records
        nft.unrecorded = 30
        asyncio.run(dp.housekeep())
        (record,) = caplog.records
        assert "DR flow map full" in record.getMessage()
        assert "30 packets" in record.getMessage() and "rr scheduler" in record.getMessage()
        caplog.clear()
        asyncio.run(dp.housekeep())  # the map has room again: the counter stands still
        assert not caplog.records


class FlowsNft(FakeNft):
    """A DR table whose flow map holds `n` flows."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def _dump(self) -> TableDump:
        flows = [Element(("10.0.1.%d" % i, 4000, 80), A) for i in range(self.n)]
        return TableDump({}, {"flows-tcp-10.0.0.100-80": flows})


def test_set_sizes_are_the_dynamic_sets_as_last_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """/metrics exports the kernel plane's set sizes (issue 23): the DR flow map and its FIN
    set with their declared sizes, counted from the round that last read the sets."""
    monkeypatch.setattr(neigh, "resolve", lambda addresses: dict(LINKS))
    monkeypatch.setattr(conntrack, "read_counts", lambda: {})
    nft = FlowsNft()
    dp = NftablesDataPlane(nft=nft, interval=3600.0)
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), "wlc")  # counts: full rounds
    asyncio.run(dp.apply([AddService(svc), *(AddDest(svc.key, d) for d in two(ROUTE, port=80))]))
    assert dp.set_sizes() == []  # nothing read yet
    nft.n = 3
    asyncio.run(dp.housekeep())
    sizes = {name: (n, size) for name, n, size in dp.set_sizes()}
    assert sizes["netdev/flows-tcp-10.0.0.100-80"] == (3, dr.FLOW_MAP_SIZE)
    assert sizes["netdev/fin-tcp-10.0.0.100-80"] == (0, dr.FLOW_MAP_SIZE)
    nft.n = 5
    asyncio.run(dp.housekeep())
    assert (5, dr.FLOW_MAP_SIZE) in {(n, size) for _, n, size in dp.set_sizes()}


class NoCtTimeoutNft(FakeNft):
    """A kernel without conntrack timeout policies: nft refuses any `ct timeout`."""

    async def run(self, script: str) -> None:
        if "ct timeout" in script:
            raise NftError("Error: Could not process rule: No such file or directory")
        await super().run(script)


@pytest.mark.parametrize("supported", [True, False])
def test_nat_timeout_policies_only_where_the_kernel_has_them(
    supported: bool, caplog: pytest.LogCaptureFixture
) -> None:
    nft = FakeNft() if supported else NoCtTimeoutNft()
    dp = NftablesDataPlane(nft=nft, interval=3600.0)
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), "rr")

    async def go() -> None:
        with caplog.at_level("WARNING", logger="pylvs"):
            await dp.start()
        await dp.apply([AddService(svc), *(AddDest(svc.key, d) for d in two(MASQ))])
        await dp.stop(0)

    asyncio.run(go())
    applied = next(s for s in nft.scripts if "dnat to" in s)
    # The NAT table is applied either way; with the policies where the kernel takes them.
    assert ('ct timeout set "timeout-tcp-900-120"' in applied) is supported
    assert dp.ct_timeouts is supported
    assert bool(caplog.records) is not supported
    if not supported:
        assert "no conntrack timeout policies" in caplog.records[0].getMessage()


def test_set_timeouts_reaches_the_rules_at_once() -> None:
    """`ipvsadm --set` renders new timeout policies right away (new flows get them at once, as
    with IPVS), not from the next housekeeping round; two quick --set in a row both land."""
    nft = FakeNft()
    dp = NftablesDataPlane(nft=nft, interval=3600.0)
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), "rr")

    async def go() -> None:
        await dp.apply([AddService(svc), *(AddDest(svc.key, d) for d in two(MASQ))])
        dp.set_timeouts(dp.timeouts.with_set(60, 20, 40))
        dp.set_timeouts(dp.timeouts.with_set(70, 0, 0))
        await dp.settle()

    asyncio.run(go())
    # No housekeeping round ran: the last script is the --set's, with the later values.
    assert 'ct timeout set "timeout-tcp-70-20"' in nft.scripts[-1]


class FailOnceNft(FakeNft):
    """nft refuses the next script (the kernel keeps the previous tables)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    async def run(self, script: str) -> None:
        if self.fail:
            self.fail = False
            raise NftError("Error: Could not process rule: Device or resource busy")
        await super().run(script)


def test_a_refused_transaction_is_retried_by_the_next_round() -> None:
    nft = FailOnceNft()
    dp = NftablesDataPlane(nft=nft, interval=3600.0)
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), "rr")
    first, second = two(MASQ)

    async def go() -> None:
        await dp.apply([AddService(svc), AddDest(svc.key, first)])
        nft.fail = True
        with pytest.raises(DataPlaneError, match="nft: "):
            await dp.apply([AddDest(svc.key, second)])
        # The tables and plans still describe what the kernel has...
        assert str(second.address) not in dp.tables["ip"].text()
        assert len(dp.plans[svc.key].dests) == 1
        await dp.housekeep()  # ...until the next round applies the change.
        assert str(second.address) in nft.scripts[-1]
        assert len(dp.plans[svc.key].dests) == 2

    asyncio.run(go())


class CountingNft(FakeNft):
    """Counters the test sets, like the kernel's: a deleted one is gone, a new one starts at 0."""

    def __init__(self) -> None:
        super().__init__()
        self.counters: dict[str, CounterValue] = {}

    def _dump(self) -> TableDump:
        return TableDump(dict(self.counters), {})

    async def run(self, script: str) -> None:
        await super().run(script)
        for line in script.splitlines():
            if line.startswith("delete counter "):
                self.counters.pop(line.split()[-1], None)


def test_counts_are_added_round_by_round_and_survive_a_deleted_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service keeps what a deleted real server counted (IPVS counts every packet in the
    service's stats as well), its connection rate never goes negative, and -Z starts from 0."""
    # The fake world has no flows: the host's own conntrack (marked flows other runs left
    # there) must not count as connections bound to the deleted server.
    monkeypatch.setattr(conntrack, "read_counts", dict)
    monkeypatch.setattr(conntrack, "read_flows", list)
    nft = CountingNft()
    clock = [100.0]
    dp = NftablesDataPlane(nft=nft, interval=3600.0, clock=lambda: clock[0])
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), "rr")
    first, second = two(MASQ)
    name = {d.address: f"tcp-10.0.0.100-80/{d.address}-8080" for d in (first, second)}

    def count(d: object, conns: int) -> None:
        addr = d.address  # type: ignore[attr-defined]
        nft.counters[f"conns-{name[addr]}"] = CounterValue(conns, conns * 60)
        nft.counters[f"in-{name[addr]}"] = CounterValue(conns * 3, conns * 180)

    def conns() -> tuple[int, int]:
        (rt,) = dp.services()
        return rt.stats.counters.conns, rt.stats.counters.inpkts

    async def go() -> None:
        await dp.apply([AddService(svc), AddDest(svc.key, first), AddDest(svc.key, second)])
        count(first, 10)
        count(second, 10)
        await dp.housekeep()
        assert conns() == (20, 60)
        count(second, 14)  # after the round, before the deletion: the service keeps them
        await dp.apply([DeleteDest(svc.key, second.key)])
        assert f"conns-{name[second.address]}" not in nft.counters
        assert conns() == (24, 72)
        count(first, 15)
        clock[0] += 1.0
        await dp.housekeep()
        assert conns() == (29, 87)  # 24 before, 5 more through the first server
        assert dp._cps[svc.key] == 9.0  # the round's 9 new connections, 4 of them harvested
        await dp.apply([AddDest(svc.key, second)])  # its counters start again from zero
        count(second, 2)
        clock[0] += 1.0
        await dp.housekeep()
        assert conns() == (31, 93)
        (rt,) = dp.services()
        revived = rt.dest(second.key)
        # Nothing was bound to it, so the trash forgot it: the new one starts from zero.
        assert revived is not None and rt.stats_of(revived).counters.conns == 2
        count(first, 17)  # a listing adds what was counted since the round, at once
        await dp.refresh()
        assert conns() == (33, 99)
        dp.zero()
        assert conns() == (0, 0)
        count(first, 18)
        clock[0] += 1.0
        await dp.housekeep()
        assert conns() == (1, 3)

    asyncio.run(go())


def test_a_deleted_server_stays_in_the_trash_while_conntrack_has_its_flows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its counts follow conntrack (not frozen at deletion), it is forgotten once its flows
    are gone, and its mark is not handed to the next server while they may still carry it."""
    live: dict[int, tuple[int, int]] = {}
    monkeypatch.setattr(conntrack, "read_counts", lambda: dict(live))
    dp = NftablesDataPlane(nft=FakeNft(), interval=3600.0)
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), "rr")
    first, second = two(MASQ)

    async def go() -> None:
        await dp.apply([AddService(svc), AddDest(svc.key, first), AddDest(svc.key, second)])
        gone = dp.marks.known(svc.key, second.key)
        assert gone is not None
        live[gone] = (3, 1)
        await dp.apply([DeleteDest(svc.key, second.key)])
        await dp.housekeep()
        (rt,) = dp.services()
        (trashed,) = rt.trash
        assert (trashed.activeconns, trashed.inactconns) == (3, 1)
        # Its flows' packets are dropped (expire_nodest_conn = 0) while conntrack has them.
        drop = f"ct mark {{ 0x{gone:08x} }} drop"
        assert drop in dp.tables["ip"].text()
        live[gone] = (0, 2)  # the flows are closing: counted, not frozen
        await dp.housekeep()
        assert (trashed.activeconns, trashed.inactconns) == (0, 2)
        assert dp.marks.known(svc.key, second.key) == gone
        del live[gone]
        await dp.housekeep()
        assert rt.trash == [] and dp.marks.known(svc.key, second.key) is None
        assert "drop" not in dp.tables["ip"].text().split("chain count")[1].split("}")[0]
        # A new server does not get the released mark.
        third = RealServer(ipaddress.ip_address("10.0.2.13"), 8080, 1, MASQ)
        await dp.apply([AddDest(svc.key, third)])
        assert dp.marks.known(svc.key, third.key) not in (gone, None)

    asyncio.run(go())


def test_released_marks_are_reused_last_and_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_mod, "MAX_MARK_ID", 4)
    marks = plan_mod.MarkAllocator()
    key = ServiceKey.inet(Protocol.TCP, VIP, 80)
    a, b, c, d, e = ((ipaddress.ip_address(f"10.0.2.{i}"), 80) for i in range(1, 6))
    ids = [marks.mark(key, x) for x in (a, b, c)]
    marks.release(key, b)
    marks.release(key, a)
    assert marks.mark(key, d) not in ids  # id 4: never used before
    assert marks.mark(key, e) == ids[1]  # all used: b's, released first


def test_housekeeping_goes_on_after_a_round_that_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dp = NftablesDataPlane(nft=FakeNft(), interval=0.001)
    rounds: list[int] = []

    async def housekeep() -> None:
        rounds.append(1)
        if len(rounds) == 1:
            raise ValueError("unexpected listing")

    monkeypatch.setattr(dp, "housekeep", housekeep)

    async def go() -> None:
        await dp.start()
        while len(rounds) < 3:
            await asyncio.sleep(0.01)
        await dp.stop(0)

    with caplog.at_level("ERROR", logger="pylvs"):
        asyncio.run(asyncio.wait_for(go(), 5))
    assert "housekeeping round failed" in caplog.text


def test_a_deleted_services_servers_keep_their_marks_until_it_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service deleted with live NAT flows: its servers wait in the state's trash, recounted
    from conntrack, their flows dropped (expire_nodest_conn = 0) and their marks kept, so the
    same service added back (`ipvsadm -C; ipvsadm -R`) gets the same marks and the same dests
    with their flows' counts."""
    live: dict[int, tuple[int, int]] = {}
    monkeypatch.setattr(conntrack, "read_counts", lambda: dict(live))
    dp = NftablesDataPlane(nft=FakeNft(), interval=3600.0)
    kept = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 443), "rr")
    svc = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80), "rr")
    first, second = two(MASQ)

    async def go() -> None:
        await dp.apply([AddService(kept), AddDest(kept.key, first)])
        await dp.apply([AddService(svc), AddDest(svc.key, second)])
        mark = dp.marks.known(svc.key, second.key)
        assert mark is not None
        live[mark] = (2, 1)
        await dp.apply([DeleteService(svc.key)])
        await dp.housekeep()
        ((key, dest),) = dp.state.orphaned()
        assert key == svc.key and (dest.activeconns, dest.inactconns) == (2, 1)
        assert dp.marks.known(svc.key, second.key) == mark
        assert f"ct mark {{ 0x{mark:08x} }} drop" in dp.tables["ip"].text()
        await dp.apply([AddService(svc), AddDest(svc.key, second)])
        (rt,) = [r for r in dp.services() if r.key == svc.key]
        assert rt.dests[0] is dest and dp.marks.known(svc.key, second.key) == mark
        assert "drop" not in dp.tables["ip"].text().split("chain count")[1].split("}")[0]
        await dp.apply([DeleteService(svc.key)])
        del live[mark]  # its flows ended: forgotten, mark released
        await dp.housekeep()
        assert dp.state.orphaned() == [] and dp.marks.known(svc.key, second.key) is None

    asyncio.run(go())
