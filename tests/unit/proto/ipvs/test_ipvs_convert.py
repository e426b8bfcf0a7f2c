"""The model <-> IPVS values mapping, ipvsadm's error words, and /proc/net/ip_vs_conn."""

from __future__ import annotations

import errno
import ipaddress
import json
from pathlib import Path

import pytest

from pylvs.control.ipvsadm.command import Fmt
from pylvs.control.ipvsadm.conns import list_conn
from pylvs.control.ipvsadm.resolver import NUMERIC
from pylvs.engine.snapshot import conn_view
from pylvs.model.service import (
    AF_INET,
    AF_INET6,
    ForwardMethod,
    ModelError,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    TunnelCsum,
    TunnelParams,
    TunnelType,
    VirtualService,
)
from pylvs.proto.conntrack.states import ConnState
from pylvs.proto.ipvs import convert
from pylvs.proto.ipvs.procfs import parse_conns, proto_name
from pylvs.proto.ipvs.spec import Cmd
from pylvs.proto.ipvs.values import DestAttrs, ServiceAttrs, netmask_of

A = ipaddress.ip_address
CAPTURE = json.loads(
    (Path(__file__).resolve().parents[3] / "data" / "ipvs" / "ipvsadm_netlink.json").read_text()
)


@pytest.mark.parametrize(
    "svc",
    [
        VirtualService(ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80), "wrr"),
        VirtualService(ServiceKey.inet(Protocol.UDP, "10.0.0.1", 53), "sh",
                       ServiceFlags.SCHED1 | ServiceFlags.SCHED2 | ServiceFlags.ONEPACKET),
        VirtualService(ServiceKey.mark(7), "rr", ServiceFlags.PERSISTENT, 600, 24),
        VirtualService(ServiceKey.mark(8, AF_INET6), "mh", ServiceFlags.PERSISTENT, 360, 96),
        VirtualService(ServiceKey.inet(Protocol.SCTP, "2001:db8::1", 3868), "lc",
                       ServiceFlags.PERSISTENT, 100, 64, "sip"),
    ],
)  # fmt: skip
def test_services_round_trip(svc: VirtualService) -> None:
    assert convert.service_of(convert.service_attrs(svc)) == svc


def test_the_kernel_s_own_flags_are_not_configuration() -> None:
    attrs = convert.service_attrs(VirtualService(ServiceKey.mark(7), "rr"))
    hashed = ServiceAttrs(**{**{f: getattr(attrs, f) for f in attrs.__slots__}, "flags": 0x2})
    assert convert.service_of(hashed).flags == ServiceFlags.NONE


def test_netmasks_as_the_kernel_keeps_them() -> None:
    assert netmask_of(AF_INET, 24).to_bytes(4, "little") == bytes([255, 255, 255, 0])
    assert netmask_of(AF_INET6, 64) == 64
    odd = ServiceAttrs(af=AF_INET, fwmark=1, netmask=int.from_bytes(bytes([255, 0, 255, 0]),
                                                                    "little"))  # fmt: skip
    assert odd.prefix() is None
    with pytest.raises(ModelError, match="non-contiguous"):
        convert.service_of(odd)


@pytest.mark.parametrize(
    "rs",
    [
        RealServer(A("10.0.1.1"), 8080, 3, ForwardMethod.MASQ, 100, 50),
        RealServer(A("10.0.1.2"), 80, 0, ForwardMethod.ROUTE),
        RealServer(A("10.0.1.3"), 80, 1, ForwardMethod.LOCAL),
        RealServer(A("10.0.1.4"), 80, 1, ForwardMethod.TUNNEL,
                   tunnel=TunnelParams(TunnelType.GUE, 6080, TunnelCsum.REMCSUM)),
        RealServer(A("2001:db8::5"), 80, 1, ForwardMethod.TUNNEL,
                   tunnel=TunnelParams(TunnelType.GRE, 0, TunnelCsum.CSUM)),
        RealServer(A("10.0.1.6"), 80, 1, ForwardMethod.TUNNEL, tunnel=TunnelParams()),
    ],
)  # fmt: skip
def test_real_servers_round_trip(rs: RealServer) -> None:
    assert convert.real_server_of(convert.dest_attrs(rs)) == rs


def test_a_tunnel_server_without_options_reads_back_as_ipip() -> None:
    rs = RealServer(A("10.0.1.6"), 80, 1, ForwardMethod.TUNNEL)
    assert convert.real_server_of(convert.dest_attrs(rs)).tunnel == TunnelParams()


def test_unknown_kernel_values_are_model_errors() -> None:
    with pytest.raises(ModelError):
        convert.real_server_of(DestAttrs(AF_INET, A("10.0.1.1"), fwd_method=4))
    with pytest.raises(ModelError):
        convert.key_of(ServiceAttrs(AF_INET, protocol=50, addr=A("10.0.0.1"), port=0))


def test_long_names_are_cut_as_ipvsadm_cuts_them() -> None:
    svc = VirtualService(ServiceKey.mark(1), "averyveryverylongschedulername")
    assert convert.service_attrs(svc).sched_name == "averyveryverylo"


@pytest.mark.parametrize(
    ("cmd", "err", "text"),
    [
        (Cmd.NEW_SERVICE, errno.EEXIST, "Service already exists"),
        (Cmd.SET_SERVICE, errno.ESRCH, "No such service"),
        (Cmd.NEW_DEST, errno.ESRCH, "Service not defined"),
        (Cmd.SET_DEST, errno.ENOENT, "No such destination"),
        (Cmd.NEW_DAEMON, errno.EEXIST, "Daemon has already run"),
        (Cmd.DEL_DAEMON, errno.ESRCH, "No daemon is running"),
        (Cmd.NEW_DEST, errno.EPERM, "Permission denied (you must be root)"),
        (Cmd.ZERO, errno.EINVAL,
         "Invalid operation.  Possibly wrong module version, address not unicast, ..."),
    ],
)  # fmt: skip
def test_kernel_errors_in_ipvsadm_s_words(cmd: Cmd, err: int, text: str) -> None:
    assert convert.strerror(cmd, err) == text


def test_errors_ipvsadm_leaves_to_strerror() -> None:
    assert convert.strerror(Cmd.NEW_DAEMON, errno.ENODEV) is None
    assert convert.strerror(Cmd.NEW_DEST, errno.ENOENT) is None  # libipvs has no entry


def test_the_connection_table_prints_as_ipvsadm_printed_it() -> None:
    conns = CAPTURE["conns"]
    rows = parse_conns(conns["proc"])
    assert rows.skipped == 0 and len(rows.rows) == 5
    assert rows.rows[0].state is ConnState.TIME_WAIT and rows.rows[0].vport == 80
    views = tuple(conn_view(r) for r in rows.rows)
    assert list_conn(views, Fmt.NUMERIC, NUMERIC) == conns["ipvsadm -Lnc"]


def test_connection_rows_of_ipv6_templates_and_engines() -> None:
    text = (
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"
        "TCP 2001:0db8:0000:0000:0000:0000:0000:0005 9C40 2001:0db8:0000:0000:0000:0000:0000:"
        "0001 0050 0A000102 0050 ESTABLISHED     899\n"
        "IP  0A000064 0000 00000007 0000 0A000102 0000 ASSURED         359\n"
        "UDP 0A000064 13C4 0A000003 13C4 0A000102 13C4 UDP             299 sip abc@example\n"
        "garbage\n"
    )
    rows = parse_conns(text)
    assert rows.skipped == 1
    v6, template, sip = rows.rows
    assert (v6.caddr, v6.cport, v6.daddr) == (A("2001:db8::5"), 40000, A("10.0.1.2"))
    assert template.protocol == 0 and template.template and template.vaddr == A("0.0.0.7")
    assert (sip.pe_name, sip.pe_data) == ("sip", "abc@example")
    assert [proto_name(p) for p in (0, 6, 17, 132, 50)] == ["IP", "TCP", "UDP", "SCTP", "IP_50"]
