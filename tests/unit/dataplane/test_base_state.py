"""DataPlaneState: a deleted service's dests wait in the trash for a service of the same key.

IPVS's dest trash is per network namespace, matched on the service's address, port, fwmark and
protocol (ip_vs_ctl.c ip_vs_trash_get_dest): `ipvsadm -D` then `-A` / `-a` of the same service
and server (as `ipvsadm -C; ipvsadm -R < saved` does) revives the same dest, with its
connections' counts and the persistence templates pointing at it; its statistics start from
zero, as __ip_vs_update_dest zeroes them for a dest bound to another service object.
"""

import ipaddress

from pylvs.dataplane.base import DataPlaneState
from pylvs.model.service import Protocol, RealServer, ServiceFlags, ServiceKey, VirtualService
from pylvs.model.table import AddDest, AddService, DeleteService
from pylvs.proto.conntrack import TcpEvent
from pylvs.sched.base import Flow

A = ipaddress.ip_address
KEY = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
SVC = VirtualService(KEY, scheduler="rr", flags=ServiceFlags.PERSISTENT, timeout=300)
RS_A, RS_B = RealServer(A("192.168.0.2"), 80), RealServer(A("192.168.0.3"), 80)


def flow(cport: int) -> Flow:
    return Flow(A("1.2.3.4"), cport, A("10.0.0.1"), 80, 6)


def built() -> DataPlaneState:
    st = DataPlaneState()
    for change in (AddService(SVC), AddDest(KEY, RS_A), AddDest(KEY, RS_B)):
        st.apply_one(change, 0.0)
    return st


def test_a_recreated_service_revives_its_trashed_dests() -> None:
    st = built()
    c = st.runtimes[KEY].open_conn(st.table, flow(1000), 0.0)
    assert c is not None
    st.table.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 0.0)
    st.table.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 0.0)
    old = c.dest
    assert st.runtimes[KEY].stats_of(old).counters.conns == 1
    st.apply_one(DeleteService(KEY), 1.0)
    assert not old.available
    assert st.housekeep(2.0) == [] and st.orphaned() == [(KEY, old)]  # only the bound one
    for change in (AddService(SVC), AddDest(KEY, RS_B), AddDest(KEY, RS_A)):
        st.apply_one(change, 3.0)
    rt = st.runtimes[KEY]
    revived = rt.dest(old.key)
    assert revived is old and revived.available and st.orphans == {}
    assert (old.activeconns, old.persistconns) == (1, 1)
    assert rt.stats_of(old).counters.conns == 0
    # The template pins the client to it again (it was invalid while the dest was not).
    c2 = rt.open_conn(st.table, flow(1001), 4.0)
    assert c2 is not None and c2.dest is old and c2.control is c.control


def test_a_deleted_services_dests_are_forgotten_once_nothing_is_bound() -> None:
    st = built()
    c = st.runtimes[KEY].open_conn(st.table, flow(1000), 0.0)
    assert c is not None
    st.apply_one(DeleteService(KEY), 1.0)
    st.housekeep(1.0)
    assert len(st.orphaned()) == 1
    st.table.drop(c)
    st.housekeep(400.0)  # the template expired as well
    assert st.orphaned() == []
    for change in (AddService(SVC), AddDest(KEY, RS_A)):
        st.apply_one(change, 500.0)
    fresh = st.runtimes[KEY].dests[0]
    assert fresh is not c.dest and st.runtimes[KEY].stats_of(fresh).counters.conns == 0


def test_only_dests_still_bound_wait() -> None:
    st = built()
    st.apply_one(DeleteService(KEY), 1.0)
    st.housekeep(1.0)  # no connections: nothing kept
    assert st.orphans == {}
