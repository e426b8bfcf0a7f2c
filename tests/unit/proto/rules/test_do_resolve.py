"""proto/rules/do_resolve.py: the action against a stand-in for the running resolvers: an
answer at once, a wait (YIELD, looked at again) then the address, an error, tcp-request
content's final call, no name, no resolvers."""

from __future__ import annotations

import ipaddress

from pylvs.proto.rules.do_resolve import POLL, Address, DoResolve
from pylvs.proto.rules.engine import Exec, Ret, Txn
from pylvs.proto.sample import types as ty
from tests.unit.proto.rules.rules_helpers import compiled, stream

CFG = (
    "resolvers dns\n  nameserver ns1 127.0.0.1:53\n"
    "frontend fe\n  bind :8080\n"
    "  http-request do-resolve(txn.ip,dns,ipv4) hdr(host),lower\n"
    "  default_backend be\nbackend be\n  server s1 127.0.0.1:9\n"
)
IP = ipaddress.ip_address("10.0.0.7")


class Asked:
    def __init__(self, answers: list[tuple[bool, Address | None]]) -> None:
        self.answers = answers
        self.released = False

    def poll(self) -> tuple[bool, Address | None]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def release(self) -> None:
        self.released = True


class Dns:
    def __init__(self, asked: Asked | None) -> None:
        self.asked = asked
        self.calls: list[tuple[str, str, str]] = []

    def ask(self, resolvers: str, host: str, prefer: str) -> Asked | None:
        self.calls.append((resolvers, host, prefer))
        return self.asked


def _setup(raw: bytes, dns: Dns | None) -> tuple[DoResolve, Txn]:
    rules = compiled(CFG)
    action = rules.proxies["fe"].http_request[0].action
    assert isinstance(action, DoResolve)
    txn = stream(rules, "fe", raw, now=100.0)
    txn.stream.sess.process.dns = dns
    return action, txn


def _var(txn: Txn) -> ty.Smp | None:
    scope = txn.stream.scope("txn")
    return scope.get("ip") if scope is not None else None


def test_an_answer_at_once_goes_into_the_variable() -> None:
    asked = Asked([(True, IP)])
    dns = Dns(asked)
    action, txn = _setup(b"GET / HTTP/1.1\r\nHost: App.Test\r\n\r\n", dns)
    assert action.run(Exec(txn, "fe", "http-request")) is Ret.CONT
    assert dns.calls == [("dns", "app.test", "ipv4")]
    assert _var(txn) == ty.Smp(ty.IPV4, IP.packed) and asked.released


def test_the_stream_waits_for_the_resolution_then_takes_its_address() -> None:
    asked = Asked([(False, None), (False, None), (True, IP)])
    action, txn = _setup(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n", Dns(asked))
    x = Exec(txn, "fe", "http-request")  # final by default: HTTP waits all the same
    assert action.run(x) is Ret.YIELD and txn.wait_until == 100.0 + POLL
    assert action.run(x) is Ret.YIELD
    assert asked.answers  # not released: still looked at
    assert action.run(x) is Ret.CONT
    assert _var(txn) == ty.Smp(ty.IPV4, IP.packed) and asked.released
    assert txn.resolving is None


def test_an_error_or_tcp_final_call_leaves_the_variable_alone() -> None:
    asked = Asked([(True, None)])
    action, txn = _setup(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n", Dns(asked))
    assert action.run(Exec(txn, "fe", "http-request")) is Ret.CONT
    assert _var(txn) is None and asked.released
    pending = Asked([(False, None)])
    action, txn = _setup(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n", Dns(pending))
    x = Exec(txn, "fe", "tcp-request content", final=True)  # the inspect delay is over
    assert action.run(x) is Ret.CONT and pending.released and _var(txn) is None


def test_no_name_or_no_resolvers_asks_nothing() -> None:
    dns = Dns(Asked([(True, IP)]))
    action, txn = _setup(b"GET / HTTP/1.1\r\n\r\n", dns)  # no Host: no sample
    assert action.run(Exec(txn, "fe", "http-request")) is Ret.CONT and not dns.calls
    action, txn = _setup(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", None)
    assert action.run(Exec(txn, "fe", "http-request")) is Ret.CONT and _var(txn) is None
