"""`add server` / `del server` on the runtime and its checks, without sockets
(engine/dynamic_servers.py): a dynamic server's checks join the running ones, disabled until
`enable health`; `track` and its refusals (src/server.c srv_apply_track's words); what `del
server` refuses and in which order (cli_parse_delete_server)."""

from __future__ import annotations

from pylvs.config.haproxy.dynamic import dynamic_server
from pylvs.engine.dynamic_servers import NOT_PURGEABLE
from pylvs.engine.proxy_checks import ProxyChecks
from pylvs.engine.proxy_stats import LiveProxies
from pylvs.proto.check.health import LOG_NOTICE
from pylvs.sched.haproxy.server import State
from tests.unit.engine.test_proxy_checks import Lines, built, fail

CONFIG = """\
defaults
    mode tcp
    timeout connect 1s
listen be
    bind 127.0.0.1:{port}
    balance roundrobin
    use-server s3 if {{ always_false }}
    tcp-request content accept if {{ srv_is_up(be/s4) }}
    server s1 127.0.0.1:9001 check inter 1s rise 2 fall 2
    server s2 127.0.0.1:9002
    server s3 127.0.0.1:9003
    server s4 127.0.0.1:9004
    server s5 127.0.0.1:9005 track s1
"""


def live(tmp: str) -> tuple[LiveProxies, ProxyChecks, Lines]:
    rt, checks, lines = built(tmp, CONFIG)
    return LiveProxies(rt, checks, dynamic_server), checks, lines


def test_a_dynamic_servers_check_waits_for_enable_health(tmp_path: object) -> None:
    lp, checks, lines = live(str(tmp_path))
    answer = lp.add_server("be", "d1", ["127.0.0.1:9010", "check", "inter", "200ms", "rise", "1"])
    assert answer == "New server registered.\n"
    sh = checks.health("be", "d1")
    assert sh is not None and sh.check is not None and not sh.check.enabled
    assert [p.server.name for p in checks.checks.planned][-1] == "d1"
    lp.set_server_state("be", "d1", "ready")
    assert lines.sent[-1] == (
        "be",
        LOG_NOTICE,
        "Server be/d1 is UP/READY (leaving forced maintenance).",
    )
    lp.set_check_enabled("be", "d1", False, True)
    assert [p.check.enabled for p in checks.checks.planned if p.server is sh] == [True]
    fail(checks, "d1", 101.0)
    # leaving maintenance set its health to `rise` (1): one failure takes it down
    assert sh.srv.cur_state is State.STOPPED


def test_a_dynamic_servers_check_sends_the_proxy_header_only_when_told(tmp_path: object) -> None:
    lp, checks, _lines = live(str(tmp_path))
    lp.add_server("be", "p1", ["127.0.0.1:9011", "send-proxy", "check"])
    lp.add_server("be", "p2", ["127.0.0.1:9012", "send-proxy", "check", "check-send-proxy"])
    by_name = {p.server.name: p for p in checks.checks.planned}
    assert by_name["p1"].address.send_proxy == 0
    assert by_name["p2"].address.send_proxy == 1


def test_track_and_its_refusals(tmp_path: object) -> None:
    lp, checks, _lines = live(str(tmp_path))
    add = lp.add_server
    assert add("be", "t1", ["127.0.0.1:1", "track", "be/s2"]) == (
        "unable to use be/s2 for tracking as it does not have any check nor agent enabled.\n"
    )
    assert add("be", "t1", ["127.0.0.1:1", "track", "nowhere/s1"]) == (
        "unable to find required proxy 'nowhere' for tracking.\n"
    )
    assert add("be", "t1", ["127.0.0.1:1", "track", "zz"]) == (
        "unable to find required server 'zz' for tracking.\n"
    )
    assert add("be", "t1", ["127.0.0.1:1", "track", "s5"]) == "New server registered.\n"
    assert add("be", "t2", ["127.0.0.1:1", "track", "be/t1"]) == (
        "unable to use be/t1 for tracking as it is a dynamic server.\n"
    )
    assert add("be", "t2", ["127.0.0.1:1", "track", "s1"]) == "New server registered.\n"
    s1 = checks.health("be", "s1")
    assert s1 is not None
    assert [t.name for t in s1.trackers] == ["t2", "s5"]  # the newest first, as HAProxy
    assert add("be", "h2", ["127.0.0.1:1", "proto", "h2"]) == (
        "MUX protocol is not usable for server.\n"
    )


def test_what_del_server_refuses_and_in_which_order(tmp_path: object) -> None:
    lp, checks, _lines = live(str(tmp_path))
    assert lp.del_server("be", "s1") == NOT_PURGEABLE  # tracked by s5
    assert lp.del_server("be", "s3") == NOT_PURGEABLE  # use-server's target
    assert lp.del_server("be", "s4") == NOT_PURGEABLE  # srv_is_up()'s argument
    assert lp.del_server("be", "s2") == "Only servers in maintenance mode can be deleted."
    lp.add_server("be", "t1", ["127.0.0.1:1", "track", "s5", "check"])
    assert lp.del_server("be", "s5") == NOT_PURGEABLE  # t1 tracks it now
    assert lp.del_server("be", "t1") == "Server deleted."  # created in maintenance
    assert checks.health("be", "t1") is None
    assert all(p.server.name != "t1" for p in checks.checks.planned)
    s5 = checks.health("be", "s5")
    assert s5 is not None and s5.trackers == []
    assert lp.del_server("be", "s5") == NOT_PURGEABLE  # the flag stays, as in HAProxy
    lp.set_server_state("be", "s2", "maint")
    assert lp.del_server("be", "s2") == "Server deleted."


def test_what_pylvs_will_not_do_comes_before_haproxys_answer(tmp_path: object) -> None:
    lp, _checks, _lines = live(str(tmp_path))
    assert lp.add_server("be", "n1", ["127.0.0.1:1", "tfo"]) == (
        "[pylvs] pylvs does not do 'tfo': HAProxy's pollers and socket tuning do not apply to"
        " pylvs's event loop - ignoring\nNew server registered.\n"
    )
