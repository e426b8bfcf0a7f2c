"""vrrp_sync_group: members move between MASTER, BACKUP and FAULT together (pure).

keepalived vrrp/vrrp_sync.c and the "TSM" table of vrrp_scheduler.c (reference §4.16):
* a member may become MASTER only when the group is MASTER or every other member wants MASTER
  (`vrrp_sync_can_goto_master`, "prefer backup state to avoid thrashing"); otherwise it stays
  BACKUP wanting MASTER and re-arms its down timer;
* BACKUP->MASTER, MASTER->MASTER and FAULT->MASTER of one member bring the others to MASTER
  (`vrrp_sync_master`); MASTER->BACKUP brings them to BACKUP (`vrrp_sync_backup`);
* a member faulting takes all the others to FAULT (`vrrp_sync_fault`), and none comes back up
  until every member is clear (`try_up_instance`'s `num_member_fault`);
* each group change runs the group's notify scripts and writes `GROUP "name" STATE 0`.

Commands come back paired with the instance they belong to (None for group notifications).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from pylvs.proto.vrrp import master
from pylvs.proto.vrrp.commands import Command, Log, State
from pylvs.proto.vrrp.events import Event, ShutdownRequested, Started
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.notify import GROUP, script_commands
from pylvs.proto.vrrp.settings import Notifies

Routed = tuple[str | None, Command]


class SyncGroup:
    def __init__(
        self, name: str, members: list[VrrpMachine], notifies: Notifies | None = None
    ) -> None:
        self.name = name
        self.members = members
        self.notifies = notifies if notifies is not None else Notifies()
        self._state = State.BACKUP
        self._out: list[Routed] = []
        for m in members:
            m.group = self

    @property
    def state(self) -> State:
        return self._state

    # --- GroupView ------------------------------------------------------------------------

    def can_goto_master(self, member: VrrpMachine) -> bool:
        if self._state is State.MASTER:
            return True
        return all(o.wantstate is State.MASTER for o in self._others(member))

    def blocks_up(self, member: VrrpMachine) -> bool:
        return any(o.is_down or o.initialising for o in self._others(member))

    # --- entry points ---------------------------------------------------------------------

    def start(self, now: int) -> list[Routed]:
        """vrrp_sync_set_group + vrrp_init_state: the group's first state, then the members'."""
        if any(m.is_down for m in self.members):
            self._state = State.FAULT
        elif all(m.params.owner and m.wantstate is State.MASTER for m in self.members):
            self._state = State.MASTER
        for m in self.members:
            self._collect(m, m.handle(Started(), now))
        if self._state in (State.FAULT, State.BACKUP):
            self._notify()
        return self._drain()

    def handle(self, member: VrrpMachine, event: Event, now: int) -> list[Routed]:
        return self._step(member, now, lambda: member.handle(event, now))

    def tick(self, now: int) -> list[Routed]:
        out: list[Routed] = []
        for m in self.members:
            if (deadline := m.next_deadline()) is not None and deadline <= now:
                out += self._step(m, now, partial(m.tick, now))
        return out

    def next_deadline(self) -> int | None:
        times = [t for m in self.members if (t := m.next_deadline()) is not None]
        return min(times) if times else None

    # --- internals ------------------------------------------------------------------------

    def _others(self, member: VrrpMachine) -> list[VrrpMachine]:
        return [o for o in self.members if o is not member]

    def _step(self, m: VrrpMachine, now: int, run: Callable[[], list[Command]]) -> list[Routed]:
        before, was_down = m.state, m.is_down
        self._collect(m, run())
        if m.is_down and not was_down:
            if m.state is State.FAULT:
                self._sync_fault(m, now)
        elif was_down and not m.is_down and m.state is not State.FAULT:
            if m.state is State.MASTER:
                self._sync_master(m, now)
            else:
                self._sync_backup(m, now)
        elif m.state is State.MASTER and before in (State.BACKUP, State.MASTER, State.FAULT):
            self._sync_master(m, now)
        elif before is State.MASTER and m.state is State.BACKUP:
            self._sync_backup(m, now)
        return self._drain()

    def _collect(self, m: VrrpMachine, commands: list[Command]) -> None:
        self._out += [(m.name, c) for c in commands]

    def _drain(self) -> list[Routed]:
        out, self._out = self._out, []
        return out

    def _log(self, what: str) -> None:
        self._out.append((None, Log(f"VRRP_Group({self.name}) Syncing instances to {what} state")))

    def _notify(self) -> None:
        n = self.notifies
        scripts = {State.MASTER: n.master, State.BACKUP: n.backup, State.FAULT: n.fault}
        for c in script_commands(
            state_script=scripts.get(self._state, n.stop if self._state is State.STOP else None),
            generic=n.generic,
            kind=GROUP,
            name=self.name,
            state=self._state,
            priority=0,
            fifo=n.fifo,
        ):
            self._out.append((None, c))

    def _sync_master(self, trigger: VrrpMachine, now: int) -> None:
        if self._state is State.MASTER or not self.can_goto_master(trigger):
            return
        self._log("MASTER")
        for o in self._others(trigger):
            if o.state is not State.MASTER:
                o.wantstate = State.MASTER
                master.goto_master(o, now)
                self._collect(o, o.drain())
        self._state = State.MASTER
        self._notify()

    def _sync_backup(self, trigger: VrrpMachine, now: int) -> None:
        if self._state is State.BACKUP:
            return
        self._log("BACKUP")
        for o in self._others(trigger):
            if o.state is State.BACKUP:
                continue
            o.wantstate = State.BACKUP
            if o.state in (State.FAULT, State.INIT):
                o.leave_fault(now)
            else:
                master.leave_master(o, now, send_stop_advert=False)
            self._collect(o, o.drain())
        self._state = State.BACKUP
        self._notify()

    def _sync_fault(self, trigger: VrrpMachine, now: int) -> None:
        if self._state is State.FAULT:
            return
        self._log("FAULT")
        for o in self._others(trigger):
            if o.state is State.FAULT:
                continue
            o.wantstate = State.FAULT
            if o.state is State.MASTER:
                master.leave_master(o, now, send_stop_advert=False)
            elif o.state in (State.BACKUP, State.INIT):
                o.state = State.FAULT  # keepalived's "bit of a bodge": no log, notifies only
                o.leave_fault(now)
            self._collect(o, o.drain())
        self._state = State.FAULT
        self._notify()

    def shutdown(self, now: int) -> list[Routed]:
        for m in self.members:
            self._collect(m, m.handle(ShutdownRequested(), now))
        self._state = State.STOP
        self._notify()
        return self._drain()
