"""`pylvs ipvsadm` against the real ipvsadm on the VM's kernel, byte for byte.

A `pylvs run --dataplane ipvs` daemon holds the VM's root namespace's IPVS table; the real
ipvsadm runs the same corpus (ipvsadm_corpus.py: every cell of ipvsadm's option matrix, then a
director's life with every option and the error cases) in a namespace of its own, `ref`, in
one shell.  For each line:
* a listing (-L, -S) is run by both on the SAME kernel table (the daemon's), and by the real
  ipvsadm in `ref` too: the two tables must save alike (the ones built from the same lines);
* anything else (changes, errors, -h, -R) must give the real ipvsadm's stdout, stderr and
  exit status from `ref`.
Then, with traffic through a NAT service, the listings with live numbers (--stats, --rate,
--exact, -c, --persistent-conn) are compared on the daemon's table; those race the kernel's
2-second estimator and the connection timers' seconds, so a mismatch is read again (up to
four times) before it counts.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.args import parse
from tests.vm.ipvsadm_corpus import KNOWN, SCENARIO, Line, matrix_lines
from tests.vm.vm_daemon import Daemon, Output, real_ipvsadm
from tests.vm.vm_net import Servers, ask, ip_batch, namespaces, sysctl

CONFIG = "global_defs {\n  router_id compare\n}\n"


def dummy(ns: str | None, name: str) -> None:
    ip_batch(ns, [f"link add {name} type dummy", f"link set {name} multicast on up"])


def reset_kernel(ns: str | None) -> None:
    prefix = ["ip", "netns", "exec", ns] if ns else []
    script = "ipvsadm -C; ipvsadm --set 900 120 300; ipvsadm --stop-daemon master; " \
        "ipvsadm --stop-daemon backup; true"  # fmt: skip
    subprocess.run([*prefix, "sh", "-c", script], capture_output=True, check=False)


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Daemon]]:
    tmp = tmp_path_factory.mktemp("compare")
    with namespaces("ref"):
        dummy(None, "mc0")
        dummy("ref", "mc0")
        reset_kernel(None)
        reset_kernel("ref")
        daemon = Daemon(tmp, CONFIG)
        try:
            yield tmp, daemon
        finally:
            daemon.stop()
            reset_kernel(None)
            subprocess.run(["ip", "link", "del", "mc0"], check=False)


def listing(argv: tuple[str, ...]) -> bool:
    cmd = parse(["ipvsadm", *argv])
    return isinstance(cmd, c.List | c.Save)


def run_reference(tmp: Path, lines: list[Line]) -> tuple[list[Output], dict[int, str]]:
    """Every line through the real ipvsadm in `ref`, in one shell; and `-Sn` after each
    listing line (the table the same lines built there)."""
    out = tmp / "ref"
    out.mkdir(exist_ok=True)
    script = []
    for i, (argv, stdin) in enumerate(lines):
        (out / f"in.{i}").write_text(stdin)
        words = " ".join(shlex.quote(a) for a in argv)
        script.append(f"ipvsadm {words} <{out}/in.{i} >{out}/out.{i} 2>{out}/err.{i}")
        script.append(f"echo $? >{out}/rc.{i}")
        if listing(argv):
            script.append(f"ipvsadm -Sn >{out}/saved.{i} 2>&1")
    (tmp / "ref.sh").write_text("\n".join(script) + "\n")
    subprocess.run(["ip", "netns", "exec", "ref", "bash", str(tmp / "ref.sh")], check=True)
    outputs = [
        Output(
            int((out / f"rc.{i}").read_text()),
            (out / f"out.{i}").read_text(),
            (out / f"err.{i}").read_text(),
        )
        for i in range(len(lines))
    ]
    saved = {i: (out / f"saved.{i}").read_text() for i in range(len(lines)) if listing(lines[i][0])}
    return outputs, saved


def compare(tmp: Path, daemon: Daemon, lines: list[Line]) -> tuple[int, list[str]]:
    reference, ref_saved = run_reference(tmp, lines)
    differences = []
    for i, (argv, stdin) in enumerate(lines):
        mine = daemon.ipvsadm(*argv, stdin=stdin)
        theirs = real_ipvsadm(*argv, stdin=stdin) if listing(argv) else reference[i]
        what = f"ipvsadm {shlex.join(argv)}" + (" < stdin" if stdin else "")
        if argv in KNOWN:
            if mine == theirs:
                differences.append(f"{what}: now the same: take it out of KNOWN")
            else:
                print(f"known difference: {what}: {KNOWN[argv]}")
            continue
        if mine != theirs:
            differences.append(f"{what}\n== ipvsadm:\n{theirs.text()}== pylvs:\n{mine.text()}")
        if i in ref_saved:
            here = real_ipvsadm("-Sn").stdout
            if here != ref_saved[i]:
                differences.append(
                    f"tables differ at {what}\n== ref:\n{ref_saved[i]}== pylvs:\n{here}"
                )
    return len(lines), differences


def report(name: str, counted: tuple[int, list[str]]) -> None:
    total, differences = counted
    print(f"\n{name}: {total} lines, {total - len(differences)} same, {len(differences)} differ")
    assert not differences, "\n\n".join(differences)


def test_option_matrix(sides: tuple[Path, Daemon]) -> None:
    tmp, daemon = sides
    report("option matrix", compare(tmp, daemon, matrix_lines()))


def test_scenario(sides: tuple[Path, Daemon]) -> None:
    tmp, daemon = sides
    report("scenario", compare(tmp, daemon, SCENARIO))


LIVE: list[tuple[str, ...]] = [
    ("-Ln",),
    ("-L",),
    ("-Ln", "--stats"),
    ("-Ln", "--stats", "--exact"),
    ("-Ln", "--rate"),
    ("-Ln", "--rate", "--exact"),
    ("-Ln", "--thresholds"),
    ("-Ln", "--persistent-conn"),
    ("-Ln", "--nosort"),
    ("-Ln", "-c"),
    ("-Lnc", "--persistent-conn"),
    ("-Lc",),
    ("-Sn",),
    ("-Ln", "-t", "10.5.0.1:80", "--stats"),
]


def side_by_side(daemon: Daemon, argv: tuple[str, ...]) -> tuple[Output, Output]:
    """Both at once: each reads the kernel first and resolves names after, which takes the
    VM a second or more; started together, they read the same second's expiry times."""
    real = subprocess.Popen(
        ["ipvsadm", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    mine = daemon.ipvsadm(*argv)
    out, err = real.communicate()
    return mine, Output(real.returncode, out, err)


def test_live_numbers(sides: tuple[Path, Daemon]) -> None:
    """Stats, rates and connections of a NAT service with traffic, on the same table."""
    _tmp, daemon = sides
    with namespaces("lc", "lr1", "lr2"):
        ip_batch(None, [
            "link add v-lc type veth peer name eth0 netns lc", "addr add 10.5.0.254/24 dev v-lc",
            "addr add 10.5.0.1/32 dev v-lc", "link set v-lc up",
            "link add v-lr1 type veth peer name eth0 netns lr1",
            "addr add 10.5.1.254/24 dev v-lr1", "link set v-lr1 up",
            "link add v-lr2 type veth peer name eth0 netns lr2",
            "addr add 10.5.2.254/24 dev v-lr2", "link set v-lr2 up",
        ])  # fmt: skip
        ip_batch("lc", ["addr add 10.5.0.2/24 dev eth0", "link set eth0 up"])
        for i in (1, 2):
            ip_batch(f"lr{i}", [f"addr add 10.5.{i}.1/24 dev eth0", "link set eth0 up",
                                f"route add default via 10.5.{i}.254"])  # fmt: skip
        sysctl(None, "net.ipv4.ip_forward=1")
        servers = Servers({"lr1": "lr1", "lr2": "lr2"})
        try:
            argv: tuple[str, ...]
            for argv in (
                ("-A", "-t", "10.5.0.1:80", "-s", "rr"),
                ("-a", "-t", "10.5.0.1:80", "-r", "10.5.1.1:80", "-m", "-x", "50", "-y", "10"),
                ("-a", "-t", "10.5.0.1:80", "-r", "10.5.2.1:80", "-m", "-w", "2"),
                ("-A", "-u", "10.5.0.1:53", "-s", "wrr", "-p", "30"),
                ("-a", "-u", "10.5.0.1:53", "-r", "10.5.1.1:53", "-m"),
            ):
                assert daemon.ipvsadm(*argv).rc == 0
            assert sorted(ask("lc", "10.5.0.1", 6)) == ["lr1"] * 3 + ["lr2"] * 3
            assert ask("lc", "10.5.0.1", 3, port=53, proto="udp") == ["lr1"] * 3
            time.sleep(4.5)  # two estimator ticks
            differences = []
            for argv in LIVE:
                for _attempt in range(4):
                    mine, theirs = side_by_side(daemon, argv)
                    if mine == theirs:
                        break
                    time.sleep(0.3)
                else:
                    differences.append(
                        f"ipvsadm {shlex.join(argv)}\n== ipvsadm:\n{theirs.text()}"
                        f"== pylvs:\n{mine.text()}"
                    )
            stats = real_ipvsadm("-Ln", "--stats", "--exact").stdout
            assert "10.5.0.1:80" in stats and " 6 " in stats  # the kernel counted them
            report("live numbers", (len(LIVE), differences))
        finally:
            servers.stop()
            daemon.ipvsadm("-C")
            ip_batch(None, ["link del v-lc", "link del v-lr1", "link del v-lr2"])
