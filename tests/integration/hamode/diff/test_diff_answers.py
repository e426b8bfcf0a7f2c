"""Differential tests of HAProxy's own answers (diff_answers.py): generated errorfiles,
http-errors sections, http-error, deny_status and return rules, a backend without a usable
server, and requests broken by one mutation each, under the real `haproxy -db` and under
`pylvs run`; the clients must see the same answers byte for byte (dates aside) and the
`option httplog` lines must agree.  CI runs a fixed derandomized set; PYLVS_DIFF_EXAMPLES /
PYLVS_DIFF_RANDOM / PYLVS_DIFF_RECORD explore longer (diff_run.py).
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.integration.hamode.diff.diff_answers import answer_configs, mutated_requests
from tests.integration.hamode.diff.diff_rig import run_both
from tests.integration.hamode.diff.diff_run import SETTINGS, Rig, haproxy_accepts, report
from tests.integration.hamode.hamode_helpers import HAPROXY, free_port

pytestmark = [pytest.mark.oracle, pytest.mark.skipif(HAPROXY is None, reason="no haproxy")]


@SETTINGS
@given(data=st.data())
def test_own_answers_as_haproxy(rig: Rig, data: st.DataObject) -> None:
    config = data.draw(answer_configs(), label="config")
    requests = data.draw(mutated_requests(), label="requests")
    tmp = rig.example_dir()
    config.write(tmp)
    server = rig.ports[0]

    def render(port: int, log: int) -> str:
        return config.render(tmp, port, log, server)

    check = tmp / "check.cfg"
    check.write_text(render(free_port(), rig.syslogs["haproxy"].sock.getsockname()[1]))
    assume(haproxy_accepts(check) is None)
    got = run_both(tmp, render, rig.syslogs, requests)
    if got.diff:
        report(got.config, requests, list(got.diff))
