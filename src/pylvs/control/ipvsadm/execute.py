"""Apply one table-changing ipvsadm command to the service table, as the kernel would.

The checks and their order are the kernel's (net/netfilter/ipvs/ip_vs_ctl.c, netlink path
`ip_vs_genl_set_cmd`), the messages libipvs's `ipvs_strerror` table:
* -A: service exists (EEXIST) before unknown scheduler / persistence engine (ENOENT);
* -E/-D/-Z: "No such service" (ESRCH); -E then checks the scheduler and engine;
* -a/-e/-d: "Service not defined" (ESRCH); -a/-e: l-threshold above u-threshold is ERANGE
  (`strerror`: "Numerical result out of range"); -a: "Destination already exists", then a
  destination address that is not unicast (multicast, 0.0.0.0/8, broadcast, ::, link-local)
  is EINVAL; -e/-d: "No such destination";
* --start-daemon: "Daemon has already run"; --stop-daemon: "No daemon is running".
A failed call prints the message on stderr and makes ipvsadm return -1 (status 255).
-E and -e replace every field (ipvsadm sends the whole entry, defaults included: -E
without -s sets wlc, -e without -w sets weight 1 and -g).  The one thing pylvs cannot hold
is a non-contiguous IPv4 persistence mask (the model keeps a prefix length): it is refused
with EINVAL where the kernel would accept it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm import messages as m
from pylvs.model import Address, ModelError, ServiceKey, ServiceTable
from pylvs.model import table as mt
from pylvs.model.conn import Timeouts
from pylvs.model.snapshot import DaemonView
from pylvs.sched.ipvs import IPVSADM_SCHEDULERS

SCHEDULERS = frozenset((*IPVSADM_SCHEDULERS, "twos"))
PERSISTENCE_ENGINES = frozenset({"sip"})
# The MTU a daemon is listed with when no interface is looked at (eth0's usual one).
LISTED_MTU = 1500

MutatingCommand = (
    c.AddService
    | c.EditService
    | c.DeleteService
    | c.Flush
    | c.AddDest
    | c.EditDest
    | c.DeleteDest
    | c.SetTimeouts
    | c.StartDaemon
    | c.StopDaemon
    | c.Zero
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The state after the command, the changes made, and the error if the call failed."""

    table: ServiceTable
    timeouts: Timeouts
    daemons: tuple[DaemonView, ...] = ()
    changes: tuple[mt.Change, ...] = ()
    zero: ServiceKey | None = None  # -Z of one service
    zero_all: bool = False  # -Z of every service
    error: m.Failure | None = field(default=None)

    @property
    def exit_code(self) -> int:
        return self.error.exit_code if self.error is not None else 0


def _unicast(addr: Address) -> bool:
    if isinstance(addr, ipaddress.IPv4Address):
        first = addr.packed[0]
        return not (addr.is_multicast or first == 0 or int(addr) == 0xFFFFFFFF)
    return not (addr.is_multicast or addr.is_unspecified or addr.is_link_local)


def _service_problem(args: c.ServiceArgs) -> str | None:
    if args.scheduler not in SCHEDULERS:
        return m.SCHED_OR_PE_NOT_FOUND
    if args.pe_name and args.pe_name not in PERSISTENCE_ENGINES:
        return m.SCHED_OR_PE_NOT_FOUND
    return None


def _dest_key(d: c.DestArgs) -> tuple[Address, int]:
    return (d.address, d.port)


def execute(  # noqa: C901 - ipvsadm.c's command switch, one branch each
    cmd: MutatingCommand,
    table: ServiceTable,
    timeouts: Timeouts,
    daemons: tuple[DaemonView, ...] = (),
) -> Outcome:
    """The result of running `cmd` against `table` (never raises for a bad request)."""

    def failed(msg: str) -> Outcome:
        return Outcome(table, timeouts, daemons, error=m.kernel_error(msg))

    def changed(*changes: mt.Change) -> Outcome:
        try:
            new = table.apply(changes)
        except ModelError:
            return failed(m.EINVAL)
        return Outcome(new, timeouts, daemons, changes=changes)

    try:
        match cmd:
            case c.AddService(service=args):
                if args.key in table:
                    return failed(m.SERVICE_EXISTS)
                problem = _service_problem(args)
                if problem:
                    return failed(problem)
                return changed(mt.AddService(args.to_service()))
            case c.EditService(service=args):
                if args.key not in table:
                    return failed(m.NO_SUCH_SERVICE)
                problem = _service_problem(args)
                if problem:
                    return failed(problem)
                return changed(mt.EditService(args.to_service()))
            case c.DeleteService(key=key):
                if key not in table:
                    return failed(m.NO_SUCH_SERVICE)
                return changed(mt.DeleteService(key))
            case c.Flush():
                return changed(*(mt.DeleteService(k) for k in table))
            case c.AddDest(key=key, dest=d):
                entry = table.get(key)
                if entry is None:
                    return failed(m.SERVICE_NOT_DEFINED)
                if d.l_threshold > d.u_threshold:
                    return failed(m.ERANGE)
                if entry.dest(_dest_key(d)) is not None:
                    return failed(m.DEST_EXISTS)
                if not _unicast(d.address):
                    return failed(m.EINVAL)
                return changed(mt.AddDest(key, d.to_real_server()))
            case c.EditDest(key=key, dest=d):
                entry = table.get(key)
                if entry is None:
                    return failed(m.SERVICE_NOT_DEFINED)
                if d.l_threshold > d.u_threshold:
                    return failed(m.ERANGE)
                if entry.dest(_dest_key(d)) is None:
                    return failed(m.NO_SUCH_DEST)
                return changed(mt.EditDest(key, d.to_real_server()))
            case c.DeleteDest(key=key, dest=d):
                entry = table.get(key)
                if entry is None:
                    return failed(m.SERVICE_NOT_DEFINED)
                if entry.dest(_dest_key(d)) is None:
                    return failed(m.NO_SUCH_DEST)
                return changed(mt.DeleteDest(key, _dest_key(d)))
            case c.SetTimeouts(tcp=tcp, tcpfin=fin, udp=udp):
                new_timeouts = timeouts.with_set(tcp, fin, udp)
                return Outcome(table, new_timeouts, daemons)
            case c.StartDaemon(daemon=d):
                if any(x.state == d.state for x in daemons):
                    return failed(m.DAEMON_RUNNING)
                return Outcome(table, timeouts, (*daemons, _daemon_view(d)))
            case c.StopDaemon(state=state):
                if not any(x.state == state for x in daemons):
                    return failed(m.NO_DAEMON)
                return Outcome(table, timeouts, tuple(x for x in daemons if x.state != state))
            case c.Zero(key=None):
                return Outcome(table, timeouts, daemons, zero_all=True)
            case c.Zero(key=key):
                if key not in table:
                    return failed(m.NO_SUCH_SERVICE)
                return Outcome(table, timeouts, daemons, zero=key)
    except ModelError:
        return failed(m.EINVAL)


def _daemon_view(d: c.DaemonArgs) -> DaemonView:
    """What the kernel reports for a started daemon: the given values or its defaults and
    clamps (ip_vs_sync.c start_sync_thread: group 224.0.0.81, port 8848, ttl 1, MTU-based
    maxlen; model/syncd.py)."""
    return d.to_sync_daemon().resolve(LISTED_MTU)
