"""VrrpManager: every VRRP instance of a `DirectorSpec`, run on real sockets and a real clock.

The daemon creates one with the loaded spec and a `HostEffects`, then `await start()`;
`await stop()` is keepalived's SIGTERM (masters send priority 0, addresses are released,
notify_stop runs); `await reload(spec)` is SIGHUP: an instance whose derived setup did not
change keeps its machine and state (keepalived `reload_master`), others are stopped and
started afresh; `status()` and `holds(address)` answer the engine and `pylvs status`.

Time is the monotonic clock in integer microseconds, passed to the machines
(ARCHITECTURE principle 2).  One `DeadlineTimer` (deadline.py: a timerfd armed at the exact
microsecond, as keepalived's scheduler does) is re-armed for the earliest deadline of any
machine or GARP pacer after everything that can move one — a packet, a tracker change, a
timer run — and runs the due timers from the event loop.  Link state, source addresses and
track_file values are polled (`poll_interval`); scripts run on their own schedules
(trackers.py).  Commands are carried out by executor.Executor in order.

A backup's master-down deadline is the failover: it is kept to the microsecond.  An advert's
time is the kernel's receive time (sockets.py), not when it was read.  The timer wakes
`EARLY_US` before the deadline — a process waking from a timer needs a few hundred
microseconds before its first Python line runs, and code gone cold in the seconds since the
last advert runs several times slower — rehearses the tick on a copy of the machine
(fsm.rehearse), builds what the new master will send (its advert datagram, address requests,
gratuitous ARP frames), sleeps, waits the last `SPIN_US` on the CPU (garbage collector off),
reads any advert that arrived meanwhile (a live master's advert still resets the timer,
RFC 5798 §6.4.2), and, if none did, carries out the rehearsed tick.  Only master-down deadlines get
this; adverts and GARP pacing run on the plain timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pylvs.model.director import DirectorSpec
from pylvs.model.snapshot import InstanceView
from pylvs.model.vrrp_spec import SyncGroupSpec
from pylvs.proto.vrrp.commands import (
    Command,
    Log,
    RemoveAddresses,
    ReportState,
    RunNotify,
    SendAdvert,
    State,
    WriteFifo,
)
from pylvs.proto.vrrp.events import AdvertReceived, Event, TrackerChanged
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.packet import IPAddress
from pylvs.proto.vrrp.priority import TrackerKind
from pylvs.proto.vrrp.sync import Routed, SyncGroup
from pylvs.system import collector, trackfile
from pylvs.system.effects import HostEffects
from pylvs.vrrp.deadline import DeadlineTimer
from pylvs.vrrp.executor import Executor, StateCallback
from pylvs.vrrp.instance import Instance, InstanceSetup, as_address, pick_source
from pylvs.vrrp.notifications import Notifier, group_alert
from pylvs.vrrp.sockets import Datagram, SocketPool
from pylvs.vrrp.stale import remove_stale
from pylvs.vrrp.trackers import ScriptTracker
from pylvs.vrrp.units import Solo, Unit, group_unit
from pylvs.vrrp.wiring import attach, build_setups, detach, initial_events, poll_events

log = logging.getLogger("pylvs.vrrp")


EARLY_US = 2_000  # how long before a master-down deadline the timer wakes
SPIN_US = 300  # the last part of it waited on the CPU (a sleep may end this late)
DRAIN_AHEAD_US = 60  # the sockets are read (and the rehearsal adopted) this long before it


def monotonic_us() -> int:
    return time.monotonic_ns() // 1000


@dataclass(frozen=True, slots=True)
class InstanceStatus:
    name: str
    state: State
    base_priority: int
    effective_priority: int
    master_address: IPAddress | None
    last_transition: float | None  # wall-clock seconds since the epoch
    vrid: int
    interface: str
    family: int
    stats: tuple[tuple[str, int], ...] = ()
    cause: str = ""  # the log line that came with the last state change

    def view(self) -> InstanceView:
        return InstanceView(
            self.name,
            self.state.name,
            self.base_priority,
            self.effective_priority,
            self.master_address,
            self.last_transition,
            self.vrid,
            self.interface,
            self.family,
            self.stats,
        )


class VrrpManager:
    def __init__(
        self,
        spec: DirectorSpec,
        host: HostEffects,
        *,
        on_state: StateCallback | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        self.spec = spec
        self.host = host
        self.poll_interval = poll_interval
        self.notifier = Notifier(spec.notify, spec.globals.router_id)
        self.executor = Executor(host, spec.vrrp.garp, self.notifier, on_state)
        self.instances: dict[str, Instance] = {}
        self.units: dict[str, Unit] = {}  # by unit name: the group's, or the instance's
        self.unit_of: dict[str, str] = {}  # instance name -> unit name
        self.group_conf: dict[str, SyncGroupSpec] = {}
        self.scripts: dict[str, ScriptTracker] = {}
        self.pool: SocketPool | None = None
        self._timer: DeadlineTimer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self._last_now = 0  # event times never go backwards (machines assume it)
        self._fed = 0  # events handed to machines so far

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self.pool = SocketPool(asyncio.get_running_loop())
        self.notifier.open()
        self._init_track_files(reload=False)
        loop = asyncio.get_running_loop()
        self._timer = DeadlineTimer(loop, self._run_timers)
        remove_stale(self.host, build_setups(self.spec).values())  # as keepalived at start
        self._add_units(self.spec, keep=set())
        self._start_scripts()
        self._running = True
        self._tasks = [loop.create_task(self._poll())]
        self._rearm()

    def _init_track_files(self, *, reload: bool) -> None:
        for tf in self.spec.track_files:
            if tf.init_file:
                why = trackfile.initialise(
                    tf.path, tf.init_value, overwrite=tf.init_overwrite, reload=reload
                )
                if why is not None:
                    log.error("%s", why)

    async def stop(self, *, release: bool = True) -> None:
        """SIGTERM: stop trackers, then every unit (priority 0 from masters, addresses
        released, notify_stop), then the sockets and the firewall table.

        release=False is keepalived's --dont-release-vrrp: no priority-0 advert, the VIPs,
        routes and rules stay (vrrp_daemon.c skips `restore_vrrp_interfaces`); the next
        start removes them (vrrp/stale.py)."""
        self._running = False
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        for tracker in self.scripts.values():
            await tracker.stop()
        self.scripts.clear()
        for name in list(self.units):
            self._remove_unit(name, release=release)
        with contextlib.suppress(Exception):
            self.host.set_blocked(())
        if self.pool is not None:
            self.pool.close()
        await self.notifier.close()

    async def reload(self, spec: DirectorSpec) -> None:
        """SIGHUP: unchanged instances keep their state; the rest restart."""
        old_setups = {n: i.setup for n, i in self.instances.items()}
        new_setups = build_setups(spec)
        new_units = self._unit_members(spec)
        keep: set[str] = set()
        for unit_name, unit in list(self.units.items()):
            names = [m.name for m in unit.members]
            same = all(old_setups[n] == new_setups.get(n) for n in names)
            same = same and new_units.get(unit_name) == names
            if same:
                keep.update(names)
            else:
                self._remove_unit(unit_name)
        self.spec = spec
        self.executor.configure(spec.vrrp.garp)
        self._init_track_files(reload=True)
        for tracker in self.scripts.values():
            await tracker.stop()
        self.scripts.clear()
        self._add_units(spec, keep=keep)
        self._start_scripts()
        self._rearm()

    # --- queries ---------------------------------------------------------------------------

    def status(self) -> list[InstanceStatus]:
        return [
            InstanceStatus(
                i.name,
                i.machine.state,
                i.setup.params.priority,
                i.machine.effective_priority,
                i.master_address(),
                i.last_transition,
                i.setup.params.vrid,
                i.setup.interface,
                i.setup.params.family,
                tuple((c.value, n) for c, n in i.machine.stats.items()),
                i.last_log,
            )
            for i in self.instances.values()
        ]

    def cause(self, name: str) -> str:
        """The log line that came with the instance's last state change ("" if none)."""
        inst = self.instances.get(name)
        return inst.last_log if inst is not None else ""

    def holds(self, address: str | IPAddress) -> bool:
        """True while a MASTER instance here has `address` installed (VIP or excluded VIP)."""
        addr = as_address(address)
        return any(
            i.machine.state is State.MASTER and addr in i.held for i in self.instances.values()
        )

    # --- units -----------------------------------------------------------------------------

    @staticmethod
    def _unit_members(spec: DirectorSpec) -> dict[str, list[str]]:
        """Unit name -> member instance names: sync groups, then lone instances."""
        names = {i.name for i in spec.vrrp.instances}
        units = {g.name: [m for m in g.members if m in names] for g in spec.vrrp.sync_groups}
        grouped = {m for members in units.values() for m in members}
        units.update({n: [n] for n in names if n not in grouped})
        return units

    def _add_units(self, spec: DirectorSpec, keep: set[str]) -> None:
        setups = build_setups(spec)
        now = self._clock()
        grouped: set[str] = set()
        for gconf in spec.vrrp.sync_groups:
            members = [n for n in gconf.members if n in setups]
            grouped.update(members)
            if not members or all(n in keep for n in members):
                continue
            machines = [self._new_instance(setups[n]) for n in members]
            group = SyncGroup(gconf.name, machines, gconf.notifies)
            self.group_conf[gconf.name] = gconf
            self._start_unit(gconf.name, group_unit(group), now)
        for name, setup in setups.items():
            if name in grouped or name in keep:
                continue
            self._start_unit(name, Solo(self._new_instance(setup)), now)

    def _new_instance(self, setup: InstanceSetup) -> VrrpMachine:
        link = self.host.link(setup.interface)
        src = setup.params.source_address or pick_source(
            setup.params.family, self.host.addresses(setup.interface)
        )
        machine = VrrpMachine(setup.params, source_address=src)
        inst = Instance(setup, machine, link.index if link is not None else 0)
        self.instances[setup.name] = inst
        assert self.pool is not None
        attach(self.pool, inst, self._receiver(setup.name))
        now = self._clock()
        for event in initial_events(inst, self.host, self.spec):
            machine.handle(event, now)  # INIT: only records the values, no commands
        return machine

    def _start_unit(self, name: str, unit: Unit, now: int) -> None:
        self.units[name] = unit
        for m in unit.members:
            self.unit_of[m.name] = name
        self._execute(name, unit.start(now), now)
        self._rearm()

    def _remove_unit(self, name: str, *, release: bool = True) -> None:
        unit = self.units.pop(name)
        now = self._clock()
        routed = unit.shutdown(now)
        if not release:
            routed = [r for r in routed if not isinstance(r[1], SendAdvert | RemoveAddresses)]
        self._execute(name, routed, now)
        for m in unit.members:
            inst = self.instances.pop(m.name)
            self.unit_of.pop(m.name, None)
            if self.pool is not None:
                detach(self.pool, inst)
        self.group_conf.pop(name, None)

    # --- events and commands ---------------------------------------------------------------

    def _receiver(self, name: str) -> Callable[[Datagram], None]:
        def receive(d: Datagram) -> None:
            self.feed(name, AdvertReceived(d.data, d.src, d.dst, d.hop_limit), d.received_us)

        return receive

    def _clock(self, at: int | None = None) -> int:
        """The time of an event: `at` (when it happened) or now, never before the last one."""
        now = monotonic_us() if at is None else at
        self._last_now = now = max(now, self._last_now)
        return now

    def feed(self, name: str, event: Event, at: int | None = None) -> None:
        """Hand one event to an instance (through its sync group) and carry out the result;
        `at` is when it happened (an advert's kernel receive time), else now."""
        inst = self.instances.get(name)
        unit_name = self.unit_of.get(name)
        if inst is None or unit_name is None:
            return
        now = self._clock(at)
        self._fed += 1
        unit = self.units[unit_name]
        self._execute(unit_name, unit.handle(inst.machine, event, now), now)
        self._rearm()

    def _execute(self, unit_name: str, routed: list[Routed], now: int) -> None:
        unit = self.units.get(unit_name)
        before = unit.state if unit is not None else None
        for who, cause in causes(routed).items():
            if who in self.instances:
                self.instances[who].last_log = cause
        # Log lines go out after the batch's other commands: a new master's "Entering MASTER
        # STATE" must not hold back its VIPs and gratuitous ARPs (keepalived's log is a
        # syslog call; ours is a formatted write that costs a tenth of a millisecond).
        for name, cmd in [r for r in routed if not isinstance(r[1], Log)] + [
            r for r in routed if isinstance(r[1], Log)
        ]:
            if name is not None and name in self.instances:
                self.executor.run(self.instances[name], cmd, now)
            else:
                self._group_command(unit_name, cmd)
        gconf = self.group_conf.get(unit_name)
        if unit is not None and unit.state is not before and gconf is not None and gconf.smtp_alert:
            alert = group_alert(self.notifier.router_id, unit_name, unit.state)
            self.notifier.alert(alert, unit.state)

    def _group_command(self, unit_name: str, cmd: object) -> None:
        gc = self.group_conf.get(unit_name)
        known = gc.scripts if gc is not None else ()
        if isinstance(cmd, Log):
            log.info("%s", cmd.line)
        elif isinstance(cmd, WriteFifo):
            self.notifier.fifo(cmd.line)
        elif isinstance(cmd, RunNotify):
            self.notifier.run(cmd.argv, known, stop=cmd.timeout_us is not None)

    # --- tasks -----------------------------------------------------------------------------

    def _start_scripts(self) -> None:
        used = {
            t.name
            for i in self.instances.values()
            for t in i.setup.params.trackers
            if t.kind is TrackerKind.SCRIPT
        }
        for conf in self.spec.vrrp.scripts:
            if conf.name in used:
                tracker = ScriptTracker(conf, self.notifier.runner, self._script_changed)
                self.scripts[conf.name] = tracker
                tracker.start()

    def _script_changed(self, script: str, ok: bool) -> None:
        self._tracker_changed(TrackerKind.SCRIPT, script, ok)

    def _tracker_changed(self, kind: TrackerKind, name: str, value: bool | int) -> None:
        for inst in list(self.instances.values()):
            if any(t.kind is kind and t.name == name for t in inst.setup.params.trackers):
                self.feed(inst.name, TrackerChanged(kind, name, value))

    def next_deadline(self) -> int | None:
        """The earliest deadline of any unit or GARP pacer (monotonic microseconds)."""
        times = [t for u in self.units.values() if (t := u.next_deadline()) is not None]
        if (g := self.executor.garp_deadline()) is not None:
            times.append(g)
        return min(times) if times else None

    def _master_down(self) -> list[VrrpMachine]:
        """Backups waiting for their master-down timer."""
        return [
            m
            for u in self.units.values()
            for m in u.members
            if m.state is State.BACKUP and m.sands is not None
        ]

    def _rearm(self) -> None:
        if self._timer is None:
            return
        deadline = self.next_deadline()
        waiting = [m.sands for m in self._master_down() if m.sands is not None]
        if waiting:
            early = min(waiting) - EARLY_US
            deadline = early if deadline is None else min(deadline, early)
        self._timer.arm(deadline)

    def _run_timers(self) -> None:
        """The timer fired: run every unit timer and GARP due now (vrrp_dispatcher_read_timeout);
        ahead of a master-down deadline, get ready and wait for it on the CPU first."""
        try:
            with collector.paused():
                if self.pool is not None and self._overdue(monotonic_us()):
                    # Woken after a master-down deadline (a loaded machine): adverts already
                    # queued were received before it, as their kernel times say, and reset
                    # the timer (RFC 5798 §6.4.2) before it may declare the master dead.
                    self.pool.drain()
                now = self._clock()
                soon = [m for m in self._master_down() if m.sands is not None and m.sands > now]
                if soon:
                    deadline = min(m.sands for m in soon if m.sands is not None)
                    if deadline - now <= EARLY_US:
                        now = self._master_down_at(deadline, soon)
                self.run_due(now)
        finally:
            self._rearm()

    def _overdue(self, now: int) -> bool:
        return any(m.sands is not None and m.sands <= now for m in self._master_down())

    def _master_down_at(self, deadline: int, soon: list[VrrpMachine]) -> int:
        """Rehearse the backups due at `deadline` and prepare what they will send, wait until
        it, and read the adverts that came meanwhile.  A lone instance that heard nothing
        takes its rehearsed state and its commands run at once; the rest go through
        `run_due` at the returned time."""
        rehearsed: dict[str, tuple[VrrpMachine, list[Command]]] = {}
        for m in soon:
            if m.sands == deadline and m.name in self.instances:
                rehearsed[m.name] = m.rehearse(deadline)
                self.executor.prepare(self.instances[m.name], rehearsed[m.name][1])
        fed = self._fed
        try:
            self._wait_until(deadline - DRAIN_AHEAD_US)
            if self.pool is not None:
                self.pool.drain()
            if self._fed != fed:
                return self._clock()  # an advert came: the machines decide again
            batches: list[tuple[str, list[Routed]]] = []
            for name, (twin, commands) in rehearsed.items():
                unit_name = self.unit_of.get(name)
                unit = self.units.get(unit_name) if unit_name is not None else None
                if isinstance(unit, Solo) and unit_name is not None:
                    unit.machine.adopt(twin)
                    batches.append((unit_name, [(name, c) for c in commands]))
            self._wait_until(deadline)
            now = self._clock()
            for unit_name, routed in batches:
                self._execute(unit_name, routed, now)
            return now
        finally:
            self.executor.forget_plans()

    def _wait_until(self, when: int) -> None:
        """Sleep to SPIN_US before `when`, then wait for it on the CPU.  A long spin would
        make the scheduler hand the CPU to whatever our advert wakes up (EEVDF favours tasks
        that ran less), in the middle of the failover.  The VRRP sockets are read
        DRAIN_AHEAD_US before the deadline: an advert later than that counts as after it,
        as one still on the wire would."""
        end = min(when, monotonic_us() + EARLY_US)  # bounded, whatever `when` says
        rest = end - SPIN_US - monotonic_us()
        if rest > 0:
            time.sleep(rest / 1e6)
        while monotonic_us() < end:
            pass

    def run_due(self, now: int) -> None:
        for unit_name, unit in list(self.units.items()):
            due = unit.next_deadline()
            if due is not None and due <= now:
                self._execute(unit_name, unit.tick(now), now)
        self.executor.garp_due(now)

    async def _poll(self) -> None:
        while True:
            self.executor.refresh_links(self._garp_devs())
            await asyncio.sleep(self.poll_interval)
            for name, event in poll_events(self.instances, self.host, self.spec, self.pool):
                self.feed(name, event)

    def _garp_devs(self) -> set[str]:
        return {a.dev for i in self.instances.values() for a in i.setup.addresses}


def causes(routed: list[Routed]) -> dict[str, str]:
    """Why each instance that reports a new state in this batch changed (its event's cause):
    the batch's log lines for it and its group, in keepalived's words ("Master received
    advert from ... with higher priority"), or its "Entering X STATE" line when nothing else
    was said.  Empty (and nearly free) for the batches of adverts that change nothing."""
    reporting = {name for name, cmd in routed if name is not None and isinstance(cmd, ReportState)}
    if not reporting:
        return {}
    group = [cmd.line for name, cmd in routed if name is None and isinstance(cmd, Log)]
    out: dict[str, str] = {}
    for who in reporting:
        lines = [cmd.line for name, cmd in routed if name == who and isinstance(cmd, Log)]
        said = [line for line in lines if " Entering " not in line] + group
        out[who] = "; ".join(said or lines)
    return out
