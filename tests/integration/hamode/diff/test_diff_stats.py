"""Differential tests of the stats socket: a generated `mode http` configuration
(diff_grammar.py) under the real `haproxy -db` and under `pylvs run`, the same requests
sent to both, then the same commands on both stats sockets: `show stat` (every row and
column both print but times and rates), and `set server` / `disable server` /
`enable server` commands followed by `show servers state` and `show stat` again (diff_stats.py
masks what legitimately differs).  The responses and log lines are compared too (diff_rig.py).

CI runs a fixed derandomized set; PYLVS_DIFF_EXAMPLES / PYLVS_DIFF_RANDOM /
PYLVS_DIFF_RECORD explore longer (diff_run.py).
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.integration.hamode.diff.diff_grammar import Generated, configs, request_lists
from tests.integration.hamode.diff.diff_rig import preamble, run_both
from tests.integration.hamode.diff.diff_run import SETTINGS, Rig, haproxy_accepts, report
from tests.integration.hamode.hamode_helpers import HAPROXY, free_port

pytestmark = [pytest.mark.oracle, pytest.mark.skipif(HAPROXY is None, reason="no haproxy")]


@st.composite
def server_commands(draw: st.DrawFn, gen: Generated) -> list[str]:
    """A few commands that change servers' state, on the generated backends' servers."""
    out = []
    for _ in range(draw(st.integers(0, 3))):
        b = draw(st.sampled_from(gen.backends))
        count = sum(1 for line in b.lines if line.startswith("server "))
        target = f"{b.name}/s{draw(st.integers(1, count))}"
        out.append(
            draw(
                st.sampled_from(
                    [
                        f"set server {target} weight 50",
                        f"set server {target} weight 0",
                        f"set server {target} weight 20%",
                        f"set server {target} state maint",
                        f"set server {target} state drain",
                        f"set server {target} state ready",
                        f"disable server {target}",
                        f"enable server {target}",
                        f"set server {target} maxconn 7",
                        f"get weight {target}",
                    ]
                )
            )
        )
    return out


@SETTINGS
@given(data=st.data())
def test_stats_after_the_same_traffic_as_haproxy(rig: Rig, data: st.DataObject) -> None:
    gen = data.draw(configs(rig.ports), label="config")
    requests = data.draw(request_lists(), label="requests")
    changes = data.draw(server_commands(gen), label="commands")
    tmp = rig.example_dir()
    check = tmp / "check.cfg"
    check.write_text(gen.render(free_port(), rig.syslogs["haproxy"].sock.getsockname()[1]))
    assume(haproxy_accepts(check) is None)
    commands = ["show stat", *changes, "show servers state", "show stat"]
    got = run_both(tmp, gen.render, rig.syslogs, requests, commands)
    if got.diff:
        report(got.config, requests, list(got.diff), ("===== commands", *commands))


FOUND = (
    "\n".join(preamble("{log}"))
    + """
frontend fe
    bind 127.0.0.1:{port}
    http-request deny if {{ path /deny }}
    http-request redirect location /x if {{ path /redirect }}
    use_backend b1 if {{ path /b1 }}
    default_backend b0
backend b0
    cookie SRV insert
    server s1 127.0.0.1:{s1} cookie c1
backend b1
    http-request return status 200 content-type text/plain string hi
    server s1 127.0.0.1:{s1}
"""
)


def test_counters_of_proxied_and_locally_answered_requests(rig: Rig) -> None:
    """What the runs found, on fixed traffic: bin/bout are the streams' HTX totals with
    HAProxy's own answers in (stream_process_counters), a backend's stot/smax count a
    stream its rules answered (stream_set_backend), connect/reuse per stream
    (connect_server), the pooled connection's gauges, the cookie column; and a server put
    in maintenance shows its check health zeroed (srv_update_status)."""
    paths = ["/", "/a", "/deny", "/redirect", "/b1", "/post"]
    requests = [f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in paths]
    commands = ["show stat", "disable server b0/s1", "enable server b0/s1", "show servers state"]
    s1 = rig.ports[0]

    def render(port: int, log: int) -> str:
        return FOUND.format(port=port, log=log, s1=s1)

    got = run_both(rig.example_dir(), render, rig.syslogs, requests, commands)
    assert not got.diff, "\n".join(got.diff)
    stats = got.seen["pylvs"].stats
    assert "fe/FRONTEND bin=0" not in stats and "fe/FRONTEND bout=0" not in stats
    for line in ("b1/BACKEND stot=1", "b0/BACKEND connect=1", "b0/BACKEND reuse=2",
                 "b0/s1 safe_conn_cur=1", "b0/BACKEND cookie=SRV", "b0/s1 cookie=c1"):  # fmt: skip
        assert line in stats, line
    state = next(line.split(" ") for line in stats if " b0 1 s1 " in line)
    assert state[12] == "0"  # srv_check_health: zeroed by the maintenance, not given back
