"""Log-format strings in HTTP checks, read from a haproxy.cfg and run on canned bytes, as
HAProxy 2.6's reg-tests checks/http-check-expect.vtc and checks/http-check.vtc expect them:
`hdr name-lf` without a value is a format too, and a sample that gives nothing renders as
nothing (the checks' formats are not LOG_OPT_MANDATORY: no "-")."""

from __future__ import annotations

from pylvs.config.haproxy.convert_checks import plan_checks, pool_for
from pylvs.config.haproxy.reader import load_texts
from pylvs.proto.check.status import Status
from pylvs.proto.check.tcpcheck import Write

HEAD = "defaults\n    mode http\n    timeout check 1s\nbackend be\n    option httpchk\n"
SERVER = "    server srv 127.0.0.1:9001 check\n"


def run(rules: str, response: bytes) -> tuple[Status, bytes]:
    """One check run of `be/srv` answered by `response`: its status and what it sent."""
    loaded = load_texts([(HEAD + rules + SERVER, "haproxy.cfg")], env={})
    assert not loaded.problems.has_errors(), loaded.problems
    config = loaded.config
    checks = plan_checks(config, {p.name: pool_for(p) for p in config.proxies})
    checks.start(0.0)
    [(p, _open)] = checks.wake(10.0, 0.0)
    assert p.run is not None
    sent = b"".join(c.data for c in p.run.connected(10.0) if isinstance(c, Write))
    p.run.received(response, 10.001)
    p.run.closed(10.002)
    return p.check.status, sent


ANSWER = (
    b"HTTP/1.1 202 Accepted\r\nx-test1: yes\r\nx-hdr-name: x-test1\r\nContent-Length: 0\r\n\r\n"
)


def test_hdr_name_lf_without_a_value_is_a_format() -> None:
    rule = '    http-check expect hdr name-lf -m str "%[res.fhdr(x-hdr-name)]"\n'
    assert run(rule, ANSWER)[0] is Status.L7OKD
    missing = ANSWER.replace(b"x-test1: yes\r\n", b"")
    assert run(rule, missing)[0] is Status.L7STS


def test_a_missing_sample_renders_as_nothing() -> None:
    send = '    http-check send meth GET uri / hdr x-test "server=%[var(check.server)]"\n'
    _status, sent = run(send, ANSWER)
    assert b"\r\nx-test: server=\r\n" in sent
