"""Which table pylvs runs, and how config reloads and operator edits combine (pure).

Two tables are kept, as keepalived does: the one the configuration asked for when it was last
loaded (`config`), and the one applied to the data plane (`live`), which also carries the
operator's `pylvs ipvsadm` edits.  A reload diffs the old configuration against the new one and
applies only those changes to the live table (keepalived's reload is diff-based and does not
undo changes it did not make, reference §5.3 row 9), so everything the reload does not touch —
services, real servers, their connections and counters, and the operator's edits — stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model.table import (
    AddDest,
    AddService,
    Change,
    DeleteDest,
    DeleteService,
    EditDest,
    EditService,
    ServiceTable,
    diff,
)


@dataclass(frozen=True, slots=True)
class TableState:
    config: ServiceTable
    live: ServiceTable

    @classmethod
    def empty(cls) -> TableState:
        return cls(ServiceTable(), ServiceTable())

    def reload(self, new_config: ServiceTable) -> TableState:
        """The state after loading `new_config` in place of `self.config`."""
        live = self.live
        for change in diff(self.config, new_config):
            live = live.apply([_fit(live, change)]) if _applies(live, change) else live
        return TableState(new_config, live)

    def edit(self, new_live: ServiceTable) -> TableState:
        """The operator changed the live table (ipvsadm); the configuration did not change."""
        return TableState(self.config, new_live)


def _applies(live: ServiceTable, change: Change) -> bool:
    """False for changes the live table already reflects or no longer allows."""
    match change:
        case DeleteService(key=k):
            return k in live
        case DeleteDest(key=k, dest=d):
            return k in live and live[k].dest(d) is not None
        case AddDest(key=k) | EditDest(key=k):
            return k in live
        case EditService(service=s):
            return s.key in live
    return True  # AddService: always (an existing service turns it into an edit)


def _fit(live: ServiceTable, change: Change) -> Change:
    """An add of something the operator already added becomes an edit to the config's values."""
    match change:
        case AddService(service=s) if s.key in live:
            return EditService(s)
        case AddDest(key=k, dest=d) if live[k].dest(d.key) is not None:
            return EditDest(k, d)
        case EditDest(key=k, dest=d) if live[k].dest(d.key) is None:
            return AddDest(k, d)
    return change
