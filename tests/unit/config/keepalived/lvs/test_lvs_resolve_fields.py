"""resolve.py builds VirtualServerConf, RealServerConf and RealServer, resolve_checks.py a
checker's CheckTiming and Connection positionally (keyword arguments cost a big file ~1 us a
virtual server): every field gets its own value.

A virtual server (a checker) sets every field it can to a value no other field of its type has; the
result is compared field by field, by name, with what the configuration says, so two values
passed in each other's place fail.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from pylvs.config.keepalived.lvs.checks import CheckTiming, Connection, Script, TcpCheck
from pylvs.model.service import (
    AF_INET,
    ForwardMethod,
    Protocol,
    ServiceFlags,
    TunnelCsum,
    TunnelParams,
    TunnelType,
)
from tests.unit.config.keepalived.lvs.lvs_helpers import vs

CONFIG = """
virtual_server 10.0.0.1 80 {
    delay_loop 7
    lvs_sched sh
    sh-port
    lvs_method TUN type gue port 6080 csum
    protocol TCP
    persistence_timeout 300
    persistence_granularity 255.255.255.0
    persistence_engine sip
    connect_timeout 4
    retry 11
    delay_before_retry 2
    warmup 9
    quorum 2
    hysteresis 1
    quorum_up /bin/up
    quorum_down /bin/down
    alpha
    omega
    ha_suspend
    inhibit_on_failure
    virtualhost vs.example
    smtp_alert
    weight 5
    real_server 10.0.1.1 80 {
        weight 6
        uthreshold 100
        lthreshold 50
        inhibit_on_failure off
        alpha off
        smtp_alert off
        virtualhost rs.example
        connect_timeout 13
        delay_loop 17
        retry 19
        delay_before_retry 23
        warmup 29
        notify_up /bin/rs-up
        notify_down /bin/rs-down
    }
}
"""


def fields(value: object) -> dict[str, object]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]


def script(conf_fields: dict[str, object], name: str) -> tuple[str, ...] | None:
    value = conf_fields.pop(name)
    assert isinstance(value, Script), name
    return value.argv


def test_every_virtual_server_field_has_its_own_value() -> None:
    conf, _ = vs(CONFIG)
    got = fields(conf)
    tunnel = TunnelParams(TunnelType.GUE, 6080, TunnelCsum.CSUM)
    assert script(got, "quorum_up") == ("/bin/up",)
    assert script(got, "quorum_down") == ("/bin/down",)
    assert got.pop("loc").line == 2  # type: ignore[attr-defined]
    assert len(got.pop("real_servers")) == 1  # type: ignore[arg-type]
    assert got == {
        "address": ipaddress.ip_address("10.0.0.1"),
        "port": 80,
        "fwmark": None,
        "group": None,
        "protocol": Protocol.TCP,
        "af": AF_INET,
        "scheduler": "sh",
        "flags": ServiceFlags.SCHED2,
        "persistence_timeout": 300,
        "persistence_granularity": 24,
        "persistence_engine": "sip",
        "method": ForwardMethod.TUNNEL,
        "tunnel": tunnel,
        "sorry_server": None,
        "delay_loop": 7.0,
        "connect_timeout": 4.0,
        "retry": 11,
        "delay_before_retry": 2.0,
        "warmup": 9.0,
        "quorum": 2,
        "hysteresis": 1,
        "alpha": True,
        "omega": True,
        "ha_suspend": True,
        "inhibit_on_failure": True,
        "virtualhost": "vs.example",
        "smtp_alert": True,
        "weight": 5,
    }


def test_every_real_server_field_has_its_own_value() -> None:
    conf, _ = vs(CONFIG)
    got = fields(conf.real_servers[0])
    assert script(got, "notify_up") == ("/bin/rs-up",)
    assert script(got, "notify_down") == ("/bin/rs-down",)
    assert got.pop("loc").line == 26  # type: ignore[attr-defined]
    server = fields(got.pop("server"))
    assert got == {
        "checkers": (),
        "inhibit_on_failure": False,
        "alpha": False,
        "smtp_alert": False,
        "virtualhost": "rs.example",
        "connect_timeout": 13.0,
        "delay_loop": 17.0,
        "retry": 19,
        "delay_before_retry": 23.0,
        "warmup": 29.0,
    }
    assert server == {
        "address": ipaddress.ip_address("10.0.1.1"),
        "port": 80,
        "weight": 6,
        "method": ForwardMethod.TUNNEL,
        "u_threshold": 100,
        "l_threshold": 50,
        "tunnel": TunnelParams(TunnelType.GUE, 6080, TunnelCsum.CSUM),
    }


CHECKER = """
virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.1.1 80 {
        TCP_CHECK {
            connect_ip 10.0.2.2
            connect_port 8081
            bindto 10.0.3.3
            bind_port 9091
            bind_if eth7
            connect_timeout 31
            fwmark 37
            retry 41
            delay_before_retry 43
            warmup 47
            delay_loop 53
            alpha
            log_all_failures
        }
    }
}
"""


def test_every_checker_timing_and_connection_field_has_its_own_value() -> None:
    conf, _ = vs(CHECKER)
    (check,) = conf.real_servers[0].checkers
    assert isinstance(check, TcpCheck)
    assert (check.loc.line, check.timing, check.conn) == (
        7,
        CheckTiming(
            retry=41,
            delay_before_retry=43.0,
            warmup=47.0,
            delay_loop=53.0,
            alpha=True,
            log_all_failures=True,
        ),
        Connection(
            ip=ipaddress.ip_address("10.0.2.2"),
            port=8081,
            timeout=31.0,
            bindto=ipaddress.ip_address("10.0.3.3"),
            bind_port=9091,
            bind_if="eth7",
            fwmark=37,
        ),
    )
