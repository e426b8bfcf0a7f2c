"""`dispatch` and `option transparent` reach the backend's spec when it has no `balance`,
and are refused or ignored with haproxy 2.6.12 -c's words when it has one."""

from __future__ import annotations

import ipaddress

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.model.proxy_spec import ServerSpec

HEAD = "defaults\n    mode http\n" + "".join(
    f"    timeout {t} 1s\n" for t in ("connect", "client", "server")
)


def _convert(text: str) -> tuple[dict[str, ServerSpec | None], list[str], list[str]]:
    result = load_text(HEAD + text, "d.cfg", env={})
    spec = to_spec(result.config, result.problems).proxies
    targets = {b.name: b.dispatch for b in spec.backends}
    problems = result.problems
    return targets, [p.message for p in problems.errors], [p.message for p in problems.warnings]


def test_dispatch_and_transparent_without_balance() -> None:
    targets, errors, warnings = _convert(
        "listen d\n    bind 127.0.0.1:1\n    dispatch 127.0.0.1:5\n    server s 127.0.0.1:6\n"
        "listen t\n    bind 127.0.0.1:2\n    option transparent\n"
        "listen both\n    bind 127.0.0.1:3\n    dispatch 127.0.0.1:7\n    transparent\n"
        "listen plain\n    bind 127.0.0.1:4\n    server s 127.0.0.1:6\n"
    )
    assert not errors and not warnings
    d, t, both = targets["d"], targets["t"], targets["both"]
    assert d is not None and d.address == ipaddress.ip_address("127.0.0.1") and d.port == 5
    assert t is not None and t.address is None and t.port is None  # the client's destination
    assert both is not None and both.port == 7  # dispatch wins
    assert targets["plain"] is None


def test_with_balance_dispatch_is_ignored_and_transparent_refused() -> None:
    targets, errors, warnings = _convert(
        "listen a\n    bind 127.0.0.1:1\n    option transparent\n    balance roundrobin\n"
        "    server s 127.0.0.1:2\n"
        "listen b\n    bind 127.0.0.1:3\n    dispatch 127.0.0.1:5\n    balance roundrobin\n"
    )
    assert errors == ["proxy 'a' cannot use both transparent and balance mode."]
    assert warnings == ["dispatch address of proxy 'b' will be ignored in balance mode."]
    assert targets["b"] is None
