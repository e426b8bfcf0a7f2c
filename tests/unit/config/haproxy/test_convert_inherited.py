"""`fd@N` in haproxy.cfg (`bind "fd@${NAME}"`, `stats socket "fd@${cli}"`): sockets the parent
process bound, carried to the runtime as descriptors (issue 20 #7; HAProxy's test driver
passes every listener this way)."""

from __future__ import annotations

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text

TEXT = """\
global
    stats socket "fd@${cli}" level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
listen app
    bind "fd@${fe}"
    bind 127.0.0.1:8080
    server s1 127.0.0.1:80
"""


def test_fd_listeners_reach_the_runtime_as_descriptors() -> None:
    result = load_text(TEXT, "h.cfg", env={"cli": "5", "fe": "7"})
    spec = to_spec(result.config, result.problems).proxies
    assert result.ok, [str(p) for p in result.problems]
    (frontend,) = spec.frontends
    addresses = [a for b in frontend.binds for a in b.addresses]
    assert [a.fd for a in addresses] == [7, None]
    assert str(addresses[0]) == "fd@7"
    assert [s.address for s in spec.stats_sockets] == ["fd@5"]


def test_other_socket_families_are_still_refused() -> None:
    result = load_text(TEXT.replace('"fd@${fe}"', "sockpair@3"), "h.cfg", env={"cli": "5"})
    to_spec(result.config, result.problems)
    assert any("sockpair@ listeners are not served" in p.message for p in result.problems.errors)
    # unix@/abns@ are served for clients that send a PROXY header (accept-proxy)
    result = load_text(TEXT.replace('"fd@${fe}"', "abns@app"), "h.cfg", env={"cli": "5"})
    to_spec(result.config, result.problems)
    assert any("'accept-proxy' only" in p.message for p in result.problems.errors)
