"""What every hypothesis-driven differential test shares: the rig (echo servers and a syslog
receiver per proxy kind, for the whole module), the settings (a fixed derandomized set in
CI; PYLVS_DIFF_EXAMPLES=N, PYLVS_DIFF_RANDOM=1 and PYLVS_DIFF_RECORD=FILE to explore: see
test_diff_http.py), the `haproxy -c` gate and the report of a divergence.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings

from tests.integration.hamode.diff.diff_rig import EchoServer
from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS
from tests.integration.hamode.test_hamode_log import Syslog

RECORD = os.environ.get("PYLVS_DIFF_RECORD")
EXAMPLES = int(os.environ.get("PYLVS_DIFF_EXAMPLES", "12"))
RANDOM = bool(os.environ.get("PYLVS_DIFF_RANDOM"))


class Rig:
    """The echo servers (shared by every example and both proxies) and a syslog receiver per
    proxy kind."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.servers = [EchoServer(f"s{i + 1}") for i in range(3)]
        self.syslogs = {kind: Syslog() for kind in KINDS}
        self.runs = 0

    @property
    def ports(self) -> list[int]:
        return [s.port for s in self.servers]

    def example_dir(self) -> Path:
        self.runs += 1
        tmp = self.tmp / f"ex{self.runs}"
        tmp.mkdir()
        return tmp

    def close(self) -> None:
        for s in self.servers:
            s.close()
        for log in self.syslogs.values():
            log.sock.close()


def haproxy_accepts(path: Path) -> str | None:
    """None if `haproxy -c` accepts the file, else what it said."""
    assert HAPROXY is not None
    done = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True)
    return None if done.returncode == 0 else done.stdout + done.stderr


def report(
    config: str, requests: list[bytes], diff: list[str], extra: tuple[str, ...] = ()
) -> None:
    """A divergence: recorded (PYLVS_DIFF_RECORD) or raised."""
    text = "\n".join(
        [
            "===== config",
            config,
            "===== requests",
            *(repr(r) for r in requests),
            *extra,
            "===== diff",
            *diff,
            "",
        ]
    )
    if RECORD:
        with open(RECORD, "a") as f:
            f.write(text + "\n")
        return
    raise AssertionError(text)


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    # No shrinking: each step restarts both proxies (minutes); the report names the example
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
