"""Running scripts: notify scripts of VRRP and health checks, quorum scripts, MISC_CHECK.

Follows keepalived/core/notify.c:

* the user: the script's own `user [group]`, else global `script_user`, else
  `keepalived_script` when that user exists, else pylvs's own user (`get_default_script_user`);
  with `enable_script_security` and none of the first three, scripts are refused;
* switching user needs root: as another user, a script for a different user is refused and
  the log says why;
* `check_script_secure`: a bare name is looked up in PATH; the file must be executable by
  that user; a script run as root (or set-uid root) whose path has a component not owned by
  root or writable by a non-root group or by others (directories without the sticky bit) is
  unsafe: refused with `enable_script_security`, logged otherwise (`check_security`);
* `system_call_script`: no shell (argv as split by the config parser) unless the line needs
  one: a `<file` / `>file` test, or a file with neither `#!` nor an ELF header (keepalived
  detects these with libmagic and then uses system());  the child gets its own process group,
  so a timed-out script is killed with all its children (SIGTERM, then SIGKILL);  IFS,
  LD_PRELOAD and LD_LIBRARY_PATH are dropped from its environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import pwd
import shlex
import shutil
import signal
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.model.notify import ScriptSecurity, ScriptSpec

log = logging.getLogger("pylvs.notify")

DEFAULT_SCRIPT_USER = "keepalived_script"
STOP_TIMEOUT = 1.0  # clear_services: system_call_script(..., TIMER_HZ, ...)


@dataclass(frozen=True, slots=True)
class ScriptOutcome:
    status: int | None  # exit status; None when refused, killed or timed out
    reason: str  # "exited with status N", "timed out", "due to signal N", refusal text

    @property
    def ran(self) -> bool:
        return self.status is not None


@dataclass(frozen=True, slots=True)
class Identity:
    uid: int
    gid: int
    name: str


def _user(name: str, group: str | None) -> Identity:
    pw = pwd.getpwnam(name)
    gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
    return Identity(pw.pw_uid, gid, name)


def _is_executable(st: os.stat_result, uid: int, gid: int) -> bool:
    """notify.c `is_executable`."""
    if uid == 0:
        return bool(st.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def insecure_component(path: str) -> str | None:
    """notify.c `check_security`: the first path component a non-root user could change."""
    parts = os.path.abspath(path).split("/")
    for n in range(1, len(parts) + 1):
        sub = "/".join(parts[:n]) or "/"
        try:
            st = os.lstat(sub)
        except OSError:
            return sub
        is_dir = stat.S_ISDIR(st.st_mode)
        checked = (is_dir and not st.st_mode & stat.S_ISVTX) or stat.S_ISREG(st.st_mode)
        writable = (st.st_gid and st.st_mode & stat.S_IWGRP) or st.st_mode & stat.S_IWOTH
        if st.st_uid or (checked and writable):
            return sub
    return None


def needs_shell(path: str, argv0: str) -> bool:
    if argv0[:1] in ("<", ">"):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return not (head.startswith(b"#!") or head == b"\x7fELF")


def cmd_str(argv: Sequence[str]) -> str:
    """notify.c `cmd_str_r`: arguments quoted, a leading redirection kept as written."""
    first, rest = argv[0], argv[1:]
    head = first if first[:1] in ("<", ">") else shlex.quote(first)
    return " ".join([head, *(shlex.quote(a) for a in rest)])


class ScriptRunner:
    def __init__(self, security: ScriptSecurity | None = None, *, term_grace: float = 2.0) -> None:
        self.configure(security or ScriptSecurity())
        self.term_grace = term_grace
        self._tasks: set[asyncio.Task[ScriptOutcome]] = set()
        self._warned: set[str] = set()

    def configure(self, security: ScriptSecurity) -> None:
        """Take the (reloaded) default user and security setting."""
        self.script_user = security.user
        self.script_group = security.group
        self.security = security.enforce

    # -- who and what -------------------------------------------------------------------

    def identity(self, script: ScriptSpec) -> Identity | str:
        """The user a script runs as, or why it cannot run."""
        try:
            if script.user:
                return _user(script.user, script.group)
            if self.script_user:
                return _user(self.script_user, self.script_group)
            try:
                return _user(DEFAULT_SCRIPT_USER, None)
            except KeyError:
                if self.security:
                    return f"Unable to set default user {DEFAULT_SCRIPT_USER} for script"
            pw = pwd.getpwuid(os.getuid())
            return Identity(os.getuid(), os.getgid(), pw.pw_name)
        except KeyError as exc:
            return f"Unable to set uid:gid for script {script.argv[0]}: unknown {exc}"

    def vet(self, script: ScriptSpec) -> tuple[Identity, str, bool] | str:
        """(identity, path to exec, use a shell) or the reason the script may not run."""
        who = self.identity(script)
        if isinstance(who, str):
            return who
        if who.uid != os.geteuid() and os.geteuid() != 0:
            return (
                f"Cannot run script {script.argv[0]} as user {who.name}: switching user needs root"
            )
        argv0 = script.argv[0]
        if argv0[:1] in ("<", ">"):
            return who, argv0, True
        path = argv0 if "/" in argv0 else shutil.which(argv0)
        if path is None:
            return f"Cannot find script {argv0} in path - disabling"
        try:
            real = os.path.realpath(path)
            st = os.stat(real)
        except OSError:
            return f"Script {argv0} cannot be accessed - disabling"
        if not _is_executable(st, who.uid, who.gid):
            return (
                f"WARNING - script '{argv0}' is not executable for uid:gid "
                f"{who.uid}:{who.gid} - disabling."
            )
        setuid_root = (st.st_uid == 0 and st.st_mode & stat.S_ISUID) or (
            st.st_gid == 0 and st.st_mode & stat.S_ISGID
        )
        if who.uid == 0 or who.gid == 0 or setuid_root:
            bad = insecure_component(path) or insecure_component(real)
            if bad is not None:
                if self.security:
                    return f"Unsafe permissions found for script '{argv0}' - disabling."
                if argv0 not in self._warned:
                    self._warned.add(argv0)
                    log.warning("Unsafe permissions found for script '%s'.", argv0)
        return who, path, needs_shell(real, argv0)

    # -- running --------------------------------------------------------------------------

    async def run(
        self, script: ScriptSpec, *, timeout: float | None = None, extra: Sequence[str] = ()
    ) -> ScriptOutcome:
        vetted = self.vet(script)
        if isinstance(vetted, str):
            log.error("%s", vetted)
            return ScriptOutcome(None, vetted)
        who, path, shell = vetted
        argv = [path, *script.argv[1:], *extra]
        if shell:
            argv = ["/bin/sh", "-c", cmd_str([script.argv[0], *script.argv[1:], *extra])]
        env = {
            k: v for k, v in os.environ.items() if k not in ("IFS", "LD_PRELOAD", "LD_LIBRARY_PATH")
        }
        switch = who.uid != os.geteuid() or who.gid != os.getegid()
        kwargs: dict[str, object] = {}
        if switch:
            kwargs = {"user": who.uid, "group": who.gid, "extra_groups": [who.gid]}
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,  # own process group: killed as a whole on timeout
                env=env,
                **kwargs,  # type: ignore[arg-type]
            )
        except OSError as exc:
            text = f"Error exec-ing command '{argv[0]}': {exc.strerror or exc}"
            log.error("%s", text)
            return ScriptOutcome(None, text)
        try:
            async with asyncio.timeout(timeout):
                rc = await proc.wait()
        except TimeoutError:
            await self._kill(proc)
            return ScriptOutcome(None, "timed out")
        except asyncio.CancelledError:
            await asyncio.shield(self._kill(proc))
            raise
        if rc < 0:
            return ScriptOutcome(None, f"due to signal {-rc}")
        return ScriptOutcome(rc, f"exited with status {rc}")

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        """check_misc.c: SIGTERM to the process group, SIGKILL if it does not go."""
        for sig, grace in ((signal.SIGTERM, self.term_grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            try:
                async with asyncio.timeout(grace):
                    await proc.wait()
                break
            except TimeoutError:
                continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # children left behind by the leader

    def spawn(
        self, script: ScriptSpec, *, stopping: bool = False, extra: Sequence[str] = ()
    ) -> None:
        """notify_exec: run in the background (reaped by a task this runner owns)."""
        timeout = STOP_TIMEOUT if stopping else None
        task = asyncio.get_running_loop().create_task(
            self.run(script, timeout=timeout, extra=extra)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for background scripts (then cancel, which kills, the ones still running)."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(list(self._tasks), timeout=timeout)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)
