"""A pid file that refuses to start a second daemon and is removed on exit."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


class PidFileError(RuntimeError):
    pass


class PidFile:
    def __init__(self, path: str) -> None:
        self.path = path

    def acquire(self) -> None:
        try:
            old = int(Path(self.path).read_text().strip() or "0")
        except (FileNotFoundError, ValueError):
            old = 0
        if old and old != os.getpid() and _alive(old):
            raise PidFileError(f"{self.path}: pylvs is already running as pid {old}")
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, self.path)

    def release(self) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            if int(open(self.path).read().strip() or "0") == os.getpid():  # noqa: SIM115
                os.unlink(self.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None
