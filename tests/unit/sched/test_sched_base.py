"""What a pick may look at (sched/base.py): the HTTP request view and the flow."""

import ipaddress

from pylvs.sched.base import Flow, HttpRequest, Need, request_path


def test_request_view_splits_path_query_and_cookies() -> None:
    r = HttpRequest.of(
        "GET",
        "/a/b?x=1&y=2",
        [("Host", "h"), ("Cookie", "sid=abc; lang=fr"), ("cookie", "x=1"), ("X-A", "1, 2")],
    )
    assert (r.path, r.query) == ("/a/b", "x=1&y=2")
    assert r.cookies == (("sid", "abc"), ("lang", "fr"), ("x", "1"))
    assert r.cookie("lang") == "fr" and r.cookie("LANG") is None
    assert r.header("host") == "h" and r.header("x-a") == "1, 2" and r.header("nope") is None


def test_request_path_of_every_target_form() -> None:
    assert request_path("/p?q") == "/p?q"
    assert request_path("http://example.com/abs/p?id=9") == "/abs/p?id=9"
    assert request_path("https://user@example.com:8443") == ""
    assert request_path("example.com:443") == ""  # CONNECT's authority form
    assert request_path("*") == ""
    r = HttpRequest.of("GET", "http://h/x")
    assert (r.path, r.query) == ("/x", None)
    assert HttpRequest.of("OPTIONS", "*").path == ""


def test_a_flow_carries_only_addresses_unless_filled() -> None:
    a = ipaddress.IPv4Address("192.0.2.1")
    flow = Flow(a, 1234, a, 80)
    assert (flow.payload, flow.request, flow.sample, flow.protocol) == (b"", None, None, 6)
    assert Need.ADDRESS | Need.HTTP != Need.NONE
