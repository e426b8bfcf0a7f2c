"""What a reload inside one process hands from the old HAProxy runtime to the new one.

HAProxy reloads by starting a new process (`-sf`): it takes the old one's listening sockets
(`expose-fd listeners` / SO_REUSEPORT, so no connection is refused), gets its stick tables
through the `localpeer` peers session (entries with what is left of their expiry: the
"timed" updates a local peer is sent), and its servers' states through the server-state
file written just before (dataplane/haproxy/server_state.py).  The old process keeps its
established sessions until they end.  pylvs does the same inside one process:

* `listener_key` names a listening address; the new runtime takes the old one's socket for
  every address it listens on again (the socket never closes, its backlog is kept) and binds
  only the addresses that are new;
* `keep_tables`: a table with the same name, key type and length and size gets the old
  one's entries, each with its expiry and the data both tables store (the new runtime's
  rules hold its own table objects; the old runtime's live streams keep theirs).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from pylvs.model.proxy_spec import BindSpec, ListenAddress
from pylvs.proto.stick import StickTable

ListenerKey = tuple[int | None, str, int, bool, str | None]


def listener_key(bind: BindSpec, address: ListenAddress, host: str) -> ListenerKey:
    """What makes two listening sockets the same one (address, port, the parent's fd, the
    options set on the socket before it was bound)."""
    return (address.fd, host, address.port, bind.transparent, bind.interface)


def keep_tables(new: Mapping[str, StickTable], old: Mapping[str, StickTable], now: float) -> None:
    """The old entries into the new runtime's tables, where the table is the same one."""
    for name, table in new.items():
        previous = old.get(name)
        if previous is not None and _compatible(previous, table):
            copy_entries(previous, table, now)


def _compatible(a: StickTable, b: StickTable) -> bool:
    return a.spec.key == b.spec.key and a.spec.size == b.spec.size


def copy_entries(src: StickTable, dst: StickTable, now: float) -> None:
    """Every entry of `src` into `dst`: its key, its expiry, the data types both store."""
    for entry in list(src.entries(now)):
        twin = dst.new_entry(entry.key, now)
        if twin is None:
            return  # full (nopurge): the rest cannot go in either
        twin.expire = entry.expire
        for name, value in entry.data.items():
            if name in twin.data:  # a data type has one kind: the values fit
                twin.data[name] = copy.copy(value)
        dst.set_entry(twin, now)
