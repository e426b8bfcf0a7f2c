"""The top-level dispatcher `parser.load` / `load_text` and `to_table` on the seed configs."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pylvs.config.errors import Severity
from pylvs.config.keepalived.lvs.checks import TcpCheck
from pylvs.config.keepalived.parser import load, load_text
from pylvs.config.keepalived.table import to_table
from pylvs.model import ForwardMethod, Protocol, ServiceKey

DATA = Path(__file__).resolve().parents[3] / "data" / "keepalived"
SEEDS = sorted((DATA / "seeds").glob("*.keepalived.conf"))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_configs_have_no_errors(path: Path) -> None:
    r = load(str(path), config_id="node")
    assert [str(p) for p in r.problems.errors] == []


def test_seed000_master_table() -> None:
    r = load(str(DATA / "seeds" / "seed000-master.keepalived.conf"))
    table = to_table(r.config)
    key = ServiceKey.inet(Protocol.TCP, "61.164.122.8", 80)
    assert list(table) == [key]
    svc = table[key].service
    # ipvsadm -ln: "TCP 61.164.122.8:80 wrr persistent 60", two Route dests of weight 3
    assert svc.scheduler == "wrr" and svc.persistent and svc.timeout == 60
    assert [(str(d), d.weight, d.method) for d in table[key].dests] == [
        ("61.164.122.9:80", 3, ForwardMethod.ROUTE),
        ("61.164.122.10:80", 3, ForwardMethod.ROUTE),
    ]
    (vs,) = r.config.virtual_servers
    check = vs.real_servers[0].checkers[0]
    assert isinstance(check, TcpCheck)
    # TCP_CHECK: connect_timeout 10, nb_get_retry 3 (alias of retry), delay_before_retry 3
    assert check.conn.timeout == 10.0 and check.conn.port == 80
    assert check.timing.retry == 3 and check.timing.delay_before_retry == 3.0
    assert check.timing.delay_loop == 6.0


def test_seed001_lvs_dr_table_and_warnings() -> None:
    r = load(str(DATA / "seeds" / "seed001-lvs-dr.keepalived.conf"))
    (entry,) = to_table(r.config).values()
    assert str(entry.service.key) == "TCP 192.168.182.100:80"
    assert entry.service.scheduler == "rr" and not entry.service.persistent
    warned = {(p.loc.line, p.message.split(" ")[0]) for p in r.problems.warnings}
    assert (44, "Unknown") in warned  # nat_mask
    assert (45, "persistence_timeout") in warned
    assert (56, "'nb_get_retry'") in warned


def test_seed004_has_no_virtual_servers() -> None:
    r = load(str(DATA / "seeds" / "seed004.keepalived.conf"))
    assert r.config.virtual_servers == ()
    assert len(to_table(r.config)) == 0
    assert r.config.vrrp.instances[0].name == "VI_1"


def test_unknown_top_level_keyword_is_a_warning() -> None:
    r = load_text("foo_bar 1\nvirtual_server_group G {\n 10.0.0.1 80\n}\n", "t.conf")
    (p,) = list(r.problems)
    assert (p.loc.line, p.loc.col, p.severity) == (1, 1, Severity.WARNING)
    assert p.message == "Unknown keyword 'foo_bar'"
    assert r.config.virtual_server_groups[0].name == "G"


def test_problem_inside_include_is_located_in_the_included_file(tmp_path: Path) -> None:
    inc = tmp_path / "vs.conf"
    inc.write_text(
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched bogus\n"
        " real_server 10.1.1.1 80 {\n }\n}\n"
    )
    main = tmp_path / "keepalived.conf"
    main.write_text("global_defs {\n router_id X\n}\ninclude vs.conf\n")
    r = load(str(main))
    (e,) = r.problems.errors
    assert (e.loc.file, e.loc.line, e.loc.col) == (str(inc), 3, 12)
    assert r.config.virtual_servers[0].address == ipaddress.ip_address("10.0.0.1")


@pytest.mark.parametrize(
    "text",
    ["}", "{", "virtual_server", "virtual_server {\n}", "real_server 1.2.3.4 {\n}", "\x00\xff"],
)
def test_garbage_gives_problems_not_exceptions(text: str) -> None:
    r = load_text(text, "g.conf")
    assert r.problems.has_errors() or r.problems.warnings
    assert not any("internal error" in p.message for p in r.problems)


def test_missing_file_is_an_error() -> None:
    r = load("/nonexistent/keepalived.conf")
    assert r.problems.has_errors()
    assert r.config.virtual_servers == ()


def test_all_checkers_config_values_and_table() -> None:
    r = load(str(DATA / "lvs" / "all-checkers.conf"))
    assert list(r.problems) == []
    assert r.config.ssl is not None and r.config.ssl.password == "secret"
    grp_vs, _fwm_vs = r.config.virtual_servers
    kinds = [[c.KIND for c in rs.checkers] for rs in grp_vs.real_servers]
    assert kinds == [
        ["HTTP_GET", "SMTP_CHECK", "DNS_CHECK", "FILE_CHECK"],
        ["HTTP_GET", "UDP_CHECK", "PING_CHECK"],  # SSL_GET shares HttpCheck (ssl=True)
    ]
    table = to_table(r.config)
    # 3 addresses of the range + 2 of the /31 + the group's fwmark 7, then fwmark 9
    assert [str(k) for k in table] == [
        "TCP 192.168.10.1:80",
        "TCP 192.168.10.2:80",
        "TCP 192.168.10.3:80",
        "TCP 192.168.20.0:8080",
        "TCP 192.168.20.1:8080",
        "FWM 7",
        "FWM 9",
    ]
    svc = table[ServiceKey.inet(Protocol.TCP, "192.168.10.2", 80)].service
    assert svc.scheduler == "sh" and svc.sched_flag_names() == ["sh-port"]
    assert svc.persistent and svc.timeout == 600
    # fwmark 9, DR, real server without port: port stays 0 (fwmark rule)
    (dest,) = table[ServiceKey.mark(9)].dests
    assert (str(dest.address), dest.port, dest.method) == ("10.0.0.3", 0, ForwardMethod.ROUTE)
