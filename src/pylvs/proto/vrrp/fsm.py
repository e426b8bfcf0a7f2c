"""The per-instance VRRP state machine: keepalived's INIT/BACKUP/MASTER/FAULT/STOP, sans I/O.

`handle(event, now)` and `tick(now)` return the commands to carry out; `next_deadline()` says
when to call `tick` next.  `now` is integer microseconds; the machine never reads a clock.
Sources (reference §4.4-4.14): vrrp_scheduler.c `vrrp_init_state`, `vrrp_init_instance_sands`,
`vrrp_dispatcher_read_timeout`, `try_up_instance`; vrrp.c `vrrp_state_backup`,
`vrrp_state_master_rx/_tx`, `vrrp_state_goto_master`, `vrrp_state_become_master`,
`vrrp_state_leave_master/_fault`; vrrp_track.c `down_instance`, `vrrp_set_effective_priority`.
The receive rules are the tables of decisions.py, applied by backup.py (BACKUP) and master.py
(MASTER: elections, owner conflicts, becoming and leaving master).

Timers follow keepalived: `sands` is the one deadline of the instance (master: next advert;
backup: master down).  A backup keeps `ms_down_timer` and restarts `sands` from it after every
received advert; an ignored advert first sets `ms_down_timer` to the time left, so it never
extends the deadline.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Protocol

from pylvs.proto.vrrp import backup, master, timers
from pylvs.proto.vrrp.commands import Command, Log, ReportState, SendAdvert, State, WriteFifo
from pylvs.proto.vrrp.events import (
    AdvertReceived,
    Event,
    InterfaceCameUp,
    InterfaceWentDown,
    ShutdownRequested,
    SourceAddressLost,
    SourceAddressRestored,
    Started,
    TrackerChanged,
)
from pylvs.proto.vrrp.notify import (
    EVENT_BACKUP_PRIORITY,
    EVENT_MASTER_PRIORITY,
    INSTANCE,
    entering_state,
    fifo_line,
    script_commands,
)
from pylvs.proto.vrrp.packet import IPAddress
from pylvs.proto.vrrp.priority import TrackerKey, TrackerValue, evaluate
from pylvs.proto.vrrp.settings import InstanceParams
from pylvs.proto.vrrp.stats import Counter, Reason
from pylvs.proto.vrrp.validate import (
    CheckParams,
    CheckResult,
    ChecksumCompat,
    Received,
    check_packet,
)


class GroupView(Protocol):
    """What a member sees of its vrrp_sync_group (implemented by sync.SyncGroup)."""

    @property
    def state(self) -> State: ...

    def can_goto_master(self, member: VrrpMachine) -> bool: ...

    def blocks_up(self, member: VrrpMachine) -> bool: ...


class VrrpMachine:
    """One vrrp_instance.  Read-only attributes describe it; only `handle`/`tick` change it."""

    def __init__(self, params: InstanceParams, *, source_address: IPAddress | None = None) -> None:
        self.params = params
        self.name = params.name
        self.group: GroupView | None = None
        self.state = State.INIT
        self.wantstate = State.MASTER if params.initial_state == "MASTER" else State.BACKUP
        self.source_address = source_address or params.source_address
        self.checksum_compat = params.checksum_compat
        self._check = CheckParams.of(params)
        self._values: dict[TrackerKey, TrackerValue] = {}
        self._interface_down = False
        self._no_source_ip = False
        ev = evaluate(params.priority, params.trackers, {})
        self.total_priority = ev.total_priority
        self.effective_priority = ev.effective_priority
        self.master_adver_int = params.adver_int_us
        self.ms_down_timer = self.ms_down_interval()
        self.sands: int | None = None
        self.preempt_time: int | None = None
        self.master_address: IPAddress | None = None
        self.master_priority = 0
        self.vipset = False
        self.garp_timers: dict[str, int] = {}
        self.rogue_counter = 0
        self.rogue_adver_int = 0
        self.rogue_deadline: int | None = None
        self.delayed_until: int | None = None
        self.stats: dict[Counter, int] = dict.fromkeys(Counter, 0)
        self._logged: set[Reason] = set()
        self._notifies_sent = False
        self._out: list[Command] = []

    # --- derived values -------------------------------------------------------------------

    @property
    def is_down(self) -> bool:
        """A fault flag is set (keepalived `flags_if_fault`)."""
        ev = evaluate(self.params.priority, self.params.trackers, self._values)
        return self._interface_down or self._no_source_ip or bool(ev.faults)

    @property
    def initialising(self) -> bool:
        """A weight-0 tracker has not reported yet (keepalived `num_script_init`)."""
        return bool(evaluate(self.params.priority, self.params.trackers, self._values).pending)

    def skew(self) -> int:
        p = self.params
        return timers.skew(p.version, self.master_adver_int, p.priority, self.effective_priority)

    def ms_down_interval(self) -> int:
        p = self.params
        return timers.master_down_interval(
            p.version,
            p.down_timer_adverts,
            self.master_adver_int,
            p.priority,
            self.effective_priority,
        )

    def next_deadline(self) -> int | None:
        times = [t for t in (self.sands, self.rogue_deadline) if t is not None]
        times += self.garp_timers.values()
        return min(times) if times else None

    # --- entry points ---------------------------------------------------------------------

    def handle(self, event: Event, now: int) -> list[Command]:
        self._expire_startup_delay(now)
        match event:
            case Started():
                self._startup(now)
            case AdvertReceived():
                self._receive(event, now)
            case TrackerChanged(kind=kind, name=name, value=value):
                self._faults_changed(now, lambda: self._values.__setitem__((kind, name), value))
            case InterfaceWentDown():
                self._faults_changed(now, lambda: setattr(self, "_interface_down", True))
            case InterfaceCameUp():
                self._faults_changed(now, lambda: setattr(self, "_interface_down", False))
            case SourceAddressLost():
                self._faults_changed(now, lambda: setattr(self, "_no_source_ip", True))
            case SourceAddressRestored(address=address):
                self.source_address = address
                self._faults_changed(now, lambda: setattr(self, "_no_source_ip", False))
            case ShutdownRequested():
                self._shutdown()
        return self.drain()

    def tick(self, now: int) -> list[Command]:
        """Run every timer due at `now` (vrrp_dispatcher_read_timeout and the GARP threads)."""
        self._expire_startup_delay(now)
        master.run_garp_timers(self, now)
        if self.rogue_deadline is not None and self.rogue_deadline <= now:
            self.rogue_deadline = None
            self.log(f"({self.name}): rogue address owner appears to have stopped advertising")
        if self.sands is not None and self.sands <= now:
            if self.state is State.BACKUP:
                self.wantstate = State.MASTER
                master.goto_master(self, now)
            elif self.state is State.MASTER:
                master.master_tx(self, now)
            self.init_sands(now)
        return self.drain()

    def rehearse(self, now: int) -> tuple[VrrpMachine, list[Command]]:
        """What `tick(now)` would do, worked out on a copy: the copy after the tick and the
        commands; this machine is unchanged.

        The driver runs it just before a master-down deadline, to build the new master's
        packets ahead and to bring the code of the tick into the CPU's caches; if nothing
        reached the machine by the deadline, it `adopt`s the copy instead of ticking again."""
        twin = copy.copy(self)
        twin._values = dict(self._values)
        twin.garp_timers = dict(self.garp_timers)
        twin.stats = dict(self.stats)
        twin._logged = set(self._logged)
        twin._out = []
        return twin, twin.tick(now)

    def adopt(self, twin: VrrpMachine) -> None:
        """Take the state of a rehearsed copy: as if `tick` had run at the rehearsal's time."""
        self.__dict__.update(twin.__dict__)

    # --- helpers used by master.py and sync.py --------------------------------------------

    def emit(self, *commands: Command) -> None:
        self._out.extend(commands)

    def log(self, line: str) -> None:
        self._out.append(Log(line))

    def log_limited(self, reason: Reason, line: str) -> None:
        """keepalived `log_rate_limited_error`: once per reason until the flags are reset."""
        if reason not in self._logged:
            self._logged.add(reason)
            self.log(line)

    def reset_rate_limits(self) -> None:
        self._logged.clear()

    def send_advert(self, priority: int) -> None:
        self.emit(SendAdvert(priority))
        self.stats[Counter.ADVERT_SENT] += 1
        if priority == 0:
            self.stats[Counter.PRI_ZERO_SENT] += 1

    def delay_running(self) -> bool:
        return self.delayed_until is not None

    def init_sands(self, now: int) -> None:
        """vrrp_init_instance_sands: master -> next advert, backup -> master down."""
        base = self.delayed_until if self.delayed_until is not None else now
        if self.state is State.MASTER:
            self.sands = base + self.params.adver_int_us
        elif self.state is State.BACKUP:
            self.sands = base + self.ms_down_timer
        else:
            self.sands = None

    def notify_state(self) -> None:
        """send_instance_notifies, unless the sync group already notified this state."""
        self.emit(ReportState(self.state, self.effective_priority))
        g = self.group
        if g is not None and self._notifies_sent and g.state is self.state:
            return
        self._notifies_sent = True
        n = self.params.notifies
        scripts = {
            State.MASTER: n.master,
            State.BACKUP: n.backup,
            State.FAULT: n.fault,
            State.STOP: n.stop,
        }
        self.emit(
            *script_commands(
                state_script=scripts.get(self.state),
                generic=n.generic,
                kind=INSTANCE,
                name=self.name,
                state=self.state,
                priority=self.effective_priority,
                fifo=n.fifo,
            )
        )

    def leave_fault(self, now: int) -> None:
        """vrrp_state_leave_fault: to wantstate (MASTER goes through goto_master)."""
        if self.wantstate is State.MASTER:
            master.goto_master(self, now)
        else:
            if self.state is not self.wantstate:
                self.log(entering_state(self.name, self.wantstate))
            if self.wantstate is State.FAULT and self.state is State.MASTER:
                self.send_advert(0)
                master.restore_interface(self, send_stop_advert=False)
            self.state = self.wantstate
            self.notify_state()
            if self.state is State.BACKUP:
                self.preempt_time = None
        self.master_adver_int = self.params.adver_int_us
        self.ms_down_timer = self.ms_down_interval()
        self.init_sands(now)

    # --- internals ------------------------------------------------------------------------

    def drain(self) -> list[Command]:
        out, self._out = self._out, []
        return out

    def _expire_startup_delay(self, now: int) -> None:
        if self.delayed_until is not None and now >= self.delayed_until:
            self.delayed_until = None

    def _startup(self, now: int) -> None:
        """vrrp_init_state for one instance."""
        if self.state is not State.INIT:
            return
        p = self.params
        if p.startup_delay_us:
            self.delayed_until = now + p.startup_delay_us
        up = not self.is_down
        if not up:
            self.wantstate = State.FAULT
        waiting = self.initialising or (self.group is not None and self.group.blocks_up(self))
        new_state = self.group.state if self.group is not None else self.wantstate
        if (
            up
            and new_state is State.MASTER
            and not waiting
            and p.owner
            and self.wantstate is State.MASTER
        ):
            # "The simplest way to become master is to timeout from the backup state very
            # quickly (1usec)".
            self.state = State.BACKUP
            self.ms_down_timer = 1
        else:
            if new_state is State.BACKUP and self.wantstate is State.MASTER:
                # Allow one advert interval to pass to make sure there is no other master.
                self.ms_down_timer = self.master_adver_int + timers.skew_min(
                    p.version, self.master_adver_int
                )
            else:
                self.ms_down_timer = self.ms_down_interval()
            if up and new_state is not State.FAULT and not waiting:
                self.log(entering_state(self.name, State.BACKUP, " (init)"))
                self.state = State.BACKUP
            else:
                self.log(entering_state(self.name, State.FAULT, " (init)"))
                self.state = State.FAULT
            if self.state is not State.FAULT or not up:
                self.notify_state()
        self.init_sands(now)

    def _receive(self, event: AdvertReceived, now: int) -> None:
        if self.state not in (State.BACKUP, State.MASTER) or self.delay_running():
            return  # the dispatcher ignores adverts in FAULT/INIT and during vrrp_startup_delay
        rx = Received(event.data, event.src, event.dst, event.hop_limit)
        if self.state is State.BACKUP:
            backup.backup_rx(self, rx, now)
        elif master.master_rx(self, rx, now):
            master.leave_master(self, now, send_stop_advert=False)
        if self.state is not State.MASTER or not self.params.lower_prio_no_advert:
            self.init_sands(now)

    def check(self, rx: Received, check_vip_addr: bool) -> CheckResult:
        res = check_packet(
            rx,
            self._check,
            effective_priority=self.effective_priority,
            check_vip_addr=check_vip_addr,
            compat=self.checksum_compat,
        )
        for counter in res.counters:
            self.stats[counter] += 1
        if res.reason is not None and res.log is not None:
            self.log_limited(res.reason, res.log)
        for reason, line in res.notes:
            self.log_limited(reason, line)
        if res.old_checksum_detected:
            self.checksum_compat = ChecksumCompat.AUTO
            self.log(f"({self.name}) Setting unicast VRRPv3 checksum to old version")
        return res

    def _faults_changed(self, now: int, change: Callable[[], None]) -> None:
        """Apply a tracker/interface change: priority arithmetic, then down/up transitions."""
        was_down, was_waiting = self.is_down, self.initialising
        change()
        ev = evaluate(self.params.priority, self.params.trackers, self._values)
        self.total_priority = ev.total_priority
        if not (self.params.owner and self.effective_priority == 254):
            self._set_effective_priority(ev.effective_priority)
        if self.state in (State.INIT, State.STOP):
            return
        down, waiting = self.is_down, self.initialising
        if down and not was_down:
            self.wantstate = State.FAULT  # down_instance
            if self.state is State.MASTER:
                master.leave_master(self, now, send_stop_advert=True)
            else:
                self.leave_fault(now)
        elif (was_down or was_waiting) and not down:
            master.try_up(self, now, waiting=waiting)

    def _set_effective_priority(self, new: int) -> None:
        """vrrp_set_effective_priority: shift a running backup timer by the change."""
        if self.params.owner or new == self.effective_priority:
            return
        self.log(
            f"({self.name}) Changing effective priority from {self.effective_priority} to {new}"
        )
        self.effective_priority = new
        old_down = self.ms_down_timer
        self.ms_down_timer = self.ms_down_interval()
        if self.state is State.BACKUP and self.sands is not None:
            self.sands += self.ms_down_timer - old_down
        n = self.params.notifies
        if n.priority_changes and n.fifo:
            word = EVENT_MASTER_PRIORITY if self.state is State.MASTER else EVENT_BACKUP_PRIORITY
            self.emit_fifo(fifo_line(INSTANCE, self.name, word, new))

    def emit_fifo(self, line: str) -> None:
        self.emit(WriteFifo(line))

    def _shutdown(self) -> None:
        """Stop: a master sends priority 0 and releases its addresses; STOP notifies."""
        if self.state is State.STOP:
            return
        if self.state is State.MASTER:
            master.restore_interface(self, send_stop_advert=True)
        self.state = State.STOP
        self.sands = None
        self.garp_timers.clear()
        self.rogue_deadline = None
        self.notify_state()
