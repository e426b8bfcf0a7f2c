"""keepalived.conf -> DirectorSpec (config/keepalived/convert*.py): what the runtime is given."""

from __future__ import annotations

import dataclasses
import ipaddress
import textwrap
from pathlib import Path

import pytest

from pylvs.config.errors import Kind, Location, Problems, Severity
from pylvs.config.keepalived.checkmode import exit_status
from pylvs.config.keepalived.convert import to_spec
from pylvs.config.keepalived.parser import load_text
from pylvs.config.keepalived.spec_problems import problems_of
from pylvs.config.keepalived.vrrp.model import Authentication
from pylvs.model.checks import CheckTarget, CheckTiming, FileProbe, HttpProbe, MiscProbe, TcpProbe
from pylvs.model.director import DirectorSpec, TimeoutChange
from pylvs.model.notify import ScriptSpec, SmtpServerSpec
from pylvs.model.service import AF_INET6, Protocol, ServiceKey
from pylvs.model.vrrp import TrackerKind

WHERE = Location("k.conf", 1, 1)


def spec(text: str) -> tuple[DirectorSpec, Problems]:
    result = load_text(textwrap.dedent(text), "k.conf")
    converted = to_spec(result.config, result.problems, WHERE)
    return converted, result.problems


def errors(problems: Problems) -> list[str]:
    return [p.message for p in problems if p.severity is Severity.ERROR]


LVS = """
global_defs {
    router_id LVS_A
    script_user nobody
    enable_script_security
    notification_email {
        ops@example.org
    }
    notification_email_from lb@example.org
    smtp_server 10.0.0.25 2525
    smtp_connect_timeout 7
    lvs_notify_fifo /run/lvs.fifo
    lvs_timeouts tcp 600 udp 30
    checker_log_all_failures
}
track_file weights {
    file /run/weights
    weight 3 reverse
}
virtual_server_group G {
    10.0.0.1-2 80
}
virtual_server group G {
    protocol TCP
    lvs_sched rr
    real_server 10.1.0.1 80 {
        weight 2
        FILE_CHECK {
            track_file weights
        }
    }
}
virtual_server 10.0.0.9 443 {
    protocol TCP
    lvs_sched wlc
    delay_loop 7
    quorum 3
    hysteresis 1
    quorum_up "/bin/q up"
    sorry_server 10.9.9.9 443
    sorry_server_inhibit
    real_server 10.1.0.2 443 {
        weight 4
        inhibit_on_failure
        notify_down "/bin/n down"
        TCP_CHECK {
            connect_port 8443
            connect_timeout 2
            retry 4
            delay_before_retry 0.5
            warmup 3
            alpha
        }
        HTTP_GET {
            url {
                path /health
                status_code 200-204
            }
            virtualhost site.example
        }
        MISC_CHECK {
            misc_path "/bin/check arg"
            misc_timeout 9
            misc_dynamic
        }
    }
}
virtual_server 10.0.0.9 443 {
    protocol TCP
    real_server 10.1.0.3 443 {
    }
}
virtual_server fwmark 7 {
    lvs_sched rr
    real_server fd00::1 80 {
    }
}
"""


def test_pools_their_names_and_services() -> None:
    s, problems = spec(LVS.replace("fwmark 7 {", "fwmark 7 {\n    ip_family inet6"))
    assert [p.id for p in s.pools] == [
        "[G]:0",
        "[10.0.0.9]:tcp:443",
        "[10.0.0.9]:tcp:443#2",  # the same FMT_VS again: told apart for reloads
        "FWM 7 inet6",
    ]
    group = s.pools[0]
    addr = ipaddress.ip_address
    assert group.keys == (
        ServiceKey(Protocol.TCP, addr("10.0.0.1"), 80),
        ServiceKey(Protocol.TCP, addr("10.0.0.2"), 80),
    )
    assert {svc.scheduler for svc in group.services} == {"rr"}
    assert s.pools[3].keys == (ServiceKey.mark(7, AF_INET6),)
    assert s.pools[1].protocol is Protocol.TCP and s.pools[1].address == addr("10.0.0.9")
    # the repeated virtual server duplicates a service: the reader reports it
    assert any("duplicates service" in m for m in errors(problems))


def test_pool_policy_and_real_server_notifications() -> None:
    s, _ = spec(LVS)
    pool = s.pools[1]
    policy = pool.policy
    assert (policy.quorum, policy.hysteresis) == (3, 1)
    assert policy.quorum_up == ScriptSpec(("/bin/q", "up"))
    assert policy.quorum_down is None
    assert policy.sorry_server is not None and policy.sorry_server.inhibit
    assert str(policy.sorry_server.server.address) == "10.9.9.9"
    (rs,) = pool.real_servers
    assert rs.server.weight == 4 and rs.inhibit_on_failure and not rs.backup
    assert rs.notify_down == ScriptSpec(("/bin/n", "down"))


def test_checks_keep_keepalived_timing_and_targets() -> None:
    s, _ = spec(LVS)
    tcp, http, misc = s.pools[1].real_servers[0].checks
    assert isinstance(tcp.probe, TcpProbe) and tcp.kind == "TCP_CHECK"
    assert tcp.target == CheckTarget(ipaddress.ip_address("10.1.0.2"), 8443, 2.0)
    assert tcp.timing == CheckTiming(
        interval=7.0, retries=4, retry_interval=0.5, warmup=3.0, initially_up=False
    )
    assert tcp.timing.fall == 5
    assert isinstance(http.probe, HttpProbe) and http.kind == "HTTP_GET"
    assert http.probe.virtualhost == "site.example"
    (url,) = http.probe.urls
    assert (url.path, url.status_codes) == ("/health", ((200, 204),))
    assert http.timing.retry_interval == 3.0  # HTTP_GET's own default delay_before_retry
    assert isinstance(misc.probe, MiscProbe) and misc.target is None
    assert misc.probe == MiscProbe(ScriptSpec(("/bin/check", "arg")), 9.0, dynamic=True)
    assert s.globals.log_all_check_failures


def test_file_check_takes_the_tracked_file() -> None:
    s, _ = spec(LVS)
    (check,) = s.pools[0].real_servers[0].checks
    assert check.probe == FileProbe("weights", "/run/weights", 3, True)
    own, _ = spec(LVS.replace("track_file weights\n", "track_file weights\n weight -2\n"))
    assert own.pools[0].real_servers[0].checks[0].probe == FileProbe(
        "weights", "/run/weights", -2, False
    )
    (tracked,) = s.track_files
    assert (tracked.name, tracked.path, tracked.weight, tracked.reverse) == (
        "weights",
        "/run/weights",
        3,
        True,
    )


def test_notify_and_global_settings() -> None:
    s, _ = spec(LVS)
    n = s.notify
    assert (n.scripts.user, n.scripts.enforce) == ("nobody", True)
    assert n.smtp.to == ("ops@example.org",) and n.smtp.sender == "lb@example.org"
    assert n.smtp.server == SmtpServerSpec("10.0.0.25", 2525)
    assert n.smtp.connect_timeout == 7.0 and n.smtp.enabled
    assert n.health_fifo is not None and n.health_fifo.path == "/run/lvs.fifo"
    assert n.fifo is None and n.vrrp_fifo is None
    assert s.globals.router_id == "LVS_A"
    assert s.globals.ipvs_timeouts == TimeoutChange(600, 0, 30)


VRRP = """
global_defs {
    vrrp_notify_fifo /run/vrrp.fifo
    vrrp_garp_interval 0.1
    vrrp_startup_delay 2
    smtp_alert_vrrp
}
vrrp_script chk {
    script "/bin/chk x"
    interval 3
    rise 2
    fall 4
}
vrrp_sync_group SG {
    group {
        VI_1
    }
    notify_master "/bin/sg master"
    sync_group_tracking_weight
}
vrrp_instance VI_1 {
    state MASTER
    interface eth1
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.168.1.10/24 label eth1:vip
        192.168.2.10/24 dev eth2
    }
    virtual_routes {
        10.9.0.0/16 via 192.168.1.254 table 100
    }
    virtual_rules {
        from 10.9.0.0/16 table 100 fwmark 0x10
    }
    track_script {
        chk weight -20
    }
    notify_backup "/bin/b backup"
    no_accept
}
"""


def test_vrrp_instance_records() -> None:
    s, problems = spec(VRRP)
    assert not errors(problems)
    (inst,) = s.vrrp.instances
    p = inst.params
    assert (p.name, p.vrid, p.priority, p.initial_state) == ("VI_1", 51, 150, "MASTER")
    assert p.startup_delay_us == 2_000_000
    assert p.notifies.fifo and p.notifies.backup == ("/bin/b", "backup")
    assert [(t.kind, t.name, t.weight) for t in p.trackers] == [(TrackerKind.SCRIPT, "chk", -20)]
    assert inst.interface == "eth1" and not inst.accept
    assert [(str(a.address), a.dev, a.label) for a in inst.addresses] == [
        ("192.168.1.10/24", "eth1", "eth1:vip"),
        ("192.168.2.10/24", "eth2", None),
    ]
    (route,) = inst.routes
    assert (route.table, route.dev, str(route.via)) == ("100", None, "192.168.1.254")
    (rule,) = inst.rules
    assert (rule.table, rule.fwmark) == ("100", 16)
    assert inst.scripts == (ScriptSpec(("/bin/b", "backup")),)
    assert str(inst.group) == "224.0.0.18"


def test_sync_groups_scripts_and_garp() -> None:
    s, _ = spec(VRRP)
    (group,) = s.vrrp.sync_groups
    assert group.members == ("VI_1",)
    assert group.notifies.master == ("/bin/sg", "master") and group.notifies.fifo
    assert group.smtp_alert  # the group's own setting, else smtp_alert_vrrp
    (script,) = s.vrrp.scripts
    assert (script.name, script.script.argv, script.interval, script.rise, script.fall) == (
        "chk",
        ("/bin/chk", "x"),
        3.0,
        2,
        4,
    )
    assert s.vrrp.garp.garp_interval == 0.1


def test_an_instance_keepalived_cannot_run_is_an_error_not_a_crash() -> None:
    result = load_text(VRRP, "k.conf")
    (inst,) = result.config.vrrp.instances
    ah = dataclasses.replace(inst, authentication=Authentication("AH", b"secret"))
    config = dataclasses.replace(
        result.config, vrrp=dataclasses.replace(result.config.vrrp, instances=(ah,))
    )
    problems = Problems()
    s = to_spec(config, problems, WHERE)
    assert s.vrrp.instances == ()
    (err,) = problems.errors
    assert "AH authentication is not supported" in err.message


def test_pylvs_http_is_pylvs_own_global_keyword() -> None:
    s, problems = spec("global_defs {\n    pylvs_http 127.0.0.1:9180\n}\n")
    assert not errors(problems) and s.globals.http == "127.0.0.1:9180"
    (said,) = problems.warnings
    assert said.kind is Kind.EXTENSION and said.loc == Location("k.conf", 2, 5)
    assert "Unknown keyword 'pylvs_http'" in said.message  # what keepalived -t says of it
    assert exit_status(problems) == 0 and exit_status(problems, strict=True) == 5
    s, problems = spec("global_defs {\n    pylvs_http [::1]:9180\n}\n")
    assert not errors(problems) and s.globals.http == "[::1]:9180"
    assert spec("global_defs {\n}\n")[0].globals.http is None


def test_pylvs_http_refuses_what_the_listener_cannot_bind() -> None:
    for bad in ("9180", "localhost:9180", "::1:9180", "127.0.0.1:70000", "127.0.0.1:", "1.2.3.4:²"):
        s, problems = spec(f"global_defs {{\n    pylvs_http {bad}\n}}\n")
        found = [p for p in problems if p.severity is Severity.ERROR]
        assert len(found) == 1, bad
        assert found[0].message.startswith(f"pylvs_http {bad}: expected ADDR:PORT")
        assert (found[0].loc.line, found[0].loc.col) == (2, 16)
        assert s.globals.http is None


CORPUS = sorted((Path(__file__).parents[3] / "data" / "keepalived").rglob("*.conf"))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.name))
def test_problems_of_reports_what_to_spec_reports(path: Path) -> None:
    """`pylvs check` asks only for the converter's problems (problems_of, no pools built):
    the same problems to_spec reports, on every test config."""
    result = load_text(path.read_text(errors="replace"), str(path))
    with_spec, alone = Problems(), Problems()
    to_spec(result.config, with_spec, WHERE)
    problems_of(result.config, alone, WHERE)
    assert list(alone) == list(with_spec)


def test_problems_of_reports_a_vrrp_instance_that_cannot_run() -> None:
    result = load_text(
        textwrap.dedent(
            """
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                authentication {
                    auth_type AH
                    auth_pass secret
                }
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """
        ),
        "k.conf",
    )
    problems = Problems()
    problems_of(result.config, problems, WHERE)
    assert any("cannot run" in p.message for p in problems)
