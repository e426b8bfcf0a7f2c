"""Several configurations as one director (`pylvs run -f keepalived.conf -f haproxy.cfg`):
each file read by its own format, haproxy.cfg files together, the specs merged."""

from pathlib import Path

from pylvs.config.registry import CombinedSource, LoadOptions, merge, source_for_all
from pylvs.model.director import DirectorSpec, GlobalSpec

KEEPALIVED = """global_defs {
    router_id lb1
}
virtual_server 10.0.0.1 80 {
    lb_algo rr
    protocol TCP
    real_server 10.0.1.1 80 {
        weight 1
    }
}
"""
DEFAULTS = (
    "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
)
LISTEN = "listen app\n    bind 127.0.0.1:8080\n    server s1 127.0.0.1:9001\n"


def test_a_keepalived_conf_and_two_haproxy_files_make_one_director(tmp_path: Path) -> None:
    ka, ha1, ha2 = tmp_path / "keepalived.conf", tmp_path / "a.cfg", tmp_path / "b.cfg"
    ka.write_text(KEEPALIVED)
    ha1.write_text(DEFAULTS)  # the second file's proxy inherits these defaults
    ha2.write_text(LISTEN + "    bogus_keyword\n")
    source = source_for_all([str(ka), str(ha1), str(ha2)])
    assert isinstance(source, CombinedSource)
    loaded = source.load(str(ka))
    assert [p.id for p in loaded.spec.pools] and loaded.spec.globals.router_id == "lb1"
    assert [b.name for b in loaded.spec.proxies.backends] == ["app"]
    errors = [str(p) for p in loaded.problems.errors]
    assert any(e.startswith(f"{ha2}:4:") for e in errors), errors


def test_one_file_is_its_own_format_s_source(tmp_path: Path) -> None:
    ka = tmp_path / "keepalived.conf"
    ka.write_text(KEEPALIVED)
    assert not isinstance(source_for_all([str(ka)]), CombinedSource)


def test_a_second_keepalived_conf_is_an_error_at_its_first_line(tmp_path: Path) -> None:
    a, b = tmp_path / "a.conf", tmp_path / "b.conf"
    a.write_text(KEEPALIVED)
    b.write_text(KEEPALIVED)
    loaded = CombinedSource((str(a), str(b)), LoadOptions()).load(str(a))
    assert [str(p) for p in loaded.problems.errors] == [
        f"{b}:1:1: error: a second keepalived configuration ({a} is one): one daemon runs "
        "one, as keepalived does"
    ]


def test_merge_joins_lists_and_takes_each_part_from_the_spec_that_sets_it() -> None:
    a = DirectorSpec(globals=GlobalSpec(router_id="a"))
    b = DirectorSpec(globals=GlobalSpec(router_id="b"))
    assert merge([a, b]).globals.router_id == "a"  # set by both: the first one's
    assert merge([DirectorSpec(), b]).globals.router_id == "b"
    assert merge([]) == DirectorSpec()
    # The globals field by field: keepalived.conf's router_id beside haproxy.cfg's pylvs-http.
    c = DirectorSpec(globals=GlobalSpec(http="127.0.0.1:9180"))
    both = merge([a, c]).globals
    assert (both.router_id, both.http) == ("a", "127.0.0.1:9180")


def test_haproxy_cfg_pylvs_http_reaches_the_combined_director(tmp_path: Path) -> None:
    ka, ha = tmp_path / "keepalived.conf", tmp_path / "haproxy.cfg"
    ka.write_text(KEEPALIVED)
    ha.write_text("global\n    pylvs-http 127.0.0.1:9180\n" + DEFAULTS + LISTEN)
    loaded = source_for_all([str(ka), str(ha)]).load(str(ka))
    assert not loaded.problems.has_errors(), [str(p) for p in loaded.problems]
    assert loaded.spec.globals.router_id == "lb1"
    assert loaded.spec.globals.http == "127.0.0.1:9180"


VRRP = """vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.168.8.248/24
    }
}
"""


def test_a_frontend_on_a_vip_binds_freely_the_others_as_written(tmp_path: Path) -> None:
    """Seed 004: `listen Exchange2010` binds the VIP; on the backup it must start anyway."""
    ka, ha = tmp_path / "keepalived.conf", tmp_path / "haproxy.cfg"
    ka.write_text(VRRP)
    ha.write_text(
        DEFAULTS
        + "frontend vip\n    bind 192.168.8.248:25\n    bind 127.0.0.1:2525\n"
        + "    default_backend b\nbackend b\n    server s1 127.0.0.1:9001\n"
    )
    loaded = source_for_all([str(ka), str(ha)]).load(str(ka))
    assert not loaded.problems.has_errors(), [str(p) for p in loaded.problems]
    (fe,) = loaded.spec.proxies.frontends
    assert [(str(b.addresses[0]), b.transparent) for b in fe.binds] == [
        ("192.168.8.248:25", True),
        ("127.0.0.1:2525", False),
    ]
