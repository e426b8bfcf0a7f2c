"""The health checks wired to the HAProxy runtime, without sockets: a haproxy.cfg's checks built
over the runtime's own pools (a check's verdict moves the servers the balancer picks from),
the lines routed to the log targets and the console, the stats' check columns, the socket's
commands through proto/check/admin, and the check state a reload carries."""

from __future__ import annotations

import os

from pylvs.config.haproxy.reader import load_texts
from pylvs.config.haproxy.source import load_paths
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.engine.proxy_checks import CheckLog, ProxyChecks
from pylvs.engine.proxy_reload import carry_server_states
from pylvs.engine.proxy_stats import LiveProxies
from pylvs.model.proxies import CheckStatus
from pylvs.model.proxy_spec import ProxiesSpec
from pylvs.proto.check.health import LOG_ALERT, LOG_EMERG, LOG_NOTICE, LogLine
from pylvs.proto.check.plan import Planner
from pylvs.proto.check.schedule import Planned
from pylvs.sched.haproxy.server import State
from tests.unit.dataplane.haproxy.test_backend import facts

CONFIG = """\
defaults
    mode tcp
    timeout connect 1s
listen be
    bind 127.0.0.1:{port}
    balance roundrobin
    option log-health-checks
    server s1 127.0.0.1:9001 check inter 1s rise 2 fall 2
    server s2 127.0.0.1:9002 check inter 1s rise 2 fall 2
    server s3 127.0.0.1:9003
"""


def spec(tmp: str, text: str = CONFIG) -> ProxiesSpec:
    path = os.path.join(tmp, "haproxy.cfg")
    with open(path, "w") as f:
        f.write(text.format(port=1))
    loaded = load_paths([path])
    assert loaded.ok, loaded.problems
    return loaded.spec.proxies


class Lines:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, str]] = []
        self.console: list[tuple[str, str]] = []

    def log(self) -> CheckLog:
        return CheckLog(lambda p, lvl, t: self.sent.append((p, lvl, t)), self._console)

    def _console(self, kind: str, text: str) -> None:
        self.console.append((kind, text))


def built(tmp: str, text: str = CONFIG) -> tuple[ProxyRuntime, ProxyChecks, Lines]:
    rt = ProxyRuntime(spec(tmp, text), clock=lambda: 100.0, raise_nofile=False)
    checks = ProxyChecks.build(rt)
    assert checks is not None
    lines = Lines()
    checks.log_line = lines.log()
    return rt, checks, lines


def planned(checks: ProxyChecks, server: str) -> Planned:
    return next(p for p in checks.checks.planned if p.server.name == server)


def fail(checks: ProxyChecks, server: str, now: float, error: str = "Connection refused") -> None:
    """One run of `server`'s check that ends in a refused connection, its effects delivered."""
    p = planned(checks, server)
    p.check.expire = now
    for q, _cmds in checks.checks.wake(now, 0.0):
        assert q.run is not None
        q.run.failed(error, now)
        for e in checks.checks.complete(q, now):
            checks._effect(e)


def test_the_plan_travels_in_the_spec_and_compares_by_value(tmp_path: object) -> None:
    a, b = spec(str(tmp_path)), spec(str(tmp_path))
    assert isinstance(a.checks, Planner)
    assert a.checks.checked == (("be", "s1"), ("be", "s2"))
    assert a == b  # a reload of the same file changes nothing
    assert spec(str(tmp_path), "defaults\n    mode tcp\n").checks is None  # no backend


def test_checks_move_the_runtimes_own_servers(tmp_path: object) -> None:
    rt, checks, lines = built(str(tmp_path))
    be = rt.backends["be"]
    sh = checks.health("be", "s1")
    assert sh is not None and sh.pool is be.pool and sh.srv is be.server("s1")
    fail(checks, "s1", 101.0)  # rise 2: a server starts at health 2, one failure is enough
    assert be.server("s1").cur_state is State.STOPPED  # type: ignore[union-attr]
    picks = {be.assign(facts(), 102.0, None).name for _ in range(6)}  # type: ignore[union-attr]
    assert picks == {"s2", "s3"}
    down = [t for p, lvl, t in lines.sent if lvl == LOG_ALERT]
    # with `option log-health-checks` the reason is in the check's own line, not here
    assert down == [
        "Server be/s1 is DOWN. 2 active and 0 backup servers left. 0 sessions active,"
        " 0 requeued, 0 remaining in queue."
    ]
    # `log-health-checks`' line and the state line go to the targets and to the console
    # (ha_warning: haproxy 2.6.12 prints both on stderr, with -d as with -db)
    health = [t for _p, _l, t in lines.sent if t.startswith("Health check for server be/s1 failed")]
    assert len(health) == 1
    assert lines.console == [("WARNING", health[0]), ("WARNING", down[0])]
    assert all(p == "be" for p, _l, _t in lines.sent)


def test_a_backend_left_without_servers_alerts(tmp_path: object) -> None:
    rt, checks, lines = built(str(tmp_path), CONFIG.replace("    server s3 127.0.0.1:9003\n", ""))
    fail(checks, "s1", 101.0)
    fail(checks, "s2", 101.5)
    assert lines.sent[-1] == ("be", LOG_EMERG, "proxy be has no server available!")
    assert lines.console[-1] == ("ALERT", "proxy 'be' has no server available!")
    assert rt.backends["be"].assign(facts(), 102.0, None) is None
    backend = LiveProxies(rt, checks).snapshot().proxies[0].backend
    assert backend is not None and backend.down_trans == 1  # chkdown of the BACKEND row
    assert backend.last_change == rt.wall_offset + 100.0  # set_backend_down's date


def test_the_stats_show_the_live_checks(tmp_path: object) -> None:
    rt, checks, _lines = built(str(tmp_path))
    live = LiveProxies(rt, checks)
    before = {s.name: s for s in live.snapshot().proxies[0].servers}
    assert before["s1"].check.status is CheckStatus.INI and before["s1"].check.health == 2
    assert not before["s3"].check.configured and before["s3"].check.rise == 2
    fail(checks, "s1", 101.0)
    s1 = next(s for s in live.snapshot().proxies[0].servers if s.name == "s1")
    assert s1.check.status is CheckStatus.L4CON and s1.check.desc == "Connection refused"
    assert s1.check.health == 0 and s1.op_state == 0
    assert (s1.counters.failed_checks, s1.counters.down_trans) == (1, 1)


def test_socket_commands_go_through_the_check_machine(tmp_path: object) -> None:
    rt, checks, lines = built(str(tmp_path))
    live = LiveProxies(rt, checks)
    live.set_server_state("be", "s3", "maint")  # not checked: the same machine, same lines
    assert lines.sent[-1][2].startswith("Server be/s3 is going DOWN for maintenance.")
    live.set_check_enabled("be", "s1", False, False)
    sh = checks.health("be", "s1")
    assert sh is not None and sh.check is not None and not sh.check.enabled
    live.set_server_health("be", "s1", "down")
    assert lines.sent[-1][1] == LOG_ALERT
    assert "Server be/s1 is DOWN, changed from CLI" in lines.sent[-1][2]
    assert rt.backends["be"].assign(facts(), 102.0, None).name == "s2"  # type: ignore[union-attr]
    live.set_server_state("be", "s3", "ready")
    assert "leaving forced maintenance" in lines.sent[-1][2]


def test_a_reload_carries_the_check_state(tmp_path: object) -> None:
    old_rt, old, _ = built(str(tmp_path))
    fail(old, "s1", 101.0)
    old.set_enabled(old.health("be", "s2"), False, False)  # type: ignore[arg-type]
    new_rt = ProxyRuntime(spec(str(tmp_path)), clock=lambda: 200.0, raise_nofile=False)
    carry_server_states(LiveProxies(old_rt, old), new_rt)  # what the daemon's reload does
    new = ProxyChecks.build(new_rt)
    assert new is not None
    s1, s2 = new.health("be", "s1"), new.health("be", "s2")
    assert s1 is not None and s1.check is not None and s2 is not None and s2.check is not None
    assert s1.srv.cur_state is State.STOPPED and s1.check.health == 0
    assert s1.check.status is CheckStatus.L4CON
    assert s2.srv.cur_state is State.RUNNING and not s2.check.enabled
    view = next(v for v in LiveProxies(new_rt, new).snapshot().proxies[0].servers)
    assert view.check.status is CheckStatus.L4CON


def test_log_line_goes_where_its_kind_says() -> None:
    got: list[object] = []
    log = CheckLog(lambda *a: got.append(a), lambda *a: got.append(a))
    log(LogLine(LOG_NOTICE, "Health check for server b/s succeeded.", stderr_kind="", proxy="b"))
    assert got == [("b", LOG_NOTICE, "Health check for server b/s succeeded.")]


def test_plan_checks_numbers_backends_as_the_converter(tmp_path: object) -> None:
    text = CONFIG.format(port=1)
    result = load_texts([(text, "haproxy.cfg")], env={})
    assert result.config.proxies[0].id is None  # not declared: the converter numbers it
    s = spec(str(tmp_path))
    # the first proxy is 1: no global `stats` keyword made HAProxy's CLI frontend
    assert s.backend("be").id == 1  # type: ignore[union-attr]
    rt = ProxyRuntime(s, raise_nofile=False)
    checks = ProxyChecks.build(rt)
    assert checks is not None and {p.backend_id for p in checks.checks.planned} == {1}


def succeed(checks: ProxyChecks, server: str, now: float) -> None:
    p = planned(checks, server)
    p.check.expire = now
    for q, _cmds in checks.checks.wake(now, 0.0):
        assert q.run is not None
        q.run.connected(now)
        assert q.run.done
        for e in checks.checks.complete(q, now):
            checks._effect(e)


def test_slowstart_ramps_the_weight_once_a_second(tmp_path: object) -> None:
    text = CONFIG.replace(
        "check inter 1s rise 2 fall 2\n", "check inter 1s rise 1 fall 1 slowstart 10s\n"
    )
    rt, checks, lines = built(str(tmp_path), text)
    live = LiveProxies(rt, checks)
    fail(checks, "s1", 101.0)
    succeed(checks, "s1", 110.0)
    s1 = rt.backends["be"].server("s1")
    assert s1 is not None and s1.cur_state.name == "STARTING"
    assert lines.sent[-1][2].startswith("Server be/s1 is UP")

    def throttle() -> int | None:
        view = next(s for s in live.snapshot().proxies[0].servers if s.name == "s1")
        return view.throttle

    weights = []
    for t in (111.0, 112.0, 113.0):
        checks.checks.tick(t)
        weights.append(s1.cur_eweight)
    assert weights == sorted(weights) and weights[0] < weights[-1]
    assert throttle() is not None and 0 < throttle() < 100  # type: ignore[operator]
    checks.checks.tick(120.0)
    assert s1.cur_state is State.RUNNING  # the ramp is over: "is UP" again
    assert lines.sent[-1][2].startswith("Server be/s1 is UP")


def test_set_server_addr_moves_the_check_too(tmp_path: object) -> None:
    """HAProxy's checks connect to the server's address (unless `addr`): a new one, from
    `set server B/S addr` or a DNS answer, is where the next runs go."""
    rt, checks, _lines = built(str(tmp_path))
    live = LiveProxies(rt, checks)
    live.set_server_addr("be", "s1", "127.0.0.9", 9100)
    moved = planned(checks, "s1").address
    assert (moved.server_addr, moved.server_port) == ("127.0.0.9", 9100)
    assert planned(checks, "s2").address.server_addr == "127.0.0.1"
    live.set_server_addr("be", "s2", None, 9200)  # a port alone: the address stays
    assert (
        planned(checks, "s2").address.server_addr,
        planned(checks, "s2").address.server_port,
    ) == ("127.0.0.1", 9200)
