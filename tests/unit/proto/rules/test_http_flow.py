"""The HTTP rule phases beyond the recorded corpus: tarpit, wait-for-body, failed rewrites and
strict-mode, after-response failures, reject and silent-drop, use-service, use-server, the
response side hiding the request, yields that resume at their rule."""

from __future__ import annotations

from pylvs.proto.rules import http_flow
from pylvs.proto.rules.commands import LogFailedRewrite, SendEarlyHint, SetLogLevel, SetMark
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.replies import ErrorMessage, ErrorPages, Response, build
from pylvs.proto.rules.ruleset import Drop, Go, Respond, Service, Tarpit, Wait
from pylvs.proto.sample import HttpMessage
from tests.unit.proto.rules.rules_helpers import compiled, stream
from tests.unit.proto.sample.sample_helpers import run

GET = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"


def fe(*lines: str, extra: str = "") -> str:
    body = "".join(f"  {line}\n" for line in lines)
    return f"frontend fe\n  bind :8080\n{body}  default_backend be\n{extra}" + (
        "backend be\n  server s1 127.0.0.1:9\n" if "backend be\n" not in extra else ""
    )


def test_tarpit_holds_the_client_for_timeout_tarpit_then_answers_500() -> None:
    r = compiled(fe("timeout tarpit 2s", "http-request tarpit"))
    t = stream(r, "fe", GET, now=10.0)
    v = http_flow.request(t, r.proxies)
    assert isinstance(v, Tarpit)
    assert v.until == 12.0
    assert v.response.head.status == 500


def test_tarpit_without_timeout_tarpit_uses_timeout_connect_which_frontends_lack() -> None:
    listen = "listen li\n  bind :8081\n  http-request tarpit deny_status 403\n"
    listen += "  server s1 127.0.0.1:9\n"
    r = compiled(fe("http-request tarpit", extra=listen))
    v = http_flow.request(stream(r, "li", GET, now=1.0), r.proxies)
    assert isinstance(v, Tarpit) and v.until == 2.0 and v.response.head.status == 403
    v = http_flow.request(stream(r, "fe", GET, now=1.0), r.proxies)
    assert isinstance(v, Tarpit) and v.until == 1.0


def test_wait_for_body_yields_until_the_body_then_resumes_at_that_rule() -> None:
    r = compiled(
        fe(
            "http-request add-header X-Once 1",
            "http-request wait-for-body time 1s",
            "http-request set-header X-Len %[req.body_len]",
        )
    )
    t = stream(r, "fe", b"POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\n", now=5.0)
    t.req_body_done = False
    t.stream.req_body = b"ab"
    v = http_flow.request(t, r.proxies)
    assert v == Wait(6.0)
    t.stream.req_body, t.req_body_done = b"abcd", True
    v = http_flow.request(t, r.proxies)
    assert isinstance(v, Go)
    req = t.stream.request
    assert req is not None
    assert req.values(b"x-once") == [b"1"]  # the rules before the yield did not run again
    assert req.first(b"x-len") == b"4"


def test_wait_for_body_times_out_with_408() -> None:
    r = compiled(fe("http-request wait-for-body time 1s at-least 10"))
    t = stream(r, "fe", b"POST /x HTTP/1.1\r\nContent-Length: 40\r\n\r\n", now=0.0)
    t.req_body_done = False
    assert isinstance(http_flow.request(t, r.proxies), Wait)
    t.stream.now = 1.5
    v = http_flow.request(t, r.proxies)
    assert isinstance(v, Respond) and v.response.head.status == 408


def test_wait_for_body_at_least_is_enough() -> None:
    r = compiled(fe("http-request wait-for-body time 1s at-least 3"))
    t = stream(r, "fe", b"POST /x HTTP/1.1\r\nContent-Length: 40\r\n\r\n")
    t.req_body_done, t.stream.req_body = False, b"abc"
    assert isinstance(http_flow.request(t, r.proxies), Go)


def test_a_rewrite_that_does_not_fit_is_a_500_in_strict_mode() -> None:
    r = compiled(
        fe("http-request set-header X-Big %[str(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa)]")
    )
    t = stream(r, "fe", GET)
    assert t.stream.request is not None
    t.stream.request.room = 10
    v = http_flow.request(t, r.proxies)
    assert isinstance(v, Respond) and v.response.head.status == 500
    assert LogFailedRewrite("fe") in t.commands


def test_strict_mode_off_lets_a_failed_rewrite_go() -> None:
    r = compiled(fe("http-request strict-mode off", "http-request set-header X-Big 0123456789"))
    t = stream(r, "fe", GET)
    assert t.stream.request is not None
    t.stream.request.room = 5
    assert isinstance(http_flow.request(t, r.proxies), Go)
    assert t.failed_rewrites == 1
    assert t.failed_rewrites_be == 0  # the frontend's rule: no backend assigned yet


def test_a_failed_rewrite_of_the_backend_counts_there_too() -> None:
    r = compiled(
        fe(
            "http-request strict-mode off",
            "http-request set-header X-A 0123456789",
            extra="backend be\n  http-request strict-mode off\n"
            "  http-request set-header X-B 0123456789\n  server s1 127.0.0.1:9\n",
        )
    )
    t = stream(r, "fe", GET)
    assert t.stream.request is not None
    t.stream.request.room = 5
    assert isinstance(http_flow.request(t, r.proxies), Go)
    assert (t.failed_rewrites, t.failed_rewrites_be, t.failed_rewrites_srv) == (2, 1, 0)


def test_a_failing_after_response_rule_gives_the_500_page_without_after_rules() -> None:
    r = compiled(
        fe(
            "http-request return status 200 content-type text/plain string hi",
            "http-after-response set-header X-Huge %[str(0123456789012345678901234567890)]",
        )
    )
    t = stream(r, "fe", GET)
    # the reply has no room: the after-response rewrite fails
    original = http_flow.finish

    def tight(txn: Txn, proxies: http_flow.Proxies, resp: Response) -> Response:
        resp.head.room = 4
        return original(txn, proxies, resp)

    http_flow.finish = tight
    try:
        v = http_flow.request(t, r.proxies)
    finally:
        http_flow.finish = original
    assert isinstance(v, Respond)
    assert v.response.head.status == 500
    assert v.response.head.first(b"x-huge") is None


def test_reject_and_silent_drop_close_without_an_answer() -> None:
    r = compiled(
        fe("http-request reject if { path /r }", "http-request silent-drop if { path /s }")
    )
    assert http_flow.request(stream(r, "fe", b"GET /r HTTP/1.1\r\n\r\n"), r.proxies) == Drop()
    v = http_flow.request(stream(r, "fe", b"GET /s HTTP/1.1\r\n\r\n"), r.proxies)
    assert v == Drop(silent=True)


def test_use_service_hands_the_stream_to_the_applet() -> None:
    r = compiled(fe("http-request use-service prometheus-exporter if { path /metrics }"))
    v = http_flow.request(stream(r, "fe", b"GET /metrics HTTP/1.1\r\n\r\n"), r.proxies)
    assert v == Service("prometheus-exporter")
    assert isinstance(http_flow.request(stream(r, "fe", GET), r.proxies), Go)


def test_use_server_names_the_server() -> None:
    extra = (
        "backend be\n  use-server s2 if { path /two }\n  server s1 127.0.0.1:9\n"
        "  server s2 127.0.0.1:10\n"
    )
    r = compiled(fe(extra=extra))
    v = http_flow.request(stream(r, "fe", b"GET /two HTTP/1.1\r\n\r\n"), r.proxies)
    assert v == Go("be", "s2")
    assert http_flow.request(stream(r, "fe", GET), r.proxies) == Go("be", None)


def test_commands_come_out_in_rule_order() -> None:
    r = compiled(
        fe(
            "http-request set-mark 0x10",
            "http-request set-log-level silent",
            "http-request early-hint Link </a.css>",
            "http-request early-hint Link </b.js>",
            "http-request set-header X 1",
            "http-request early-hint Link </c.js>",
        )
    )
    t = stream(r, "fe", GET)
    assert isinstance(http_flow.request(t, r.proxies), Go)
    assert t.commands == [
        SetMark(16),
        SetLogLevel("silent"),
        SendEarlyHint(((b"link", b"</a.css>"), (b"link", b"</b.js>"))),
        SendEarlyHint(((b"link", b"</c.js>"),)),
    ]
    old = stream(r, "fe", b"GET / HTTP/1.0\r\n\r\n")
    http_flow.request(old, r.proxies)
    assert not any(isinstance(c, SendEarlyHint) for c in old.commands)
    assert t.stream.log_level == -1


def test_response_rules_see_no_request_but_the_method_and_variables() -> None:
    r = compiled(
        fe(
            "http-request set-var(txn.p) path",
            "http-response set-header X-Path yes if { path /x }",
            "http-response set-header X-Var %[var(txn.p)]",
            "http-response set-header X-Method %[method]",
        )
    )
    t = stream(r, "fe", GET)
    assert isinstance(http_flow.request(t, r.proxies), Go)
    t.stream.response = HttpMessage.make_response(200, b"OK", [(b"content-length", b"0")])
    assert http_flow.response(t, r.proxies) == Go("be")
    res = t.stream.response
    assert res.first(b"x-path") is None  # `path` finds nothing on the response side
    assert res.first(b"x-var") == b"/x"
    assert res.first(b"x-method") == b"GET"
    assert t.stream.request is not None  # given back once the rules ran


def test_http_response_deny_answers_502_and_return_its_reply() -> None:
    r = compiled(
        fe(
            "http-response deny if { status 500 }",
            "http-response return status 404 content-type text/plain string gone if { status 410 }",
        )
    )
    for status, want in ((500, 502), (410, 404)):
        t = stream(r, "fe", GET)
        http_flow.request(t, r.proxies)
        t.stream.response = HttpMessage.make_response(status, b"X", [])
        t.stream.status = status
        v = http_flow.response(t, r.proxies)
        assert isinstance(v, Respond) and v.response.head.status == want


def test_an_error_page_of_the_backend_wins_over_the_frontend() -> None:
    extra = (
        "backend be\n  http-error status 403 content-type text/plain string from-be\n"
        "  http-request deny\n  server s1 127.0.0.1:9\n"
    )
    r = compiled(fe("http-error status 403 content-type text/plain string from-fe", extra=extra))
    v = http_flow.request(stream(r, "fe", GET), r.proxies)
    assert isinstance(v, Respond) and v.response.body == b"from-be"


def test_return_default_errorfiles_answers_with_the_proxys_http_error_reply() -> None:
    r = compiled(
        fe(
            'http-error status 200 content-type text/plain hdr x-path "%[path]" lf-string "p"',
            "http-request return status 200 default-errorfiles",
        )
    )
    v = http_flow.request(stream(r, "fe", GET), r.proxies)
    assert isinstance(v, Respond) and v.response.body == b"p"
    assert (b"x-path", b"/x") in v.response.head.fields


def test_an_empty_errorfile_makes_a_silent_response() -> None:
    pages = ErrorPages({403: ErrorMessage(403, b"")})
    r = compiled(fe())
    resp = build(ErrorMessage(403), stream(r, "fe", GET).stream, None, pages)
    assert resp.silent and resp.head.status == 403
    assert not build(ErrorMessage(403), stream(r, "fe", GET).stream, None, None).silent


def test_the_pri_method_is_a_bad_request_before_any_rule() -> None:
    """http_wait_for_request: "PRI is reserved for the HTTP/2 preface" (any case), so an
    HTTP/1 connection that may not become HTTP/2 (`proto h1`) answers its preface 400;
    haproxy 2.6.12 does so even before a monitor-uri or an http-request rule."""
    r = compiled(fe("monitor-uri *", "http-request return status 200"))
    for raw in (b"PRI * HTTP/2.0\r\n\r\n", b"pri / HTTP/1.1\r\nHost: h\r\n\r\n"):
        v = http_flow.request(stream(r, "fe", raw), r.proxies)
        assert isinstance(v, Respond) and v.response.head.status == 400, raw
    v = http_flow.request(stream(r, "fe", GET), r.proxies)
    assert isinstance(v, Respond) and v.response.head.status == 200


def test_monitor_uri_answers_200_or_503_when_monitor_fail_holds() -> None:
    r = compiled(
        fe(
            "monitor-uri /health",
            "monitor fail if { hdr(x-down) -m found }",
            extra="frontend abs\n  bind :8082\n  monitor-uri http://h/health\n",
        )
    )
    cases = [
        ("fe", b"GET /health HTTP/1.1\r\n\r\n", 200),
        ("fe", b"GET /health HTTP/1.1\r\nX-Down: 1\r\n\r\n", 503),
        ("fe", b"GET http://h/health HTTP/1.1\r\n\r\n", 200),  # its path matches
        ("fe", b"GET /hEAlth HTTP/1.1\r\n\r\n", None),
        ("fe", b"GET /health?x HTTP/1.1\r\n\r\n", None),
        ("abs", b"GET http://h/health HTTP/1.1\r\n\r\n", 200),
        ("abs", b"GET /health HTTP/1.1\r\n\r\n", None),  # not a path: the whole target
    ]
    for name, raw, status in cases:
        v = http_flow.request(stream(r, name, raw), r.proxies)
        if status is None:
            assert not isinstance(v, Respond), raw
        else:
            assert isinstance(v, Respond) and v.response.head.status == status, raw
    page = http_flow.request(stream(r, "fe", cases[0][1]), r.proxies)
    assert isinstance(page, Respond) and b"Service ready." in page.response.body


def test_a_full_header_value_is_read_without_its_outer_blanks() -> None:
    r = compiled(
        fe(
            'http-request set-header a "x: "',
            'http-request set-header b "%[req.fhdr(a)]|%[req.hdr(a)]|"',
        )
    )
    t = stream(r, "fe", GET)
    http_flow.request(t, r.proxies)
    assert t.stream.request is not None and t.stream.request.first(b"b") == b"x:|x:|"


def test_redirect_words_come_in_any_order() -> None:
    r = compiled(fe("http-request redirect code 301 drop-query location /n set-cookie c=1"))
    v = http_flow.request(stream(r, "fe", GET), r.proxies)
    assert isinstance(v, Respond) and v.response.head.status == 301
    assert (b"location", b"/n") in v.response.head.fields
    assert (b"set-cookie", b"c=1; path=/;") in v.response.head.fields


def test_restrict_req_hdr_names_deletes_or_rejects_odd_names_after_the_rules() -> None:
    raw = b"GET /x HTTP/1.1\r\nHost: h\r\nX-my_hdr: on\r\nX-Ok-1: yes\r\n\r\n"
    for mode, want in (("preserve", b"on"), ("delete", None)):
        r = compiled(
            fe(
                "http-request set-header x-seen %[req.hdr(x-my_hdr)]",
                f"option http-restrict-req-hdr-names {mode}",
            )
        )
        t = stream(r, "fe", raw)
        assert isinstance(http_flow.request(t, r.proxies), Go)
        req = t.stream.request
        assert req is not None and req.first(b"x-my_hdr") == want
        assert req.first(b"x-ok-1") == b"yes" and req.first(b"x-seen") == b"on"
    r = compiled(fe("option http-restrict-req-hdr-names reject"))
    v = http_flow.request(stream(r, "fe", raw), r.proxies)
    assert isinstance(v, Respond) and v.response.head.status == 403
    assert isinstance(http_flow.request(stream(r, "fe", GET), r.proxies), Go)


def test_capture_slots_of_a_defaults_section_come_before_the_proxys_own() -> None:
    text = (
        "defaults base\n  mode http\n  http-request capture hdr(host) len 64\n"
        "  http-request capture hdr(x-a) len 32\n"
        "frontend fe from base\n  bind :8080\n  declare capture request len 32\n"
        "  http-request capture hdr(x-b) id 2\n"
        '  http-request return status 200 hdr c "%[capture.req.hdr(0)]|%[capture.req.hdr(1)]'
        '|%[capture.req.hdr(2)]"\n'
    )
    r = compiled(text)
    raw = b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\nX-B: b\r\n\r\n"
    v = http_flow.request(stream(r, "fe", raw), r.proxies)
    assert isinstance(v, Respond) and (b"c", b"h|a|b") in v.response.head.fields


def test_unique_id_is_built_once_and_sent_in_its_header() -> None:
    """stream/unique-id.vtc: http_process_request builds the id from the frontend's format
    once (uuid() is not run again when a response rule reads `unique-id`) and adds it as the
    `unique-id-header` field; another frontend's id comes from the request's header."""
    rules = compiled(
        "frontend fe\n  bind :80\n  unique-id-format TEST-%[uuid]\n  unique-id-header X-Id\n"
        "  default_backend be\n"
        "frontend fe2\n  bind :81\n  unique-id-format TEST-%[req.hdr(in)]\n"
        "  default_backend be\nbackend be\n  server s 127.0.0.1:80\n"
    )
    txn = stream(rules, "fe", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(http_flow.request(txn, rules.proxies), Go)
    req = txn.stream.request
    assert req is not None
    assert req.first(b"x-id") == txn.stream.unique_id
    assert run("unique-id", txn.stream) == run("unique-id", txn.stream) == txn.stream.unique_id
    assert txn.stream.unique_id is not None and txn.stream.unique_id.startswith(b"TEST-")
    assert len(txn.stream.unique_id) == len("TEST-") + 36
    txn = stream(rules, "fe2", b"GET / HTTP/1.1\r\nHost: a\r\nin: 12345678\r\n\r\n")
    http_flow.request(txn, rules.proxies)
    assert txn.stream.unique_id == b"TEST-12345678"
    assert txn.stream.request is not None and txn.stream.request.first(b"x-id") is None


def test_a_listens_response_wait_for_body_resumes_in_its_own_rules() -> None:
    # a listen is its own frontend and backend: the resumed set is its only one
    listen = "listen li\n  bind :8081\n  http-response wait-for-body time 1s\n"
    listen += "  http-response set-header X-Len %[res.body_len]\n  server s1 127.0.0.1:9\n"
    r = compiled(fe(extra=listen))
    t = stream(r, "li", GET, now=1.0)
    assert isinstance(http_flow.request(t, r.proxies), Go)
    t.stream.response = HttpMessage.make_response(200, b"OK", [(b"content-length", b"3")])
    t.res_body_done, t.stream.res_body = False, b"ab"
    assert http_flow.response(t, r.proxies) == Wait(2.0)
    t.res_body_done, t.stream.res_body = True, b"abc"
    assert isinstance(http_flow.response(t, r.proxies), Go)
    assert t.stream.response is not None and t.stream.response.first(b"x-len") == b"3"


def test_a_backends_buffer_request_waits_after_the_switch_then_408() -> None:
    backend = "backend be\n  option http-buffer-request\n  timeout http-request 2s\n"
    backend += "  http-request set-header X-Len %[req.body_len]\n  server s1 127.0.0.1:9\n"
    r = compiled(fe("http-request set-header X-Fe 1", extra=backend))
    t = stream(r, "fe", b"POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\n", now=1.0)
    t.req_body_done, t.stream.req_body = False, b"ab"
    assert http_flow.request(t, r.proxies) == Wait(3.0)
    t.stream.now = 3.5
    v = http_flow.request(t, r.proxies)
    assert isinstance(v, Respond) and v.response.head.status == 408
    t = stream(r, "fe", b"POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\n", now=1.0)
    t.req_body_done, t.stream.req_body = False, b"ab"
    assert isinstance(http_flow.request(t, r.proxies), Wait)
    t.req_body_done, t.stream.req_body = True, b"abcd"
    assert isinstance(http_flow.request(t, r.proxies), Go)
    assert t.stream.request is not None and t.stream.request.first(b"x-len") == b"4"


def test_return_redirect_and_auth_are_the_proxys_own_answers_not_a_deny() -> None:
    """SF_ERR_LOCAL (termination "LR"/"LH") for return, redirect and auth, where a deny and an
    error are SF_ERR_PRXCOND ("PR"/"PH"): http_act.c http_action_return and
    http_action_auth, http_ana.c http_apply_redirect_rule (found by tests/integration/
    hamode/diff: haproxy logged LR-- where pylvs said PR--)."""
    local = [
        "http-request return status 200",
        "http-request redirect location /n",
        "http-request auth",
        "redirect prefix /p",
    ]
    for rule in local:
        r = compiled(fe(rule))
        t = stream(r, "fe", GET)
        assert isinstance(http_flow.request(t, r.proxies), Respond)
        assert t.local_reply, rule
    for rule in ("http-request deny", "http-request tarpit", "http-request deny deny_status 200"):
        r = compiled(fe(rule))
        t = stream(r, "fe", GET)
        http_flow.request(t, r.proxies)
        assert not t.local_reply, rule
    for rule, local_answer in (
        ("http-response return status 404", True),
        ("http-response redirect location /x", True),
        ("http-response deny", False),
    ):
        r = compiled(fe(rule))
        t = stream(r, "fe", GET)
        http_flow.request(t, r.proxies)
        t.stream.response = HttpMessage.make_response(200, b"OK", [])
        t.stream.status = 200
        assert isinstance(http_flow.response(t, r.proxies), Respond)
        assert t.local_reply is local_answer, rule
