"""Connecting instances to sockets and to the host's state, for the manager.

* `build_setups`: an `InstanceSetup` per VRRP instance of the spec.
* `attach` / `detach`: the instance's socket from the pool (joined to its group when
  multicast), registered for its VRID and unicast peers.
* `initial_events`: what the machine must know before `Started` — no source address
  (keepalived VRRP_FAULT_FL_NO_SOURCE_IP), its interface down (VRRP_FAULT_FL_INTERFACE_DOWN,
  unless `dont_track_primary`), each tracked interface's state and track_file's value
  (vrrp_track.c `initialise_tracking_priorities`).  track_process and track_bfd have no runner
  in pylvs; they are reported up once, with a warning, so they never hold an instance down.
* `poll_events`: the changes since the last poll of the same things.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pylvs.model.director import DirectorSpec
from pylvs.proto.vrrp.events import (
    Event,
    InterfaceCameUp,
    InterfaceWentDown,
    SourceAddressLost,
    SourceAddressRestored,
    TrackerChanged,
)
from pylvs.proto.vrrp.priority import TrackerKind
from pylvs.system import trackfile
from pylvs.system.effects import HostEffects
from pylvs.vrrp.instance import Instance, InstanceSetup, pick_source
from pylvs.vrrp.sockets import Receiver, SocketKey, SocketPool

log = logging.getLogger("pylvs.vrrp")
OWN = ("own", "")
SOURCE = ("source", "")


def build_setups(spec: DirectorSpec) -> dict[str, InstanceSetup]:
    return {inst.name: InstanceSetup.build(inst) for inst in spec.vrrp.instances}


def socket_key(inst: Instance) -> SocketKey:
    p = inst.setup.params
    return SocketKey(p.family, inst.setup.interface, p.unicast)


def attach(pool: SocketPool, inst: Instance, receiver: Receiver) -> None:
    inst.receiver = receiver
    if inst.ifindex <= 0:
        return
    p = inst.setup.params
    try:
        sock = pool.get(socket_key(inst), inst.ifindex)
        if not p.unicast:
            sock.join(inst.setup.group)
    except OSError as exc:
        log.error("(%s) cannot open VRRP socket on %s: %s", inst.name, inst.setup.interface, exc)
        return
    sock.register(p.vrid, frozenset(peer.address for peer in p.unicast_peers), receiver)
    inst.sock = sock


def detach(pool: SocketPool, inst: Instance) -> None:
    if inst.sock is not None and inst.receiver is not None:
        inst.sock.unregister(inst.receiver)
        pool.release(inst.sock.key)
    inst.sock = None


def _file_paths(spec: DirectorSpec) -> dict[str, str]:
    return {tf.name: tf.path for tf in spec.track_files}


def _link_up(host: HostEffects, name: str) -> bool:
    link = host.link(name)
    return link is not None and link.up


def _source_present(inst: Instance, host: HostEffects) -> bool:
    setup = inst.setup
    configured = setup.params.source_address
    if configured is None:
        return pick_source(setup.params.family, host.addresses(setup.interface)) is not None
    if not setup.track_src_ip:
        return True
    return any(a.ip == configured for a in host.addresses(setup.interface))


def initial_events(inst: Instance, host: HostEffects, spec: DirectorSpec) -> list[Event]:
    events: list[Event] = []
    if inst.machine.source_address is None or not _source_present(inst, host):
        events.append(SourceAddressLost())
        inst.seen[SOURCE] = False
    else:
        inst.seen[SOURCE] = True
    own = _link_up(host, inst.setup.interface)
    inst.seen[OWN] = own
    if not own and not inst.setup.dont_track_primary:
        events.append(InterfaceWentDown())
    paths = _file_paths(spec)
    for t in inst.setup.params.trackers:
        if t.kind is TrackerKind.INTERFACE:
            up = _link_up(host, t.name)
            inst.seen[(t.kind.value, t.name)] = up
            events.append(TrackerChanged(t.kind, t.name, up))
        elif t.kind is TrackerKind.FILE and t.name in paths:
            # an ignored (out of range) value leaves the initial 0, as in keepalived
            value = trackfile.read(paths[t.name]) or 0
            inst.seen[(t.kind.value, t.name)] = value
            events.append(TrackerChanged(t.kind, t.name, value))
        elif t.kind in (TrackerKind.PROCESS, TrackerKind.BFD):
            log.warning(
                "(%s) track_%s %s is not run by pylvs: taken as up", inst.name, t.kind.value, t.name
            )
            events.append(TrackerChanged(t.kind, t.name, True))
    return events


def poll_events(
    instances: dict[str, Instance],
    host: HostEffects,
    spec: DirectorSpec,
    pool: SocketPool | None,
) -> Iterator[tuple[str, Event]]:
    """Every change of link, source address or track_file value since the last poll."""
    paths = _file_paths(spec)
    for inst in list(instances.values()):
        if inst.sock is None and pool is not None and inst.receiver is not None:
            link = host.link(inst.setup.interface)
            if link is not None:
                inst.ifindex = link.index
                attach(pool, inst, inst.receiver)
        own = _link_up(host, inst.setup.interface)
        if own != inst.seen.get(OWN):
            inst.seen[OWN] = own
            if not inst.setup.dont_track_primary:
                yield inst.name, InterfaceCameUp() if own else InterfaceWentDown()
        source = _source_present(inst, host)
        if source != inst.seen.get(SOURCE):
            inst.seen[SOURCE] = source
            if not source:
                yield inst.name, SourceAddressLost()
            else:
                addr = inst.setup.params.source_address or pick_source(
                    inst.setup.params.family, host.addresses(inst.setup.interface)
                )
                if addr is not None:
                    yield inst.name, SourceAddressRestored(addr)
        for t in inst.setup.params.trackers:
            key = (t.kind.value, t.name)
            value: bool | int
            if t.kind is TrackerKind.INTERFACE:
                value = _link_up(host, t.name)
            elif t.kind is TrackerKind.FILE and t.name in paths:
                read = trackfile.read(paths[t.name])
                if read is None:  # keepalived: "Invalid number ... - ignoring"
                    continue
                value = read
            else:
                continue
            if inst.seen.get(key) != value:
                inst.seen[key] = value
                yield inst.name, TrackerChanged(t.kind, t.name, value)
