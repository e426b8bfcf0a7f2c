"""Differential tests of `mode http` rules: generated configurations (diff_grammar.py) run under
the real `haproxy -db` and under `pylvs run`, the same generated requests sent to both; the
clients must see the same responses (status line, fields in order, body: the echo servers'
bodies are the requests they received, so what the servers got is compared too) and the
`option httplog` lines must be the same, masked only where two runs legitimately differ
(diff_rig.py).

The CI run is a fixed set of examples (derandomized: the same configurations every run, so
the suite does not turn red at random on something new).  Exploration is env-gated:
PYLVS_DIFF_EXAMPLES=N sets how many, PYLVS_DIFF_RANDOM=1 draws afresh, and
PYLVS_DIFF_RECORD=FILE appends every divergence to FILE and goes on (no shrinking) instead
of failing at the first.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from tests.integration.hamode.diff.diff_grammar import Generated, configs, request_lists
from tests.integration.hamode.diff.diff_rig import EchoServer, run_both
from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, free_port
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = [pytest.mark.oracle, pytest.mark.skipif(HAPROXY is None, reason="no haproxy")]

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

    def close(self) -> None:
        for s in self.servers:
            s.close()
        for log in self.syslogs.values():
            log.sock.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("difftest"))
    try:
        yield r
    finally:
        r.close()


def haproxy_accepts(path: Path) -> str | None:
    """None if `haproxy -c` accepts the file, else what it said."""
    assert HAPROXY is not None
    done = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True)
    return None if done.returncode == 0 else done.stdout + done.stderr


def run_example(rig: Rig, gen: Generated, requests: list[bytes]) -> None:
    rig.runs += 1
    tmp = rig.tmp / f"ex{rig.runs}"
    tmp.mkdir()
    check = tmp / "check.cfg"
    check.write_text(gen.render(free_port(), rig.syslogs["haproxy"].sock.getsockname()[1]))
    assume(haproxy_accepts(check) is None)  # the grammar's few invalid combinations
    got = run_both(tmp, gen.render, rig.syslogs, requests)
    if got.diff:
        report(got.config, requests, list(got.diff))


def report(config: str, requests: list[bytes], diff: list[str]) -> None:
    text = "\n".join(
        [
            "===== config",
            config,
            "===== requests",
            *(repr(r) for r in requests),
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


@SETTINGS
@given(data=st.data())
def test_generated_configs_as_haproxy(rig: Rig, data: st.DataObject) -> None:
    gen = data.draw(configs(rig.ports), label="config")
    requests = data.draw(request_lists(), label="requests")
    run_example(rig, gen, requests)
