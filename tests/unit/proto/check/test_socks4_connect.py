"""Which check connections go through a server's SOCKS4 proxy (src/tcpcheck.c
tcpcheck_eval_connect): the default connect of a server with `check-via-socks4`, any
`tcp-check connect via-socks4`, never the agent check nor a server without `socks4`."""

from __future__ import annotations

from pylvs.config.haproxy.convert_checks import plan_checks, pool_for
from pylvs.config.haproxy.reader import load_text
from pylvs.proto.check.tcpcheck import Open

HEAD = "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n"
HEAD += "    timeout server 1s\n"


def opens(text: str) -> dict[tuple[str, bool], Open]:
    """The first Open of every check, by (server, agent)."""
    got = load_text(HEAD + text, "h.cfg")
    assert got.ok, [str(p) for p in got.problems]
    config = got.config
    pools = {p.name: pool_for(p) for p in config.proxies if p.has_backend}
    checks = plan_checks(config, pools)
    out = {}
    for p in checks.planned:
        p.check.expire = 0.0
    for p, cmds in checks.wake(1.0, 0.0):
        first = next(c for c in cmds if isinstance(c, Open))
        out[p.server.name, p.check.agent] = first
    return out


def test_the_default_connect_goes_through_the_proxy_when_asked() -> None:
    got = opens(
        "backend be\n"
        "    server a 127.0.0.1:80 socks4 127.0.0.2:1080 check-via-socks4 check"
        " agent-check agent-port 9999\n"
        "    server b 127.0.0.1:81 socks4 127.0.0.2:1080 check\n"
        "    server c 127.0.0.1:82 check-via-socks4 check\n"
    )
    a = got["a", False]
    assert (a.host, a.port, a.via) == ("127.0.0.1", 80, ("127.0.0.2", 1080))
    assert got["a", True].via is None  # the agent connects directly
    assert got["b", False].via is None  # no check-via-socks4
    assert got["c", False].via is None  # no socks4 proxy


def test_a_tcp_check_connect_rule_says_via_socks4() -> None:
    got = opens(
        "backend be\n    option tcp-check\n    tcp-check connect port 81 via-socks4\n"
        "    server a 127.0.0.1:80 socks4 [::1]:1080 check\n"
    )
    a = got["a", False]
    assert (a.port, a.via) == (81, ("::1", 1080))
