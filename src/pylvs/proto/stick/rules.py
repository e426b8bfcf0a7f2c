"""`stick match`, `stick on`, `stick store-request` and `option persist`, as HAProxy runs them.

src/stream.c process_sticking_rules (before load balancing) and process_store_rules (once the
server connection is established):

1. The backend's sticking rules run in order.  A rule that stores (`stick on` is match +
   store-request) is skipped whole if an earlier one already prepared a store for its table:
   only the first store per table counts.  The runtime evaluates the rule's condition and
   fetches its key (`evaluate`); a rule whose condition fails or whose key is missing (or not
   convertible to the table's type) is passed over.
2. A match looks the key up.  If the stream has no server yet, the entry names its target:
   first by `server_key` (the server's name, or its address with `srvkey addr`), else by
   `server_id`.  The target is kept only if it is not down (`cur_state != STOPPED`: drained
   servers are still stickable, servers in maintenance are not) or `option persist` /
   `force-persist` applies.  Either way the entry is touched.
3. A store prepares a new entry (at most 8 per stream); it already counts in the table, so a
   full table may drop its oldest entry now.
4. When the connection to the server is established, each prepared entry is stored (or the
   existing one with its key reused), gets `server_id` = the server's id and `server_key` = its
   name (or address), and is touched.  A server marked `non-stick` stores nothing.  A stream
   that never reaches a server drops its prepared entries (`discard`).

`process_sticking_rules` returns a `Sticking`: the server the tables name (or None: balance),
and the prepared stores to finish with `process_store_rules` or `discard`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pylvs.proto.stick.keys import Sample
from pylvs.proto.stick.table import Entry, StickTable
from pylvs.sched.haproxy.server import Server, State

MAX_STORES = 8  # struct stream's store[] (the `stick store-*` entries of one stream)


class Servers(Protocol):
    """The backend's servers as the sticking rules find them."""

    def server(self, name: str) -> Server | None: ...

    def server_by_id(self, puid: int) -> Server | None: ...

    def server_by_addr(self, addr: str) -> Server | None: ...

    def address(self, server: Server) -> str: ...


@dataclass(frozen=True, slots=True)
class StickRule:
    """One `stick match|on|store-request|store-response` rule of a backend."""

    table: StickTable
    match: bool  # `stick match` or `stick on`
    store: bool  # `stick store-request` / `store-response` or `stick on`


# The runtime's evaluation of a rule for a stream: (condition passed, the key's sample or None).
Evaluate = Callable[[StickRule], tuple[bool, Sample | None]]


@dataclass(slots=True)
class Sticking:
    """What the sticking rules decided for one stream."""

    server: Server | None = None  # SF_DIRECT | SF_ASSIGNED: use it, skip load balancing
    stores: list[tuple[StickTable, Entry]] = field(default_factory=list)


def find_target(
    table: StickTable, entry: Entry, servers: Servers, persist: bool, force_persist: bool
) -> Server | None:
    """sticking_rule_find_target: the entry's server, if it may be used."""
    server: Server | None = None
    key = entry.data.get("server_key")
    if isinstance(key, str):
        if table.spec.srvkey == "name":
            server = servers.server(key)
        else:
            server = servers.server_by_addr(key)
    if server is None:
        puid = entry.data.get("server_id")
        if not isinstance(puid, int):
            return None
        server = servers.server_by_id(puid)
        if server is None:
            return None
    if server.cur_state is not State.STOPPED or persist or force_persist:
        return server
    return None


def process_sticking_rules(
    rules: Sequence[StickRule],
    evaluate: Evaluate,
    servers: Servers,
    now: float,
    *,
    persist: bool = False,
    force_persist: bool = False,
    assigned: Server | None = None,
) -> Sticking:
    """The request side: matches (unless `assigned` already names a server) and prepared
    stores."""
    result = Sticking(server=assigned)
    for rule in rules:
        table = rule.table
        if rule.store and any(t is table for t, _ in result.stores):
            continue
        applies, sample = evaluate(rule)
        if not applies or sample is None:
            continue
        key = table.key_of(sample)
        if key is None:
            continue
        if rule.match:
            entry = table.lookup(key, now)
            if entry is not None:
                if result.server is None:
                    result.server = find_target(table, entry, servers, persist, force_persist)
                table.touch(entry, now)
        if rule.store and len(result.stores) < MAX_STORES:
            pending = table.new_entry(key, now)
            if pending is not None:
                result.stores.append((table, pending))
    return result


def process_store_rules(
    sticking: Sticking,
    server: Server,
    servers: Servers,
    now: float,
    *,
    response_rules: Sequence[StickRule] = (),
    evaluate: Evaluate | None = None,
) -> None:
    """The connection to `server` is established: `stick store-response` rules add their
    stores (one per table not already storing), then every prepared entry is stored."""
    first_response = len(sticking.stores)
    for rule in response_rules:
        table = rule.table
        if any(t is table for t, _ in sticking.stores[first_response:]):
            continue
        assert evaluate is not None, "store-response rules need an evaluator"
        applies, sample = evaluate(rule)
        key = table.key_of(sample) if applies and sample is not None else None
        if key is not None and len(sticking.stores) < MAX_STORES:
            pending = table.new_entry(key, now)
            if pending is not None:
                sticking.stores.append((table, pending))
    for table, pending in sticking.stores:
        if server.non_stick:
            table.free(pending)
            continue
        entry = table.set_entry(pending, now)
        if "server_id" in entry.data:
            entry.set("server_id", server.puid)
        if "server_key" in entry.data:
            name = server.name if table.spec.srvkey == "name" else servers.address(server)
            entry.set("server_key", name)
        table.touch(entry, now)
    sticking.stores.clear()


def discard(sticking: Sticking) -> None:
    """The stream ends without a server connection: drop the prepared entries."""
    for table, pending in sticking.stores:
        table.free(pending)
    sticking.stores.clear()
