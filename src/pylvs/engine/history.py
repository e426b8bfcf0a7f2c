"""The daemon's event history: the last N events in memory, and `--events-log FILE`.

Health transitions (health/manager.py `on_event`), VRRP transitions (the daemon's state
callback with the log line that came with them), reloads with what they changed in the live
table, and operator commands (`pylvs ipvsadm` edits, the HTTP API's actions) all go to
`History.record`, which numbers them (model/events.py `EventLog`) and appends each as one
JSON line to the events log, flushed at once, for log shippers (Filebeat, Vector, promtail
read such files line by line).  A log file that cannot be written is reported once and the
history goes on in memory: losing the file must not stop the director.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import TextIO

from pylvs.control.protocol import Response
from pylvs.model.events import DEFAULT_KEPT, Event, EventLog, as_record
from pylvs.model.table import (
    AddDest,
    AddService,
    Change,
    DeleteDest,
    DeleteService,
    EditDest,
    EditService,
)

log = logging.getLogger("pylvs")


class History:
    def __init__(self, path: str | None = None, kept: int = DEFAULT_KEPT) -> None:
        self.events = EventLog(kept)
        self.path = path
        self._file: TextIO | None = None

    def open(self) -> None:
        """Open the events log for appending (OSError when it cannot be)."""
        if self.path is not None and self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open)

    def close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            with contextlib.suppress(OSError):  # what a full disk kept is lost either way
                file.close()

    def record(self, event: Event) -> int:
        seq = self.events.add(event)
        if self._file is not None:
            try:
                self._file.write(json.dumps(as_record(seq, event)) + "\n")
                self._file.flush()
            except OSError as e:
                log.error("events log %s: %s; events are kept in memory only", self.path, e)
                self.close()
        return seq


def describe(change: Change) -> str:
    """One table change in words, for a reload's event."""
    match change:
        case AddService(service=s):
            return f"added service {s.key} {s.scheduler}"
        case EditService(service=s):
            return f"changed service {s.key} ({s.scheduler})"
        case DeleteService(key=key):
            return f"deleted service {key}"
        case AddDest(key=key, dest=d):
            return f"added {d} to {key} (weight {d.weight})"
        case EditDest(key=key, dest=d):
            return f"changed {d} of {key} (weight {d.weight})"
        case DeleteDest(key=key, dest=(address, port)):
            host = f"[{address}]" if address.version == 6 else str(address)
            return f"deleted {host}:{port} from {key}"


def events_response(history: History) -> Response:
    """`pylvs events`: every kept event as a JSON line (the client formats them)."""
    text = "".join(json.dumps(as_record(n, e)) + "\n" for n, e in history.events)
    return Response(0, text, "")
