"""`pylvs ipvsadm` against a real `pylvs run` process with real backends on loopback.

Expected listings are built from ipvsadm 1.31's printf formats (reference §2.4-2.7) written
out here, not from pylvs's own printers.
"""

from __future__ import annotations

import socket
import time

from tests.integration.daemon.daemon_helpers import (
    Backends,
    Director,
    StartDirector,
    free_port,
    http_get,
)

HEADER = "IP Virtual Server version 1.2.1 (size=4096)\n"
TITLE = (
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
)


def dest_line(port: int, fwd: str, weight: int, act: int, inact: int) -> str:
    return "  -> %-28s %-7s %-6d %-10u %-10u\n" % (f"127.0.0.1:{port}", fwd, weight, act, inact)


def wrr_config(vport: int, ports: dict[str, int], extra: str = "") -> str:
    return f"""
virtual_server 127.0.0.1 {vport} {{
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
{extra}
    real_server 127.0.0.1 {ports["rs1"]} {{
        weight 1
    }}
    real_server 127.0.0.1 {ports["rs2"]} {{
        weight 2
    }}
}}
"""


def start_two(
    backends: Backends, director: StartDirector, extra: str = ""
) -> tuple[Director, int, dict[str, int]]:
    ports = {"rs1": backends.start("rs1"), "rs2": backends.start("rs2")}
    vport = free_port()
    d = director(wrr_config(vport, ports, extra))
    return d, vport, ports


def test_list_numeric_before_traffic(backends: Backends, director: StartDirector) -> None:
    d, vport, ports = start_two(backends, director)
    out = d.ipvsadm("-Ln")
    assert out.returncode == 0, out.stderr
    rows = sorted([(ports["rs1"], 1), (ports["rs2"], 2)])  # dests sorted by address, port
    expected = HEADER + TITLE + f"TCP  127.0.0.1:{vport} wrr\n"
    expected += "".join(dest_line(p, "Masq", w, 0, 0) for p, w in rows)
    assert out.stdout == expected


def test_wrr_distribution_and_stats(backends: Backends, director: StartDirector) -> None:
    d, vport, ports = start_two(backends, director)
    names = [http_get(vport) for _ in range(6)]
    # List order is newest first (rs2, rs1).  ip_vs_wrr.c: adding rs1 (w1) sets cw = mw = 1;
    # adding rs2 (w2) raises mw to 2 but keeps cw = 1 (ip_vs_wrr_dest_changed), so the first
    # pass takes every dest with weight >= 1, then cw restarts at 2: rs2 | rs2 rs1 | rs2 ...
    assert names == ["rs2", "rs1", "rs2", "rs2", "rs1", "rs2"]
    out = d.ipvsadm("-Ln", "--stats", "--exact")
    lines = out.stdout.splitlines()
    assert lines[1].split() == ["Prot", "LocalAddress:Port", "Conns", "InPkts", "OutPkts",
                                "InBytes", "OutBytes"]  # fmt: skip
    svc = lines[3].split()
    assert svc[:3] == ["TCP", f"127.0.0.1:{vport}", "6"]
    request = len(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert int(svc[5]) == 6 * request  # InBytes: what clients sent
    per_dest = {int(f.split()[1].rsplit(":", 1)[1]): f.split() for f in lines[4:]}
    assert per_dest[ports["rs2"]][2] == "4" and per_dest[ports["rs1"]][2] == "2"


def test_rate_timeout_thresholds_persistent_conn(
    backends: Backends, director: StartDirector
) -> None:
    d, vport, ports = start_two(backends, director)
    rate = d.ipvsadm("-Ln", "--rate").stdout
    assert rate.splitlines()[1] == "%-33s %8s %8s %8s %8s %8s" % (
        "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS",
    )  # fmt: skip
    assert f"TCP  127.0.0.1:{vport}".ljust(33) + "        0" * 5 + "\n" in rate
    assert d.ipvsadm("-L", "--timeout").stdout == "Timeout (tcp tcpfin udp): 900 120 300\n"
    assert d.ipvsadm("--set", "100", "0", "30").returncode == 0
    assert d.ipvsadm("-L", "--timeout").stdout == "Timeout (tcp tcpfin udp): 100 120 30\n"

    r = d.ipvsadm("-e", "-t", f"127.0.0.1:{vport}", "-r", f"127.0.0.1:{ports['rs1']}",
                  "-m", "-w", "1", "-x", "100", "-y", "50")  # fmt: skip
    assert r.returncode == 0, r.stderr
    thr = d.ipvsadm("-Ln", "--thresholds").stdout.splitlines(keepends=True)
    assert thr[1] == "%-33s %-10s %-10s %-10s %-10s\n" % (
        "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn",
    )  # fmt: skip
    rs1 = "  -> %-28s %-10u %-10u %-10u %-10u\n" % (f"127.0.0.1:{ports['rs1']}", 100, 50, 0, 0)
    assert rs1 in thr
    pc = d.ipvsadm("-Ln", "--persistent-conn").stdout.splitlines(keepends=True)
    assert "  -> %-28s %-9u %-11u %-10u %-10u\n" % (f"127.0.0.1:{ports['rs2']}", 2, 0, 0, 0) in pc


def test_save_clear_restore_round_trip(backends: Backends, director: StartDirector) -> None:
    d, vport, ports = start_two(backends, director, "    persistence_timeout 120")
    saved = d.ipvsadm("-S", "-n")
    lo, hi = sorted([(ports["rs1"], 1), (ports["rs2"], 2)])
    assert saved.stdout == (
        f"-A -t 127.0.0.1:{vport} -s wrr -p 120\n"
        f"-a -t 127.0.0.1:{vport} -r 127.0.0.1:{lo[0]} -m -w {lo[1]}\n"
        f"-a -t 127.0.0.1:{vport} -r 127.0.0.1:{hi[0]} -m -w {hi[1]}\n"
    )
    assert d.ipvsadm("-C").returncode == 0
    assert d.ipvsadm("-Ln").stdout == HEADER + TITLE
    with socket.socket() as s:  # the listener is gone with the service
        assert s.connect_ex(("127.0.0.1", vport)) != 0
    restored = d.ipvsadm("-R", stdin=saved.stdout)
    assert restored.returncode == 0, restored.stderr
    assert d.ipvsadm("-S", "-n").stdout == saved.stdout
    assert http_get(vport) in {"rs1", "rs2"}


def test_live_edits_add_quiesce_delete(backends: Backends, director: StartDirector) -> None:
    d, vport, ports = start_two(backends, director)
    p3 = backends.start("rs3")
    svc = f"127.0.0.1:{vport}"
    assert d.ipvsadm("-a", "-t", svc, "-r", f"127.0.0.1:{p3}", "-m", "-w", "5").returncode == 0
    assert "rs3" in {http_get(vport) for _ in range(4)}
    # quiesce rs1 and rs3: only rs2 gets new connections
    for p in (ports["rs1"], p3):
        assert d.ipvsadm("-e", "-t", svc, "-r", f"127.0.0.1:{p}", "-m", "-w", "0").returncode == 0
    assert {http_get(vport) for _ in range(6)} == {"rs2"}
    assert d.ipvsadm("-d", "-t", svc, "-r", f"127.0.0.1:{ports['rs2']}").returncode == 0
    # no eligible server left: the client is reset, not hung
    try:
        answer = http_get(vport, timeout=3)
    except OSError:
        answer = ""
    assert answer == ""


def test_kernel_style_errors(backends: Backends, director: StartDirector) -> None:
    d, vport, _ = start_two(backends, director)
    r = d.ipvsadm("-A", "-t", f"127.0.0.1:{vport}", "-s", "rr")
    assert (r.returncode, r.stderr) == (255, "Service already exists\n")
    r = d.ipvsadm("-d", "-t", f"127.0.0.1:{vport}", "-r", "127.0.0.9:1")
    assert (r.returncode, r.stderr) == (255, "No such destination\n")
    r = d.ipvsadm("-A", "-t", "127.0.0.1:0")
    assert r.returncode == 2 and "Zero port specified for non-persistent service" in r.stderr
    # the kernel's ENODEV, ipvsadm's strerror (the proxy runs pylvs's own sync daemons)
    r = d.ipvsadm("--start-daemon", "master", "--mcast-interface", "nosuch0")
    assert (r.returncode, r.stderr) == (255, "No such device\n")


def test_sync_daemons_start_list_and_stop(backends: Backends, director: StartDirector) -> None:
    """--start-daemon / --stop-daemon run pylvs's own sync daemons on the proxy plane, and
    -L --daemon lists them as ipvsadm lists the kernel's (list_daemon's printf, the kernel's
    defaults and clamps: a master's maxlen from a 1500-byte MTU, a backup's from lo's 65536
    and at least 1024); refusals in the kernel's order and ipvsadm's words."""
    d, _, _ = start_two(backends, director)
    assert d.ipvsadm("-L", "--daemon").stdout == ""
    r = d.ipvsadm("--start-daemon", "master", "--mcast-interface", "lo", "--syncid", "7")
    assert (r.returncode, r.stderr) == (0, "")
    r = d.ipvsadm("--start-daemon", "backup", "--mcast-interface", "lo", "--syncid", "7",
                  "--sync-maxlen", "100", "--mcast-port", "8850", "--mcast-ttl", "3")  # fmt: skip
    assert (r.returncode, r.stderr) == (0, "")
    assert d.ipvsadm("-L", "--daemon").stdout == (
        "master sync daemon (mcast=lo, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, "
        "ttl=1)\n"
        "backup sync daemon (mcast=lo, syncid=7, maxlen=1024, group=224.0.0.81, port=8850, "
        "ttl=3)\n"
    )
    r = d.ipvsadm("--start-daemon", "master", "--mcast-interface", "lo")
    assert (r.returncode, r.stderr) == (255, "Daemon has already run\n")
    # the interface is looked up first, as start_sync_thread does
    r = d.ipvsadm("--start-daemon", "master", "--mcast-interface", "nosuch0")
    assert (r.returncode, r.stderr) == (255, "No such device\n")
    r = d.ipvsadm("--start-daemon", "backup", "--sync-maxlen", "65508")
    assert (r.returncode, r.stderr) == (2, "illegal sync-maxlen specified\n")
    assert d.ipvsadm("--stop-daemon", "master").returncode == 0
    assert d.ipvsadm("-L", "--daemon").stdout.startswith("backup sync daemon (mcast=lo,")
    r = d.ipvsadm("--stop-daemon", "master")
    assert (r.returncode, r.stderr) == (255, "No daemon is running\n")
    assert d.ipvsadm("--stop-daemon", "backup").returncode == 0
    assert d.ipvsadm("-L", "--daemon").stdout == ""


def test_connection_table_and_persistence(backends: Backends, director: StartDirector) -> None:
    d, vport, ports = start_two(backends, director, "    persistence_timeout 60")
    with socket.create_connection(("127.0.0.1", vport)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = s.recv(4096).split(b"\r\n\r\n", 1)[1].decode().strip()
        cport = s.getsockname()[1]
        conns = d.ipvsadm("-Lnc").stdout.splitlines()
    assert conns[:2] == [
        "IPVS connection entries",
        "pro expire state       source             virtual            destination",
    ]
    rows = [r.split() for r in conns[2:]]
    dport = ports[first]
    assert ["TCP", "ESTABLISHED", f"127.0.0.1:{cport}", f"127.0.0.1:{vport}",
            f"127.0.0.1:{dport}"] in [[r[0], *r[2:]] for r in rows]  # fmt: skip
    templates = [r for r in rows if r[2] in ("NONE", "ASSURED")]
    assert [r[3:] for r in templates] == [
        ["127.0.0.1:0", f"127.0.0.1:{vport}", f"127.0.0.1:{dport}"]
    ]
    # persistence pins every new connection from this client to the same real server
    assert {http_get(vport) for _ in range(5)} == {first}


def test_reload_keeps_live_connection(backends: Backends, director: StartDirector) -> None:
    d, vport, ports = start_two(backends, director)
    p3 = backends.start("rs3")
    with socket.create_connection(("127.0.0.1", vport)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = s.recv(4096).split(b"\r\n\r\n", 1)[1].decode().strip()
        new = wrr_config(vport, ports).replace(
            "    real_server",
            f"    real_server 127.0.0.1 {p3} {{\n weight 4\n }}\n    real_server",
            1,
        )
        d.conf.write_text(new)
        r = d.pylvs("reload")
        assert r.returncode == 0, r.stderr
        assert f"127.0.0.1:{p3}" in d.ipvsadm("-Ln").stdout
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # same connection still relayed
        assert s.recv(4096).split(b"\r\n\r\n", 1)[1].decode().strip() == first
    # a config with errors is refused and the running table stays
    before = d.ipvsadm("-Ln").stdout
    d.conf.write_text(new.replace("lvs_sched wrr", "lvs_sched wrr\n    delay_loop bogus"))
    r = d.pylvs("reload")
    assert r.returncode == 1 and "error" in r.stderr
    assert d.ipvsadm("-Ln").stdout == before


def test_garbage_on_control_socket(backends: Backends, director: StartDirector) -> None:
    d, vport, _ = start_two(backends, director)
    for junk in (b"\xff\xfe not json\n", b'{"op": "format-disk"}\n', b"[1,2]\n", b""):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(d.control)
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(15)
            reply = b"".join(iter(lambda: s.recv(4096), b""))  # chunk lines, final line
        assert b'"rc":2' in reply.splitlines()[-1]
    assert d.ipvsadm("-Ln").returncode == 0
    assert http_get(vport) in {"rs1", "rs2"}


def test_sigterm_stops_cleanly(backends: Backends, director: StartDirector) -> None:
    d, vport, _ = start_two(backends, director)
    assert http_get(vport) == "rs2"
    t0 = time.monotonic()
    assert d.stop() == 0
    assert time.monotonic() - t0 < 8
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", vport)) != 0
