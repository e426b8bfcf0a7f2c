"""Connection counts and states of NAT flows, read from conntrack.

Source: /proc/net/nf_conntrack (per network namespace; present when the kernel has
CONFIG_NF_CONNTRACK_PROCFS, as here), read as text: no extra tool or library is needed and one
read is one snapshot.  Where it is missing, `conntrack -L -o extended` prints the same line
format (conntrack-tools), so the same parser serves both.  Each line is

    ipv4 2 tcp 6 431999 ESTABLISHED src=C dst=V sport=P dport=80 src=R dst=C sport=8080
    dport=P [ASSURED] mark=1819672577 zone=0 use=2

(net/netfilter/nf_conntrack_standalone.c `ct_seq_show`): l3 name and number, l4 name and
number, seconds left, the TCP state (absent for UDP), the original tuple, `[UNREPLIED]`, the
reply tuple, flags and `mark=` in decimal.  Only flows carrying a pylvs mark are kept.

Counting (`count`) needs only the protocol, state and mark of each line, so it matches them with
one compiled regular expression instead of building a CtFlow per line: at 15,000 new
connections/s conntrack holds ~10^5 TIME_WAIT entries, and the per-line parse was what made
housekeeping cost the forwarding path a good part of a core.

Conntrack's TCP state names map onto the IPVS ones `ipvsadm -c` prints (SYN_SENT2 is the
simultaneous-open variant of SYN_SENT); UDP flows show as UDP, as ip_vs_proto_udp.c does.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pylvs.model.service import Address
from pylvs.proto.conntrack.states import ConnState

from .plan import MARK_BASE

PROC = Path("/proc/net/nf_conntrack")
_STATES = {
    "SYN_SENT": ConnState.SYN_SENT,
    "SYN_SENT2": ConnState.SYN_SENT,
    "SYN_RECV": ConnState.SYN_RECV,
    "ESTABLISHED": ConnState.ESTABLISHED,
    "FIN_WAIT": ConnState.FIN_WAIT,
    "CLOSE_WAIT": ConnState.CLOSE_WAIT,
    "LAST_ACK": ConnState.LAST_ACK,
    "TIME_WAIT": ConnState.TIME_WAIT,
    "CLOSE": ConnState.CLOSE,
    "NONE": ConnState.NONE,
}


# What ip_vs_proto_tcp.c tcp_state_active_table counts as active (SYN_SENT2 is conntrack's
# simultaneous open); every other TCP state and every UDP flow is inactive.
_ACTIVE_NAMES = frozenset({"SYN_SENT", "SYN_SENT2", "SYN_RECV", "ESTABLISHED"})
# l3 name, l3 number, l4 name, l4 number, seconds left, [TCP state], ..., mark=N.  The greedy
# `[^\n]*` runs to the end of the line and backtracks to `mark=`, which is near the end: twice
# as fast as a lazy scan from the front.
_COUNT_RE = re.compile(
    r"^\S+[ \t]+\d+[ \t]+\S+[ \t]+(\d+)[ \t]+\d+[ \t]+([A-Z][A-Z_0-9]*)?[^\n]*[ \t]mark=(\d+)",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class CtFlow:
    protocol: int
    caddr: Address
    cport: int
    vaddr: Address
    vport: int
    daddr: Address
    dport: int
    state: ConnState
    expires: int
    mark: int


def parse_line(line: str) -> CtFlow | None:
    """One conntrack line; None for lines without a pylvs mark or that do not parse."""
    words = line.split()
    if len(words) < 6:
        return None
    try:
        proto = int(words[3])
        expires = int(words[4])
    except ValueError:
        return None
    fields: list[dict[str, str]] = [{}, {}]
    side = -1
    mark = 0
    state = ConnState.UDP if proto == 17 else ConnState.NONE
    for w in words[5:]:
        if "=" not in w:
            if w in _STATES and side < 0:
                state = _STATES[w]
            continue
        name, _, value = w.partition("=")
        if name == "src":
            side += 1
        if name == "mark":
            mark = int(value) if value.isdigit() else 0
        elif 0 <= side <= 1:
            fields[side][name] = value
    if mark & 0xFFFF0000 != MARK_BASE:
        return None
    orig, reply = fields
    try:
        return CtFlow(
            protocol=proto,
            caddr=ipaddress.ip_address(orig["src"]),
            cport=int(orig.get("sport", 0)),
            vaddr=ipaddress.ip_address(orig["dst"]),
            vport=int(orig.get("dport", 0)),
            daddr=ipaddress.ip_address(reply["src"]),
            dport=int(reply.get("sport", 0)),
            state=state,
            expires=expires,
            mark=mark,
        )
    except (KeyError, ValueError):
        return None


def parse(text: str) -> list[CtFlow]:
    return [f for f in map(parse_line, text.splitlines()) if f is not None]


def count(text: str) -> dict[int, tuple[int, int]]:
    """mark -> (active, inactive) of the pylvs-marked flows; what `parse` + counting gives."""
    active: dict[int, int] = {}
    inactive: dict[int, int] = {}
    # findall + Counter keep the per-line work in C; the loop runs once per distinct
    # (protocol, state, mark), a few dozen at most.
    for (proto, state, mark_text), n in Counter(_COUNT_RE.findall(text)).items():
        mark = int(mark_text)
        if mark & 0xFFFF0000 != MARK_BASE:
            continue
        bucket = active if proto == "6" and state in _ACTIVE_NAMES else inactive
        bucket[mark] = bucket.get(mark, 0) + n
    return {k: (active.get(k, 0), inactive.get(k, 0)) for k in active.keys() | inactive.keys()}


def read_text() -> str:
    """This network namespace's conntrack table as text ("" if conntrack is not loaded)."""
    try:
        return PROC.read_text()
    except OSError:
        pass
    tool = shutil.which("conntrack")
    if tool is None:
        return ""
    done = subprocess.run(
        [tool, "-L", "-o", "extended"], capture_output=True, text=True, check=False
    )
    return done.stdout


def read_flows() -> list[CtFlow]:
    """The pylvs-marked flows of this network namespace (empty if conntrack is not loaded)."""
    return parse(read_text())


def read_counts() -> dict[int, tuple[int, int]]:
    """mark -> (active, inactive), read and counted without building CtFlow objects."""
    return count(read_text())
