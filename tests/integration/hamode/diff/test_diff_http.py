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

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.integration.hamode.diff.diff_grammar import Generated, configs, request_lists
from tests.integration.hamode.diff.diff_rig import run_both
from tests.integration.hamode.diff.diff_run import SETTINGS, Rig, haproxy_accepts, report
from tests.integration.hamode.hamode_helpers import HAPROXY, free_port

pytestmark = [pytest.mark.oracle, pytest.mark.skipif(HAPROXY is None, reason="no haproxy")]


def run_example(rig: Rig, gen: Generated, requests: list[bytes]) -> None:
    tmp = rig.example_dir()
    check = tmp / "check.cfg"
    check.write_text(gen.render(free_port(), rig.syslogs["haproxy"].sock.getsockname()[1]))
    assume(haproxy_accepts(check) is None)  # the grammar's few invalid combinations
    got = run_both(tmp, gen.render, rig.syslogs, requests)
    if got.diff:
        report(got.config, requests, list(got.diff))


@SETTINGS
@given(data=st.data())
def test_generated_configs_as_haproxy(rig: Rig, data: st.DataObject) -> None:
    gen = data.draw(configs(rig.ports), label="config")
    requests = data.draw(request_lists(), label="requests")
    run_example(rig, gen, requests)
