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

Conntrack's TCP state names map onto the IPVS ones `ipvsadm -c` prints (SYN_SENT2 is the
simultaneous-open variant of SYN_SENT); UDP flows show as UDP, as ip_vs_proto_udp.c does.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
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


def read_flows() -> list[CtFlow]:
    """The pylvs-marked flows of this network namespace (empty if conntrack is not loaded)."""
    try:
        return parse(PROC.read_text())
    except OSError:
        pass
    tool = shutil.which("conntrack")
    if tool is None:
        return []
    done = subprocess.run(
        [tool, "-L", "-o", "extended"], capture_output=True, text=True, check=False
    )
    return parse(done.stdout)
