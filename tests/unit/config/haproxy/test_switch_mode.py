"""`tcp-request content switch-mode http [proto NAME]` read as haproxy 2.6.12 -c reads it
(config/haproxy/switch_mode.py): its messages, the proxies that may have it, the mux
checks, and what PR_O_HTTP_UPG changes (HTTP rules kept in a tcp proxy, its HTTP settings
in the spec, the "no backend" warning)."""

from __future__ import annotations

import pytest

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.dataplane.haproxy.rules import compiled
from pylvs.proto.rules.switch_mode import SwitchMode

HEAD = "defaults\n mode tcp\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n"


def frontend(rule: str) -> str:
    return (
        f"frontend f\n bind 127.0.0.1:8999\n tcp-request content {rule}\n default_backend b\n"
        "backend b\n mode http\n server s 127.0.0.1:1\n"
    )


# haproxy 2.6.12 -c on frontend(RULE): its ALERT lines' texts
@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("switch-mode", "'tcp-request switch-mode' expects a mode as argument."),
        ("switch-mode tcp", "'tcp-request switch-mode' expects a valid mode (got 'tcp')."),
        (
            "switch-mode http proto",
            "'tcp-request switch-mode': 'proto' expects a protocol as argument.",
        ),
        (
            "switch-mode http proto foo",
            "'tcp-request switch-mode': 'proto' expects a valid MUX protocol, if specified"
            " (got 'foo')",
        ),
        (
            "switch-mode http proto fcgi",
            "Proxy 'f': MUX protocol 'fcgi' is not compatible with the selected mode.",
        ),
        (
            "switch-mode http proto none",
            "Proxy 'f': MUX protocol 'none' is not compatible with the selected mode.",
        ),
        (
            "switch-mode http foo",
            "'tcp-request content switch-mode' only accepts 'if' or 'unless', in frontend 'f'"
            " (got 'foo')",
        ),
        (
            "switch-mode http proto h2 foo if TRUE",
            "'tcp-request content switch-mode' only accepts 'if' or 'unless', in frontend 'f'"
            " (got 'foo')",
        ),
    ],
)
def test_refused_rules_get_haproxys_message_at_their_line(rule: str, message: str) -> None:
    result = load_text(HEAD + frontend(rule), "t.cfg")
    assert not result.ok
    assert [(p.message, p.loc.line) for p in result.problems.errors] == [(message, 8)]


def test_a_backend_has_no_frontend_capability() -> None:
    text = HEAD + "backend b\n mode http\n tcp-request content switch-mode http\n"
    result = load_text(text + " server s 127.0.0.1:1\n", "t.cfg")
    assert [p.message for p in result.problems.errors] == [
        "'tcp-request switch-mode' not allowed because backend 'b' has no frontend capability"
    ]


@pytest.mark.parametrize(("rule", "proto"), [("", ""), (" proto h1", "h1"), (" proto h2", "h2")])
def test_accepted_rules_compile_to_the_mux_asked(rule: str, proto: str) -> None:
    result = load_text(HEAD + frontend(f"switch-mode http{rule} if HTTP"), "t.cfg")
    assert result.ok and result.problems.errors == []
    spec = to_spec(result.config, result.problems)
    rules = compiled(spec.proxies).proxies["f"]
    assert [r.action for r in rules.tcp_content] == [SwitchMode(proto)]


def test_an_upgrading_tcp_proxy_keeps_its_http_rules_and_settings() -> None:
    """PR_O_HTTP_UPG: no "'http-request' rules ignored" / "'option forwardfor' ignored"
    warnings (haproxy -c says nothing of them), and the frontend's HTTP settings are in the
    spec for the streams it switches; without the rule both warnings stand."""
    body = " http-request set-header x-a b\n option forwardfor\n"
    upgrading = HEAD + frontend("switch-mode http").replace(
        " default_backend", body + " default_backend"
    )
    plain = upgrading.replace("tcp-request content switch-mode http", "tcp-request content accept")
    up = load_text(upgrading, "t.cfg")
    assert up.ok and up.problems.warnings == []
    spec = to_spec(up.config, up.problems)
    fe = next(f for f in spec.proxies.frontends if f.name == "f")
    assert fe.http is not None and fe.http.forwardfor is not None
    warned = [p.message for p in load_text(plain, "t.cfg").problems.warnings]
    assert warned == [
        "'http-request' rules ignored for frontend 'f' as they require HTTP mode.",
        "'option forwardfor' ignored for frontend 'f' as it requires HTTP mode.",
    ]


def test_a_tcp_listen_with_only_servers_is_warned() -> None:
    """haproxy 2.6.12 -c's WARNING for a tcp listen whose switched streams can reach only
    its TCP servers; a listen with a default_backend is not warned so."""
    text = HEAD + (
        "listen l\n bind 127.0.0.1:8998\n tcp-request content switch-mode http\n"
        " server s 127.0.0.1:1\n"
    )
    result = load_text(text, "t.cfg")
    assert [p.message for p in result.problems.warnings] == [
        "Proxy 'l' : 'switch-mode http' configured for a tcp proxy with no backend. Incoming"
        " connections upgraded to HTTP cannot be routed to TCP servers"
    ]
    routed = text.replace(" server s", " default_backend b\n server s")
    routed += "backend b\n mode http\n server s 127.0.0.1:1\n"
    # only haproxy's warning that the default backend leaves the listen's servers unused
    assert [p.message for p in load_text(routed, "t.cfg").problems.warnings] == [
        "In proxy 'l', the 'default_backend' rule always has precedence over the servers, which"
        " will never be used."
    ]
