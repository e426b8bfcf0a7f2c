"""What the manager schedules: a lone instance or a vrrp_sync_group, behind one interface.

`proto.vrrp.sync.SyncGroup` already returns its members' commands routed by instance name
(None for the group's own notifications); `Solo` gives a lone `VrrpMachine` the same shape,
so the driver has one loop for both (keepalived's scheduler treats a lone instance as a group
of one in the same way, vrrp_scheduler.c).
"""

from __future__ import annotations

from typing import Protocol

from pylvs.proto.vrrp.commands import Command, State
from pylvs.proto.vrrp.events import Event, ShutdownRequested, Started
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.sync import Routed, SyncGroup


class Unit(Protocol):
    members: list[VrrpMachine]

    @property
    def state(self) -> State: ...

    def start(self, now: int) -> list[Routed]: ...

    def handle(self, member: VrrpMachine, event: Event, now: int) -> list[Routed]: ...

    def tick(self, now: int) -> list[Routed]: ...

    def next_deadline(self) -> int | None: ...

    def shutdown(self, now: int) -> list[Routed]: ...


def _routed(m: VrrpMachine, commands: list[Command]) -> list[Routed]:
    return [(m.name, c) for c in commands]


class Solo:
    def __init__(self, machine: VrrpMachine) -> None:
        self.machine = machine
        self.members = [machine]

    @property
    def state(self) -> State:
        return self.machine.state

    def start(self, now: int) -> list[Routed]:
        return _routed(self.machine, self.machine.handle(Started(), now))

    def handle(self, member: VrrpMachine, event: Event, now: int) -> list[Routed]:
        return _routed(member, member.handle(event, now))

    def tick(self, now: int) -> list[Routed]:
        due = self.machine.next_deadline()
        if due is None or due > now:
            return []
        return _routed(self.machine, self.machine.tick(now))

    def next_deadline(self) -> int | None:
        return self.machine.next_deadline()

    def shutdown(self, now: int) -> list[Routed]:
        return _routed(self.machine, self.machine.handle(ShutdownRequested(), now))


def group_unit(group: SyncGroup) -> Unit:
    """A SyncGroup already has the Unit shape; this only tells the type checker."""
    return group
