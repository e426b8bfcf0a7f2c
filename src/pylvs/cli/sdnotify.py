"""systemd's readiness protocol (sd_notify(3)) for `pylvs run` under `Type=notify`.

The service manager gives the socket in $NOTIFY_SOCKET (a path, or `@name` for the abstract
namespace); each state is one datagram of `KEY=value` lines.  pylvs sends READY=1 once the
table is applied (the daemon's start has pushed it to the data plane), RELOADING=1 and
READY=1 around each reload, and STOPPING=1 when it begins to stop, as keepalived does
(core/systemd.c).  The variable is removed from the environment once read, so notify
scripts do not inherit it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, MutableMapping

log = logging.getLogger("pylvs")


class Notifier:
    def __init__(self, address: str) -> None:
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._failed = False

    def __call__(self, state: str) -> None:
        try:
            self.sock.sendto(state.encode(), self.address)
        except OSError as e:
            if not self._failed:  # once: the manager may be gone while we stop
                log.warning("cannot notify the service manager at %s: %s", self.address, e)
            self._failed = True

    def close(self) -> None:
        self.sock.close()


def from_environment(
    environ: MutableMapping[str, str] | None = None,
) -> Callable[[str], None] | None:
    """A Notifier for $NOTIFY_SOCKET (then unset), or None when there is none."""
    env = os.environ if environ is None else environ
    address = env.pop("NOTIFY_SOCKET", "")
    if not address or not (address.startswith("/") or address.startswith("@")):
        return None
    return Notifier(address)
