"""Issue 18 #14-15: hostile values and lines get located problems, in time linear in the input."""

from __future__ import annotations

from pylvs.config.errors import Severity
from pylvs.config.keepalived.parser import load_text
from pylvs.config.keepalived.preprocess import MAX_GENERATED


def test_interval_1e308_is_a_located_error() -> None:
    text = 'vrrp_script chk {\n    script "/bin/true"\n    interval 1e308\n}\n'
    r = load_text(text, "k.conf", config_id="node")
    errors = [(p.loc.line, p.loc.col, p.message) for p in r.problems.errors]
    assert errors == [(3, 14, "(chk): vrrp script interval: invalid number '1e308'")]
    assert r.config.vrrp.scripts[0].interval == 1.0  # the default kept, as keepalived does


def test_a_line_of_32000_braces_is_read_and_reported() -> None:
    r = load_text("{ " * 32_000 + "\n", "b.conf", config_id="node")
    msgs = {p.message for p in r.problems}
    assert msgs == {"Unexpected '{'", "'{' is not closed: missing '}'"}
    assert {p.loc.line for p in r.problems} == {1}


def test_nested_blocks_on_one_line_keep_their_columns() -> None:
    text = "virtual_server 10.0.0.1 80 {\nprotocol TCP\n  real_server 10.0.0.2 80 { weight x }}\n"
    r = load_text(text, "one.conf", config_id="node")
    (vs,) = r.config.virtual_servers
    assert (vs.loc.col, vs.real_servers[0].loc.col) == (1, 3)
    (p,) = r.problems.errors
    assert (p.loc.line, p.loc.col) == (3, 36)  # the 'x' of weight


def test_a_generator_that_would_expand_to_gigabytes_is_refused() -> None:
    line = "~SEQ(i,1,100000) virtual_server 10.0.0.$i 80 { " + "lb_algo rr " * 3000 + "}\n"
    r = load_text(line, "seq.conf", config_id="node")
    (p,) = [p for p in r.problems if p.severity is Severity.ERROR]
    assert p.loc.line == 1 and "would generate" in p.message
    assert f"{MAX_GENERATED // (1024 * 1024)} MiB" in p.message
    assert r.config.virtual_servers == ()


def test_a_sensible_generator_still_runs() -> None:
    text = (
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n"
        "~SEQ(i,1,250) real_server 10.1.0.$i 80 { weight 1 }\n}\n"
    )
    r = load_text(text, "gen.conf", config_id="node")
    assert not r.problems.has_errors(), [str(p) for p in r.problems]
    assert len(r.config.virtual_servers[0].real_servers) == 250
