"""Hypothesis over the rules engine: any request through every case of the recorded corpus
ends in a verdict (never an exception), the request and response phases in order; any
log-format text is either read or refused with HAProxy's kind of message."""

from __future__ import annotations

import contextlib
import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.config.haproxy.lf_nodes import LogFormatError, parse_log_format
from pylvs.proto.rules import http_flow
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Drop, Go, Respond, Service, Tarpit, Wait
from pylvs.proto.sample import HttpMessage, Process, Session, Stream
from tests.unit.proto.rules.test_goldens import CASES, compiled

RULES = {name: compiled(case) for name, case in CASES.items()}
TOKEN = st.binary(min_size=1, max_size=12).map(lambda b: bytes(c % 94 + 33 for c in b))
VALUE = st.binary(max_size=24)
PATH = st.lists(
    st.sampled_from([b"/", b"a", b"b", b"..", b".", b"%41", b"?", b"&", b"=", b"#", b"d", b"r"]),
    max_size=10,
).map(lambda parts: b"/" + b"".join(parts))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    name=st.sampled_from(sorted(RULES)),
    method=st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT", b"X-CUSTOM"]),
    path=PATH,
    fields=st.lists(st.tuples(TOKEN, VALUE), max_size=6),
    status=st.sampled_from([200, 204, 301, 404, 500, 503]),
)
def test_any_request_gets_a_verdict(
    name: str, method: bytes, path: bytes, fields: list[tuple[bytes, bytes]], status: int
) -> None:
    rules = RULES[name]
    process = Process()
    process.tables = rules.tables
    sess = Session(process, rules.proxies["fe"].ref, src=ipaddress.ip_address("10.0.0.1"))
    s = Stream(sess, request=HttpMessage.make_request(method, path, fields))
    txn = Txn(s)
    verdict = http_flow.request(txn, rules.proxies)
    assert isinstance(verdict, Go | Respond | Tarpit | Drop | Service | Wait)
    if isinstance(verdict, Respond | Tarpit):
        assert verdict.response.raw().startswith(b"HTTP/1.1 ")
    if isinstance(verdict, Go):
        assert verdict.backend in rules.proxies
        s.response = HttpMessage.make_response(status, b"R", fields)
        out = http_flow.response(txn, rules.proxies)
        assert isinstance(out, Go | Respond | Drop | Wait)
        if isinstance(out, Go):
            assert isinstance(http_flow.after_response(txn, rules.proxies), bool)


@given(st.text(alphabet="%[]{}()+-QMabcihst ,.0", max_size=20))
def test_log_format_text_is_read_or_refused(text: str) -> None:
    with contextlib.suppress(LogFormatError):
        parse_log_format(text)
