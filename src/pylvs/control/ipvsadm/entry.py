"""The parser's working record: ipvsadm.c's `struct ipvs_command_entry` plus option bits.

`process_options` memsets the entry, sets the defaults below (weight 1, direct routing,
tunnel type ipip, netmask /32) and lets each option overwrite fields in command-line order;
keeping that mutable record mirrors the C and makes the order-dependent quirks (`-r` before
`-t` gets port 0, `-M` before an IPv6 `-t` is overwritten by /128) fall out naturally.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.control.ipvsadm.command import Fmt
from pylvs.control.ipvsadm.matrix import OPTNAMES, Cmd, Optc, has
from pylvs.control.ipvsadm.messages import Failure, fail
from pylvs.model import Address, ForwardMethod, ServiceFlags


class OptionError(Exception):
    """Leaves the option loop with a Failure (where the C code calls fail() and exits)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass(slots=True)
class Entry:
    cmd: Cmd
    options: int = 0
    fmt: Fmt = Fmt.NONE
    # ce.svc
    af: int = 0
    protocol: int = 0
    addr: Address | None = None
    port: int = 0
    fwmark: int = 0
    sched_name: str = ""
    flags: ServiceFlags = ServiceFlags.NONE
    timeout: int = 0
    netmask: int = 0xFFFFFFFF
    pe_name: str = ""
    sched_flags_arg: str = ""
    # ce.dest
    dest_af: int = 0
    dest_addr: Address | None = None
    dest_port: int = 0
    method: ForwardMethod = ForwardMethod.ROUTE
    weight: int = 1
    u_threshold: int = 0
    l_threshold: int = 0
    tun_type: int = 0
    tun_port: int = 0
    tun_flags: int = 0
    # ce.daemon
    daemon_state: str = ""
    mcast_ifn: str = ""
    syncid: int = 0
    sync_maxlen: int = 0
    mcast_group: Address | None = None
    mcast_port: int = 0
    mcast_ttl: int = 0
    # ce.timeout
    timeouts: tuple[int, int, int] = (0, 0, 0)

    def set_option(self, optc: Optc) -> None:
        """ipvsadm.c `set_option`: an option bit may be set once."""
        if has(self.options, optc):
            raise OptionError(fail(f"multiple '{OPTNAMES[optc]}' options specified"))
        self.options |= 1 << optc
