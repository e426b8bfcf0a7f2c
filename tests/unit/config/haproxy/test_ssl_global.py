"""The global TLS keywords (config/haproxy/ssl_global.py): `ca-base` / `crt-base` resolve
the relative paths of the lines after them (bind `crt`, `ca-file`, a server's `crt` and
`ca-file`; a `crt-list`'s lines get them through the spec), the TLS 1.3 suites, curves and
DH settings reach model/tls.py's TlsDefaults, and bad values are HAProxy 2.6.12's errors
(messages captured from `haproxy -c`)."""

from __future__ import annotations

from pathlib import Path

from pylvs.config.errors import Kind, Problems
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts
from pylvs.model.proxy_spec import ProxiesSpec

D = "defaults\n mode tcp\n timeout connect 1s\n timeout client 2s\n timeout server 3s\n"
CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
DH = b"-----BEGIN DH PARAMETERS-----\nMIIB\n-----END DH PARAMETERS-----\n"
FILES = {
    "/etc/priv/site.pem": CERT + KEY,
    "/etc/certs/ca.pem": CERT,
    "/etc/certs/crl.pem": b"-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n",
    "/abs/site.pem": CERT + KEY,
    "/dh.pem": DH,
    "/list.txt": b"site.pem [ca-file ca.pem] www.example.com\n/abs/site.pem\n",
}
HOST = HostFacts(read_file=FILES.get, exists=lambda p: p in FILES)
BASES = "global\n ca-base /etc/certs\n crt-base /etc/priv\n"


def _spec(text: str) -> tuple[ProxiesSpec, list[str]]:
    r = load_text(text, "t.cfg", host=HOST)
    problems = Problems()
    spec = to_spec(r.config, problems).proxies
    said = [f"{p.loc.line}: {p.message}" for p in (*r.problems, *problems)]
    return spec, said


def test_relative_paths_are_read_under_ca_base_and_crt_base() -> None:
    spec, said = _spec(
        BASES + D + "frontend f\n bind :443 ssl crt site.pem crt /abs/site.pem ca-file ca.pem"
        " verify optional crt-list /list.txt\n default_backend b\n"
        "backend b\n server s 10.0.0.1:443 ssl crt site.pem ca-file ca.pem verify required\n"
    )
    assert said == []
    tls = spec.frontends[0].binds[0].tls
    assert tls is not None
    assert tls.certs == ("/etc/priv/site.pem", "/abs/site.pem")
    assert tls.ca_file == "/etc/certs/ca.pem"
    assert tls.crt_lists == ("/list.txt",)  # the list's own path is taken as written
    assert (tls.crt_base, tls.ca_base) == ("/etc/priv", "/etc/certs")
    server = spec.backends[0].servers[0].tls
    assert server is not None
    assert (server.crt, server.ca_file) == ("/etc/priv/site.pem", "/etc/certs/ca.pem")


def test_without_the_bases_relative_paths_stay_relative() -> None:
    spec, said = _spec(D + "frontend f\n bind :443 ssl crt /abs/site.pem crt-list /list.txt\n")
    assert said == []
    tls = spec.frontends[0].binds[0].tls
    assert tls is not None and (tls.crt_base, tls.ca_base) == (None, None)
    # the file is looked for where HAProxy looks: here, not under a base
    _, said = _spec(D + "frontend f\n bind :443 ssl crt site.pem\n")
    assert said == [
        "7: 'bind :443' in section 'frontend' : "
        "unable to stat SSL certificate from file 'site.pem' : No such file"
        " or directory."
    ]


def test_bad_global_tls_lines_are_haproxys_errors() -> None:
    cases = {
        "ca-base /a b": "'ca-base' cannot handle unexpected argument 'b'.",
        "crt-base /x\n crt-base /y": "'crt-base' already specified.",
        "tune.ssl.default-dh-param 512": "'tune.ssl.default-dh-param' expects a value >= 1024.",
        "tune.ssl.default-dh-param x": "'tune.ssl.default-dh-param' expects a value >= 1024.",
        "ssl-dh-param-file /none": (
            "'ssl-dh-param-file': unable to load DH parameters from file </none>."
        ),
        "ssl-default-bind-curves": (
            "global statement 'ssl-default-bind-curves' expects a curves suite as an arguments."
        ),
        "ssl-default-bind-ciphersuites": (
            "global statement 'ssl-default-bind-ciphersuites' expects a cipher suite as an"
            " argument."
        ),
        "ssl-default-server-ciphersuites A B": (
            "'ssl-default-server-ciphersuites' cannot handle unexpected argument 'B'."
        ),
    }
    for line, message in cases.items():
        r = load_text(f"global\n {line}\n", "t.cfg", host=HOST)
        assert [p.message for p in r.problems.errors] == [message], line


def test_tls_defaults_carry_suites_curves_and_dh() -> None:
    spec, said = _spec(
        "global\n ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256\n"
        " ssl-default-server-ciphersuites TLS_AES_256_GCM_SHA384\n"
        " ssl-default-bind-curves X25519:P-256\n ssl-dh-param-file /dh.pem\n"
        " tune.ssl.default-dh-param 2048\n" + D
        + "frontend f\n bind :443 ssl crt /abs/site.pem ciphersuites TLS_CHACHA20_POLY1305_SHA256"
        " curves P-384 ecdhe secp521r1\n default_backend b\n"
        "backend b\n server s 10.0.0.1:443 ssl verify none ciphersuites TLS_AES_128_GCM_SHA256\n"
    )  # fmt: skip
    assert said == []
    bind, server = spec.ssl_bind_defaults, spec.ssl_server_defaults
    assert (bind.ciphersuites, bind.curves) == ("TLS_AES_128_GCM_SHA256", "X25519:P-256")
    assert (bind.dh_param_file, bind.default_dh_param) == ("/dh.pem", 2048)
    assert (server.ciphersuites, server.curves, server.default_dh_param) == (
        "TLS_AES_256_GCM_SHA384", None, 0,
    )  # fmt: skip
    tls = spec.frontends[0].binds[0].tls
    assert tls is not None
    assert (tls.ciphersuites, tls.curves, tls.ecdhe) == (
        "TLS_CHACHA20_POLY1305_SHA256", "P-384", "secp521r1",
    )  # fmt: skip
    srv = spec.backends[0].servers[0].tls
    assert srv is not None and srv.ciphersuites == "TLS_AES_128_GCM_SHA256"


def test_debians_default_haproxy_cfg_checks_clean() -> None:
    """The file every apt user starts from (haproxy 2.6.12-1+deb12u4's
    /etc/haproxy/haproxy.cfg, copied in tests/data): no line pylvs does not act on."""
    text = (Path(__file__).parent / "data" / "debian-haproxy.cfg").read_text()
    r = load_text(text, "haproxy.cfg", host=HostFacts())
    problems = Problems()
    to_spec(r.config, problems)
    said = [p for p in (*r.problems, *problems) if p.kind in (Kind.UNSUPPORTED, Kind.CONFIG)]
    assert said == []


def test_verification_words_reach_the_specs() -> None:
    spec, said = _spec(
        BASES + D + "frontend f\n bind :443 ssl crt site.pem verify optional ca-file ca.pem"
        " crl-file crl.pem strict-sni no-ca-names ca-ignore-err all crt-ignore-err 10,+18x\n"
        " default_backend b\n"
        "backend b\n server s 10.0.0.1:443 ssl verify required ca-file ca.pem crl-file crl.pem"
        " verifyhost www.example.com check-sni chk.example.com check-alpn h2,http/1.1\n"
        " server t 10.0.0.2:443 no-tls-tickets tls-tickets ssl verify none\n"
        " server u 10.0.0.3:443 ssl tls-tickets verify none\n"
        " server v 10.0.0.4:443 ssl no-tls-tickets verify none\n"
    )
    assert said == []
    bind = spec.frontends[0].binds[0].tls
    assert bind is not None
    assert bind.crl_file == "/etc/certs/crl.pem"
    assert (bind.strict_sni, bind.no_ca_names) == (True, True)
    assert bind.ca_ignore_err == frozenset(range(95))
    assert bind.crt_ignore_err == frozenset({10, 18})  # atoi: "+18x" is 18
    s, t, u, v = (x.tls for x in spec.backends[0].servers)
    assert s is not None and t is not None and u is not None and v is not None
    assert (s.crl_file, s.verifyhost) == ("/etc/certs/crl.pem", "www.example.com")
    assert (s.check_sni, s.check_alpn) == ("chk.example.com", ("h2", "http/1.1"))
    # `tls-tickets` undoes the global `no-tls-tickets` only when said after `ssl`
    # (ssl_sock_init_srv lays the defaults on at `ssl`)
    assert [(x.tickets, x.no_tickets) for x in (t, u, v)] == [
        (False, False), (True, False), (False, True),
    ]  # fmt: skip


def test_bad_verification_values_are_haproxys_errors() -> None:
    cases = {
        "bind :443 ssl crt /abs/site.pem crt-ignore-err 0,2": (
            "'bind :443' in section 'frontend' : "
            "'crt-ignore-err' : ID '0' out of range (1..94) in error IDs list '0,2'"
        ),
        "bind :443 ssl crt /abs/site.pem ca-ignore-err 95": (
            "'bind :443' in section 'frontend' : "
            "'ca-ignore-err' : ID '95' out of range (1..94) in error IDs list '95'"
        ),
        "bind :443 ssl crt /abs/site.pem crl-file /none.pem": (
            "'bind :443' in section 'frontend' : 'crl-file' : unable to load /none.pem"
        ),
    }
    for line, message in cases.items():
        r = load_text(D + f"frontend f\n {line}\n", "t.cfg", host=HOST)
        assert [p.message for p in r.problems.errors] == [message], line


def test_process_tls_limits_are_read_as_haproxy_reads_them() -> None:
    spec, said = _spec(
        "global\n maxsslconn 100\n tune.ssl.cachesize 0\n tune.ssl.lifetime 1500ms\n" + D
    )
    assert said == []
    bind = spec.ssl_bind_defaults
    assert (bind.max_conns, bind.cache_size, bind.lifetime_s) == (100, 0, 2)  # rounded up
    cases = {
        "maxsslconn -1": "'maxsslconn' expects a positive numeric value.",
        "maxsslconn": "'maxsslconn' expects an integer argument.",
        "tune.ssl.lifetime 10x": "unexpected character 'x' in argument to <tune.ssl.lifetime>.",
    }
    for line, message in cases.items():
        r = load_text(f"global\n {line}\n", "t.cfg", host=HOST)
        assert [p.message for p in r.problems.errors] == [message], line
