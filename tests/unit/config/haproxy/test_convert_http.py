"""haproxy.cfg's `mode http` settings -> model/proxy_spec.HttpSpec, and what the HTTP runtime
does not apply yet reported where it is written (config/haproxy/convert_http.py)."""

from __future__ import annotations

from pylvs.config.errors import Kind, Problems
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.model.proxy_spec import ProxiesSpec

BASE = """\
defaults
    mode http
    timeout connect 4s
    timeout client 1m
    timeout server 2m
"""


def convert(text: str) -> tuple[ProxiesSpec, Problems]:
    result = load_text(BASE + text, "h.cfg")
    assert result.ok, [str(p) for p in result.problems]
    spec = to_spec(result.config, result.problems)
    return spec.proxies, result.problems


def test_connection_options_timeouts_and_reuse() -> None:
    spec, problems = convert(
        "frontend fe\n    bind 127.0.0.1:8000\n    option http-server-close\n"
        "    timeout http-request 5s\n    timeout http-keep-alive 2s\n    option dontlognull\n"
        "    option http-ignore-probes\n    default_backend be\n"
        "backend be\n    option httpclose\n    http-reuse always\n"
        "    option http-pretend-keepalive\n    server s 127.0.0.1:81\n"
    )
    fe = spec.frontend("fe")
    be = spec.backend("be")
    assert fe is not None and fe.http is not None and be is not None and be.http is not None
    assert (fe.http.conn_mode, fe.http.request_ms, fe.http.keep_alive_ms) == (
        "server-close",
        5000,
        2000,
    )
    assert fe.http.dontlognull and fe.http.ignore_probes
    assert (be.http.conn_mode, be.http.reuse, be.http.pretend_keepalive) == (
        "close",
        "always",
        True,
    )
    assert not problems.warnings


def test_defaults_are_haproxys() -> None:
    spec, _ = convert("listen app\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:81\n")
    be = spec.backend("app")
    assert be is not None and be.http is not None
    assert (be.http.conn_mode, be.http.reuse, be.http.request_ms) == ("keep-alive", "safe", None)


def test_http_reuse_is_inherited_from_defaults() -> None:
    """PR_O_REUSE_* are proxy options: a defaults section's `http-reuse` reaches its
    backends (proxy_defproxy_cpy); a backend's own wins."""
    spec, _ = convert(
        "defaults\n    mode http\n    http-reuse aggressive\n"
        "listen app\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:81\n"
        "backend own\n    http-reuse never\n    server s 127.0.0.1:82\n"
    )
    app, own = spec.backend("app"), spec.backend("own")
    assert app is not None and app.http is not None and own is not None and own.http is not None
    assert (app.http.reuse, own.http.reuse) == ("aggressive", "never")


def test_mode_tcp_proxies_have_no_http_part() -> None:
    spec, _ = convert(
        "listen app\n    mode tcp\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:81\n"
    )
    fe = spec.frontend("app")
    assert fe is not None and fe.http is None


def test_what_is_not_applied_yet_is_named_and_rules_are_not() -> None:
    _, problems = convert(
        "listen app\n    bind 127.0.0.1:8000\n"
        "    http-request set-header X-A 1\n"
        "    http-response del-header Server\n"
        "    use_backend other if { path_beg /x }\n"
        "    option http-buffer-request\n"
        "    capture cookie SID len 20\n"
        "    capture request header Host len 20\n"
        "    server s 127.0.0.1:81\n"
        "backend other\n    server s 127.0.0.1:82\n"
    )
    found = {w.message: w for w in problems.warnings}
    assert not any("http-buffer-request" in m or "capture" in m for m in found)  # applied
    assert not any("http-request" in m or "capture request" in m for m in found)
    assert not problems.errors  # an HTTP condition on use_backend: the rules engine's


def test_forwardfor_originalto_and_captures_reach_the_spec() -> None:
    spec, problems = convert(
        "frontend fe\n    bind 127.0.0.1:8000\n    option forwardfor except 10.0.0.0/8 if-none\n"
        "    option originalto header X-Dst\n    capture request header Host len 20\n"
        "    capture response header Server len 8\n    default_backend be\n"
        "backend be\n    option forwardfor header X-Client\n    server s 127.0.0.1:81\n"
    )
    fe, be = spec.frontend("fe"), spec.backend("be")
    assert fe is not None and fe.http is not None and be is not None and be.http is not None
    ff = fe.http.forwardfor
    assert ff is not None and ff.if_none and str(ff.except_net) == "10.0.0.0/8"
    assert fe.http.originalto is not None and fe.http.originalto.header == "X-Dst"
    assert be.http.forwardfor is not None and be.http.forwardfor.header == "X-Client"
    assert fe.http.request_captures == (("Host", 20),)
    assert fe.http.response_captures == (("Server", 8),)
    assert not problems.warnings


def test_balance_by_http_fields_is_fed_and_a_sample_hash_is_refused() -> None:
    _, problems = convert(
        "backend a\n    balance uri\n    server s 127.0.0.1:81\n"
        "backend b\n    balance hdr(host)\n    server s 127.0.0.1:81\n"
        "backend c\n    balance hash req.cook(x)\n    server s 127.0.0.1:81\n"
    )
    (err,) = problems.errors
    assert "balance hash" in err.message and err.kind is Kind.UNSUPPORTED


def test_capture_cookie_the_last_one_cut_below_the_pool() -> None:
    spec, problems = convert(
        "frontend fe\n    bind 127.0.0.1:8000\n    capture cookie SID len 10\n"
        "    capture cookie X len 64\n    default_backend be\n"
        "backend be\n    server s 127.0.0.1:81\n"
    )
    fe = spec.frontend("fe")
    assert fe is not None and fe.http is not None and fe.http.capture_cookie == ("X", 63)
    # haproxy 2.6.12 -c's words
    assert [w.message for w in problems.warnings] == [
        "truncating capture length to 63 bytes for frontend 'fe'."
    ]


def test_a_tcp_frontend_reaching_an_http_backend_is_served_as_http_with_no_warning() -> None:
    """Every tcp stream a switching rule sends to a mode http backend becomes HTTP (the
    runtime upgrades it as stream_set_backend does), so nothing is said about it."""
    _, problems = convert(
        "frontend served\n    mode tcp\n    bind 127.0.0.1:8000\n    default_backend web\n"
        "frontend mixed\n    mode tcp\n    bind 127.0.0.1:8001\n    default_backend raw\n"
        "    use_backend web if { src 10.0.0.0/8 }\n"
        "frontend inspected\n    mode tcp\n    bind 127.0.0.1:8002\n"
        "    tcp-request content accept\n    default_backend web\n"
        "backend web\n    mode http\n    server s 127.0.0.1:81\n"
        "backend raw\n    mode tcp\n    server s 127.0.0.1:82\n"
    )
    assert problems.warnings == []


def test_splice_options_and_the_global_splicing_settings() -> None:
    """`option splice-request|splice-response|splice-auto` reach each proxy's HttpSpec;
    `nosplice`, `maxpipes` and `tune.pipesize` the runtime's spec (0: the defaults)."""
    result = load_text(
        "global\n    nosplice\n    maxpipes 7\n    tune.pipesize 131072\n"
        + BASE
        + "    option splice-auto\n"
        "frontend fe\n    bind 127.0.0.1:8000\n    option splice-request\n    default_backend be\n"
        "backend be\n    option splice-response\n    no option splice-auto\n"
        "    server s 127.0.0.1:81\n",
        "h.cfg",
    )
    assert result.ok, [str(p) for p in result.problems]
    spec = to_spec(result.config, result.problems).proxies
    fe, be = spec.frontend("fe"), spec.backend("be")
    assert fe is not None and fe.http is not None and be is not None and be.http is not None
    assert (fe.http.splice_request, fe.http.splice_response, fe.http.splice_auto) == (
        True, False, True,
    )  # fmt: skip
    assert (be.http.splice_request, be.http.splice_response, be.http.splice_auto) == (
        False, True, False,
    )  # fmt: skip
    assert (spec.splice, spec.maxpipes, spec.pipesize) == (False, 7, 131072)
    assert not result.problems.warnings
    plain, _ = convert("frontend fe\n    bind 127.0.0.1:8000\n    default_backend be\n"
                       "backend be\n    server s 127.0.0.1:81\n")  # fmt: skip
    assert (plain.splice, plain.maxpipes, plain.pipesize) == (True, 0, 0)
