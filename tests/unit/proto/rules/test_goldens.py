"""The rules corpus replayed against the engine: for every request recorded from the real
haproxy 2.6.12 (tests/data/haproxy/rules/rules.json, made by capture.py from cases.py), the
request the backend received and the response the client received, byte for byte."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from pylvs.config.haproxy.compile_rules import CompiledRules, compile_config
from pylvs.config.haproxy.reader import load_text
from pylvs.proto.http.connmode import Mode, Want, request_out, response_out
from pylvs.proto.http.encode import outgoing_request, outgoing_response
from pylvs.proto.http.events import BodyReceived, HeadReceived
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.message import RequestHead, ResponseHead
from pylvs.proto.rules import h1, http_flow
from pylvs.proto.rules.commands import SendEarlyHint
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Drop, Go, Respond, Tarpit
from pylvs.proto.sample import Process, Session, Stream
from tests.data.haproxy.rules import cases

DATA = Path(__file__).resolve().parents[3] / "data" / "haproxy" / "rules"

RECORD = json.loads((DATA / "rules.json").read_text())
CASES = {c.name: c for c in cases.CASES}
EXCHANGES = [(name, i) for name, got in sorted(RECORD["cases"].items()) for i in range(len(got))]


def compiled(case: cases.Case) -> CompiledRules:
    text = cases.HEAD + case.config.replace("${BE}", "127.0.0.1:9").replace("${FE}", ":8080")
    result = load_text(text, "t.cfg")
    assert result.ok, result.problems.errors
    out = compile_config(result.config)
    assert not out.errors
    return out


def frame(raw: bytes, *, request: bool) -> tuple[RequestHead | ResponseHead, bytes]:
    framer = Framer(request=request)
    events = framer.feed(raw)
    heads = [e.head for e in events if isinstance(e, HeadReceived)]
    body = b"".join(e.data for e in events if isinstance(e, BodyReceived))
    return heads[0], body


def txn_for(rules: CompiledRules, head: RequestHead) -> Txn:
    process = Process(hostname=RECORD["hostname"])
    process.tables = rules.tables
    sess = Session(
        process,
        rules.proxies["fe"].ref,
        src=ipaddress.ip_address("127.0.0.1"),
        src_port=40000,
        dst=ipaddress.ip_address("127.0.0.1"),
        dst_port=8080,
    )
    s = Stream(sess, request=h1.request_message(head))
    s.remember_request()
    return Txn(s)


def client_bytes(resp_head: ResponseHead, body: bytes, req: RequestHead) -> bytes:
    out = outgoing_response(resp_head, req.method)
    _, conn = response_out(
        Want.KEEP_ALIVE, req.method, resp_head.status, out.flags,
        request_flags=req.flags, frontend=Mode.KEEP_ALIVE,
    )  # fmt: skip
    return out.write(conn) + (b"" if req.method == b"HEAD" else body)


def replay(name: str, index: int) -> tuple[bytes, bytes]:
    """(what the backend got, what the client got) by the engine."""
    case = CASES[name]
    rules = compiled(case)
    raw = RECORD["cases"][name][index]["request"].encode("latin-1")
    req, _ = frame(raw, request=True)
    assert isinstance(req, RequestHead)
    txn = txn_for(rules, req)
    verdict = http_flow.request(txn, rules.proxies)
    hints = b"".join(h1.early_hint(c.fields) for c in txn.commands if isinstance(c, SendEarlyHint))
    if isinstance(verdict, Drop):
        return b"", b""
    if isinstance(verdict, Respond | Tarpit):
        data, _ = h1.answer(verdict.response).write(
            Want.KEEP_ALIVE, req.method, req.flags, Mode.KEEP_ALIVE
        )
        return b"", hints + data
    assert isinstance(verdict, Go), verdict
    assert txn.stream.request is not None
    sent = h1.request_head(txn.stream.request, req)
    out = outgoing_request(sent)
    _, conn = request_out(out.flags, Mode.KEEP_ALIVE, Mode.KEEP_ALIVE)
    server = out.write(conn)
    res, body = frame(case.response, request=False)
    assert isinstance(res, ResponseHead)
    txn.stream.response = h1.response_message(res)
    txn.stream.status = res.status
    verdict = http_flow.response(txn, rules.proxies)
    if isinstance(verdict, Respond):
        data, _ = h1.answer(verdict.response).write(
            Want.KEEP_ALIVE, req.method, req.flags, Mode.KEEP_ALIVE
        )
        return server, data
    assert isinstance(verdict, Go), verdict
    if not http_flow.after_response(txn, rules.proxies):
        txn.const_reply = True
        failed = http_flow.error_reply(txn, rules.proxies, 500)
        assert isinstance(failed, Respond)
        data, _ = h1.answer(failed.response).write(
            Want.KEEP_ALIVE, req.method, req.flags, Mode.KEEP_ALIVE
        )
        return server, data
    assert txn.stream.response is not None
    answer = client_bytes(h1.response_head(txn.stream.response, res), body, req)
    return server, hints + answer


def test_the_record_is_from_haproxy_2_6() -> None:
    assert RECORD["haproxy"].startswith("HAProxy version 2.6.12")
    assert set(RECORD["cases"]) == set(CASES)


@pytest.mark.parametrize(("name", "index"), EXCHANGES)
def test_replay(name: str, index: int) -> None:
    want = RECORD["cases"][name][index]
    server, client = replay(name, index)
    assert server.decode("latin-1") == want["server"]
    assert client.decode("latin-1") == want["client"]
