"""Pid files that refuse a second daemon, in keepalived's places, removed on exit.

keepalived (core/main.c, core/pidfile.c) writes three: the parent's (`-p`, default
/run/keepalived.pid), the VRRP child's (`-r`, /run/keepalived_vrrp.pid) and the checkers'
(`-c`, /run/keepalived_checkers.pid), and refuses to start ("daemon is already running") while
any of them names a live process.  pylvs is one process: it writes its pid in the main file,
in the VRRP file while it runs VRRP (not with `-C`) and in the checkers file while it runs the
checkers (not with `-P`), so scripts that signal keepalived through these files keep working,
and a keepalived started by mistake on the same host refuses to run beside pylvs (and pylvs
beside it).

keepalived only reads the pid and asks kill(pid, 0); two daemons starting at the same moment
can both pass that.  pylvs also holds an exclusive flock(2) on each file for as long as it
runs, so of two pylvs the second always loses.  A pid in a file that no lock holds counts as
running only when that process is a keepalived or a pylvs (keepalived believes any live pid,
which after a reboot may be anybody's); otherwise the file is stale and taken over.

Non-root users (no /run to write) get the same names under $XDG_RUNTIME_DIR, like the
control socket (control/paths.py).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

# keepalived's KEEPALIVED_PID_FILE, VRRP_PID_FILE, CHECKERS_PID_FILE under RUNSTATEDIR.
RUN_DIR = "/run"
MAIN_NAME = "keepalived.pid"
VRRP_NAME = "keepalived_vrrp.pid"
CHECKERS_NAME = "keepalived_checkers.pid"

# Programs whose pid in one of these files means "a director is running".
DAEMON_NAMES = ("keepalived", "pylvs")


class PidFileError(RuntimeError):
    """The pid file names a running daemon, or cannot be written (the text says which)."""


@dataclass(frozen=True, slots=True)
class PidPaths:
    """The three pid files; None: the file is not written (its part does not run)."""

    main: str
    vrrp: str | None = None
    checkers: str | None = None

    def all(self) -> list[str]:
        return [p for p in (self.main, self.vrrp, self.checkers) if p]


def default_dir(environ: dict[str, str] | None = None, uid: int | None = None) -> str:
    env = os.environ if environ is None else environ
    if (os.geteuid() if uid is None else uid) == 0:
        return RUN_DIR
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        return runtime
    return os.path.join(tempfile.gettempdir(), f"pylvs-{os.getuid()}")


def default_paths(
    *,
    main: str | None = None,
    vrrp: str | None = None,
    checkers: str | None = None,
    with_vrrp: bool = True,
    with_checkers: bool = True,
    directory: str | None = None,
) -> PidPaths:
    """keepalived's -p/-r/-c with their defaults; the parts that do not run get no file."""
    where = directory or default_dir()
    return PidPaths(
        main or os.path.join(where, MAIN_NAME),
        (vrrp or os.path.join(where, VRRP_NAME)) if with_vrrp else None,
        (checkers or os.path.join(where, CHECKERS_NAME)) if with_checkers else None,
    )


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_daemon(pid: int) -> bool:
    """A live keepalived or pylvs (not merely some process that reuses an old pid)."""
    if pid <= 0 or pid == os.getpid() or not _alive(pid):
        return False
    cmd = _cmdline(pid)
    # Without /proc (or for a process we may not inspect) believe the pid, as keepalived does.
    return not cmd or any(name in cmd for name in DAEMON_NAMES)


def read_pid(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


class PidFile:
    """One pid file, locked while held.  `acquire` refuses a running daemon."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Lock the file and write our pid; PidFileError names the path and what to do."""
        directory = os.path.dirname(self.path)
        try:
            if directory:
                os.makedirs(directory, mode=0o755, exist_ok=True)
            fd = self._open_locked()
        except OSError as e:
            raise PidFileError(_os_error_text(self.path, e)) from None
        self._fd = fd
        try:
            other = _pid_of(fd)
            if other is not None and is_daemon(other):
                raise PidFileError(
                    f"{self.path}: a director is already running as pid {other} "
                    f"({_cmdline(other).strip() or 'unknown program'}); stop it first, or "
                    "give this one other pid files (-p, -r, -c) and control socket (--control)"
                )
            self.write_pid()
        except BaseException:
            self.release()
            raise

    def _open_locked(self) -> int:
        """Open and flock the file at `path` (retrying if it was replaced meanwhile)."""
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _pid_of(fd)
                os.close(fd)
                who = f"pid {holder}" if holder else "another process"
                raise PidFileError(
                    f"{self.path}: pylvs is already running ({who} holds this pid file); stop "
                    "it first, or give this one other pid files (-p, -r, -c) and control "
                    "socket (--control)"
                ) from None
            # The holder we waited for may have unlinked the file before closing it: the lock
            # is only worth something on the file the path names now.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)
        raise OSError(errno.EAGAIN, "the file keeps being replaced")

    def write_pid(self) -> None:
        """(Re)write our pid: after a fork the daemon's child writes its own."""
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        """Remove the file if it still names us, then drop the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if _pid_of(self._fd) == os.getpid() and os.path.samestat(
                os.fstat(self._fd), os.stat(self.path)
            ):
                os.unlink(self.path)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


class PidFiles:
    """The main, VRRP and checkers files, acquired together (all or none)."""

    def __init__(self, paths: PidPaths) -> None:
        self.files = [PidFile(p) for p in paths.all()]

    def acquire(self) -> None:
        done: list[PidFile] = []
        try:
            for f in self.files:
                f.acquire()
                done.append(f)
        except BaseException:
            for f in reversed(done):
                f.release()
            raise

    def write_pid(self) -> None:
        for f in self.files:
            f.write_pid()

    def release(self) -> None:
        for f in reversed(self.files):
            f.release()


def _pid_of(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def _os_error_text(path: str, e: OSError) -> str:
    """What went wrong with `path` and what the operator can do about it."""
    what = f"cannot write the pid file {path}: {e.strerror or e}"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{what}; run as root, or give a writable path with -p/--pid (and -r, -c)"
    if e.errno == errno.ELOOP:
        return f"{what} (it is a symbolic link, which pid files may not be); remove it"
    if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EEXIST):
        return f"{what}; its directory cannot be created, give another path with -p/--pid"
    return what
