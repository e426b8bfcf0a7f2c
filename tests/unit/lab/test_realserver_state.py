"""realserver.sh's sysctls with a fake /proc/sys and a fake `ip`: stop restores what was
there before start, and only when the last VIP goes."""

import stat
import sys
from pathlib import Path

from pylvs.lab.realserver import SYSCTLS, RealServer

FAKE_IP = """#!{python}
import sys
from pathlib import Path

args = sys.argv[1:]
log, addrs = Path("{log}"), Path("{addrs}")
with log.open("a") as f:
    f.write(" ".join(args) + "\\n")
have = addrs.read_text().split("\\n") if addrs.exists() else []
have = [line for line in have if line]
if "addr" in args and "add" in args:
    have.append(args[args.index("add") + 1] + " " + args[-1])
elif "addr" in args and "del" in args:
    have.remove(args[args.index("del") + 1] + " " + args[-1])
elif "addr" in args and "show" in args:
    for line in have:
        a, dev = line.split()
        if dev == args[-1]:
            print(f"1: {{dev}}    inet {{a}} scope global {{dev}}")
addrs.write_text("\\n".join(have) + "\\n")
"""


def make(tmp_path: Path) -> tuple[RealServer, Path]:
    proc = tmp_path / "sys"
    for name in SYSCTLS:
        (proc / name).parent.mkdir(parents=True, exist_ok=True)
    (proc / "net/ipv4/conf/lo/arp_ignore").write_text("0\n")
    (proc / "net/ipv4/conf/lo/arp_announce").write_text("1\n")
    (proc / "net/ipv4/conf/all/arp_ignore").write_text("2\n")
    (proc / "net/ipv4/conf/all/arp_announce").write_text("0\n")
    log = tmp_path / "ip.log"
    ip = tmp_path / "ip"
    ip.write_text(FAKE_IP.format(python=sys.executable, log=log, addrs=tmp_path / "addrs"))
    ip.chmod(ip.stat().st_mode | stat.S_IEXEC)
    return RealServer(str(proc), str(tmp_path / "state"), str(ip)), log


def values(rs: RealServer) -> dict[str, str]:
    return {name: rs.read_sysctl(name) for name in SYSCTLS}


def test_start_sets_arp_sysctls_and_stop_restores_previous(tmp_path: Path) -> None:
    rs, log = make(tmp_path)
    before = values(rs)
    done = rs.start("10.0.0.8")
    assert values(rs) == dict(SYSCTLS)
    assert "ip addr add 10.0.0.8/32 dev lo" in done
    assert "ip route add 10.0.0.8/32 dev lo" in done
    assert "addr add 10.0.0.8/32 dev lo" in log.read_text()
    # A second VIP: the sysctls stay until the last one is stopped.
    rs.start("10.0.0.9")
    rs.stop("10.0.0.8")
    assert values(rs) == dict(SYSCTLS)
    rs.stop("10.0.0.9")
    assert (
        values(rs)
        == before
        == {
            "net/ipv4/conf/lo/arp_ignore": "0",
            "net/ipv4/conf/lo/arp_announce": "1",
            "net/ipv4/conf/all/arp_ignore": "2",
            "net/ipv4/conf/all/arp_announce": "0",
        }
    )
    assert not rs.state_path.exists()


def test_stop_without_start_writes_zero_like_realserver_sh(tmp_path: Path) -> None:
    rs, _ = make(tmp_path)
    rs.stop("10.0.0.8")
    assert set(values(rs).values()) == {"0"}


def test_start_twice_keeps_the_original_values(tmp_path: Path) -> None:
    rs, _ = make(tmp_path)
    rs.start("10.0.0.8")
    rs.start("10.0.0.8")
    rs.stop("10.0.0.8")
    assert rs.read_sysctl("net/ipv4/conf/lo/arp_announce") == "1"


def test_state_of_a_vanished_namespace_is_ignored(tmp_path: Path) -> None:
    # A deleted namespace's inode can be reused: its state file names a VIP that is not here.
    rs, _ = make(tmp_path)
    rs.state_path.parent.mkdir(parents=True)
    rs.state_path.write_text(
        '{"sysctls": {"net/ipv4/conf/lo/arp_announce": "2"}, '
        '"vips": [{"vip": "10.0.0.99", "dev": "lo", "address": true, "route": true}]}'
    )
    rs.start("10.0.0.8")
    rs.stop("10.0.0.8")
    assert rs.read_sysctl("net/ipv4/conf/lo/arp_announce") == "1"
    assert not rs.state_path.exists()
