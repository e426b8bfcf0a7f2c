"""execute(): the kernel's checks, in its order, with libipvs's messages and status 255."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from pylvs.control.ipvsadm import Failure, Timeouts, execute, parse
from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.session import State, run_argv
from pylvs.model import ForwardMethod, Protocol, ServiceKey, ServiceTable

KEY = ServiceKey.inet(Protocol.TCP, "1.1.1.1", 80)


def run(state: State, line: str) -> tuple[State, str, int]:
    r = run_argv(["ipvsadm", *line.split()], state)
    return r.state, "".join(e.text for e in r.output), r.exit_code


def table_with(*lines: str) -> State:
    state = State()
    for line in lines:
        state, out, code = run(state, line)
        assert (out, code) == ("", 0), line
    return state


BASE = ("-A -t 1.1.1.1:80", "-a -t 1.1.1.1:80 -r 10.0.0.2:8080 -m -x 10 -y 5")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-A -t 1.1.1.1:80 -s nosuch", "Service already exists"),  # EEXIST before ENOENT
        ("-A -t 1.1.1.2:80 -s nosuch", "Scheduler or persistence engine not found"),
        ("-A -t 1.1.1.2:80 --pe nosuch", "Scheduler or persistence engine not found"),
        ("-E -t 1.1.1.2:80", "No such service"),
        ("-E -t 1.1.1.1:80 -s nosuch", "Scheduler or persistence engine not found"),
        ("-D -t 1.1.1.2:80", "No such service"),
        ("-Z -t 1.1.1.2:80", "No such service"),
        ("-a -t 1.1.1.2:80 -r 10.0.0.3", "Service not defined"),
        ("-a -t 1.1.1.1:80 -r 10.0.0.2:8080 -m", "Destination already exists"),
        ("-a -t 1.1.1.1:80 -r 10.0.0.2 -m -y 5", "Numerical result out of range"),
        (
            "-a -t 1.1.1.1:80 -r 224.0.0.9 -m",
            EINVAL := (
                "Invalid operation.  Possibly wrong module version, address not unicast, ..."
            ),
        ),
        ("-a -t 1.1.1.1:80 -r 0.1.2.3 -m", EINVAL),
        ("-e -t 1.1.1.1:80 -r 10.0.0.2:8080", "No such destination"),  # -g forces port 80
        ("-e -t 1.1.1.1:80 -r 10.0.0.9 -m", "No such destination"),
        ("-e -t 1.1.1.2:80 -r 10.0.0.2 -m", "Service not defined"),
        ("-d -t 1.1.1.1:80 -r 10.0.0.2:81", "No such destination"),
        ("-d -t 1.1.1.2:80 -r 10.0.0.2", "Service not defined"),
        ("--stop-daemon master", "No daemon is running"),
        # pylvs keeps prefix lengths: a non-contiguous mask cannot be held
        ("-A -t 1.1.1.3:80 -p -M 255.0.255.0", EINVAL),
    ],
)
def test_kernel_errors(line: str, message: str) -> None:
    before = table_with(*BASE)
    after, out, code = run(before, line)
    assert (out, code) == (message + "\n", 255)
    assert after == before


def test_add_edit_delete_with_ipvsadm_defaults() -> None:
    # -E without -s or -p: back to wlc, not persistent (ipvsadm sends every field)
    state, _, code = run(table_with("-A -t 1.1.1.1:443 -s sh -p 60"), "-E -t 1.1.1.1:443")
    svc = state.table[ServiceKey.inet(Protocol.TCP, "1.1.1.1", 443)].service
    assert code == 0 and (svc.scheduler, svc.persistent, svc.timeout) == ("wlc", False, 0)
    # -e without -w or a method: weight 1, Route, thresholds 0
    state = table_with(*BASE, "-a -t 1.1.1.1:80 -r 10.0.0.3 -w 7")
    state, _, code = run(state, "-e -t 1.1.1.1:80 -r 10.0.0.3:80")
    d = state.table[KEY].dest((ip_address("10.0.0.3"), 80))
    assert code == 0 and d is not None
    assert (d.weight, d.method, d.u_threshold) == (1, ForwardMethod.ROUTE, 0)
    state, _, code = run(state, "-d -t 1.1.1.1:80 -r 10.0.0.3")
    assert code == 0 and state.table[KEY].dest((ip_address("10.0.0.3"), 80)) is None
    state, _, code = run(state, "-C")
    assert code == 0 and len(state.table) == 0


def test_twos_is_accepted_and_changes_are_reported() -> None:
    out = execute(c.AddService(c.ServiceArgs(KEY, "twos")), ServiceTable(), Timeouts())
    assert out.error is None and len(out.changes) == 1 and KEY in out.table


def test_timeouts_zero_keeps_value() -> None:
    state, _, _ = run(State(), "--set 0 60 0")
    assert state.timeouts == Timeouts(900, 60, 300)
    _, out, code = run(state, "-L --timeout")
    assert (out, code) == ("Timeout (tcp tcpfin udp): 900 60 300\n", 0)


def test_daemons() -> None:
    state, _, code = run(State(), "--start-daemon master --syncid 3")
    assert code == 0
    _, out, _ = run(state, "-L --daemon")
    assert out == (
        "master sync daemon (mcast=eth0, syncid=3, maxlen=1472, group=224.0.0.81, "
        "port=8848, ttl=1)\n"
    )
    _, out, code = run(state, "--start-daemon master")
    assert (out, code) == ("Daemon has already run\n", 255)
    state, _, code = run(state, "--stop-daemon master")
    assert code == 0 and state.daemons == ()


def test_zero() -> None:
    state = table_with(*BASE)
    r = run_argv(["ipvsadm", "-Z", "-t", "1.1.1.1:80"], state)
    assert r.zeros == (KEY,) and r.exit_code == 0
    assert run_argv(["ipvsadm", "-Z"], state).zeros == (None,)


def test_help_and_version_go_to_stdout() -> None:
    r = run_argv(["ipvsadm", "-v"], State())
    assert [(e.stream.value, e.text) for e in r.output] == [
        ("stdout", "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n")
    ]
    h = run_argv(["ipvsadm", "-h"], State())
    text = h.output[0].text
    assert h.exit_code == 0 and text.startswith("ipvsadm v1.31 2019/12/24")
    assert "  ipvsadm -L|l [virtual-service] [options]\n" in text
    assert text.endswith("  --mcast-ttl ttl                     Multicast TTL (default=1)\n")


def test_parse_result_feeds_execute() -> None:
    cmd = parse(["ipvsadm", "-A", "-t", "1.1.1.1:80"])
    assert not isinstance(cmd, Failure) and isinstance(cmd, c.AddService)
    out = execute(cmd, ServiceTable(), Timeouts())
    assert out.exit_code == 0 and out.table[KEY].service.scheduler == "wlc"
