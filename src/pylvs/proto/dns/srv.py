"""Servers filled from SRV records (`server-template NAME N _service._proto.name resolvers R`),
sans I/O (HAProxy 2.6 src/resolvers.c `resolv_check_response`, `resolv_srvrq_cleanup_srv`,
`resolv_detach_from_resolution_answer_items`; src/server.c `srvrq_update_srv_status`,
`srvrq_resolution_error_cb`, `srv_update_fqdn`).

The servers of one backend naming one SRV record share a request (`SrvRequest`): those
without a record wait in its free list, in configuration order.  After every valid answer
each SRV item, in the answer tree's order, goes to the server already holding it or else to
the first free one; that server takes the target as its name (logged "B/S changed its FQDN
from (null) to TARGET by 'SRV record'", which sets the HMAINT flag as a `set server fqdn`
does), the record's port and weight ((weight + 255) / 256 unless `resolve-opts
ignore-weight`), and its address from the additional record when there is one ("by DNS
additional record"), else from a resolution of the target it asks for (the usual A/AAAA
path).  It leaves maintenance "resolution" once it has an address, quietly.  An item not
seen for `hold obsolete` frees its servers: maintenance "entry removed from SRV record", no
name, address or port, back at the end of the free list.  An SRV resolution's errors free
them once they lasted the status's hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pylvs.model.resolvers import ResolveOptions
from pylvs.proto.dns import wire
from pylvs.proto.dns.answers import Owner, SrvItem
from pylvs.proto.dns.events import (
    AddressChanged,
    AddressCleared,
    Event,
    FqdnSet,
    MaintCleared,
    MaintSet,
    PortSet,
    State,
    WeightSet,
)

if TYPE_CHECKING:
    from pylvs.proto.dns.resolution import Resolution, Resolvers

REMOVED = "entry removed from SRV record"
_HOLDS = {"nx": "hold_nx_ms", "timeout": "hold_timeout_ms", "refused": "hold_refused_ms"}
_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")


@dataclass(eq=False)
class Slot:
    """A server of an SRV request: the name it took (None: free), whether its address comes
    from an additional record (SRV_F_NO_RESOLUTION) and its options."""

    owner: Owner
    opts: ResolveOptions
    request: SrvRequest
    hostname: str | None = None
    no_resolution: bool = False


@dataclass(eq=False)
class SrvRequest:
    """resolv_srvrq: one backend's servers naming one SRV record."""

    name: str
    backend: str
    free: list[Owner] = field(default_factory=list)


class SrvServers:
    """Every SRV request of a section and their servers; `engine` resolves the targets."""

    def __init__(self, engine: Resolvers) -> None:
        self.engine = engine
        self.slots: dict[Owner, Slot] = {}
        self.requests: dict[tuple[str, str], SrvRequest] = {}
        self._seen: dict[Owner, State] = {}  # the state as this batch left it

    def add(self, owner: Owner, name: str, opts: ResolveOptions) -> SrvRequest:
        key = (owner.backend, name.lower())
        req = self.requests.get(key)
        if req is None:
            req = self.requests[key] = SrvRequest(name, owner.backend)
        req.free.append(owner)
        self.slots[owner] = Slot(owner, opts, req)
        return req

    def skips(self, owner: Owner) -> bool:
        """snr_resolution_cb's test: the server's address comes from an additional record."""
        slot = self.slots.get(owner)
        return slot is not None and slot.no_resolution

    # -- resolv_check_response --------------------------------------------------------

    def check(self, res: Resolution, now_ms: int, out: list[Event]) -> None:
        """After a valid answer: obsolete items drop their servers, live ones are given out."""
        hold = self.engine.spec.hold_obsolete_ms
        self._seen = {}
        for item in list(res.answers.srv):
            if item.ar is not None and item.ar_seen + hold < now_ms:
                item.ar = None  # its server resolves the target again
            if item.last_seen + hold < now_ms:
                for owner in list(item.attached):
                    self._cleanup(owner, item, out)
                res.answers.srv.remove(item)
                continue
            for req in res.srvrqs:
                taker = next((o for o in item.attached if self.slots[o].request is req), None)
                if taker is None and req.free:
                    taker = req.free.pop(0)
                if taker is not None:
                    self._found(self.slots[taker], item, now_ms, out)
        self._seen = {}

    def _state(self, owner: Owner) -> State:
        st = self._seen.get(owner)
        return st if st is not None else self.engine.lookup(owner)

    def _found(self, slot: Slot, item: SrvItem, now_ms: int, out: list[Event]) -> None:
        owner = slot.owner
        st = self._state(owner)
        address = st.address
        slot.no_resolution = False
        if item.ar is not None and item.ar.address is not None:
            if item.ar.address != address:
                out.append(AddressChanged(owner, address, item.ar.address, "DNS additional record"))
                address = item.ar.address
            slot.no_resolution = True
            self.engine.unlink(owner)
        if slot.hostname is None:
            self._take_name(slot, wire.to_text(item.target), now_ms, out)
        if owner not in item.attached:
            item.attached.append(owner)
        if not slot.no_resolution and self.engine.host_of(owner) is None and slot.hostname:
            self.engine.link(owner, slot.hostname, slot.opts, now_ms)
        rmaint = st.rmaint
        if address is not None:
            if rmaint:
                out.append(MaintCleared(owner, said=False))
            rmaint = False
        elif not rmaint:
            out.append(MaintSet(owner, REMOVED))
            rmaint = True
        self._seen[owner] = State(address, rmaint)
        out.append(PortSet(owner, item.port))
        if not slot.opts.ignore_weight:
            out.append(WeightSet(owner, (item.weight + 255) // 256))

    def _take_name(self, slot: Slot, hostname: str, now_ms: int, out: list[Event]) -> None:
        """srv_update_fqdn(srv, target, "SRV record")."""
        owner = slot.owner
        who = f"{owner.backend}/{owner.server}"
        if len(hostname) > wire.MAX_NAME_SIZE or any(c not in _DOMAIN_CHARS for c in hostname):
            out.append(FqdnSet(owner, None, f"invalid fqdn '{hostname}' by 'SRV record'"))
            return
        self.engine.unlink(owner)
        slot.hostname = hostname
        if not slot.no_resolution:
            self.engine.link(owner, hostname, slot.opts, now_ms)
        note = f"{who} changed its FQDN from (null) to {hostname} by 'SRV record'"
        out.append(FqdnSet(owner, hostname, note))

    def _cleanup(self, owner: Owner, item: SrvItem | None, out: list[Event]) -> None:
        """resolv_srvrq_cleanup_srv: the server is free again."""
        slot = self.slots[owner]
        self.engine.unlink(owner)
        if not self._state(owner).rmaint:
            out.append(MaintSet(owner, REMOVED))
        out.append(FqdnSet(owner, None))
        out.append(AddressCleared(owner))
        out.append(PortSet(owner, 0))
        self._seen[owner] = State(None, True)
        slot.hostname = None
        slot.no_resolution = True
        if item is not None and owner in item.attached:
            item.attached.remove(owner)
        if owner not in slot.request.free:
            slot.request.free.append(owner)

    # -- errors -----------------------------------------------------------------------

    def error(self, res: Resolution, req: SrvRequest, now_ms: int, out: list[Event]) -> bool:
        """srvrq_resolution_error_cb: True to keep the answers (the status's hold has not
        run out), else the request's servers are freed."""
        spec = self.engine.spec
        hold = getattr(spec, _HOLDS.get(res.status, "hold_other_ms"))
        if now_ms < res.last_valid + hold:
            return True
        self.detach(res, req, out)
        return False

    def detach(self, res: Resolution, req: SrvRequest, out: list[Event]) -> None:
        """resolv_detach_from_resolution_answer_items for an SRV request."""
        self._seen = {}
        for item in res.answers.srv:
            for owner in list(item.attached):
                if self.slots[owner].request is req:
                    self._cleanup(owner, item, out)
        self._seen = {}
