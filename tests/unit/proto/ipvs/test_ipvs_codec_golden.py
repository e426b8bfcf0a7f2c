"""The IPVS codec against the bytes the real ipvsadm and a real 6.1 kernel exchanged.

tests/data/ipvs/ipvsadm_netlink.json was captured in the IPVS VM by
tests/data/ipvs/capture_netlink.py (nlmon + tcpdump around each ipvsadm run).  For every
command the request pylvs would send for the same ipvsadm arguments (parsed by pylvs's
ipvsadm parser, turned into the model's change, then `convert.request_for`) must be the
captured request byte for byte, sequence number and port id included; the kernel's answers
must decode into values that pylvs's ipvsadm printer turns into the real ipvsadm's output.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import TypedDict

import pytest

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.args import parse
from pylvs.control.ipvsadm.format import list_all, list_daemon, list_timeout
from pylvs.control.ipvsadm.resolver import NUMERIC
from pylvs.model import table as mt
from pylvs.model.service import Protocol, ServiceKey
from pylvs.model.snapshot import DestView, ServiceView, Snapshot
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.proto.conntrack.states import Timeouts
from pylvs.proto.ipvs import codec, convert
from pylvs.proto.ipvs.spec import COMMAND, Cmd
from pylvs.proto.ipvs.values import KernelTimeouts, unpack_addr
from pylvs.proto.netlink import ctrl
from pylvs.proto.netlink.attrs import decode
from pylvs.proto.netlink.message import Ack, Done, Message
from pylvs.proto.netlink.message import parse as parse_messages

DATA = Path(__file__).resolve().parents[3] / "data" / "ipvs" / "ipvsadm_netlink.json"


class Run(TypedDict):
    """One ipvsadm run of the capture: its arguments, output and netlink messages."""

    argv: list[str]
    rc: int
    stdout: str
    stderr: str
    messages: list[str]  # ">" (to the kernel) or "<" (from it), then the message in hex


CAPTURE = json.loads(DATA.read_text())
RUNS: list[Run] = CAPTURE["runs"]
IPVS_FAMILY = 0x20  # what GETFAMILY answered in the capture (checked below)


def messages(run: Run, way: str) -> list[bytes]:
    return [bytes.fromhex(m[1:]) for m in run["messages"] if m[0] == way]


def header(raw: bytes) -> tuple[int, int, int, int, int]:
    length, mtype, flags, seq, pid = struct.unpack_from("=IHHII", raw)
    return length, mtype, flags, seq, pid


def ipvs_requests(run: Run) -> list[bytes]:
    return [m for m in messages(run, ">") if header(m)[1] != ctrl.GENL_ID_CTRL]


def answers(run: Run) -> list[Message | Ack | Done]:
    out: list[Message | Ack | Done] = []
    for raw in messages(run, "<"):
        out += parse_messages(raw)
    return out


def run_of(*argv: str) -> Run:
    return next(r for r in RUNS if r["argv"] == list(argv))


def test_the_capture_is_from_the_vm_kernel() -> None:
    assert CAPTURE["kernel"].startswith("6.1.")
    assert len(RUNS) >= 40


def test_family_lookup_is_libnl_s_request_and_the_answer_names_ipvs() -> None:
    run = RUNS[0]
    first = messages(run, ">")[0]
    _, _, _, seq, pid = header(first)
    assert ctrl.get_family("IPVS", seq=seq, pid=pid) == first
    reply = next(p for p in answers(run) if isinstance(p, Message))
    family = ctrl.family_of(reply)
    assert (family.name, family.id) == ("IPVS", IPVS_FAMILY)
    assert family.version == 1


def test_get_info_request_and_answer() -> None:
    run = RUNS[0]
    req = ipvs_requests(run)[0]
    _, _, _, seq, pid = header(req)
    assert codec.get_info().encode(IPVS_FAMILY, seq, pid) == req
    info = codec.info(next(p for p in answers(run) if isinstance(p, Message) and p.cmd == 14))
    assert (info.version_tuple, info.conn_tab_size) == ((1, 2, 1), 4096)


def change_of(cmd: c.Command) -> mt.Change:
    match cmd:
        case c.AddService(service=args):
            return mt.AddService(args.to_service())
        case c.EditService(service=args):
            return mt.EditService(args.to_service())
        case c.DeleteService(key=key):
            return mt.DeleteService(key)
        case c.AddDest(key=key, dest=d):
            return mt.AddDest(key, d.to_real_server())
        case c.EditDest(key=key, dest=d):
            return mt.EditDest(key, d.to_real_server())
        case c.DeleteDest(key=key, dest=d):
            return mt.DeleteDest(key, (d.address, d.port))
    raise AssertionError(cmd)


def request_of(cmd: c.Command) -> codec.Request:
    match cmd:
        case c.Flush():
            return codec.flush()
        case c.Zero(key=None):
            return codec.zero()
        case c.Zero(key=ServiceKey() as key):
            return codec.zero(convert.service_ref(key))
        case c.SetTimeouts(tcp=tcp, tcpfin=fin, udp=udp):
            return codec.set_config(KernelTimeouts(tcp, fin, udp))
        case c.StartDaemon(daemon=d):
            return codec.new_daemon(convert.daemon_attrs(d.to_sync_daemon()))
        case c.StopDaemon(state=state):
            return codec.del_daemon(convert.daemon_attrs(SyncDaemon(SyncState(state), "")))
    return convert.request_for(change_of(cmd))


CHANGING = [
    r
    for r in RUNS
    if r["argv"][0]
    in {"-A", "-E", "-D", "-a", "-e", "-d", "-C", "-Z", "--set", "--start-daemon", "--stop-daemon"}
]


@pytest.mark.parametrize("run", CHANGING, ids=lambda r: " ".join(r["argv"]))
def test_requests_are_ipvsadm_s_bytes(run: Run) -> None:
    cmd = parse(["ipvsadm", *run["argv"]])
    assert isinstance(cmd, c.Command.__args__), cmd
    captured = ipvs_requests(run)[-1]  # GET_INFO (ipvs_init), then the command
    _, family, _, seq, pid = header(captured)
    assert request_of(cmd).encode(family, seq, pid) == captured


@pytest.mark.parametrize("run", CHANGING, ids=lambda r: " ".join(r["argv"]))
def test_the_kernel_answer_maps_to_ipvsadm_s_message(run: Run) -> None:
    ack = [p for p in answers(run) if isinstance(p, Ack)][-1]
    cmd_number = ipvs_requests(run)[-1][16]
    if run["rc"] == 0:
        assert ack.error == 0
    else:
        assert ack.error < 0
        message = convert.strerror(Cmd(cmd_number), -ack.error)
        assert message is not None and message + "\n" == run["stderr"]


def asked_key(raw: bytes) -> ServiceKey:
    """The service a GET_DEST request names."""
    asked = decode(COMMAND, raw[20:]).get_nested("service")
    assert asked is not None
    af = asked.get_int("af")
    if "fwmark" in asked:
        return ServiceKey.mark(asked.get_int("fwmark"), af)
    address = unpack_addr(af, asked.get_bytes("addr"))
    return ServiceKey(Protocol(asked.get_int("protocol")), address, asked.get_int("port"))


def dest_answers(run: Run) -> dict[ServiceKey, list[Message]]:
    """The GET_DEST answers by the service asked for (each follows its request in the
    capture; libnl's sequence numbers repeat across ipvsadm's short-lived sockets)."""
    out: dict[ServiceKey, list[Message]] = {}
    current: ServiceKey | None = None
    for m in run["messages"]:
        raw = bytes.fromhex(m[1:])
        if m[0] == ">":
            is_dest_dump = header(raw)[1] == IPVS_FAMILY and raw[16] == Cmd.GET_DEST
            current = asked_key(raw) if is_dest_dump else None
            continue
        for part in parse_messages(raw):
            if current is not None and isinstance(part, Message):
                out.setdefault(current, []).append(part)
    return out


def snapshot_from_capture(run: Run) -> Snapshot:
    """What `ipvsadm -Ln` read, as the plane reads it: the service dump, then the dests of
    each service."""
    parts = [p for p in answers(run) if isinstance(p, Message) and p.family == IPVS_FAMILY]
    services = codec.services(p for p in parts if p.cmd == Cmd.NEW_SERVICE)
    by_service = dest_answers(run)
    views = []
    for svc in services:
        dests = tuple(
            DestView(
                convert.real_server_of(d),
                d.active_conns,
                d.inact_conns,
                d.persist_conns,
                convert.counters_of(d.stats),
                convert.rates_of(d.stats),
            )
            for d in codec.dests(by_service.get(convert.key_of(svc), []), svc.af)
        )
        views.append(
            ServiceView(
                convert.service_of(svc),
                convert.counters_of(svc.stats),
                convert.rates_of(svc.stats),
                dests,
            )
        )
    return Snapshot(services=tuple(views))


@pytest.mark.parametrize("argv", [("-Ln",), ("-Ln", "--stats", "--exact")])
def test_dumps_decode_into_what_ipvsadm_printed(argv: tuple[str, ...]) -> None:
    run = next(r for r in RUNS if r["argv"] == list(argv) and "TCP" in r["stdout"])
    cmd = parse(["ipvsadm", *argv])
    assert isinstance(cmd, c.List)
    assert list_all(snapshot_from_capture(run), cmd.fmt, NUMERIC) == run["stdout"]


def test_dump_requests_are_ipvsadm_s_bytes() -> None:
    run = next(r for r in RUNS if r["argv"] == ["-Ln"] and "TCP" in r["stdout"])
    reqs = ipvs_requests(run)
    dump = reqs[1]
    assert codec.get_services().encode(IPVS_FAMILY, header(dump)[3], header(dump)[4]) == dump
    dest_dumps = reqs[2:]
    assert len(dest_dumps) == 6
    for raw in dest_dumps:
        request = codec.get_dests(convert.service_ref(asked_key(raw)))
        assert request.encode(IPVS_FAMILY, header(raw)[3], header(raw)[4]) == raw


def test_get_service_asks_with_a_zeroed_entry() -> None:
    run = run_of("-L", "-n", "-t", "10.1.0.1:80")
    raw = ipvs_requests(run)[1]
    cmd = parse(["ipvsadm", "-L", "-n", "-t", "10.1.0.1:80"])
    assert isinstance(cmd, c.List) and cmd.key is not None
    request = codec.get_service(convert.service_lookup(cmd.key))
    assert request.encode(IPVS_FAMILY, header(raw)[3], header(raw)[4]) == raw


def test_timeouts_answer() -> None:
    run = run_of("-L", "--timeout")
    raw = ipvs_requests(run)[-1]
    assert codec.get_config().encode(IPVS_FAMILY, header(raw)[3], header(raw)[4]) == raw
    reply = next(p for p in answers(run) if isinstance(p, Message) and p.cmd == 12)
    t = codec.timeouts(reply)
    assert list_timeout(Timeouts(t.tcp, t.tcp_fin, t.udp)) == run["stdout"]


def test_daemon_dump_decodes_into_what_ipvsadm_printed() -> None:
    run = run_of("-L", "--daemon")
    raw = ipvs_requests(run)[-1]
    assert codec.get_daemons().encode(IPVS_FAMILY, header(raw)[3], header(raw)[4]) == raw
    parts = [p for p in answers(run) if isinstance(p, Message) and p.cmd == Cmd.NEW_DAEMON]
    daemons = tuple(convert.daemon_of(d) for d in codec.daemons(parts))
    assert [d.state for d in daemons] == ["master", "backup"]
    assert list_daemon(Snapshot(daemons=daemons)) == run["stdout"]
