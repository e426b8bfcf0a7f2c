"""Where a lab keeps its files, and the state file that lets later commands find it.

`/run/pylvs/lab/<lab id>/` (or `$PYLVS_LAB_DIR/<lab id>/`) holds `state.json` (the options of
`lab up`, from which the topology is re-planned, plus what `lab fail` changed), each
director's `dirN.keepalived.conf` and control socket, and a pid file and a log per process.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .topology import LabOptions, Mode

BASE_DIR = "/run/pylvs/lab"


def base_dir() -> Path:
    return Path(os.environ.get("PYLVS_LAB_DIR", BASE_DIR))


@dataclass(frozen=True)
class LabPaths:
    lab_id: str
    base: Path = field(default_factory=base_dir)

    @property
    def dir(self) -> Path:
        return self.base / self.lab_id

    @property
    def state(self) -> Path:
        return self.dir / "state.json"

    def conf(self, node: str) -> Path:
        return self.dir / f"{node}.keepalived.conf"

    def haproxy_cfg(self, node: str) -> Path:
        return self.dir / f"{node}.haproxy.cfg"

    def stats_socket(self, node: str) -> Path:
        return self.dir / f"{node}.haproxy.sock"

    def control(self, node: str) -> Path:
        return self.dir / f"{node}.sock"

    def pid(self, proc: str) -> Path:
        return self.dir / f"{proc}.pid"

    def log(self, proc: str) -> Path:
        return self.dir / f"{proc}.log"

    def ready(self, proc: str) -> Path:
        return self.dir / f"{proc}.ready"

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class LabState:
    """What a running lab remembers between commands."""

    options: LabOptions
    static_vip: bool = False  # no VRRP driver: the VIP was put on dir1 by the lab
    failed: dict[str, str] = field(default_factory=dict)  # node or "link" -> how / role

    def to_json(self) -> str:
        opts: dict[str, Any] = asdict(self.options)
        opts["mode"] = self.options.mode.value
        opts["weights"] = list(self.options.weights)
        data = {"options": opts, "static_vip": self.static_vip, "failed": self.failed}
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LabState:
        data = json.loads(text)
        opts = dict(data["options"])
        opts["mode"] = Mode(opts["mode"])
        opts["weights"] = tuple(opts.get("weights", ()))
        return cls(
            options=LabOptions(**opts),
            static_vip=bool(data.get("static_vip", False)),
            failed=dict(data.get("failed", {})),
        )

    def save(self, paths: LabPaths) -> None:
        paths.dir.mkdir(parents=True, exist_ok=True)
        tmp = paths.state.with_suffix(f".{os.getpid()}")
        tmp.write_text(self.to_json())
        tmp.replace(paths.state)

    @classmethod
    def load(cls, paths: LabPaths) -> LabState | None:
        try:
            return cls.from_json(paths.state.read_text())
        except FileNotFoundError:
            return None
