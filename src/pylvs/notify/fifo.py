"""The notify FIFOs (`notify_fifo`, `vrrp_notify_fifo`, `lvs_notify_fifo`) and their scripts.

core/notify.c `fifo_open`: the FIFO is created if missing (mode 0644, handed to the
configured user/group) and removed at close if pylvs created it; the FIFO's script is started
with the FIFO path as its last argument; the FIFO is opened O_RDWR|O_NONBLOCK so writes never
block, and a path that is not a FIFO is refused.  Lines are written as given (health:
check/ipwrapper.c `notify_fifo_vs` / `notify_fifo_rs`, `VS <vs> UP|DOWN` and
`RS <rs> <vs> UP|DOWN`; VRRP: vrrp/vrrp_notify.c, `INSTANCE "VI_1" MASTER 100`).
(keepalived also writes the C string's terminating NUL after the newline; pylvs writes clean
text lines.)
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import pwd
import stat
from collections.abc import Iterable

from pylvs.model.notify import FifoSpec
from pylvs.notify.scripts import ScriptRunner

log = logging.getLogger("pylvs.notify")


class NotifyFifos:
    def __init__(self, settings: Iterable[FifoSpec | None], runner: ScriptRunner) -> None:
        self.settings = [s for s in settings if s is not None]
        self.runner = runner
        self._fds: list[int] = []
        self._created: list[str] = []

    def open(self) -> None:
        for s in self.settings:
            self._open_one(s)

    def _open_one(self, s: FifoSpec) -> None:
        try:
            os.mkfifo(s.path, 0o644)
            self._created.append(s.path)
            self._chown(s)
        except FileExistsError:
            pass
        except OSError as exc:
            log.error("Unable to create notify fifo %s: %s", s.path, exc)
            return
        if s.script is not None:
            self.runner.spawn(s.script, extra=(s.path,))
        try:
            fd = os.open(s.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError as exc:
            log.error("Unable to open notify fifo %s - %s", s.path, exc)
            return
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            log.error("notify fifo %s is not a fifo we own - not using", s.path)
            os.close(fd)
            return
        self._fds.append(fd)

    @staticmethod
    def _chown(s: FifoSpec) -> None:
        if s.user is None and s.group is None:
            return
        try:
            uid = pwd.getpwnam(s.user).pw_uid if s.user else -1
            gid = grp.getgrnam(s.group).gr_gid if s.group else -1
            os.chown(s.path, uid, gid)
        except (KeyError, OSError):
            log.warning("Failed to set uid:gid for fifo %s", s.path)

    def write(self, line: str) -> None:
        data = (line + "\n").encode()
        for fd in self._fds:
            try:
                os.write(fd, data)
            except BlockingIOError:
                log.warning("notify fifo full, line dropped: %s", line)
            except OSError as exc:
                log.error("notify fifo write failed: %s", exc)

    def close(self) -> None:
        for path in self._created:  # unlink first: a reader looping on reopen cannot reopen
            with contextlib.suppress(OSError):
                os.unlink(path)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        self._created.clear()
