"""pylvs's own sync daemons for a data plane without the kernel's (proxy, nftables).

The kernel runs at most one master and one backup sync daemon per network namespace, and
`ipvsadm --start-daemon` / `--stop-daemon` and keepalived's `lvs_sync_daemon` start and stop
them (ip_vs_sync.c start_sync_thread / stop_sync_thread).  `SyncRunner` does the same with
pylvs.sync's `Master` and `Backup`, refusing as the kernel refuses and in its order: an
unknown interface first (ENODEV, "Unknown mcast interface" in the log), then a daemon of
that state already running (EEXIST); stopping one that does not run is ESRCH.  The refusal
carries ipvsadm's words for that errno (libipvs ipvs_strerror), so `pylvs ipvsadm` prints
what ipvsadm prints against a kernel.

The plane gives what differs between planes: the `Target` a backup installs into (its
connection table, or its kernel maps), the `Marks` its master's sender keeps, and the clock
of its table.  A plane that sees its table rather than each input packet (the nftables
plane: the kernel forwards; the proxy: its C relay counts chunks) calls `observe` with its
entries each housekeeping round (Sender.observed decides what is sent); `rearmed` is the
table's hook for a template re-armed while it controls connections (expire_later).
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable

from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.proto.conntrack.table import Conn
from pylvs.proto.ipvs.convert import strerror
from pylvs.proto.ipvs.spec import Cmd
from pylvs.proto.sync.marks import Marks
from pylvs.proto.sync.receiver import Policy, Target
from pylvs.proto.sync.settings import Sysctls
from pylvs.sync.daemon import Backup, Master
from pylvs.sync.sockets import LinkError

log = logging.getLogger("pylvs.sync")
# sync_sock_size of pylvs's own daemons.  The kernel's default (0: the system's, ~208 kB)
# lets a backup drop datagrams when a master's round sends a few hundred messages at once
# (measured: 14 % of 10,500 records lost in a 264-message burst); 4 MB holds ~1,800 of them.
SOCK_SIZE = 4 << 20


class SyncRefusedError(Exception):
    """The daemon was not started or stopped; the message is ipvsadm's for the errno."""

    def __init__(self, cmd: Cmd, number: int) -> None:
        super().__init__(strerror(cmd, number) or os.strerror(number))
        self.errno = number


class SyncRunner:
    """The master and backup daemons of one data plane."""

    def __init__(
        self,
        target: Callable[[], Target],
        *,
        marks: Marks | None = None,
        clock: Callable[[], float] = time.monotonic,
        sysctls: Sysctls | None = None,
        policy: Policy | None = None,
    ) -> None:
        self._target = target
        self.marks = marks if marks is not None else Marks()
        self.clock = clock
        self.sysctls = sysctls if sysctls is not None else Sysctls(sock_size=SOCK_SIZE)
        self.policy = policy if policy is not None else Policy()
        self.master: Master | None = None
        self.backup: Backup | None = None

    def daemons(self) -> tuple[SyncDaemon, ...]:
        """The running daemons as the kernel reports them (defaults and clamps resolved)."""
        out = []
        if self.master is not None:
            out.append(self.master.daemon)
        if self.backup is not None:
            out.append(self.backup.daemon)
        return tuple(out)

    def start(self, daemon: SyncDaemon) -> None:
        """Start `daemon` (in a running event loop); SyncRefusedError as the kernel refuses."""
        master = daemon.state is SyncState.MASTER
        try:
            # The kernel looks the interface up before it looks for a running daemon.
            socket.if_nametoindex(daemon.mcast_ifn)
        except OSError:
            log.error("Unknown mcast interface: %s", daemon.mcast_ifn)
            raise SyncRefusedError(Cmd.NEW_DAEMON, errno.ENODEV) from None
        if (self.master if master else self.backup) is not None:
            raise SyncRefusedError(Cmd.NEW_DAEMON, errno.EEXIST)
        try:
            if master:
                self.master = Master.open(daemon, self.sysctls, marks=self.marks, clock=self.clock)
            else:
                target = self._target()
                self.backup = Backup.open(
                    daemon, self.policy, target, sysctls=self.sysctls, clock=self.clock
                )
        except LinkError as e:  # gone since the look-up
            log.error("%s", e)
            raise SyncRefusedError(Cmd.NEW_DAEMON, errno.ENODEV) from None
        except OSError as e:
            log.error("sync daemon on %s: %s", daemon.mcast_ifn, e)
            raise SyncRefusedError(Cmd.NEW_DAEMON, e.errno or errno.EIO) from None

    def stop(self, state: SyncState) -> None:
        """Stop the daemon of `state`; SyncRefusedError (ESRCH) when none runs."""
        if state is SyncState.MASTER and self.master is not None:
            self.master.close()
            self.master = None
        elif state is SyncState.BACKUP and self.backup is not None:
            self.backup.close()
            self.backup = None
        else:
            raise SyncRefusedError(Cmd.DEL_DAEMON, errno.ESRCH)
        log.info("sync thread stopped: state = %s", state.name)

    def observe(self, conns: Iterable[Conn]) -> None:
        """The plane's entries as they are now, for a running master (Sender.observed)."""
        if self.master is not None:
            self.master.observe(conns)

    def rearmed(self, conn: Conn) -> None:
        """The table re-armed template `conn` for 60 s (ConnTable's hook)."""
        if self.master is not None:
            self.master.expire_later(conn)

    def close(self) -> None:
        """The plane stops: both daemons go (what was not sent is lost, as in the kernel)."""
        for state in (SyncState.MASTER, SyncState.BACKUP):
            if (self.master if state is SyncState.MASTER else self.backup) is not None:
                self.stop(state)
