"""The TLS words of `bind` and `server` lines (config/haproxy/ssl_options.py): read into
model/tls.py's specs in HAProxy's order, their values checked with HAProxy 2.6.12's
messages at the value's line and column, certificate and CA files checked where the host
lets the reader read them."""

from __future__ import annotations

from pylvs.config.errors import Problems
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts
from pylvs.model.proxy_spec import ProxiesSpec

D = "defaults\n mode tcp\n timeout connect 1s\n timeout client 2s\n timeout server 3s\n"
CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
FILES = {"/both.pem": CERT + KEY, "/cert.pem": CERT, "/junk.pem": b"junk\n", "/ca.pem": CERT}
HOST = HostFacts(read_file=FILES.get, exists=lambda p: p in FILES)


def _spec(text: str) -> tuple[ProxiesSpec, list[str]]:
    r = load_text(D + text, "t.cfg", host=HOST)
    problems = Problems()
    spec = to_spec(r.config, problems).proxies
    said = [f"{p.loc.line}:{p.loc.col}: {p.message}" for p in (*r.problems, *problems)]
    return spec, said


def test_a_bind_with_ssl_gets_its_certificates_and_settings() -> None:
    spec, said = _spec(
        "frontend f\n bind :443 ssl crt /both.pem crt /cert.pem alpn h2,http/1.1"
        " ssl-min-ver TLSv1.2 verify optional ca-file /ca.pem ciphers HIGH\n bind :80\n"
    )
    assert said == [
        "7:34: 'bind :443' in section 'frontend' : No Private Key found in '/cert.pem.key'."
    ]
    spec, said = _spec(
        "frontend f\n bind :443 ssl crt /both.pem alpn h2,http/1.1"
        " ssl-min-ver TLSv1.2 verify optional ca-file /ca.pem ciphers HIGH\n bind :80\n"
    )
    assert said == []
    tls = spec.frontends[0].binds[0].tls
    assert tls is not None
    assert tls.certs == ("/both.pem",)
    assert tls.alpn == ("h2", "http/1.1")
    assert (tls.min_ver, tls.verify, tls.ca_file, tls.ciphers) == (
        "TLSv1.2", "optional", "/ca.pem", "HIGH",
    )  # fmt: skip
    assert spec.frontends[0].binds[1].tls is None


def test_bad_bind_values_are_located_errors_in_haproxys_words() -> None:
    cases = {
        "bind :443 ssl crt /junk.pem": (
            "7:20: 'bind :443' in section 'frontend' : "
            "unable to load certificate from file '/junk.pem'."
        ),
        "bind :443 ssl crt /none.pem": (
            "7:20: 'bind :443' in section 'frontend' : "
            "unable to stat SSL certificate from file '/none.pem' : No"
            " such file or directory."
        ),
        "bind :443 ssl crt /both.pem verify bogus": (
            "7:37: 'bind :443' in section 'frontend' : "
            "'verify' : unknown verify method 'bogus', only 'none',"
            " 'optional', and 'required' are supported"
        ),
        "bind :443 ssl crt /both.pem ssl-max-ver TLSv9": (
            "7:42: 'bind :443' in section 'frontend' : 'TLSv9' : unknown ssl/tls version"
        ),
        "bind :443 ssl crt /both.pem ca-file /junk.pem": (
            "7:38: 'bind :443' in section 'frontend' : 'ca-file' : unable to load /junk.pem"
        ),
        "bind :443 ssl crt": (
            "7:16: 'bind :443' in section 'frontend' : 'crt' : missing certificate location"
        ),
    }
    for line, message in cases.items():
        _got, said = _spec(f"frontend f\n {line}\n")
        assert said == [message], line


def test_a_server_takes_ssl_from_the_default_server_above_it_only() -> None:
    """HAProxy applies a default-server as it stands at the server line; `no-ssl` after an
    inherited `ssl` leaves the TLS settings prepared (`set server ssl on` may use them) but
    off (srv_use_ssl -1)."""
    spec, said = _spec(
        "global\n ssl-server-verify none\n"
        "backend b\n server a 127.0.0.1:1 no-ssl\n default-server ssl alpn h2\n"
        " server b 127.0.0.1:1 no-ssl\n server c 127.0.0.1:1 sni str(x.example) crt /both.pem\n"
        " server d 127.0.0.1:1\n"
    )
    assert said == []
    got = {s.name: (s.use_ssl, s.tls is not None) for s in spec.backends[0].servers}
    assert got == {"a": (-1, False), "b": (-1, True), "c": (1, True), "d": (1, True)}
    c = spec.backends[0].servers[2].tls
    assert c is not None
    assert (c.sni, c.crt, c.alpn) == ("str(x.example)", "/both.pem", ("h2",))
    assert spec.ssl_server_verify == "none"


def test_verifying_a_server_without_a_ca_file_is_refused() -> None:
    _s, said = _spec("backend b\n server s 127.0.0.1:1 ssl\n")
    assert len(said) == 1
    assert said[0].startswith(
        "7:2: 'server b/s' : verify is enabled by default but no CA file specified."
    )
    # the words follow the global ssl-server-verify (ssl_sock.c), not the server's `verify`
    _s, said = _spec("backend b\n server s 127.0.0.1:1 ssl verify required\n")
    assert said[0].startswith("7:2: 'server b/s' : verify is enabled by default")
    plain = (
        "global\n ssl-server-verify none\nbackend b\n server s 127.0.0.1:1 ssl verify required\n"
    )
    _s, said = _spec(plain)
    assert said == ["9:2: 'server b/s' : verify is enabled but no CA file specified."]
    _s, said = _spec("backend b\n server s 127.0.0.1:1 ssl verify required ca-file /ca.pem\n")
    assert said == []
    _s, said = _spec("backend b\n server s 127.0.0.1:1 ssl verify maybe\n")
    assert said == [
        "7:34: 'server b/s' : 'verify' : unknown verify method 'maybe', only 'none' and"
        " 'required' are supported."
    ]
    _s, said = _spec("global\n ssl-server-verify sometimes\n")
    assert said == ["7:2: 'ssl-server-verify' expects 'none' or 'required' as argument."]


def test_check_ssl_and_the_checks_of_a_tls_server() -> None:
    """src/check.c: checks to the server's own address use its TLS; `check-ssl` forces it;
    checks with their own `port` do not inherit it."""
    from pylvs.config.haproxy import ssl_options

    ssl_on = (("ssl", ()), ("verify", ("none",)))
    assert ssl_options.check_tls(ssl_on, own=False) is not None
    assert ssl_options.check_tls(ssl_on, own=True) is None
    assert ssl_options.check_tls((*ssl_on, ("check-ssl", ())), own=True) is not None
    assert ssl_options.check_tls((("no-ssl", ()),), own=False) is None


def test_an_sni_expression_pylvs_does_not_evaluate_is_warned() -> None:
    _s, said = _spec(
        "global\n ssl-server-verify none\nbackend b\n server a 127.0.0.1:1 ssl sni ssl_fc_sni\n"
        " server b 127.0.0.1:1 ssl sni req.hdr(host)\n server c 127.0.0.1:1 ssl sni str(x)\n"
        " server d 127.0.0.1:1 ssl sni fc_dst\n"
    )
    assert said == [
        "12:31: 'server b/d' : 'sni fc_dst' : pylvs sends the name of `sni str(NAME)`,"
        " `sni ssl_fc_sni` and `sni req.hdr(host)` only; this expression is not evaluated"
        " (no SNI is sent)"
    ]


def test_version_and_ticket_words_on_binds_and_servers() -> None:
    spec, said = _spec(
        "frontend f\n bind :443 ssl crt /both.pem no-tlsv13 no-tls-tickets prefer-client-ciphers\n"
        " bind :444 ssl crt /both.pem force-tlsv12\n"
        "backend b\n server s 127.0.0.1:1 ssl verify none no-tlsv10 force-tlsv13\n"
    )
    assert said == []
    a, b = (x.tls for x in spec.frontends[0].binds)
    assert a is not None and b is not None
    assert (a.no_versions, a.no_tickets, a.prefer_client_ciphers) == (
        frozenset({"TLSv1.3"}), True, True,
    )  # fmt: skip
    assert (b.min_ver, b.max_ver, b.no_versions) == ("TLSv1.2", "TLSv1.2", frozenset())
    s = spec.backends[0].servers[0].tls
    assert s is not None
    assert (s.min_ver, s.max_ver, s.no_versions) == ("TLSv1.3", "TLSv1.3", frozenset({"TLSv1.0"}))


def test_the_global_ssl_defaults_for_binds_and_servers() -> None:
    spec, said = _spec(
        "global\n ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256\n"
        " ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets prefer-client-ciphers\n"
        " ssl-default-server-ciphers HIGH\n"
        " ssl-default-server-options no-tlsv10 force-tlsv12\n"
        "frontend f\n bind :443 ssl crt /both.pem\n"
    )
    assert said == []
    bind = spec.ssl_bind_defaults
    assert (bind.ciphers, bind.min_ver, bind.max_ver) == (
        "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2", None,
    )  # fmt: skip
    assert bind.no_tickets and bind.prefer_client_ciphers
    srv = spec.ssl_server_defaults
    assert (srv.ciphers, srv.min_ver, srv.max_ver) == ("HIGH", "TLSv1.2", "TLSv1.2")
    assert srv.no_versions == frozenset({"TLSv1.0"}) and not srv.no_tickets


def test_bad_global_ssl_defaults_are_haproxys_errors() -> None:
    cases = {
        "ssl-default-bind-options bogus": (
            "unknown option 'bogus' on global statement 'ssl-default-bind-options'."
        ),
        "ssl-default-bind-options": (
            "global statement 'ssl-default-bind-options' expects an option as an argument."
        ),
        "ssl-default-bind-options ssl-min-ver TLSv9": (
            "'TLSv9' : unknown ssl/tls version on global statement 'ssl-default-bind-options'."
        ),
        "ssl-default-server-options ssl-max-ver": (
            "'ssl-max-ver' : missing the ssl/tls version on global statement"
            " 'ssl-default-server-options'."
        ),
        "ssl-default-server-options prefer-client-ciphers": (
            "unknown option 'prefer-client-ciphers' on global statement"
            " 'ssl-default-server-options'."
        ),
        "ssl-default-bind-ciphers": (
            "global statement 'ssl-default-bind-ciphers' expects a cipher suite as an argument."
        ),
        "ssl-default-server-ciphers A B": (
            "'ssl-default-server-ciphers' cannot handle unexpected argument 'B'."
        ),
    }
    for line, message in cases.items():
        spec, said = _spec(f"global\n {line}\nfrontend f\n bind :80\n")
        assert [s.split(": ", 1)[1] for s in said] == [message], line
        assert spec.ssl_bind_defaults == spec.ssl_server_defaults


def test_no_ssl_reuse_and_ssl_reuse_the_later_word_wins() -> None:
    spec, said = _spec(
        "backend b\n default-server ssl verify none no-ssl-reuse\n server a 127.0.0.1:1\n"
        " server b 127.0.0.1:2 ssl-reuse\n server c 127.0.0.1:3 ssl verify none\n"
    )
    assert said == []
    got = [s.tls.no_reuse for s in spec.backends[0].servers if s.tls is not None]
    assert got == [True, False, True]
