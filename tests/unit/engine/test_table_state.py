"""Reload diffs the old config with the new one and keeps operator edits."""

import ipaddress

from pylvs.engine.table_state import TableState
from pylvs.model import Protocol, RealServer, ServiceEntry, ServiceKey, ServiceTable, VirtualService

K1 = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
K2 = ServiceKey.inet(Protocol.TCP, "10.0.0.2", 80)


def rs(last: int, weight: int = 1) -> RealServer:
    return RealServer(ipaddress.ip_address(f"192.168.0.{last}"), 80, weight=weight)


def table(*entries: ServiceEntry) -> ServiceTable:
    return ServiceTable(entries)


def test_first_load_applies_the_config() -> None:
    cfg = table(ServiceEntry(VirtualService(K1, "rr"), (rs(1), rs(2))))
    st = TableState.empty().reload(cfg)
    assert st.live == cfg and st.config == cfg


def test_reload_keeps_operator_edits_it_does_not_touch() -> None:
    cfg = table(ServiceEntry(VirtualService(K1, "rr"), (rs(1), rs(2))))
    st = TableState.empty().reload(cfg)
    # operator: add a service by hand and quiesce rs2
    edited = ServiceTable(
        [
            ServiceEntry(VirtualService(K1, "rr"), (rs(1), rs(2, 0))),
            ServiceEntry(VirtualService(K2, "wlc"), (rs(9),)),
        ]
    )
    st = st.edit(edited)
    # new config: scheduler changes to wrr, rs1 gets weight 3
    new_cfg = table(ServiceEntry(VirtualService(K1, "wrr"), (rs(1, 3), rs(2))))
    st = st.reload(new_cfg)
    assert st.live[K1].service.scheduler == "wrr"
    assert st.live[K1].dest(rs(1).key) == rs(1, 3)
    assert st.live[K1].dest(rs(2).key) == rs(2, 0)  # the config did not change rs2: edit kept
    assert K2 in st.live  # hand-made service kept


def test_reload_removes_what_the_config_removed_even_after_edits() -> None:
    cfg = table(
        ServiceEntry(VirtualService(K1), (rs(1), rs(2))), ServiceEntry(VirtualService(K2), ())
    )
    st = TableState.empty().reload(cfg)
    st = st.edit(table(ServiceEntry(VirtualService(K1), (rs(1),))))  # operator deleted rs2 and K2
    st = st.reload(table(ServiceEntry(VirtualService(K1), ())))
    assert st.live == table(ServiceEntry(VirtualService(K1), ()))


def test_config_add_of_operator_added_dest_becomes_edit() -> None:
    st = TableState.empty().reload(table(ServiceEntry(VirtualService(K1), ())))
    st = st.edit(table(ServiceEntry(VirtualService(K1), (rs(5, 9),))))
    st = st.reload(table(ServiceEntry(VirtualService(K1), (rs(5, 2),))))
    assert st.live[K1].dests == (rs(5, 2),)
