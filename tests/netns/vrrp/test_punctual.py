"""The master-down deadline on real sockets: never early, and an advert that comes while the
backup waits for it on the CPU (the last EARLY_US) still keeps it a backup.  Also: a prepared
address request survives its interface being re-created."""

import itertools
import subprocess
import sys
import time

import pytest

from pylvs.vrrp.manager import EARLY_US
from tests.netns.vrrp.conftest import Confs, Lab

pytestmark = pytest.mark.root

VIP = "10.77.0.100"
MS_DOWN = 3.0 + (256 - 100) / 256  # VRRPv2, advert_int 1, priority 100 (RFC 3768 §6.1)

# A fake master in node a: VRRPv2 adverts (priority 150) at the times given on the command
# line (seconds after start), then silence.
FAKE_MASTER = """
import ipaddress, socket, sys, time
from pylvs.proto.vrrp.packet import Advert, encode_advert, encode_ipv4
src, group = ipaddress.IPv4Address(sys.argv[1]), ipaddress.IPv4Address("224.0.0.18")
adv = Advert(2, 51, 150, 1, (ipaddress.IPv4Address(sys.argv[2]),))
wire = encode_ipv4(encode_advert(adv, src=src, dst=group), src, group)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
start = time.monotonic()
for at in map(float, sys.argv[3:]):
    while time.monotonic() < start + at - 0.002:
        time.sleep(0.0005)
    while time.monotonic() < start + at:
        pass
    s.sendto(wire, ("224.0.0.18", 0))
print("sent", flush=True)
"""

# In node c: every VRRP advert seen, with the kernel's receive time.
CAPTURE = """
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0))
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
s.settimeout(0.2)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        data, anc, _, _ = s.recvmsg(2048, 64)
    except TimeoutError:
        continue
    if len(data) < 34 or data[23] != 112 or not anc:  # after the 14-byte Ethernet header
        continue
    sec, nsec = struct.unpack("@ll", anc[0][2][:16])
    print(f"{sec + nsec / 1e9:.6f} {socket.inet_ntoa(data[26:30])}", flush=True)
"""


def _early_window_run(
    lab: Lab, conf: type[Confs], attempt: int
) -> tuple[list[float], list[float], list[float], bool]:
    """One run: b backs up a fake master whose fourth advert comes 40% of EARLY_US before b's
    master-down deadline.  Returns the fake's times, a's and b's adverts as seen by c, and
    whether b held the VIP at the end."""
    a, b, c = lab.node("a"), lab.node("b"), lab.node("c")
    early = EARLY_US / 1e6
    times = [1.0, 2.0, 3.0]
    times.append(times[-1] + MS_DOWN - 0.4 * early)
    times += [times[-1] + 1.0, times[-1] + 2.0]
    capture = c.spawn(
        [sys.executable, "-c", CAPTURE, str(times[-1] + MS_DOWN + 3)], f"cap{attempt}"
    )
    time.sleep(0.5)
    daemon = b.pylvs(conf.config(conf.instance(priority=100)))
    time.sleep(0.5)
    fake = a.spawn(
        [sys.executable, "-c", FAKE_MASTER, a.ip, VIP, *map(str, times)], f"fake{attempt}"
    )
    assert capture.popen.wait(30) == 0
    assert fake.popen.wait(5) == 0
    held = b.has(VIP)
    daemon.stop()
    seen = [(float(t), ip) for t, ip in (line.split() for line in capture.text().splitlines())]
    return times, [t for t, ip in seen if ip == a.ip], [t for t, ip in seen if ip == b.ip], held


def test_an_advert_inside_the_early_window_keeps_the_backup(lab: Lab, conf: type[Confs]) -> None:
    """Adverts every second, then one 40% of EARLY_US before b's master-down deadline (b is
    already waiting on the CPU for it), two more, then silence: b takes over MS_DOWN after the
    last one, not before, and not at the deadline it was waiting for.

    The fake master is a Python process too: on a loaded machine its fourth advert can miss the
    window of a few hundred microseconds it must hit, and the run then says nothing about b.
    Such a run is done again (up to 4 runs); b's behaviour is judged on the first run whose
    advert really came inside the window."""
    early = EARLY_US / 1e6
    for attempt in range(4):
        times, ours, theirs, held = _early_window_run(lab, conf, attempt)
        assert len(ours) == len(times), (ours, theirs)
        gaps = [y - x for x, y in itertools.pairwise(ours)]
        if MS_DOWN - early < gaps[2] < MS_DOWN:
            break
    else:
        pytest.skip(f"the fake master never hit b's early window in 4 runs (last gaps {gaps})")
    assert theirs, "b never became master after the fake master went silent"
    # b stayed backup through the whole run, and took over MS_DOWN after the last advert.
    assert theirs[0] > ours[-1] + MS_DOWN - 0.0005, (theirs[0] - ours[-1], MS_DOWN)
    assert theirs[0] < ours[-1] + MS_DOWN + 0.5
    assert held


PREPARED = """
import ipaddress, subprocess
from pylvs.system.effects import AddressSpec
from pylvs.system.netlink import NetlinkHost
h = NetlinkHost()
spec = AddressSpec(ipaddress.ip_interface("10.77.9.9/24"), "vx0")
add = h.prepare_address(spec)
old = h.link("vx0").index
subprocess.run(["ip", "link", "del", "vx0"], check=True)
subprocess.run(["ip", "link", "add", "vx0", "type", "veth", "peer", "name", "vx0p"], check=True)
assert h.link("vx0").index != old
add()  # the prepared request names the old index: looked up again
out = subprocess.run(["ip", "-4", "addr", "show", "dev", "vx0"], capture_output=True, text=True)
assert "10.77.9.9/24" in out.stdout, out.stdout
h.remove_address(spec)
h.add_address(spec)  # prepared afresh by the retry above: the new index
out = subprocess.run(["ip", "-4", "addr", "show", "dev", "vx0"], capture_output=True, text=True)
assert "10.77.9.9/24" in out.stdout, out.stdout
h.close()
print("ok")
"""


def test_prepared_address_follows_a_recreated_interface(lab: Lab) -> None:
    a = lab.node("a")
    a.add_veth("vx0")
    done = subprocess.run(
        ["ip", "netns", "exec", a.ns, sys.executable, "-c", PREPARED],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
