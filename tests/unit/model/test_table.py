"""The service table and its diff into changes."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.model import (
    AddDest,
    AddService,
    DeleteDest,
    DeleteService,
    EditDest,
    EditService,
    ModelError,
    Protocol,
    RealServer,
    ServiceEntry,
    ServiceKey,
    ServiceTable,
    VirtualService,
    diff,
)

K1 = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
K2 = ServiceKey.inet(Protocol.UDP, "10.0.0.1", 53)


def rs(last: int, weight: int = 1) -> RealServer:
    return RealServer(ipaddress.ip_address(f"192.168.0.{last}"), 80, weight=weight)


def test_diff_of_equal_tables_is_empty() -> None:
    t = ServiceTable([ServiceEntry(VirtualService(K1), (rs(1), rs(2)))])
    assert diff(t, t) == []


def test_diff_orders_deletes_then_adds_then_edits() -> None:
    old = ServiceTable(
        [
            ServiceEntry(VirtualService(K1, "rr"), (rs(1), rs(2))),
            ServiceEntry(VirtualService(K2), (rs(3),)),
        ]
    )
    new = ServiceTable([ServiceEntry(VirtualService(K1, "wrr"), (rs(1, 5), rs(4)))])
    assert diff(old, new) == [
        DeleteDest(K1, rs(2).key),
        DeleteService(K2),
        AddDest(K1, rs(4)),
        EditService(VirtualService(K1, "wrr")),
        EditDest(K1, rs(1, 5)),
    ]


def test_duplicate_dest_and_service_rejected() -> None:
    with pytest.raises(ModelError):
        ServiceEntry(VirtualService(K1), (rs(1), rs(1, 2)))
    with pytest.raises(ModelError):
        ServiceTable([ServiceEntry(VirtualService(K1)), ServiceEntry(VirtualService(K1, "rr"))])


def test_apply_reports_missing_things() -> None:
    t = ServiceTable()
    with pytest.raises(ModelError, match="No such service"):
        t.apply([DeleteService(K1)])
    with pytest.raises(ModelError, match="Service not defined"):
        t.apply([AddDest(K1, rs(1))])
    t = t.apply([AddService(VirtualService(K1))])
    with pytest.raises(ModelError, match="No such destination"):
        t.apply([EditDest(K1, rs(1))])


keys = st.sampled_from([K1, K2, ServiceKey.mark(5)])
scheds = st.sampled_from(["rr", "wrr", "wlc"])
dest_sets = st.dictionaries(st.integers(1, 6), st.integers(0, 3), max_size=5)
tables = st.dictionaries(keys, st.tuples(scheds, dest_sets), max_size=3).map(
    lambda d: ServiceTable(
        ServiceEntry(VirtualService(k, s), tuple(rs(i, w) for i, w in ds.items()))
        for k, (s, ds) in d.items()
    )
)


@given(tables, tables)
def test_applying_the_diff_reaches_the_new_table(old: ServiceTable, new: ServiceTable) -> None:
    result = old.apply(diff(old, new))
    assert set(result) == set(new)
    for k in new:
        assert result[k].service == new[k].service
        assert set(result[k].dests) == set(new[k].dests)


def test_entries_built_by_apply_equal_entries_built_whole() -> None:
    """apply builds each entry from the previous one (its dest index copied, not rebuilt):
    the result compares, hashes and looks up exactly like an entry made from scratch, and a
    duplicate, an edit of a missing dest or a deletion of one is still refused."""
    t = ServiceTable([ServiceEntry(VirtualService(K1))])
    t = t.apply([AddDest(K1, rs(1)), AddDest(K1, rs(2)), AddDest(K1, rs(3))])
    t = t.apply(
        [EditDest(K1, rs(2, 7)), DeleteDest(K1, rs(1).key), EditService(VirtualService(K1, "wrr"))]
    )
    whole = ServiceTable([ServiceEntry(VirtualService(K1, "wrr"), (rs(2, 7), rs(3)))])
    assert t == whole and hash(t) == hash(whole)
    assert t[K1].dest(rs(2).key) == rs(2, 7) and t[K1].dest(rs(1).key) is None
    with pytest.raises(ModelError):
        t.apply([AddDest(K1, rs(3, 2))])
    with pytest.raises(ModelError):
        t.apply([EditDest(K1, rs(1))])
    with pytest.raises(ModelError):
        t.apply([DeleteDest(K1, rs(1).key)])
    assert t == whole  # a refused change leaves the table as it was
